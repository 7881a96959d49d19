/**
 * The build cache's files: a build's key parts (what goes into its key),
 * its lock, its stamp, the compiler fixups written into its tree, and its
 * .deb packages. services/build.ts puts them in order.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { KeyPart } from '../lib/cache-key.js';
import { debPackagingNeeds } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import { gccMajor, type SourceFixup } from '../lib/gcc-fixups.js';
import type { Kernel } from '../lib/kernels.js';
import { haveCommand, run } from './exec.js';
import { configFragments, patchFiles } from './kernel-tree.js';

/** What a finished kernel build records in its stamp (kernel.json). */
export interface KernelStamp {
  version: string;
  series: string;
  release: string;
  bzImage: string;
}

export interface BuildArtifacts extends KernelStamp {
  key: string;
  /** The kernel it is a build of. */
  kernel: Kernel;
  buildDir: string;
  profile: Kernel['profile'];
  module: string;
  moduleWarnings: string[];
  buildLog: string;
}

/** What keys a build: the source's sum, the profile, its config fragments and its series' patches. */
export async function buildKeyParts(kernel: Kernel): Promise<KeyPart[]> {
  const series = kernel.series.series;
  return [
    { name: 'source', content: kernel.source.sha256 },
    { name: 'profile', content: kernel.profile },
    ...await Promise.all(configFragments(kernel.profile).map(async (f) => ({ name: `config/${f.name}`, content: await readFile(f.path) }))),
    ...await Promise.all((await patchFiles(series)).map(async (p) => ({ name: `patch/${series}/${basename(p)}`, content: await readFile(p) }))),
  ];
}

/**
 * One gs-kit at a time per build tree: a lock file holding the owner's pid.
 * A lock whose owner is gone is taken over. Returns its release.
 */
export async function takeBuildLock(lockFile: string): Promise<() => Promise<void>> {
  await mkdir(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      return () => rm(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => '0'));
      if (owner && owner !== process.pid && processAlive(owner)) {
        throw new GsError(`Another gs-kit (pid ${owner}) is building ${lockFile.replace(/\.lock$/, '')}.`,
          'Wait for it to finish, then run this again.', 'build');
      }
      await rm(lockFile, { force: true });
    }
  }
  throw new GsError(`Cannot take the build lock ${lockFile}.`, 'Remove it if no gs-kit is running.', 'build');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The stamp of a finished build, if it has one. */
export async function readStamp(stamp: string): Promise<KernelStamp | undefined> {
  return existsSync(stamp) ? JSON.parse(await readFile(stamp, 'utf8')) as KernelStamp : undefined;
}

export async function writeStamp(stamp: string, kernel: KernelStamp): Promise<void> {
  await writeFile(stamp, JSON.stringify(kernel, null, 2));
}

/** An empty build directory, whatever was there. */
export async function freshDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The major version of the gcc on PATH. */
export async function gccVersion(): Promise<number> {
  return gccMajor((await run(['gcc', '-dumpversion'])).stdout);
}

/** Write @fixup into the tree at @src; whether it changed a file. */
export async function applyFixup(src: string, fixup: SourceFixup): Promise<boolean> {
  let changed = false;
  for (const file of fixup.files) {
    const path = join(src, file);
    if (!existsSync(path)) continue;
    const fixed = fixup.apply(file, await readFile(path, 'utf8'));
    if (fixed !== undefined) {
      await writeFile(path, fixed);
      changed = true;
    }
  }
  return changed;
}

/** The release a built tree reports (uname -r of its kernel). */
export async function kernelRelease(src: string): Promise<string> {
  return (await readFile(join(src, 'include/config/kernel.release'), 'utf8')).trim();
}

/** Whether a build already has its linux-image package. */
export async function haveDebs(a: BuildArtifacts): Promise<boolean> {
  return (await readdir(a.buildDir)).some((f) => f.startsWith(`linux-image-${a.release}_`) && f.endsWith('.deb'));
}

/** Installable .deb packages of a build (kernel image, headers), next to its tree. */
export async function buildDebs(a: BuildArtifacts, jobs: number, onLine: (l: string) => void): Promise<string[]> {
  const src = join(a.buildDir, 'src');
  const needs = debPackagingNeeds(await readFile(join(src, 'scripts/package/mkdebian'), 'utf8').catch(() => ''));
  const missing = new Set<string>();
  for (const n of needs) if (!(await haveCommand(n.command))) missing.add(n.pkg);
  if (missing.size) {
    const pkgs = [...missing];
    throw new GsError(`Building .deb packages of Linux ${a.release} needs ${pkgs.join(' and ')}.`,
      `Install ${pkgs.length > 1 ? 'them' : 'it'}: sudo apt-get install ${pkgs.join(' ')} (or sudo gs-kit setup-vm --package deb).`, 'dependency');
  }
  const r = await run(['make', `-j${jobs}`, 'bindeb-pkg'], { cwd: src, logFile: a.buildLog, onLine });
  if (r.exitCode !== 0) {
    const tail = (await readFile(a.buildLog, 'utf8')).split('\n').slice(-20).join('\n');
    throw new GsError(`make bindeb-pkg failed. Last lines of ${a.buildLog}:\n${tail}`, `Read the whole log in ${a.buildLog}.`, 'build');
  }
  const debs = (await readdir(a.buildDir)).filter((f) => f.endsWith('.deb'));
  return debs.map((f) => join(a.buildDir, f));
}
