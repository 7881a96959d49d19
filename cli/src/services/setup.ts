/**
 * `gs-kit setup-vm`'s work: which packages the build host lacks and
 * installing them, and fetching the kernel source (a kernel.org release
 * verified against its published sums, a tarball by URL, or the
 * distribution's). Every change goes through the Host: in a dry run it is
 * said, not done.
 */
import { basename, join } from 'node:path';
import { detectPackageManager, installedPackages, installPackages, unpackedForeignPackage } from '../adapters/apt.js';
import { downloadFile, fetchKernelSource } from '../adapters/download.js';
import type { Host } from '../adapters/host.js';
import { locateSource } from '../adapters/kernel-source.js';
import { sha256File } from '../adapters/kernel-tree.js';
import { cacheRoot } from '../adapters/paths.js';
import { packagesFor, type DepGroup, type PackageManager } from '../lib/deps.js';
import { ExitCode, GsError } from '../lib/errors.js';
import { formatVersion, kernelOrgUrls, parseKernelVersion, seriesFor, SUPPORTED_SERIES } from '../lib/kernels.js';
import type { Reporter } from '../lib/reporter.js';
import { formatProgress } from '../lib/sums.js';

/** The package manager of the system under @host, and which packages of @groups it lacks. */
export async function missingPackages(host: Host, groups: readonly DepGroup[]): Promise<{ pm: PackageManager; missing: string[] }> {
  const pm = await detectPackageManager(host);
  const wanted = packagesFor(pm, groups);
  const installed = await installedPackages(host, pm, wanted);
  return { pm, missing: wanted.filter((p) => !installed.has(p)) };
}

/** Install @missing: a task showing the package manager's output (in a dry run, the commands said). */
export async function installMissing(host: Host, pm: PackageManager, missing: readonly string[], reporter: Reporter): Promise<void> {
  const work = () => installPackages(host, pm, missing, (l) => reporter.progress(l));
  if (host.dryRun) await work();
  else await reporter.task(`${pm} install ${missing.join(' ')}`, work);
}

/** Where the kernel source comes from, as setup-vm's options say. */
export type FetchRequest =
  | { from: 'url'; url: string }
  | { from: 'file'; path: string }
  | { from: 'distro' }
  | { from: 'kernel.org'; version: string; mirror: string };

/** Download or locate the kernel source; the tarball's path (none in a dry run). */
export async function fetchSource(req: FetchRequest, host: Host, reporter: Reporter): Promise<string | undefined> {
  const downloads = join(cacheRoot(), 'downloads');
  switch (req.from) {
    case 'url': {
      const dest = join(downloads, basename(new URL(req.url).pathname));
      return host.change(`download ${req.url} to ${dest}`, async () => {
        await reporter.task(`Download ${req.url}`,
          () => downloadFile(req.url, dest, { onProgress: (r, t) => reporter.progress(formatProgress(r, t)) }));
        reporter.note(`${dest}\nsha256 ${await sha256File(dest)} (no published sums for a --source URL: check it yourself)`);
        return dest;
      });
    }
    case 'file':
      return locateFile(req.path);
    case 'distro':
      return host.dryRun ? undefined : locateSource({ from: 'distro' });
    case 'kernel.org': {
      const version = parseKernelVersion(req.version);
      seriesFor(version); // refuse an unsupported series before downloading 150 MB
      const urls = kernelOrgUrls(version, req.mirror);
      return host.change(`download ${urls.tarball}, verify it against ${urls.sums}, and keep it in ${downloads}`, () =>
        reporter.task(`Fetch Linux ${formatVersion(version)}`, () => fetchKernelSource({
          version, mirror: req.mirror, cacheDir: downloads,
          onPhase: (p) => reporter.progress({ cached: 'verifying the cached tarball', sums: 'fetching sha256sums.asc', download: 'downloading', verify: 'verifying' }[p]),
          onProgress: (r, t) => reporter.progress(formatProgress(r, t)),
        }), () => `Linux ${formatVersion(version)} downloaded and verified`));
    }
  }
}

/**
 * The sources the guest suite builds that the host's packages do not
 * hold: another Debian release's linux-source (7.3 from backports), and
 * the kernel.org release a series is tested on (5.4.1), each found here
 * (GS_SOURCE_<series>, the copy next to the checkout, an earlier
 * download), else fetched and verified.
 */
export async function fetchSuiteSources(mirror: string, host: Host, reporter: Reporter): Promise<string[]> {
  const found: string[] = [];
  for (const s of SUPPORTED_SERIES.filter((x) => x.distroSuite || x.testRelease)) {
    const here = foundSuiteSource(s.series);
    if (here) {
      found.push(here);
      continue;
    }
    if (s.distroSuite) {
      // Another Debian release's package: through an apt view, unpacked under the cache, not installed.
      await host.change(`download ${s.distroPackage} from Debian ${s.distroSuite} and unpack it under ${cacheRoot()}/distro`, () =>
        reporter.task(`Fetch ${s.distroPackage} (Debian ${s.distroSuite})`, () => unpackedForeignPackage(s.distroPackage!, s.distroSuite!)));
      if (!host.dryRun) found.push(locateSource({ from: 'series', series: s.series }));
    } else {
      const tarball = await fetchSource({ from: 'kernel.org', version: s.testRelease!, mirror }, host, reporter);
      if (tarball) found.push(tarball);
    }
  }
  return found;
}

/** The suite's source for @series if this machine has it already, else undefined. */
function foundSuiteSource(series: string): string | undefined {
  try {
    return locateSource({ from: 'series', series });
  } catch (err) {
    if (err instanceof GsError && err.exitCode === ExitCode.source) return undefined;
    throw err;
  }
}

function locateFile(path: string): string {
  try {
    return locateSource({ from: 'file', tarball: path });
  } catch {
    throw new GsError(`${path} does not exist.`, 'Give the path of a Linux source tarball.', 'source');
  }
}
