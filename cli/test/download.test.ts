import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { downloadFile, fetchKernelSource, fetchText } from '../src/adapters/download.js';
import { extractTarball } from '../src/adapters/kernel-tree.js';
import { GsError } from '../src/lib/errors.js';
import { versionFromMakefile } from '../src/lib/kernels.js';

const MAKEFILE = '# SPDX-License-Identifier: GPL-2.0\nVERSION = 5\nPATCHLEVEL = 4\nSUBLEVEL = 1\nEXTRAVERSION =\nNAME = Kleptomaniac Octopus\n';
const TARBALL_PATH = '/pub/linux/kernel/v5.x/linux-5.4.1.tar.xz';
const SUMS_PATH = '/pub/linux/kernel/v5.x/sha256sums.asc';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A real linux-5.4.1.tar.xz: a fake tree (Makefile + an incompressible blob, so the body spans many chunks). */
let TARBALL: Buffer;
let SUMS: string;

test.before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-dl-fixture-'));
  try {
    await mkdir(join(dir, 'linux-5.4.1', 'drivers'), { recursive: true });
    await writeFile(join(dir, 'linux-5.4.1', 'Makefile'), MAKEFILE);
    await writeFile(join(dir, 'linux-5.4.1', 'drivers', 'blob.bin'), randomBytes(256 * 1024));
    const tarFile = join(dir, 'linux-5.4.1.tar');
    await tar.c({ gzip: false, cwd: dir, file: tarFile, portable: true }, ['linux-5.4.1']);
    const xz = spawnSync('xz', ['-z', '-c', tarFile], { maxBuffer: 64 * 1024 * 1024 });
    if (xz.status !== 0) throw new Error(`xz failed: ${xz.stderr.toString()}`);
    TARBALL = xz.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  SUMS = [
    '-----BEGIN PGP SIGNED MESSAGE-----',
    'Hash: SHA256',
    '',
    `${sha256(Buffer.from('changelog'))}  ChangeLog-5.4.1`,
    `${sha256(TARBALL)}  linux-5.4.1.tar.xz`,
    `${sha256(Buffer.from('gz'))}  linux-5.4.1.tar.gz`,
    '-----BEGIN PGP SIGNATURE-----',
    '',
    'iQIzBAEBCAAdFiEEZH8oZUiU471FcZm+ONu9yGCSaT4FAl3bXXYACgkQONu9yGCS',
    'aT4wkhAAo1s2Fk9kSxsU1Gr8eyH0gFqV6r0m4PZ3vK0=',
    '=Wq1f',
    '-----END PGP SIGNATURE-----',
    '',
  ].join('\n');
});

interface Seen { method: string; url: string; range: string | undefined }
type Handler = (req: IncomingMessage, res: ServerResponse, seen: Seen[]) => void;

/** Serve @body the way a CDN does: whole (200), a range (206), or an unsatisfiable range (416). */
function serveBytes(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
  const head = req.method === 'HEAD';
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (m) {
    const start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'Content-Length': body.length - start,
      'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`,
      'Accept-Ranges': 'bytes',
    });
    res.end(head ? undefined : body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
  res.end(head ? undefined : body);
}

/** kernel.org's layout: the sums and the tarball, 404 for anything else. */
function mirrorHandler(tarball: () => Buffer = () => TARBALL): Handler {
  return (req, res) => {
    if (req.url === SUMS_PATH) return serveBytes(req, res, Buffer.from(SUMS));
    if (req.url === TARBALL_PATH) return serveBytes(req, res, tarball());
    res.writeHead(404, { 'Content-Type': 'text/html' });
    res.end('<h1>404 Not Found</h1>');
  };
}

/** A loopback server and a temp dir owned by one test, both removed when it ends. */
async function setup(t: ExecutionContext, handler: Handler) {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', range: req.headers.range });
    handler(req, res, seen);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dir = await mkdtemp(join(tmpdir(), 'gs-dl-'));
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });
  return { seen, port, mirror: `http://127.0.0.1:${port}/pub/linux/kernel`, dir, cacheDir: join(dir, 'cache') };
}

/** The port of a server that was just closed: nothing listens there. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
}

const tarballGets = (seen: Seen[]) => seen.filter((s) => s.url === TARBALL_PATH && s.method === 'GET');

test('a download succeeds, is verified, and the tarball is in the cache', async (t) => {
  const { mirror, cacheDir, seen } = await setup(t, mirrorHandler());
  const progress: [number, number | undefined][] = [];
  const phases: string[] = [];
  const path = await fetchKernelSource({
    version: '5.4.1', mirror, cacheDir,
    onProgress: (r, total) => progress.push([r, total]),
    onPhase: (p) => phases.push(p),
  });
  t.is(path, join(cacheDir, 'linux-5.4.1.tar.xz'));
  t.is(sha256(await readFile(path)), sha256(TARBALL));
  t.deepEqual(progress.at(-1), [TARBALL.length, TARBALL.length]);
  t.true(progress.length > 2, 'progress is reported as the body arrives');
  t.deepEqual(phases, ['sums', 'download', 'verify']);
  t.deepEqual(seen.map((s) => s.url), [SUMS_PATH, TARBALL_PATH]);
  const left = await filesUnder(cacheDir);
  t.false(left.some((f) => f.endsWith('.part')), 'no .part is left behind');
  t.deepEqual(left.map((f) => f.slice(cacheDir.length + 1)).sort(), ['linux-5.4.1.tar.xz', 'linux-5.4.1.tar.xz.sha256']);
});

test('a second call with the file cached does not hit the server again', async (t) => {
  const { mirror, cacheDir, seen } = await setup(t, mirrorHandler());
  const first = await fetchKernelSource({ version: '5.4.1', mirror, cacheDir });
  const requests = seen.length;
  t.is(requests, 2);
  const phases: string[] = [];
  const second = await fetchKernelSource({ version: '5.4.1', mirror, cacheDir, onPhase: (p) => phases.push(p) });
  t.is(second, first);
  t.is(seen.length, requests, 'no request for a cached, verified tarball');
  t.deepEqual(phases, ['cached']);
});

test('a cached tarball that no longer matches its recorded sum is downloaded again', async (t) => {
  const { mirror, cacheDir, seen } = await setup(t, mirrorHandler());
  const path = await fetchKernelSource({ version: '5.4.1', mirror, cacheDir });
  await writeFile(path, Buffer.from('bit rot'));
  await fetchKernelSource({ version: '5.4.1', mirror, cacheDir });
  t.is(tarballGets(seen).length, 2);
  t.is(sha256(await readFile(path)), sha256(TARBALL));
});

test('a connection cut mid-body raises a network error, leaves a .part, and the next call resumes with a Range request', async (t) => {
  const half = Math.floor(TARBALL.length / 2);
  let cut = false;
  const normal = mirrorHandler();
  const { mirror, cacheDir, seen } = await setup(t, (req, res, s) => {
    if (req.url === TARBALL_PATH && !cut) {
      cut = true;
      res.writeHead(200, { 'Content-Length': TARBALL.length, 'Accept-Ranges': 'bytes' });
      res.write(TARBALL.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 50));
      return;
    }
    normal(req, res, s);
  });

  const err = await t.throwsAsync(fetchKernelSource({ version: '5.4.1', mirror, cacheDir }), { instanceOf: GsError });
  t.is(err?.exitCode, 11);
  t.regex(err?.message ?? '', /interrupted/);
  t.regex(err?.hint ?? '', /[Rr]erun.*resume/);

  const parts = (await filesUnder(cacheDir)).filter((f) => f.endsWith('.part'));
  t.is(parts.length, 1, 'the .part stays for the next run');
  const partSize = (await stat(parts[0]!)).size;
  t.true(partSize > 0 && partSize <= half, `part holds ${partSize} of ${half} bytes sent`);
  t.false(existsSync(join(cacheDir, 'linux-5.4.1.tar.xz')), 'nothing unverified is in the cache');

  const progress: number[] = [];
  const path = await fetchKernelSource({ version: '5.4.1', mirror, cacheDir, onProgress: (r) => progress.push(r) });
  const gets = tarballGets(seen);
  t.is(gets.length, 2);
  t.is(gets[1]!.range, `bytes=${partSize}-`);
  t.true(Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]) > 0);
  t.is(progress[0], partSize, 'progress starts at what was already on disk');
  t.is(sha256(await readFile(path)), sha256(TARBALL));
  t.false((await filesUnder(cacheDir)).some((f) => f.endsWith('.part')));
});

test('a checksum mismatch deletes the file and raises exit code 5 saying so', async (t) => {
  const bad = Buffer.from(TARBALL);
  bad[bad.length >> 1] = (bad[bad.length >> 1] ?? 0) ^ 0xff;
  const { mirror, cacheDir } = await setup(t, mirrorHandler(() => bad));
  const err = await t.throwsAsync(fetchKernelSource({ version: '5.4.1', mirror, cacheDir }), { instanceOf: GsError });
  t.is(err?.exitCode, 5);
  t.regex(err?.message ?? '', /linux-5\.4\.1\.tar\.xz.*does not match.*deleted/);
  t.true(err?.message.includes(sha256(TARBALL)), 'the expected sum is named');
  t.true(err?.message.includes(sha256(bad)), 'the actual sum is named');
  t.regex(err?.hint ?? '', /[Rr]erun/);
  t.regex(err?.hint ?? '', /mirror/);
  t.deepEqual(await filesUnder(cacheDir), [], 'neither the tarball nor a part is left');
});

test('a 404 for a release that does not exist raises exit code 4 mentioning --source and --kernel distro', async (t) => {
  const { mirror, cacheDir, seen } = await setup(t, mirrorHandler());
  const err = await t.throwsAsync(fetchKernelSource({ version: '5.4.99', mirror, cacheDir }), { instanceOf: GsError });
  t.is(err?.exitCode, 4);
  t.regex(err?.message ?? '', /linux-5\.4\.99\.tar\.xz is not on 127\.0\.0\.1/);
  t.regex(err?.hint ?? '', /--source PATH\|URL/);
  t.regex(err?.hint ?? '', /--kernel distro/);
  t.regex(err?.hint ?? '', /--kernel X\.Y\.Z/);
  t.deepEqual(seen.map((s) => s.method), ['GET', 'HEAD'], 'no download was attempted');
  t.deepEqual(await filesUnder(cacheDir), []);
});

test('a 404 for a tarball the sums list also raises exit code 4', async (t) => {
  const { mirror, cacheDir } = await setup(t, (req, res) => {
    if (req.url === SUMS_PATH) return serveBytes(req, res, Buffer.from(SUMS));
    res.writeHead(404);
    res.end();
  });
  const err = await t.throwsAsync(fetchKernelSource({ version: '5.4.1', mirror, cacheDir }), { instanceOf: GsError });
  t.is(err?.exitCode, 4);
  t.regex(err?.hint ?? '', /--source/);
  t.regex(err?.hint ?? '', /--kernel distro/);
});

test('a sums file that lacks a tarball the server has is a checksum error, not a download', async (t) => {
  const { mirror, cacheDir, seen } = await setup(t, (req, res) => {
    if (req.url === SUMS_PATH) return serveBytes(req, res, Buffer.from(SUMS.replace(/^.*linux-5\.4\.1\.tar\.xz\n/m, '')));
    serveBytes(req, res, TARBALL);
  });
  const err = await t.throwsAsync(fetchKernelSource({ version: '5.4.1', mirror, cacheDir }), { instanceOf: GsError });
  t.is(err?.exitCode, 5);
  t.true(err?.message.includes('linux-5.4.1.tar.xz'));
  t.is(tarballGets(seen).length, 0);
});

test('an unreachable host raises exit code 11 whose hint suggests --kernel distro or --source', async (t) => {
  const port = await deadPort();
  const dir = await mkdtemp(join(tmpdir(), 'gs-dl-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const err = await t.throwsAsync(
    fetchKernelSource({ version: '5.4.1', mirror: `http://127.0.0.1:${port}/pub/linux/kernel`, cacheDir: join(dir, 'cache') }),
    { instanceOf: GsError },
  );
  t.is(err?.exitCode, 11);
  t.regex(err?.message ?? '', /Could not reach 127\.0\.0\.1:\d+: connection refused/);
  t.regex(err?.hint ?? '', /--kernel distro/);
  t.regex(err?.hint ?? '', /--source PATH\|URL/);
});

test('a server that never answers is a network error after the idle timeout', async (t) => {
  const { mirror, cacheDir } = await setup(t, () => { /* never answer */ });
  const started = Date.now();
  const err = await t.throwsAsync(fetchKernelSource({ version: '5.4.1', mirror, cacheDir, idleTimeoutMs: 300 }),
    { instanceOf: GsError });
  t.is(err?.exitCode, 11);
  t.regex(err?.message ?? '', /did not answer within 0\.3 s/);
  t.regex(err?.hint ?? '', /--kernel distro/);
  t.true(Date.now() - started < 5000);
});

test('the verified tarball is really extractable and the extracted tree has the Makefile', async (t) => {
  const { mirror, cacheDir, dir } = await setup(t, mirrorHandler());
  const path = await fetchKernelSource({ version: { major: 5, minor: 4, patch: 1 }, mirror: `${mirror}/`, cacheDir });
  const tree = join(dir, 'src');
  await extractTarball(path, tree);
  const makefile = await readFile(join(tree, 'Makefile'), 'utf8');
  t.is(makefile, MAKEFILE);
  t.deepEqual(versionFromMakefile(makefile), { major: 5, minor: 4, patch: 1 });
  t.true(existsSync(join(tree, 'drivers', 'blob.bin')));
});

// downloadFile's resume rules, one by one.

test('a server that ignores the Range header (200) makes the download start over', async (t) => {
  const { port, dir, seen } = await setup(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': TARBALL.length });
    res.end(TARBALL);
  });
  const dest = join(dir, 'f.tar.xz');
  await writeFile(`${dest}.part`, Buffer.from('stale bytes from another file'));
  await downloadFile(`http://127.0.0.1:${port}/f.tar.xz`, dest);
  t.is(seen[0]!.range, 'bytes=29-');
  t.is(sha256(await readFile(dest)), sha256(TARBALL));
  t.false(existsSync(`${dest}.part`));
});

test('a 416 for a part that is already the full size completes without a body', async (t) => {
  const { port, dir, seen } = await setup(t, (req, res) => serveBytes(req, res, TARBALL));
  const dest = join(dir, 'f.tar.xz');
  await writeFile(`${dest}.part`, TARBALL);
  await downloadFile(`http://127.0.0.1:${port}/f.tar.xz`, dest);
  t.is(seen.length, 1);
  t.is(sha256(await readFile(dest)), sha256(TARBALL));
  t.false(existsSync(`${dest}.part`));
});

test('a 416 for a part of the wrong size makes the download start over', async (t) => {
  let first = true;
  const { port, dir, seen } = await setup(t, (req, res) => {
    if (first) {
      first = false;
      res.writeHead(416, { 'Content-Range': `bytes */${TARBALL.length}` });
      res.end();
      return;
    }
    serveBytes(req, res, TARBALL);
  });
  const dest = join(dir, 'f.tar.xz');
  await writeFile(`${dest}.part`, Buffer.alloc(10));
  await downloadFile(`http://127.0.0.1:${port}/f.tar.xz`, dest);
  t.deepEqual(seen.map((s) => s.range), ['bytes=10-', undefined]);
  t.is(sha256(await readFile(dest)), sha256(TARBALL));
});

test('an HTTP error other than 404 is a network error (exit code 11) naming the status', async (t) => {
  const { port, dir } = await setup(t, (_req, res) => { res.writeHead(503); res.end(); });
  const err = await t.throwsAsync(downloadFile(`http://127.0.0.1:${port}/f.tar.xz`, join(dir, 'f')), { instanceOf: GsError });
  t.is(err?.exitCode, 11);
  t.regex(err?.message ?? '', /HTTP 503/);
  t.regex(err?.hint ?? '', /--kernel distro/);
});

test('fetchText returns the body and maps a 404 to exit code 4', async (t) => {
  const { mirror } = await setup(t, mirrorHandler());
  t.is(await fetchText(`${mirror}/v5.x/sha256sums.asc`), SUMS);
  const err = await t.throwsAsync(fetchText(`${mirror}/v9.x/sha256sums.asc`), { instanceOf: GsError });
  t.is(err?.exitCode, 4);
  t.regex(err?.message ?? '', /sha256sums\.asc is not on/);
});

test('aborting through the signal keeps the .part and rethrows the AbortError', async (t) => {
  const controller = new AbortController();
  const { port, dir } = await setup(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': TARBALL.length });
    res.write(TARBALL.subarray(0, 1000)); // and then nothing: the caller gives up
  });
  const dest = join(dir, 'f.tar.xz');
  const err = await t.throwsAsync(downloadFile(`http://127.0.0.1:${port}/f.tar.xz`, dest, {
    signal: controller.signal,
    onProgress: (received) => { if (received >= 1000) controller.abort(); },
  }));
  t.is(err?.name, 'AbortError');
  t.is((await stat(`${dest}.part`)).size, 1000);
});
