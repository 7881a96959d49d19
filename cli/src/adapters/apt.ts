import { run } from './exec.js';
import { installedFromDpkgQuery } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';

export async function installedPackages(root?: string): Promise<Set<string>> {
  const r = await run(['dpkg-query', ...(root ? [`--root=${root}`] : []), '-W', '-f', '${Package} ${Status}\n']);
  if (r.exitCode === 127) {
    throw new GsError('dpkg-query is not available: this is not a Debian or Ubuntu system.',
      'Install the build dependencies listed in README.md with your package manager.', 'dependency');
  }
  return installedFromDpkgQuery(r.stdout);
}

export function aptCommands(packages: readonly string[]): string[][] {
  return [
    ['apt-get', 'update'],
    ['apt-get', 'install', '-y', '--no-install-recommends', ...packages],
  ];
}

export async function aptInstall(packages: readonly string[], onLine: (l: string) => void): Promise<void> {
  for (const argv of aptCommands(packages)) {
    const r = await run(argv, { env: { DEBIAN_FRONTEND: 'noninteractive' }, onLine });
    if (r.exitCode !== 0) {
      throw new GsError(`"${argv.join(' ')}" failed: ${r.stderr.trim().split('\n').at(-1)}`,
        process.getuid?.() === 0 ? 'Check the package archive is reachable, then retry.' : 'Run gs-kit setup-vm as root (sudo).',
        process.getuid?.() === 0 ? 'dependency' : 'permission');
    }
  }
}
