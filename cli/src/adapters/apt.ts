/** The system's package manager, through its Host: which one, what is installed, and installing. */
import { installCommands, installedFromDpkgQuery, packageManagerFor, type PackageManager } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import type { Host } from './host.js';

/** The package manager of the system under @host. */
export async function detectPackageManager(host: Host): Promise<PackageManager> {
  const osRelease = await host.readFile('/etc/os-release').catch(() => undefined) ?? '';
  const pm = packageManagerFor(osRelease);
  if (!pm) {
    throw new GsError('This system is neither Debian/Ubuntu nor Fedora-like, so gs-kit cannot install its dependencies.',
      'Install the packages listed in README.md with your package manager.', 'dependency');
  }
  return pm;
}

/** Which of @packages are installed on the system under @host. */
export async function installedPackages(host: Host, pm: PackageManager, packages: readonly string[]): Promise<Set<string>> {
  const root = host.root;
  if (pm === 'apt') {
    const admin = root === '/' ? [] : [`--admindir=${root}/var/lib/dpkg`];
    const r = await host.run(['dpkg-query', ...admin, '-W', '-f', '${Package} ${Status}\n']);
    return installedFromDpkgQuery(r.stdout);
  }
  const installed = new Set<string>();
  const r = await host.run(['rpm', ...(root === '/' ? [] : ['--root', root]), '-q', '--qf', '%{NAME}\n', ...packages]);
  for (const line of r.stdout.split('\n')) if (packages.includes(line.trim())) installed.add(line.trim());
  return installed;
}

/** Install @packages on the live system (each command said; in a dry run, only said). */
export async function installPackages(host: Host, pm: PackageManager, packages: readonly string[], onLine: (l: string) => void): Promise<void> {
  for (const argv of installCommands(pm, packages)) {
    const r = await host.run(argv, { write: true, env: { DEBIAN_FRONTEND: 'noninteractive' }, onLine });
    if (r.exitCode !== 0) {
      const root = process.getuid?.() === 0;
      throw new GsError(`"${argv.join(' ')}" failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`,
        root ? 'Check that the package archive is reachable, then run this again.' : 'Run gs-kit setup-vm as root (sudo).',
        root ? 'dependency' : 'permission');
    }
  }
}
