/**
 * The distribution's own kernels, for testing the module's stock mode (no
 * gs-kit patch, nothing rebuilt): which Debian packages hold a series'
 * newest kernel and its headers, and which modules a guest must load. Pure.
 */
import { listWords, SUPPORT } from './support.js';

export interface StockSeries {
  /** What the suite and `vm test --stock --series` call it: the series, "-deb13" after it for a later Debian release's. */
  name: string;
  /** The kernel series ("major.minor"). */
  series: string;
  /** The Debian release whose archive holds it. */
  suite: string;
  /** The ABI part of linux-image-<abi>-<flavour>-unsigned (e.g. 6.1.0-57, 6.12.117+deb12), as a regular expression. */
  abi: string;
  /** The linux-kbuild package the headers' scripts live in. */
  kbuild(abi: string): string;
}

/**
 * Every Debian kernel the suite can boot in stock mode, and where Debian
 * keeps it; which of them `make test` boots is lkm/kernels.json's to say
 * (STOCK_SERIES), the others `make test-kernels` and `vm test --stock`.
 */
export const STOCK_KERNELS: readonly StockSeries[] = [
  { name: '6.1', series: '6.1', suite: 'bookworm', abi: '6\\.1\\.0-\\d+', kbuild: () => 'linux-kbuild-6.1' },
  { name: '6.12', series: '6.12', suite: 'bookworm', abi: '6\\.12\\.\\d+\\+deb12', kbuild: (abi) => `linux-kbuild-${abi}` },
  { name: '6.12-deb13', series: '6.12', suite: 'trixie', abi: '6\\.12\\.\\d+\\+deb13', kbuild: (abi) => `linux-kbuild-${abi}` },
  { name: '7.2', series: '7.2', suite: 'sid', abi: '7\\.2\\.\\d+\\+deb14', kbuild: (abi) => `linux-kbuild-${abi}` },
  { name: '7.3', series: '7.3', suite: 'trixie-backports', abi: '7\\.3\\.\\d+\\+deb13', kbuild: (abi) => `linux-kbuild-${abi}` },
];

/**
 * Debian's kernel flavours on amd64: the generic one, the cloud one (what
 * most cloud VMs boot: fewer drivers) and PREEMPT_RT.
 */
export const FLAVOURS = ['generic', 'cloud', 'rt'] as const;
export type Flavour = typeof FLAVOURS[number];

/** The package suffix of @flavour: linux-image-<abi>-<suffix>-unsigned. */
export function flavourSuffix(flavour: Flavour): string {
  return flavour === 'generic' ? 'amd64' : `${flavour}-amd64`;
}

/** The kernel release of @abi in @flavour (uname -r): 6.12.117+deb13-rt-amd64. */
export function stockRelease(abi: string, flavour: Flavour): string {
  return `${abi}-${flavourSuffix(flavour)}`;
}

/** The Debian release this machine's apt uses (the guest suite's host); others are reached through apt views of their own. */
export const HOST_SUITE = 'bookworm';

/**
 * apt options that point apt at @suite's archive alone, through lists and
 * a cache of its own under @dir, never touching the host's sources.
 */
export function aptViewOptions(dir: string): string[] {
  return [
    '-o', `Dir::Etc::SourceList=${dir}/sources.list`,
    '-o', 'Dir::Etc::SourceParts=/nonexistent',
    '-o', `Dir::State::Lists=${dir}/lists`,
    '-o', `Dir::Cache=${dir}/cache`,
    '-o', 'APT::Sandbox::User=root',
    // Signatures are checked; the freshness of a Release file is not: a
    // mirror frozen in time (a snapshot, as here) still serves sid and
    // backports, whose Release files expire within days.
    '-o', 'Acquire::Check-Valid-Until=false',
  ];
}

/**
 * The suites apt needs for @suite: a backports suite is used on top of
 * its release (its packages depend on the release's: gcc, kbuild's libc).
 */
export function suiteWithBase(suite: string): string[] {
  const base = /^(.+)-backports$/.exec(suite)?.[1];
  return base ? [base, suite] : [suite];
}

/** That view's sources.list: @suite (and its release, for backports) from the archive the host uses. */
export function aptViewSources(mirror: string, suite: string): string {
  return suiteWithBase(suite).map((s) => `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} ${s} main\n`).join('');
}

/**
 * The root where DKMS builds the module for another release's kernel:
 * that release with the kernel's headers package (which brings its gcc and
 * kbuild), make and binutils (from Debian 13's backports on, gcc-N-for-host
 * brings only the target-prefixed assembler), dkms and openssl (DKMS
 * signs with a key of its own), as a machine of that release has.
 */
export function toolchainRootArgv(suite: string, release: string, mirror: string, root: string): string[] {
  return ['mmdebstrap', '--variant=apt', `--include=linux-headers-${release},make,binutils,dkms,openssl`, '--aptopt=Acquire::Check-Valid-Until "false"',
    '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-exclude=/usr/share/man/*',
    suiteWithBase(suite)[0]!, root, ...suiteWithBase(suite).map((s) => `deb ${mirror} ${s} main`)];
}

/** The distribution kernels the guest suite boots in stock mode (lkm/kernels.json's stock_tested). */
export const STOCK_SERIES: readonly StockSeries[] = SUPPORT.stockTested.map((name) => {
  const found = STOCK_KERNELS.find((p) => p.name === name);
  if (!found) throw new Error(`lkm/kernels.json tests stock mode on ${name}, whose Debian packages cli/src/lib/stock.ts does not know`);
  return found;
});

/** The stock kernel the suite calls @name, if there is one. */
export function stockSeriesNamed(name: string): StockSeries | undefined {
  return STOCK_KERNELS.find((s) => s.name === name);
}

/** Every stock kernel's name, for messages: "6.1, 6.12, 6.12-deb13 or 7.2". */
export function stockNames(joiner = ' or '): string {
  return listWords(STOCK_KERNELS.map((s) => s.name), joiner);
}

/** Numeric parts of an ABI, for ordering: 6.1.0-57 < 6.1.0-100. */
function abiKey(abi: string): number[] {
  return abi.split(/[.+-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : -1));
}

function compareAbi(a: string, b: string): number {
  const x = abiKey(a);
  const y = abiKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

/** The newest ABI of @s among package names (as `apt-cache pkgnames` lists them). */
export function newestAbi(s: StockSeries, packageNames: readonly string[], flavour: Flavour = 'generic'): string | undefined {
  // Debian 14 names the unsigned image without "-unsigned".
  const image = new RegExp(`^linux-image-(${s.abi})-${flavourSuffix(flavour)}(?:-unsigned)?$`);
  const abis = packageNames.map((n) => image.exec(n.trim())?.[1]).filter((a): a is string => a !== undefined);
  return abis.sort(compareAbi).at(-1);
}

/**
 * The packages that hold the kernel @release and its modules, among
 * @packageNames: the unsigned image ("-unsigned" where Debian has both),
 * and from Debian 14 on, where the image is a metapackage, the
 * linux-binary (vmlinuz), linux-modules and linux-base (config) packages
 * it depends on, which keep all of it under /usr/lib/modules/<release>.
 */
export function imagePackages(release: string, packageNames: readonly string[]): string[] {
  const has = (name: string) => packageNames.some((n) => n.trim() === name);
  const unsigned = `linux-image-${release}-unsigned`;
  return [
    has(unsigned) ? unsigned : `linux-image-${release}`,
    ...[`linux-binary-${release}`, `linux-modules-${release}`, `linux-base-${release}`].filter(has),
  ];
}

/** The packages a stock guest of @abi needs: the kernel, its headers, their kbuild. */
export function stockPackages(s: StockSeries, abi: string, flavour: Flavour = 'generic'): string[] {
  return [
    `linux-image-${stockRelease(abi, flavour)}-unsigned`,
    `linux-headers-${stockRelease(abi, flavour)}`,
    `linux-headers-${abi}-common${flavour === 'rt' ? '-rt' : ''}`,
    s.kbuild(abi),
  ];
}

/**
 * What the guests load: virtio and 9p, for the scenario that runs the host's
 * tools; FUSE, for the one with a stalled FUSE mount.
 */
export const GUEST_MODULES: readonly string[] = ['virtio_pci', '9pnet_virtio', '9p', 'fuse'];

function moduleName(path: string): string {
  return path.split('/').pop()!.replace(/\.ko(\.[a-z]+)?$/, '');
}

/**
 * The module files to load, in order, for @wanted, from modules.dep (whose
 * lines list every dependency, the last to be loaded first). A wanted
 * module absent from it is built in and needs nothing.
 */
export function loadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of modulesDep.split('\n')) {
    const m = /^(\S+):\s*(.*)$/.exec(line.trim());
    if (m) deps.set(moduleName(m[1]!), { path: m[1]!, deps: m[2]!.split(/\s+/).filter(Boolean) });
  }
  const order: string[] = [];
  for (const name of wanted) {
    const entry = deps.get(name);
    if (!entry) continue;
    for (const d of [...[...entry.deps].reverse(), entry.path]) if (!order.includes(d)) order.push(d);
  }
  return order;
}
