import { GsError } from './errors.js';
import type { Profile } from './kconfig.js';
import { listWords, SUPPORT } from './support.js';

/** A kernel series gs-kit has a patch for. */
export interface KernelSeries {
  /** "major.minor", also the directory under kernel/patches/. */
  series: string;
  /** The Debian package holding this series' source, where one exists. */
  distroPackage?: string;
  /** Tarball that package installs. */
  distroTarball?: string;
  /**
   * The Debian suite that has the package, when it is not the host's own
   * release: the package is then fetched through an apt view and unpacked
   * under the cache, never installed (lib/stock.ts HOST_SUITE).
   */
  distroSuite?: string;
  /** GCC >= 10 needs known fixes to build this series (see ARCHITECTURE.md). */
  needsModernGccFixes: boolean;
  /** The kernel.org release the guest suite tests, for a series with no distribution source. */
  testRelease?: string;
}

/** How each patched series is built; which series are patched is lkm/kernels.json's to say. */
const SERIES_DETAILS: readonly KernelSeries[] = [
  { series: '5.4', needsModernGccFixes: true, testRelease: '5.4.1' },
  {
    series: '6.1',
    distroPackage: 'linux-source-6.1',
    distroTarball: '/usr/src/linux-source-6.1.tar.xz',
    needsModernGccFixes: false,
  },
  {
    series: '6.12',
    distroPackage: 'linux-source-6.12',
    distroTarball: '/usr/src/linux-source-6.12.tar.xz',
    needsModernGccFixes: false,
  },
  {
    series: '7.3',
    distroPackage: 'linux-source-7.3',
    distroTarball: '/usr/src/linux-source-7.3.tar.xz',
    distroSuite: 'trixie-backports',
    needsModernGccFixes: false,
  },
];

/** The series gs-kit has a patch for, as lkm/kernels.json lists them, oldest first. */
export const SUPPORTED_SERIES: readonly KernelSeries[] = SUPPORT.patched.map((name) => {
  const found = SERIES_DETAILS.find((d) => d.series === name);
  if (!found) throw new Error(`lkm/kernels.json names series ${name}, which cli/src/lib/kernels.ts cannot build`);
  return found;
});

/** The kernel the host flow downloads when none is named. */
export const DEFAULT_KERNEL_VERSION = '5.4.1';

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
}

export function parseKernelVersion(text: string): KernelVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) {
    throw new GsError(
      `"${text}" is not a kernel version.`,
      'Give a version such as 5.4.1 or 6.1, or --kernel distro.',
      'usage',
    );
  }
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export function formatVersion(v: KernelVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** The version a kernel tree's top-level Makefile declares. */
export function versionFromMakefile(makefile: string): KernelVersion {
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}\\s*=\\s*(\\d+)\\s*$`, 'm').exec(makefile);
    return m ? Number(m[1]) : undefined;
  };
  const major = field('VERSION');
  const minor = field('PATCHLEVEL');
  if (major === undefined || minor === undefined) {
    throw new GsError(
      'The source tree has no kernel version in its Makefile.',
      'Point gs-kit at a Linux source tarball (linux-X.Y.Z.tar.xz).',
      'source',
    );
  }
  return { major, minor, patch: field('SUBLEVEL') ?? 0 };
}

/** Every series gs-kit has a patch for, oldest first: what `gs-kit vm test` and `make test-kernels` run on. */
export const SERIES_NAMES: readonly string[] = SUPPORTED_SERIES.map((s) => s.series);

/** The patched series `make test` runs on: the oldest and the newest (lkm/kernels.json's patched_tested). */
export const TESTED_SERIES: readonly string[] = SUPPORT.patchedTested.map((name) => {
  if (!SERIES_NAMES.includes(name)) throw new Error(`lkm/kernels.json tests series ${name}, which it does not list as patched`);
  return name;
});

/**
 * The guest suite runs as two processes at once, one guest each on a
 * two-core host: each takes the series of one group, patched and stock. A
 * series' patched and stock suites stay in one process because on the
 * debug profile they boot the same kernel build, which only one gs-kit at
 * a time may build. Every series `make test` boots (TESTED_SERIES, and
 * lib/stock.ts STOCK_SERIES), patched or stock, is in one group: the
 * oldest of each mode in one, the newest in the other.
 */
export const SUITE_GROUPS: readonly (readonly string[])[] = [['5.4', '6.1'], ['7.3']];

/** A file of kernel/patches/<series> that is a patch to apply: not the series' cover letter. */
export function isSeriesPatch(file: string): boolean {
  return file.endsWith('.patch') && !file.endsWith('-cover-letter.patch');
}

/** The environment variable naming a source tarball for @series, e.g. GS_SOURCE_5_4. */
export function sourceEnvVar(series: string): string {
  return `GS_SOURCE_${series.replace(/\./g, '_')}`;
}

export function supportedSeriesList(): string {
  return SUPPORTED_SERIES.map((s) => s.series).join(', ');
}

/** The series whose patch fits @version, or a clear refusal. */
export function seriesFor(version: KernelVersion): KernelSeries {
  const name = `${version.major}.${version.minor}`;
  const found = SUPPORTED_SERIES.find((s) => s.series === name);
  if (!found) {
    throw new GsError(
      `Linux ${formatVersion(version)} is not a supported kernel series.`,
      `Use a kernel from one of the supported series: ${supportedSeriesList()}.`,
      'patch',
    );
  }
  return found;
}

/**
 * The distribution's source package for a series, as --kernel distro uses
 * it; with no series named, the newest of the host's own release (another
 * release's, such as backports, only when asked for).
 */
export function distroSeries(name: string | undefined): KernelSeries {
  const candidates = SUPPORTED_SERIES.filter((s) => s.distroPackage);
  const found = name ? candidates.find((s) => s.series === name) : candidates.filter((s) => !s.distroSuite).at(-1);
  if (!found) {
    throw new GsError(
      `There is no distribution source package for series ${name}.`,
      `Choose --series ${listWords(candidates.map((s) => s.series), ' or ')}.`,
      'usage',
    );
  }
  return found;
}

/** kernel.org locations of a release tarball and its published sums. */
export function kernelOrgUrls(version: KernelVersion, mirror = 'https://cdn.kernel.org/pub/linux/kernel') {
  const dir = `${mirror}/v${version.major}.x`;
  const file = `linux-${formatVersion(version).replace(/\.0$/, '')}.tar.xz`;
  return { tarball: `${dir}/${file}`, sums: `${dir}/sha256sums.asc`, file };
}

/** How the module hears of OOM victims: the gs-kit patch's notifier, or the stock-mode hook. */
export type ModuleHook = 'patched' | 'stock';

/** Where a kernel's source comes from, as a command or the guest suite asks for it. */
export type SourceRequest =
  /** The source the guest suite builds for a series (GS_SOURCE_<series>, the distribution's, or kernel.org's test release). */
  | { from: 'series'; series: string }
  /** The distribution's linux-source package (--kernel distro); the newest series when none is named. */
  | { from: 'distro'; series?: string }
  /** A kernel.org release that gs-kit setup-vm downloaded and verified (--kernel X.Y.Z). */
  | { from: 'release'; version: string }
  /** A tarball the user has (--source). */
  | { from: 'file'; tarball: string };

/**
 * A kernel to build, resolved once from what was asked and handed down
 * whole: the build, the guests and the system test read its series,
 * version and source from here and never derive them again from a path.
 */
export interface Kernel {
  series: KernelSeries;
  /** The version the source's Makefile declares. */
  version: KernelVersion;
  /** The source tarball and its sha256, which keys the build cache. */
  source: { tarball: string; sha256: string };
  profile: Profile;
  /** How the module built for it hears of victims ("stock" on a patched tree: the debug suite's stock mode). */
  hook: ModuleHook;
}
