/** The system's package manager, through its Host: which one, what is installed, and installing. */
import { installCommands, installedFromDpkgQuery, packageManagerFor, type PackageManager } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { aptViewOptions, aptViewSources, HOST_SUITE } from '../lib/stock.js';
import { run } from './exec.js';
import type { Host } from './host.js';
import { cacheRoot } from './paths.js';

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

/** Run @argv, or fail naming @what and the archive. */
export async function mustRun(argv: string[], what: string, cwd?: string): Promise<string> {
  const r = await run(argv, cwd ? { cwd } : {});
  if (r.exitCode !== 0) {
    throw new GsError(`${what} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      'Check that the Debian archive apt uses is reachable (apt-get update).', 'dependency');
  }
  return r.stdout;
}

/** The archive the host's apt uses, for other releases' views. */
export const MIRROR = process.env.GS_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
/** How long another release's package lists are used before apt-get update again. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * apt's options for @suite: none for the host's own release; for another,
 * a view of that release's archive with lists of its own under the cache
 * (the host's sources untouched), updated once a day.
 */
export async function aptView(suite: string): Promise<string[]> {
  if (suite === HOST_SUITE) return [];
  const dir = join(cacheRoot(), 'apt', suite);
  const opts = aptViewOptions(dir);
  const stamp = join(dir, 'updated');
  const fresh = existsSync(stamp) && Date.now() - (await stat(stamp)).mtimeMs < LISTS_MAX_AGE_MS;
  if (!fresh) {
    await mkdir(join(dir, 'lists', 'partial'), { recursive: true });
    await mkdir(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
    await writeFile(join(dir, 'sources.list'), aptViewSources(MIRROR, suite));
    await mustRun(['apt-get', ...opts, 'update'], `apt-get update (Debian ${suite}'s archive)`);
    await writeFile(stamp, '');
  }
  return opts;
}

/**
 * apt-get download @packages (with @apt's options, e.g. an apt view) into
 * @debs, unpack each into @tree with dpkg-deb -x, and remove @debs: the
 * packages' files, never installed. apt checks each against its suite's
 * signed Release file.
 */
export async function downloadAndUnpack(packages: readonly string[], apt: readonly string[], debs: string, tree: string): Promise<void> {
  await rm(debs, { recursive: true, force: true });
  await mkdir(debs, { recursive: true });
  await mustRun(['apt-get', ...apt, 'download', ...packages], `apt-get download ${packages.join(' ')}`, debs);
  for (const deb of await readdir(debs)) await mustRun(['dpkg-deb', '-x', join(debs, deb), tree], `dpkg-deb -x ${deb}`);
  await rm(debs, { recursive: true, force: true });
}

/**
 * The files of @pkg from Debian's @suite, unpacked (once) under the cache
 * and never installed: a package of another release, such as a backports
 * kernel source, on a host whose own release does not have it. Returns
 * the unpacked root.
 */
export async function unpackedForeignPackage(pkg: string, suite: string): Promise<string> {
  const dir = join(cacheRoot(), 'distro', pkg);
  if (existsSync(join(dir, '.unpacked'))) return dir;
  const work = `${dir}.partial`;
  await rm(work, { recursive: true, force: true });
  await downloadAndUnpack([pkg], await aptView(suite), join(work, '.debs'), work);
  await writeFile(join(work, '.unpacked'), '');
  await rm(dir, { recursive: true, force: true });
  await rename(work, dir);
  return dir;
}

/** Where unpackedForeignPackage() keeps @pkg's file @path. */
export function foreignPackageFile(pkg: string, path: string): string {
  return join(cacheRoot(), 'distro', pkg, path);
}
