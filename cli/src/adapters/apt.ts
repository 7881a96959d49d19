import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installCommands, installedFromDpkgQuery, packageManagerFor, type PackageManager } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import { run } from './exec.js';

/** The package manager of the system at @root. */
export async function detectPackageManager(root: string): Promise<PackageManager> {
  const osRelease = await readFile(join(root, 'etc/os-release'), 'utf8').catch(() => '');
  const pm = packageManagerFor(osRelease);
  if (!pm) {
    throw new GsError('This system is neither Debian/Ubuntu nor Fedora-like, so gs-kit cannot install its dependencies.',
      'Install the packages listed in README.md with your package manager.', 'dependency');
  }
  return pm;
}

/** Which of @packages are installed on the system at @root. */
export async function installedPackages(pm: PackageManager, root: string, packages: readonly string[]): Promise<Set<string>> {
  if (pm === 'apt') {
    const admin = root === '/' ? [] : [`--admindir=${join(root, 'var/lib/dpkg')}`];
    const r = await run(['dpkg-query', ...admin, '-W', '-f', '${Package} ${Status}\n']);
    return installedFromDpkgQuery(r.stdout);
  }
  const installed = new Set<string>();
  const r = await run(['rpm', ...(root === '/' ? [] : ['--root', root]), '-q', '--qf', '%{NAME}\n', ...packages]);
  for (const line of r.stdout.split('\n')) if (packages.includes(line.trim())) installed.add(line.trim());
  return installed;
}

export async function installPackages(pm: PackageManager, packages: readonly string[], onLine: (l: string) => void): Promise<void> {
  for (const argv of installCommands(pm, packages)) {
    const r = await run(argv, { env: { DEBIAN_FRONTEND: 'noninteractive' }, onLine });
    if (r.exitCode !== 0) {
      const root = process.getuid?.() === 0;
      throw new GsError(`"${argv.join(' ')}" failed: ${(r.stderr || r.stdout).trim().split('\n').at(-1)}`,
        root ? 'Check that the package archive is reachable, then run this again.' : 'Run gs-kit setup-vm as root (sudo).',
        root ? 'dependency' : 'permission');
    }
  }
}
