import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { cacheKey } from '../lib/cache-key.js';
import { debPackagingNeeds } from '../lib/deps.js';
import { fixupsFor, gccMajor } from '../lib/gcc-fixups.js';
import { haveCommand, run } from './exec.js';
import { GsError } from '../lib/errors.js';
import { MODULE_NAME } from '../lib/module.js';
import { type Profile } from '../lib/kconfig.js';
import {
  distroSeries, formatVersion, kernelOrgUrls, parseKernelVersion, seriesFor, SERIES_NAMES, sourceEnvVar,
  SUPPORTED_SERIES, type KernelVersion,
} from '../lib/kernels.js';
import {
  applyPatches, buildKernel, buildModule, configFragments, configure, extractTarball,
  hashFiles, inspectTree, patchFiles, sha256File, tarballVersion,
} from './kernel-tree.js';
import { cacheRoot, repoRoot } from './paths.js';
import { MODULE_SOURCE_PATTERN } from '../lib/install-plans.js';

export interface BuildRequest {
  /** A tarball path; resolved from --kernel distro by resolveSource(). */
  tarball: string;
  profile: Profile;
  jobs?: number;
  /** Where builds/ lives (default: the gs-kit cache); the bench times cold builds in a scratch one. */
  cacheDir?: string;
  /** "stock": build the module's stock-mode hook, not the patch's (the debug suite's stock mode). */
  moduleHook?: 'stock';
}

export interface BuildArtifacts {
  key: string;
  buildDir: string;
  version: string;
  series: string;
  profile: Profile;
  bzImage: string;
  release: string;
  module: string;
  moduleWarnings: string[];
  buildLog: string;
}

export interface BuildReporter {
  step(title: string): void;
  output(text: string): void;
  /** Something the user should read after the build (e.g. a fixup applied). */
  note(text: string): void;
}

/** The tarball of the distribution's linux-source package for @series. */
export function distroTarball(series: string | undefined): string {
  const s = distroSeries(series);
  const tarball = s.distroTarball!;
  if (!existsSync(tarball)) {
    throw new GsError(`The distribution kernel source ${tarball} is not installed.`,
      `Install it with "gs-kit setup-vm --kernel distro" or "apt-get install ${s.distroPackage}".`, 'source');
  }
  return tarball;
}

/**
 * The source the guest suite builds for @series: the tarball named by
 * GS_SOURCE_<series> (e.g. GS_SOURCE_5_4); else the distribution's
 * linux-source package; else, for a series tested on a kernel.org release,
 * that release as gs-kit setup-vm downloaded and verified it, or the copy
 * this project keeps next to the checkout (../shared).
 */
export function seriesSource(series: string): string {
  const fromEnv = process.env[sourceEnvVar(series)];
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new GsError(`${sourceEnvVar(series)} names ${fromEnv}, which does not exist.`,
        `Point ${sourceEnvVar(series)} at a Linux ${series} source tarball.`, 'source');
    }
    return fromEnv;
  }
  const s = SUPPORTED_SERIES.find((x) => x.series === series);
  if (!s) throw new GsError(`There is no gs-kit patch for series ${series}.`, `Choose one of ${SERIES_NAMES.join(', ')}.`, 'usage');
  if (s.distroTarball) return distroTarball(series);
  const release = parseKernelVersion(s.testRelease!);
  const candidates = [
    join(cacheRoot(), 'downloads', kernelOrgUrls(release).file),
    join(repoRoot(), '..', 'shared', `linux-${s.testRelease}-x86.tar.xz`),
  ];
  const found = candidates.find((c, i) => existsSync(c) && (i > 0 || existsSync(`${c}.sha256`)));
  if (!found) {
    throw new GsError(`No Linux ${s.testRelease} source for the ${series} guests.`,
      `Run "gs-kit setup-vm --kernel ${s.testRelease}", or set ${sourceEnvVar(series)}=TARBALL.`, 'source');
  }
  return found;
}

/** Build (or reuse from the cache) a patched kernel and the module. */
export async function ensureBuild(req: BuildRequest, report: BuildReporter): Promise<BuildArtifacts> {
  if (!existsSync(req.tarball)) {
    throw new GsError(`The kernel source ${req.tarball} does not exist.`,
      'Give the path of a Linux source tarball, or use --kernel distro.', 'source');
  }
  report.step('Identify the source');
  const tarballSum = await sha256File(req.tarball);
  const fragments = configFragments(req.profile);
  // Refuse an unsupported kernel before anything is unpacked, and key the
  // build on its own series' patches only.
  const series = seriesFor(await sourceVersion(req.tarball, tarballSum)).series;
  const parts = [
    { name: 'source', content: tarballSum },
    { name: 'profile', content: req.profile },
    ...await Promise.all(fragments.map(async (f) => ({ name: `config/${f.name}`, content: await readFile(f.path) }))),
    ...await Promise.all((await patchFiles(series)).map(async (p) => ({ name: `patch/${series}/${basename(p)}`, content: await readFile(p) }))),
  ];
  const key = cacheKey(parts);
  const builds = join(req.cacheDir ?? cacheRoot(), 'builds');
  const buildDir = join(builds, key);
  const src = join(buildDir, 'src');
  const buildLog = join(buildDir, 'build.log');
  const stamp = join(buildDir, 'kernel.json');

  await mkdir(builds, { recursive: true });
  const release = await takeBuildLock(`${buildDir}.lock`);
  try {
    return await buildLocked(req, report, { key, buildDir, src, buildLog, stamp });
  } finally {
    await release();
  }
}

/** The version of a tarball, remembered by its sha256 so it is read once. */
async function sourceVersion(tarball: string, sum: string): Promise<KernelVersion> {
  const memo = join(cacheRoot(), 'sources', `${sum}.json`);
  try {
    return JSON.parse(await readFile(memo, 'utf8')) as KernelVersion;
  } catch {
    const version = await tarballVersion(tarball);
    await mkdir(dirname(memo), { recursive: true });
    await writeFile(memo, JSON.stringify(version));
    return version;
  }
}

/**
 * One gs-kit at a time per build tree: a lock file holding the owner's pid.
 * A lock whose owner is gone is taken over.
 */
async function takeBuildLock(lockFile: string): Promise<() => Promise<void>> {
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

interface BuildPaths {
  key: string;
  buildDir: string;
  src: string;
  buildLog: string;
  stamp: string;
}

async function buildLocked(req: BuildRequest, report: BuildReporter, paths: BuildPaths): Promise<BuildArtifacts> {
  const { key, buildDir, src, buildLog, stamp } = paths;
  let kernel: { version: string; series: string; release: string; bzImage: string };
  if (existsSync(stamp)) {
    kernel = JSON.parse(await readFile(stamp, 'utf8'));
    report.output(`cached build ${key}`);
  } else {
    await rm(buildDir, { recursive: true, force: true });
    await mkdir(buildDir, { recursive: true });
    try {
      report.step(`Extract ${req.tarball}`);
      await extractTarball(req.tarball, src);
      const info = await inspectTree(src);
      report.step(`Apply the gs-kit patch for ${info.series.series} to Linux ${formatVersion(info.version)}`);
      await applyPatches(src, info, await patchFiles(info.series.series));
      const fixups = fixupsFor(info.series.needsModernGccFixes, gccMajor((await run(['gcc', '-dumpversion'])).stdout));
      for (const fixup of fixups) {
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
        if (changed) report.note(`applied compiler fixup ${fixup.id}: ${fixup.description}`);
      }
      report.step(`Configure (profile ${req.profile})`);
      await configure(src, req.profile, buildLog);
      report.step('Build the kernel');
      await buildKernel(src, req.jobs ?? cpus().length, buildLog, (n) => report.output(`${n} files compiled`));
      const release = (await readFile(join(src, 'include/config/kernel.release'), 'utf8')).trim();
      kernel = {
        version: formatVersion(info.version),
        series: info.series.series,
        release,
        bzImage: join(src, 'arch/x86/boot/bzImage'),
      };
      await writeFile(stamp, JSON.stringify(kernel, null, 2));
    } catch (err) {
      // A build that fails before its stamp leaves nothing behind to be mistaken for a good one.
      if (!(err instanceof GsError && err.exitCode === 7)) await rm(buildDir, { recursive: true, force: true });
      throw err;
    }
  }

  report.step(`Build ${MODULE_NAME} against the tree`);
  const lkmHash = await hashFiles(join(repoRoot(), 'lkm'), MODULE_SOURCE_PATTERN);
  const mod = req.moduleHook
    ? await buildModule(src, join(buildDir, `lkm-${req.moduleHook}-${lkmHash}`), req.moduleHook)
    : await buildModule(src, join(buildDir, `lkm-${lkmHash}`));
  return {
    key, buildDir, profile: req.profile, buildLog, module: mod.module, moduleWarnings: mod.warnings,
    ...kernel,
  };
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
