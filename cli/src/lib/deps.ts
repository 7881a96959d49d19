/** Debian packages each part of gs-kit needs on the build host. */
export const DEBIAN_PACKAGES = {
  build: ['build-essential', 'bc', 'bison', 'flex', 'libelf-dev', 'libssl-dev', 'xz-utils', 'cpio', 'kmod', 'file', 'patch'],
  vm: ['qemu-system-x86', 'busybox-static'],
  distroSource: ['linux-source-6.1', 'linux-source-6.12'],
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
