/** What `gs-kit bench` runs in the guest from the host's root: the other contenders and a memory hog. Same names on Debian and Fedora. */
const BENCH_TOOLS = ['earlyoom', 'nohang', 'stress-ng'];

/** Debian packages each part of gs-kit needs on the build host. */
export const DEBIAN_PACKAGES: Record<'build' | 'vm' | 'distroSource' | 'bench' | 'package' | 'system', readonly string[]> = {
  build: ['build-essential', 'bc', 'bison', 'flex', 'libelf-dev', 'libssl-dev', 'xz-utils', 'cpio', 'kmod', 'file', 'patch'],
  // dwarves (pahole): the stock guests build the module against Debian's headers, which generate BTF from 6.12 on.
  // mmdebstrap: a later Debian release's kernel is built for with that release's toolchain, in a root of its own.
  vm: ['qemu-system-x86', 'busybox-static', 'dwarves', 'mmdebstrap'],
  distroSource: ['linux-source-6.1', 'linux-source-6.12'],
  bench: BENCH_TOOLS,
  // make bindeb-pkg: dpkg-dev (build-essential has it), and the generated debian/control
  // build-depends on rsync, and from 6.12 on debhelper.
  package: ['dpkg-dev', 'rsync', 'debhelper'],
  // gs-kit vm system's Debian 12 image: mmdebstrap makes its root, mkfs.ext4 its disk.
  system: ['mmdebstrap', 'e2fsprogs'],
} as const;

export type DepGroup = keyof typeof DEBIAN_PACKAGES;

/** Installed packages, from `dpkg-query -W -f '${Package} ${Status}\n'`. */
export function installedFromDpkgQuery(output: string): Set<string> {
  const installed = new Set<string>();
  for (const line of output.split('\n')) {
    const [name, ...status] = line.trim().split(/\s+/);
    // "hold ok installed" is installed too: only the second and third words tell.
    if (name && status[1] === 'ok' && status[2] === 'installed') installed.add(name.replace(/:.*$/, ''));
  }
  return installed;
}

export function missingPackages(groups: readonly DepGroup[], installed: Set<string>): string[] {
  const wanted = [...new Set(groups.flatMap((g) => DEBIAN_PACKAGES[g]))];
  return wanted.filter((p) => !installed.has(p));
}

/** The same needs on Fedora-likes (dnf). */
export const FEDORA_PACKAGES: Record<DepGroup, readonly string[]> = {
  build: ['gcc', 'make', 'bc', 'bison', 'flex', 'elfutils-libelf-devel', 'openssl-devel', 'xz', 'cpio', 'kmod', 'file', 'patch', 'perl'],
  vm: ['qemu-system-x86', 'busybox', 'dwarves', 'mmdebstrap'],
  distroSource: [],
  bench: BENCH_TOOLS,
  package: ['rsync', 'dpkg-dev', 'debhelper'],
  system: ['mmdebstrap', 'e2fsprogs'],
};

export type PackageManager = 'apt' | 'dnf';

/** Which package manager a system uses, from its /etc/os-release. */
export function packageManagerFor(osRelease: string): PackageManager | undefined {
  const field = (name: string) => new RegExp(`^${name}="?([^"\\n]*)"?$`, 'm').exec(osRelease)?.[1] ?? '';
  const ids = `${field('ID')} ${field('ID_LIKE')}`.split(/\s+/);
  if (ids.some((id) => ['debian', 'ubuntu'].includes(id))) return 'apt';
  if (ids.some((id) => ['fedora', 'rhel', 'centos'].includes(id))) return 'dnf';
  return undefined;
}

export function packagesFor(pm: PackageManager, groups: readonly DepGroup[]): string[] {
  const table = pm === 'apt' ? DEBIAN_PACKAGES : FEDORA_PACKAGES;
  return [...new Set(groups.flatMap((g) => table[g]))];
}

/** The commands that install @packages. */
export function installCommands(pm: PackageManager, packages: readonly string[]): string[][] {
  return pm === 'apt'
    ? [['apt-get', 'update'], ['apt-get', 'install', '-y', '--no-install-recommends', ...packages]]
    : [['dnf', 'install', '-y', ...packages]];
}

/**
 * The tools `make bindeb-pkg` needs beyond the build's: dpkg-dev's always,
 * the rest read off the tree's scripts/package/mkdebian (the Build-Depends
 * it writes). Each with the command that shows it is installed and the
 * Debian package that has it.
 */
export function debPackagingNeeds(mkdebian: string): { command: string; pkg: string }[] {
  const needs = [{ command: 'dpkg-deb', pkg: 'dpkg-dev' }, { command: 'dpkg-gencontrol', pkg: 'dpkg-dev' }];
  if (/\brsync\b/.test(mkdebian)) needs.push({ command: 'rsync', pkg: 'rsync' });
  if (/\bdebhelper/.test(mkdebian)) needs.push({ command: 'dh', pkg: 'debhelper' });
  return needs;
}
