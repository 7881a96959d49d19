/**
 * Where a kernel source is on this machine, and what it is: the tarball a
 * request names (checked to exist), and its sha256 and version, the
 * version read once per tarball and remembered by its sum.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GsError } from '../lib/errors.js';
import {
  distroSeries, kernelOrgUrls, parseKernelVersion, sourceEnvVar, SERIES_NAMES, SUPPORTED_SERIES,
  type KernelVersion, type SourceRequest,
} from '../lib/kernels.js';
import { foreignPackageFile } from './apt.js';
import { sha256File, tarballVersion } from './kernel-tree.js';
import { cacheRoot, repoRoot } from './paths.js';

/**
 * The tarball of the distribution's linux-source package for @series (the
 * newest of the host's release when none): installed, or for another
 * release's package (backports), unpacked under the cache by setup-vm.
 */
function distroTarball(series: string | undefined): string {
  const s = distroSeries(series);
  const tarball = s.distroSuite ? foreignPackageFile(s.distroPackage!, s.distroTarball!) : s.distroTarball!;
  if (!existsSync(tarball)) {
    throw new GsError(`The distribution kernel source ${tarball} is not ${s.distroSuite ? 'fetched' : 'installed'}.`,
      s.distroSuite
        ? `Fetch it from Debian ${s.distroSuite} with "gs-kit setup-vm --suite" (unpacked under the cache, not installed).`
        : `Install it with "gs-kit setup-vm --kernel distro" or "apt-get install ${s.distroPackage}".`, 'source');
  }
  return tarball;
}

/**
 * The source the guest suite builds for @series: the tarball named by
 * GS_SOURCE_<series> (e.g. GS_SOURCE_5_4); else the distribution's
 * linux-source package; else, for a series tested on a kernel.org release,
 * that release as gs-kit setup-vm downloaded and verified it, or the copy
 * this project keeps next to the checkout (../shared).
 */
function seriesTarball(series: string): string {
  const fromEnv = process.env[sourceEnvVar(series)];
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new GsError(`${sourceEnvVar(series)} names ${fromEnv}, which does not exist.`,
        `Point ${sourceEnvVar(series)} at a Linux ${series} source tarball.`, 'source');
    }
    return fromEnv;
  }
  const s = SUPPORTED_SERIES.find((x) => x.series === series);
  if (!s) throw new GsError(`There is no gs-kit patch for series ${series}.`, `Choose one of ${SERIES_NAMES.join(', ')}.`, 'usage');
  if (s.distroTarball) return distroTarball(series);
  const release = parseKernelVersion(s.testRelease!);
  const candidates = [
    join(cacheRoot(), 'downloads', kernelOrgUrls(release).file),
    join(repoRoot(), '..', 'shared', `linux-${s.testRelease}-x86.tar.xz`),
  ];
  const found = candidates.find((c, i) => existsSync(c) && (i > 0 || existsSync(`${c}.sha256`)));
  if (!found) {
    throw new GsError(`No Linux ${s.testRelease} source for the ${series} guests.`,
      `Run "gs-kit setup-vm --kernel ${s.testRelease}", or set ${sourceEnvVar(series)}=TARBALL.`, 'source');
  }
  return found;
}

/** A kernel.org release as gs-kit setup-vm downloaded and verified it. */
function releaseTarball(text: string): string {
  const tarball = join(cacheRoot(), 'downloads', kernelOrgUrls(parseKernelVersion(text)).file);
  if (!existsSync(`${tarball}.sha256`)) {
    throw new GsError(`Linux ${text} has not been downloaded and verified yet.`,
      `Run "gs-kit setup-vm --kernel ${text}" first, or give --source TARBALL.`, 'source');
  }
  return tarball;
}

/** The tarball @req names, which must exist. */
export function locateSource(req: SourceRequest): string {
  switch (req.from) {
    case 'series': return seriesTarball(req.series);
    case 'distro': return distroTarball(req.series);
    case 'release': return releaseTarball(req.version);
    case 'file':
      if (!existsSync(req.tarball)) {
        throw new GsError(`The kernel source ${req.tarball} does not exist.`,
          'Give the path of a Linux source tarball, or use --kernel distro.', 'source');
      }
      return req.tarball;
  }
}

/** A tarball's sha256 and the kernel version it holds, the version remembered by the sum so it is read once. */
export async function identifySource(tarball: string): Promise<{ sha256: string; version: KernelVersion }> {
  const sha256 = await sha256File(tarball);
  const memo = join(cacheRoot(), 'sources', `${sha256}.json`);
  try {
    return { sha256, version: JSON.parse(await readFile(memo, 'utf8')) as KernelVersion };
  } catch {
    const version = await tarballVersion(tarball);
    await mkdir(dirname(memo), { recursive: true });
    await writeFile(memo, JSON.stringify(version));
    return { sha256, version };
  }
}
