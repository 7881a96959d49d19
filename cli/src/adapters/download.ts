import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import fetch, { FetchError, type Response } from 'node-fetch';
import { GsError } from '../lib/errors.js';
import { kernelOrgUrls, parseKernelVersion, type KernelVersion } from '../lib/kernels.js';
import { expectedSha256, formatSha256Line, parseSha256Sums } from '../lib/sums.js';
import { sha256File } from './kernel-tree.js';

export type ProgressFn = (received: number, total: number | undefined) => void;

export interface DownloadOptions {
  /** Bytes on disk so far (a resumed part included) and the full size when the server says it. */
  onProgress?: ProgressFn;
  /** Aborting it stops the download, keeps the .part and rethrows the AbortError. */
  signal?: AbortSignal;
  /** Give up when the server sends nothing for this long (connecting included). Default 30 s. */
  idleTimeoutMs?: number;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT',
  'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

const OFFLINE_HINT = 'Check the network (and any proxy), or build without downloading: '
  + '--kernel distro (the distribution\'s source package) or --source PATH|URL (a tarball you already have).';

function hostOf(url: string): string {
  try { return new URL(url).host; } catch { return url; }
}

function fileOf(url: string): string {
  try { return basename(new URL(url).pathname) || url; } catch { return url; }
}

function httpError(url: string, res: Response): GsError {
  if (res.status === 404 || res.status === 410) {
    return new GsError(
      `${fileOf(url)} is not on ${hostOf(url)} (HTTP ${res.status} for ${url}).`,
      'Give --kernel X.Y.Z for a release that exists (see https://www.kernel.org/), '
        + '--source PATH|URL for a tarball you have, or --kernel distro for the distribution\'s source package.',
      'source',
    );
  }
  return new GsError(
    `${hostOf(url)} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} for ${url}.`,
    `The server or a proxy refused the download: retry later or use another mirror. ${OFFLINE_HINT}`,
    'network',
  );
}

/** Tracks the caller's signal and an inactivity timer that aborts one request. */
class RequestGuard {
  readonly controller = new AbortController();
  timedOut = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onOuterAbort = () => this.controller.abort();

  constructor(private readonly outer: AbortSignal | undefined, readonly idleMs: number) {
    if (outer?.aborted) this.controller.abort();
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.touch();
  }

  /** Data arrived: restart the inactivity timer. */
  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timedOut = true; this.controller.abort(); }, this.idleMs);
  }

  done(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  get signal(): AbortSignal { return this.controller.signal; }
}

/** Map a failure of fetch() itself (no response yet) to what the user can do. */
function requestFailure(url: string, err: unknown, guard: RequestGuard): unknown {
  if (guard.timedOut) {
    return new GsError(`${hostOf(url)} did not answer within ${seconds(guard)} (${url}).`, OFFLINE_HINT, 'network');
  }
  if (isAbort(err)) return err;
  if (err instanceof FetchError) {
    const code = err.code ?? '';
    const reason = NETWORK_CODES.has(code) ? describeCode(code) : err.message;
    return new GsError(`Could not reach ${hostOf(url)}: ${reason} (${url}).`, OFFLINE_HINT, 'network');
  }
  return err;
}

/** Map a failure while the body streams to an interrupted download. */
function bodyFailure(url: string, err: unknown, guard: RequestGuard, resumable: boolean): unknown {
  if (isAbort(err) && !guard.timedOut) return err;
  const why = guard.timedOut ? `no data for ${seconds(guard)}` : errText(err);
  return new GsError(
    `The download of ${fileOf(url)} from ${hostOf(url)} was interrupted (${why}).`,
    resumable
      ? `Rerun the same command: it resumes where the download stopped. ${OFFLINE_HINT}`
      : `Rerun the same command. ${OFFLINE_HINT}`,
    'network',
  );
}

function seconds(guard: RequestGuard): string {
  return `${Math.round(guard.idleMs / 100) / 10} s`;
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

function errText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && NETWORK_CODES.has(code) ? describeCode(code) : err.message;
  }
  return String(err);
}

function describeCode(code: string): string {
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ENOTFOUND': return 'host name not found';
    case 'EAI_AGAIN': return 'DNS lookup failed';
    case 'ECONNRESET': return 'connection reset';
    case 'ETIMEDOUT': return 'connection timed out';
    default: return code;
  }
}

async function request(url: string, method: 'GET' | 'HEAD', headers: Record<string, string>, guard: RequestGuard): Promise<Response> {
  try {
    // compress:false + identity: byte ranges must count bytes of the file, not of a gzip stream.
    return await fetch(url, {
      method,
      headers: { 'Accept-Encoding': 'identity', 'User-Agent': 'gs-kit', ...headers },
      compress: false,
      signal: guard.signal,
    });
  } catch (err) {
    throw requestFailure(url, err, guard);
  }
}

// "bytes 100-999/1000" -> {start: 100, total: 1000}; "bytes */1000" (a 416) -> {total: 1000}.
function parseContentRange(header: string | null): { start?: number; total?: number } {
  const m = /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)\s*$/i.exec(header ?? '');
  if (!m) return {};
  return {
    ...(m[1] !== undefined ? { start: Number(m[1]) } : {}),
    ...(m[2] !== undefined && m[2] !== '*' ? { total: Number(m[2]) } : {}),
  };
}

function contentLength(res: Response): number | undefined {
  const v = res.headers.get('content-length');
  return v !== null && /^\d+$/.test(v) ? Number(v) : undefined;
}

async function sizeOf(path: string): Promise<number> {
  try { return (await stat(path)).size; } catch { return 0; }
}

/**
 * Download @url to @dest through `${dest}.part`, resuming a part left by an
 * interrupted run (Range request). The part is renamed to @dest only once
 * complete. Errors are GsErrors: 404 -> 'source'; other HTTP statuses, an
 * unreachable host or a cut connection -> 'network' (the .part stays).
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  const part = `${dest}.part`;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  await mkdir(dirname(dest), { recursive: true });

  // At most two rounds: a resume, then (if the server will not resume) from the start.
  for (let round = 0; round < 2; round++) {
    const have = round === 0 ? await sizeOf(part) : 0;
    const guard = new RequestGuard(opts.signal, idleMs);
    try {
      const res = await request(url, 'GET', have > 0 ? { Range: `bytes=${have}-` } : {}, guard);

      if (have > 0 && res.status === 416) {
        res.body?.resume();
        const { total } = parseContentRange(res.headers.get('content-range'));
        if (total === have) {
          await rename(part, dest);
          opts.onProgress?.(have, total);
          return;
        }
        await rm(part, { force: true });
        continue;
      }
      if (!res.ok) {
        res.body?.resume();
        throw httpError(url, res);
      }

      let append = false;
      let total = contentLength(res);
      if (have > 0 && res.status === 206) {
        const range = parseContentRange(res.headers.get('content-range'));
        if (range.start !== have) {
          // Not the range asked for: drop the part and start over.
          (res.body as Readable | null)?.destroy();
          await rm(part, { force: true });
          continue;
        }
        append = true;
        total = range.total ?? (total !== undefined ? have + total : undefined);
      }
      // Any other 2xx (200 included) is the whole file: the server ignored the range.

      await receive(url, res, part, append ? have : 0, total, guard, opts.onProgress);
      await rename(part, dest);
      return;
    } finally {
      guard.done();
    }
  }
  throw new GsError(`${hostOf(url)} did not serve ${fileOf(url)} consistently (${url}).`,
    `Delete ${part} and rerun, or use another mirror. ${OFFLINE_HINT}`, 'network');
}

async function receive(url: string, res: Response, part: string, offset: number, total: number | undefined,
  guard: RequestGuard, onProgress: ProgressFn | undefined): Promise<void> {
  const fh = await open(part, offset > 0 ? 'a' : 'w');
  let received = offset;
  try {
    onProgress?.(received, total);
    const body = res.body;
    if (body) {
      const chunks = body[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<unknown>;
        try {
          next = await chunks.next();
        } catch (err) {
          throw bodyFailure(url, err, guard, true);
        }
        if (next.done) break;
        guard.touch();
        const chunk = next.value as Buffer;
        await writeAll(fh, chunk, part);
        received += chunk.length;
        onProgress?.(received, total);
      }
    }
  } finally {
    await fh.close();
  }
  if (total !== undefined && received !== total) {
    throw bodyFailure(url, new Error(`got ${received} of ${total} bytes`), guard, received < total);
  }
}

async function writeAll(fh: Awaited<ReturnType<typeof open>>, chunk: Buffer, path: string): Promise<void> {
  try {
    let off = 0;
    while (off < chunk.length) off += (await fh.write(chunk, off)).bytesWritten;
  } catch (err) {
    throw new GsError(`Could not write ${path}: ${errText(err)}.`,
      'Check the free space and permissions of the gs-kit cache (GS_KIT_CACHE or ~/.cache/gs-kit).', 'failure');
  }
}

/** GET a small text file (the sums); the same error mapping as downloadFile. */
export async function fetchText(url: string, opts: Pick<DownloadOptions, 'signal' | 'idleTimeoutMs'> = {}): Promise<string> {
  const guard = new RequestGuard(opts.signal, opts.idleTimeoutMs ?? 30_000);
  try {
    const res = await request(url, 'GET', {}, guard);
    if (!res.ok) {
      res.body?.resume();
      throw httpError(url, res);
    }
    try {
      return await res.text();
    } catch (err) {
      throw bodyFailure(url, err, guard, false);
    }
  } finally {
    guard.done();
  }
}

/** HEAD @url: does the server have it? Same error mapping; 404 -> 'source'. */
async function probe(url: string, opts: Pick<DownloadOptions, 'signal' | 'idleTimeoutMs'>): Promise<void> {
  const guard = new RequestGuard(opts.signal, opts.idleTimeoutMs ?? 30_000);
  try {
    const res = await request(url, 'HEAD', {}, guard);
    if (!res.ok) throw httpError(url, res);
  } finally {
    guard.done();
  }
}

export type FetchPhase = 'cached' | 'sums' | 'download' | 'verify';

export interface FetchKernelSourceOptions extends DownloadOptions {
  /** "5.4.1" or a parsed version. */
  version: KernelVersion | string;
  /** Base URL holding v<major>.x/ directories; default https://cdn.kernel.org/pub/linux/kernel. */
  mirror?: string;
  /** Where verified tarballs are kept, e.g. join(cacheRoot(), 'downloads'). */
  cacheDir: string;
  /** Told each step, e.g. to retitle a task. */
  onPhase?: (phase: FetchPhase) => void;
}

/**
 * The path of a kernel.org release tarball in @cacheDir whose SHA-256
 * matches the published sha256sums.asc. A tarball verified by an earlier
 * run (its sum recorded beside it, rehashed now) is used without any
 * network access. A download lands in `<cacheDir>/.incoming/` and moves
 * next to the others only once verified, so nothing can extract an
 * unverified file from the cache; on a mismatch it is deleted.
 */
export async function fetchKernelSource(opts: FetchKernelSourceOptions): Promise<string> {
  const version = typeof opts.version === 'string' ? parseKernelVersion(opts.version) : opts.version;
  const urls = opts.mirror === undefined ? kernelOrgUrls(version) : kernelOrgUrls(version, opts.mirror.replace(/\/+$/, ''));
  const tarball = join(opts.cacheDir, urls.file);
  const record = `${tarball}.sha256`;
  const incoming = join(opts.cacheDir, '.incoming', urls.file);
  await mkdir(opts.cacheDir, { recursive: true });

  // 1. Verified before: the recorded sum must still match the file.
  if (existsSync(tarball) && existsSync(record)) {
    opts.onPhase?.('cached');
    const recorded = parseSha256Sums(await readFile(record, 'utf8'), record).get(urls.file);
    if (recorded !== undefined && recorded === await sha256File(tarball)) return tarball;
    await rm(tarball, { force: true });
    await rm(record, { force: true });
  }

  // 2. The published sums.
  opts.onPhase?.('sums');
  const sums = parseSha256Sums(await fetchText(urls.sums, opts), urls.sums);
  if (!sums.has(urls.file)) {
    // Not listed: a release that does not exist (404 -> 'source') or an incomplete mirror ('checksum').
    await probe(urls.tarball, opts);
  }
  const expected = expectedSha256(sums, urls.file, urls.sums);

  // 3. A tarball already in the cache (say, copied there) that matches needs no download.
  if (existsSync(tarball)) {
    opts.onPhase?.('verify');
    if (await sha256File(tarball) === expected) {
      await writeFile(record, formatSha256Line(expected, urls.file));
      return tarball;
    }
    await rm(tarball, { force: true });
  }

  // 4. Download (resuming a part), verify, then move into the cache.
  // (A finished but unverified download left by a run that stopped is checked, not fetched again.)
  let actual = existsSync(incoming) ? await sha256File(incoming) : undefined;
  if (actual !== expected) {
    opts.onPhase?.('download');
    await downloadFile(urls.tarball, incoming, opts);
    opts.onPhase?.('verify');
    actual = await sha256File(incoming);
  }
  if (actual !== expected) {
    await rm(incoming, { force: true });
    await rm(`${incoming}.part`, { force: true });
    throw new GsError(
      `${urls.file} from ${hostOf(urls.tarball)} does not match its published SHA-256 sum `
        + `(expected ${expected}, got ${actual}); the download was deleted.`,
      `Rerun to download it again. If it fails again, the mirror may be serving a damaged file: check ${urls.tarball}, `
        + 'or use --kernel distro or --source PATH|URL.',
      'checksum',
    );
  }
  await rename(incoming, tarball);
  await writeFile(record, formatSha256Line(expected, urls.file));
  return tarball;
}
