/**
 * Building a kernel gs-kit can boot: the kernel a request names, resolved
 * once; its patched build, cached by what goes into it and built by one
 * gs-kit at a time; the module built against it; its .deb packages.
 * Emits each step through the reporter; the adapters do the work.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { cacheKey } from '../lib/cache-key.js';
import { GsError } from '../lib/errors.js';
import { fixupsFor } from '../lib/gcc-fixups.js';
import { formatVersion, seriesFor, type Kernel, type ModuleHook, type SourceRequest } from '../lib/kernels.js';
import type { Profile } from '../lib/kconfig.js';
import { MODULE_SOURCE_PATTERN } from '../lib/install-plans.js';
import { MODULE_NAME } from '../lib/module.js';
import type { Reporter } from '../lib/reporter.js';
import {
  applyFixup, buildDebs, buildKeyParts, freshDir, gccVersion, haveDebs, kernelRelease, readStamp, removeDir, takeBuildLock,
  writeStamp, type BuildArtifacts, type KernelStamp,
} from '../adapters/kernel-build.js';
import { identifySource, locateSource } from '../adapters/kernel-source.js';
import { applyPatches, buildKernel, buildModule, configure, extractTarball, hashFiles, patchFiles } from '../adapters/kernel-tree.js';
import { cacheRoot, repoRoot } from '../adapters/paths.js';

export type { BuildArtifacts } from '../adapters/kernel-build.js';

export interface BuildOptions {
  /** Parallel make jobs (default: one per CPU). */
  jobs?: number;
  /** Where builds/ lives (default: the gs-kit cache); the bench times cold builds in a scratch one. */
  cacheDir?: string;
}

/**
 * The kernel in @tarball, for @profile: its sum and version read, its
 * series found (an unsupported one is refused before anything is
 * unpacked).
 */
export async function resolveKernel(tarball: string, profile: Profile, hook: ModuleHook, reporter: Reporter): Promise<Kernel> {
  reporter.step('Identify the source');
  const { sha256, version } = await identifySource(tarball);
  return { series: seriesFor(version), version, source: { tarball, sha256 }, profile, hook };
}

/** Where a request's source is, then the kernel in it. */
export async function kernelFor(req: SourceRequest, profile: Profile, hook: ModuleHook, reporter: Reporter): Promise<Kernel> {
  return resolveKernel(locateSource(req), profile, hook, reporter);
}

/** Build (or reuse from the cache) @kernel patched, and the module against it. */
export async function ensureBuild(kernel: Kernel, reporter: Reporter, opts: BuildOptions = {}): Promise<BuildArtifacts> {
  const key = cacheKey(await buildKeyParts(kernel));
  const buildDir = join(opts.cacheDir ?? cacheRoot(), 'builds', key);
  const release = await takeBuildLock(`${buildDir}.lock`);
  try {
    const stamp = join(buildDir, 'kernel.json');
    const buildLog = join(buildDir, 'build.log');
    let built = await readStamp(stamp);
    if (built) reporter.progress(`cached build ${key}`);
    else built = await buildTree(kernel, reporter, { buildDir, buildLog, stamp, jobs: opts.jobs ?? cpus().length });
    const mod = await moduleFor(kernel, buildDir, reporter);
    return { key, buildDir, kernel, profile: kernel.profile, buildLog, module: mod.module, moduleWarnings: mod.warnings, ...built };
  } finally {
    await release();
  }
}

/** Extract, patch, fix up, configure and build the kernel in @where.buildDir; its stamp last. */
async function buildTree(
  kernel: Kernel, reporter: Reporter, where: { buildDir: string; buildLog: string; stamp: string; jobs: number },
): Promise<KernelStamp> {
  const { buildDir, buildLog, stamp } = where;
  const src = join(buildDir, 'src');
  await freshDir(buildDir);
  try {
    reporter.step(`Extract ${kernel.source.tarball}`);
    await extractTarball(kernel.source.tarball, src);
    reporter.step(`Apply the gs-kit patch for ${kernel.series.series} to Linux ${formatVersion(kernel.version)}`);
    await applyPatches(src, kernel, await patchFiles(kernel.series.series));
    for (const fixup of fixupsFor(kernel.series.needsModernGccFixes, await gccVersion())) {
      if (await applyFixup(src, fixup)) reporter.note(`note: applied compiler fixup ${fixup.id}: ${fixup.description}`, 'warn');
    }
    reporter.step(`Configure (profile ${kernel.profile})`);
    await configure(src, kernel.profile, buildLog);
    reporter.step('Build the kernel');
    await buildKernel(src, where.jobs, buildLog, (n) => reporter.progress(`${n} files compiled`, n));
    const built: KernelStamp = {
      version: formatVersion(kernel.version),
      series: kernel.series.series,
      release: await kernelRelease(src),
      bzImage: join(src, 'arch/x86/boot/bzImage'),
    };
    await writeStamp(stamp, built);
    return built;
  } catch (err) {
    // A build that fails before its stamp leaves nothing behind to be mistaken for a good one.
    if (!(err instanceof GsError && err.exitCode === 7)) await removeDir(buildDir);
    throw err;
  }
}

/** The module built against the tree, once per module source (and hook). */
async function moduleFor(kernel: Kernel, buildDir: string, reporter: Reporter) {
  reporter.step(`Build ${MODULE_NAME} against the tree`);
  const lkmHash = await hashFiles(join(repoRoot(), 'lkm'), MODULE_SOURCE_PATTERN);
  const src = join(buildDir, 'src');
  return kernel.hook === 'stock'
    ? buildModule(src, join(buildDir, `lkm-stock-${lkmHash}`), { hook: 'stock' })
    : buildModule(src, join(buildDir, `lkm-${lkmHash}`));
}

/**
 * The kernel in @tarball built as one task: "Build a patched kernel
 * (profile) from TARBALL", resolved and built, then "Kernel RELEASE
 * (profile) and module ready".
 */
export async function buildPatched(
  tarball: string, profile: Profile, hook: ModuleHook, reporter: Reporter, opts: BuildOptions = {},
): Promise<BuildArtifacts> {
  return reporter.task(`Build a patched kernel (${profile}) from ${tarball}`,
    async () => ensureBuild(await resolveKernel(tarball, profile, hook, reporter), reporter, opts),
    (a) => `Kernel ${a.release} (${profile}) and module${hook === 'stock' ? ' (stock mode)' : ''} ready`);
}

/** A build's .deb packages (make bindeb-pkg) as one task; the packages' paths. */
export async function buildDebPackages(a: BuildArtifacts, jobs: number, reporter: Reporter): Promise<string[]> {
  return reporter.task('Build .deb packages (make bindeb-pkg)', () => buildDebs(a, jobs, (l) => reporter.progress(l)));
}

/** The .deb packages of a build, made once and kept with it. */
export async function ensureDebs(a: BuildArtifacts, reporter: Reporter): Promise<void> {
  if (!(await haveDebs(a))) await buildDebs(a, 2, (l) => reporter.progress(l));
}
