/**
 * The seam to the system a command acts on: the live one (root "/") or a
 * sysroot. Every path is a target path resolved under the root and refused
 * if it leaves it. Reads run for real, dry run or not; every change (a
 * plan, a file, a command that writes) is said through the reporter, and
 * in a dry run said and skipped, as release-it's shell does.
 */
import { statSync } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { GsError } from '../lib/errors.js';
import type { GrubTools } from '../lib/grub.js';
import {
  countChanges, decideCommand, formatChange, onlyModeDiffers, pendingChanges, plannedPaths, plural, resolveUnder,
  type Change, type Content, type FileChange, type HostState, type Plan,
} from '../lib/host-plan.js';
import type { Reporter } from '../lib/reporter.js';
import { pathDirs, run, type RunOptions, type RunResult } from './exec.js';

/** A command run through the host: @write marks one that changes the system (printed, and skipped in a dry run). */
export interface HostRunOptions extends Omit<RunOptions, 'cwd'> {
  write?: boolean;
}

/** The system a command acts on (see the top of this file). */
export interface Host {
  readonly root: string;
  readonly dryRun: boolean;
  /** Text of a target file; undefined when it does not exist. */
  readFile(path: string): Promise<string | undefined>;
  readBytes(path: string): Promise<Buffer | undefined>;
  exists(path: string): Promise<boolean>;
  /** The names in a target directory; undefined when it cannot be read. */
  list(path: string): Promise<string[] | undefined>;
  /** Whether a program exists: on PATH for "/", in the usual bin directories under a sysroot. */
  hasProgram(name: string): Promise<boolean>;
  /** Which of GRUB's config generators the target has. */
  grubTools(): Promise<GrubTools>;
  /**
   * Run @argv (no shell). A read runs always; a write is, in a dry run,
   * said and skipped (then it answers exit 0 with no output).
   */
  run(argv: readonly string[], opts?: HostRunOptions): Promise<RunResult>;
  /** Write a file on the target (skipped, and said, in a dry run). */
  writeFile(path: string, content: string | Uint8Array): Promise<void>;
  /**
   * A change of another kind (a download into the cache), described by
   * @what ("download X to Y"): done; in a dry run said ("would ...") and
   * skipped, answering undefined.
   */
  change<T>(what: string, work: () => Promise<T>): Promise<T | undefined>;
  /** Make the target look like @plan; the number of changes made (or, dry, that would be). */
  apply(plan: Plan): Promise<number>;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function permissionError(what: string, err: unknown): GsError {
  return new GsError(`Cannot ${what}: ${(err as Error).message}.`,
    'Run gs-kit as root (sudo), or give --root DIR to act on a sysroot you own.', 'permission');
}

/** What a dry-run write answers. */
const NOT_RUN: RunResult = { exitCode: 0, stdout: '', stderr: '', timedOut: false };

export class SystemHost implements Host {
  readonly root: string;

  constructor(root: string, readonly dryRun: boolean, private readonly reporter: Reporter) {
    this.root = resolve(root);
  }

  private log(line: string): void {
    this.reporter.note(line);
  }

  /** The host path of @path, refusing paths (and symlinks) that leave the root. */
  async resolve(path: string): Promise<string> {
    const full = resolveUnder(this.root, path);
    if (this.root === '/') return full;
    // A symlink inside the sysroot may point out of it: check the deepest existing ancestor.
    let probe = full;
    for (;;) {
      try {
        await lstat(probe);
        break;
      } catch {
        const up = dirname(probe);
        if (up === probe) break;
        probe = up;
      }
    }
    const real = await realpath(probe);
    const realRoot = await realpath(this.root);
    const rel = relative(realRoot, real);
    if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith('/')) {
      throw new GsError(`The path "${path}" leads out of the root ${this.root} (through a symbolic link to ${real}).`,
        'Replace absolute symbolic links in the sysroot with relative ones, or use a root without them.', 'failure');
    }
    return full;
  }

  /** Text of a target file; undefined when it does not exist. */
  async readFile(path: string): Promise<string | undefined> {
    const b = await this.readBytes(path);
    return b === undefined ? undefined : b.toString('utf8');
  }

  async readBytes(path: string): Promise<Buffer | undefined> {
    try {
      return await readFile(await this.resolve(path));
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR' || errno(err) === 'EISDIR') return undefined;
      if (errno(err) === 'EACCES') throw permissionError(`read ${path}`, err);
      throw err;
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(await this.resolve(path));
      return true;
    } catch (err) {
      if (err instanceof GsError) throw err;
      return false;
    }
  }

  async list(path: string): Promise<string[] | undefined> {
    try {
      return await readdir(await this.resolve(path));
    } catch (err) {
      if (err instanceof GsError) throw err;
      return undefined;
    }
  }

  async run(argv: readonly string[], opts: HostRunOptions = {}): Promise<RunResult> {
    const { write, ...rest } = opts;
    if (write && this.dryRun) {
      this.log(`would run: ${argv.join(' ')}`);
      return NOT_RUN;
    }
    return run(argv, rest);
  }

  async change<T>(what: string, work: () => Promise<T>): Promise<T | undefined> {
    if (!this.dryRun) return work();
    this.log(`would ${what}`);
    return undefined;
  }

  async writeFile(path: string, content: string | Uint8Array): Promise<void> {
    if (this.dryRun) {
      this.log(`would write ${path}`);
      return;
    }
    const full = await this.resolve(path);
    try {
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
    } catch (err) {
      if (errno(err) === 'EACCES' || errno(err) === 'EPERM' || errno(err) === 'EROFS') throw permissionError(`write ${path}`, err);
      throw err;
    }
  }

  async hasProgram(name: string): Promise<boolean> {
    const dirs = this.root === '/'
      ? pathDirs()
      : ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
    for (const d of [...new Set([...dirs, '/usr/sbin', '/sbin'])]) {
      if (await this.exists(join(d, name))) return true;
    }
    return false;
  }

  async grubTools(): Promise<GrubTools> {
    return {
      updateGrub: await this.hasProgram('update-grub'),
      grubMkconfig: await this.hasProgram('grub-mkconfig'),
      grub2Mkconfig: await this.hasProgram('grub2-mkconfig'),
    };
  }

  /** What the target holds now for the paths of @plan. */
  async state(plan: readonly Change[]): Promise<HostState> {
    const { files, links: linkPaths, others } = plannedPaths(plan);
    const links = new Map<string, string | undefined>();
    for (const p of linkPaths) links.set(p, await readlink(await this.resolveLink(p)).catch(() => undefined));
    const contents = new Map<string, Content | undefined>();
    const modes = new Map<string, number>();
    const existing = new Set<string>();
    for (const p of files) {
      contents.set(p, await this.readBytes(p));
      if (contents.get(p) !== undefined) modes.set(p, (await stat(await this.resolve(p))).mode & 0o7777);
    }
    for (const p of others) if (await this.exists(p)) existing.add(p);
    return { files: contents, modes, existing, links };
  }

  /**
   * Make the target look like @plan: print and do each change still needed
   * (dry-run: print only). Returns the number of changes made (or, in a dry
   * run, that would be made); commands skipped for a sysroot do not count.
   */
  async apply(plan: Plan): Promise<number> {
    const state = await this.state(plan);
    const pending = pendingChanges(plan, state);
    const prefix = this.dryRun ? 'would ' : '';
    for (const c of pending) {
      const line = formatChange(c, this.root, state);
      const skipped = c.kind === 'command' && decideCommand(c.argv, this.root).action === 'skip';
      this.log(skipped ? line.replace(/^skip /, this.dryRun ? 'would skip ' : 'skipped ') : `${prefix}${line}`);
      if (this.dryRun || skipped) continue;
      if (c.kind === 'dir') await this.mkdir(c.path);
      else if (c.kind === 'symlink') await this.link(c.path, c.target);
      else if (c.kind === 'file') await this.write(c, onlyModeDiffers(c, state));
      else await this.runCommand(c);
    }
    return countChanges(pending, this.root);
  }

  private async mkdir(path: string): Promise<void> {
    try {
      await mkdir(await this.resolve(path), { recursive: true });
    } catch (err) {
      if (errno(err) === 'EACCES' || errno(err) === 'EPERM' || errno(err) === 'EROFS') throw permissionError(`create ${path}`, err);
      throw err;
    }
  }

  /** The host path of a symlink @path itself (its directory resolved, the link not followed). */
  private async resolveLink(path: string): Promise<string> {
    return join(await this.resolve(dirname(path)), basename(path));
  }

  /** Point @path at @target (as written, not resolved), replacing what is there. */
  private async link(path: string, target: string): Promise<void> {
    const full = await this.resolveLink(path);
    try {
      await mkdir(dirname(full), { recursive: true });
      await rm(full, { force: true });
      await symlink(target, full);
    } catch (err) {
      if (errno(err) === 'EACCES' || errno(err) === 'EPERM' || errno(err) === 'EROFS') throw permissionError(`link ${path}`, err);
      throw err;
    }
  }

  private async write(c: FileChange, modeOnly: boolean): Promise<void> {
    const full = await this.resolve(c.path);
    try {
      if (c.control) {
        // Kernel files: written in place, never created with a temp file and a rename.
        await writeFile(full, c.content, { flag: 'w' });
        return;
      }
      if (!modeOnly) {
        await mkdir(dirname(full), { recursive: true });
        const tmp = join(dirname(full), `.${c.path.split('/').pop()}.gs-kit-${process.pid}`);
        await writeFile(tmp, c.content, { mode: c.mode ?? 0o644 });
        if (c.mode !== undefined) await chmod(tmp, c.mode);
        await rename(tmp, full);
      } else {
        await chmod(full, c.mode!);
      }
    } catch (err) {
      if (errno(err) === 'EACCES' || errno(err) === 'EPERM' || errno(err) === 'EROFS') throw permissionError(`write ${c.path}`, err);
      throw err;
    }
  }

  private async runCommand(c: Extract<Change, { kind: 'command' }>): Promise<void> {
    const d = decideCommand(c.argv, this.root);
    if (d.action !== 'run') return;
    const r = await run(d.argv, { cwd: this.root });
    if (r.exitCode !== 0) {
      const tail = `${r.stderr}\n${r.stdout}`.trim().split('\n').slice(-5).join('\n');
      throw new GsError(`"${d.argv.join(' ')}" failed (exit ${r.exitCode ?? 'signal'}) while trying to ${c.why}:\n${tail}`,
        'Fix what the output says and run gs-kit again; changes already made are kept and not redone.', 'failure');
    }
  }
}

/** A Host for --root DIR, which must be an existing directory; it says its changes through @reporter. */
export function openHost(root: string, dryRun: boolean, reporter: Reporter): Host {
  let ok = false;
  try {
    ok = statSync(root).isDirectory();
  } catch { /* reported below */ }
  if (!ok) throw new GsError(`The root ${root} is not a directory.`, 'Give --root the directory of an existing sysroot, or leave it out for this system.', 'usage');
  return new SystemHost(root, dryRun, reporter);
}

export function changesLine(n: number, dryRun: boolean): string {
  return dryRun ? `${plural(n, 'change')} would be made (dry run: nothing was written).` : `${plural(n, 'change')}.`;
}
