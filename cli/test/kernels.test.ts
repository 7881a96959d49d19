import test from 'ava';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../src/adapters/paths.js';
import { GsError } from '../src/lib/errors.js';
import {
  DEFAULT_KERNEL_VERSION, SUITE_GROUPS, SUPPORTED_SERIES, TESTED_SERIES, distroSeries, formatVersion, kernelOrgUrls,
  parseKernelVersion, seriesFor, supportedSeriesList, versionFromMakefile,
} from '../src/lib/kernels.js';
import { STOCK_SERIES } from '../src/lib/stock.js';

test('a full kernel version is parsed into major, minor and patch', (t) => {
  t.deepEqual(parseKernelVersion('5.4.1'), { major: 5, minor: 4, patch: 1 });
  t.deepEqual(parseKernelVersion('6.12.38'), { major: 6, minor: 12, patch: 38 });
});

test('a version without a patch level means patch 0', (t) => {
  t.deepEqual(parseKernelVersion('6.1'), { major: 6, minor: 1, patch: 0 });
});

test('surrounding whitespace in a version is ignored', (t) => {
  t.deepEqual(parseKernelVersion('  5.4.1\n'), { major: 5, minor: 4, patch: 1 });
});

for (const bad of ['', '5', 'v5.4.1', '5.4.1.2', '5.4-rc1', '5.4.x', 'distro', 'latest', '5..4']) {
  test(`"${bad}" is refused as a kernel version with a usage error (exit code 2)`, (t) => {
    const err = t.throws(() => parseKernelVersion(bad), { instanceOf: GsError });
    t.is(err?.exitCode, 2);
    t.true(err?.message.includes(`"${bad}"`));
    t.regex(err?.hint ?? '', /5\.4\.1/);
  });
}

test('formatVersion always writes three numbers', (t) => {
  t.is(formatVersion({ major: 6, minor: 1, patch: 0 }), '6.1.0');
  t.is(formatVersion(parseKernelVersion('5.4.1')), '5.4.1');
});

test('the default kernel version parses and belongs to a supported series', (t) => {
  t.is(seriesFor(parseKernelVersion(DEFAULT_KERNEL_VERSION)).series, '5.4');
});

const MAKEFILE_HEAD = `# SPDX-License-Identifier: GPL-2.0
VERSION = 5
PATCHLEVEL = 4
SUBLEVEL = 1
EXTRAVERSION =
NAME = Kleptomaniac Octopus

# *DOCUMENTATION*
# To see a list of typical targets execute "make help"
# More info can be located in ./README
# Comments in this file are targeted only to the developer, do not
# expect to learn how to build the kernel reading this file.

# That's our default target when none is given on the command line
PHONY := _all
_all:
`;

test('the version is read from a kernel Makefile head', (t) => {
  t.deepEqual(versionFromMakefile(MAKEFILE_HEAD), { major: 5, minor: 4, patch: 1 });
});

test('a Makefile with SUBLEVEL = 0 gives patch 0', (t) => {
  const mk = MAKEFILE_HEAD.replace('VERSION = 5', 'VERSION = 6')
    .replace('PATCHLEVEL = 4', 'PATCHLEVEL = 12').replace('SUBLEVEL = 1', 'SUBLEVEL = 0');
  t.deepEqual(versionFromMakefile(mk), { major: 6, minor: 12, patch: 0 });
});

test('a Makefile without SUBLEVEL gives patch 0', (t) => {
  t.deepEqual(versionFromMakefile('VERSION = 6\nPATCHLEVEL = 1\n'), { major: 6, minor: 1, patch: 0 });
});

test('a Makefile without a kernel version is refused as a bad source tree (exit code 4)', (t) => {
  const err = t.throws(() => versionFromMakefile('all:\n\techo hello\n'), { instanceOf: GsError });
  t.is(err?.exitCode, 4);
  t.regex(err?.message ?? '', /Makefile/);
});

test('a Makefile with VERSION but no PATCHLEVEL is refused', (t) => {
  t.throws(() => versionFromMakefile('VERSION = 5\nSUBLEVEL = 1\n'), { instanceOf: GsError });
});

test('EXTRAVERSION is not mistaken for VERSION', (t) => {
  const err = t.throws(() => versionFromMakefile('EXTRAVERSION = 7\nPATCHLEVEL = 4\n'), { instanceOf: GsError });
  t.is(err?.exitCode, 4);
});

test('5.4.1 uses the 5.4 patch, which needs the modern-GCC fixes', (t) => {
  const s = seriesFor(parseKernelVersion('5.4.1'));
  t.is(s.series, '5.4');
  t.true(s.needsModernGccFixes);
});

test('any 6.1.x kernel uses the 6.1 patch and has a Debian source package', (t) => {
  for (const v of ['6.1', '6.1.0', '6.1.158']) {
    const s = seriesFor(parseKernelVersion(v));
    t.is(s.series, '6.1');
    t.is(s.distroPackage, 'linux-source-6.1');
    t.false(s.needsModernGccFixes);
  }
});

test('any 6.12.x kernel uses the 6.12 patch', (t) => {
  for (const v of ['6.12', '6.12.48']) t.is(seriesFor(parseKernelVersion(v)).series, '6.12');
});

test('6.12 is not confused with 6.1', (t) => {
  t.not(seriesFor(parseKernelVersion('6.12.1')).series, '6.1');
  t.not(seriesFor(parseKernelVersion('6.1.12')).series, '6.12');
});

for (const v of ['4.19', '6.6.30', '5.10.1', '6.11']) {
  test(`a kernel outside the supported series (${v}) is refused with the list of supported series`, (t) => {
    const err = t.throws(() => seriesFor(parseKernelVersion(v)), { instanceOf: GsError });
    t.is(err?.exitCode, 6);
    t.true(err?.message.startsWith(`Linux ${formatVersion(parseKernelVersion(v))} `));
    t.true(err?.hint.includes('5.4, 6.1, 6.12'));
  });
}

test('the supported series list reads "5.4, 6.1, 6.12, 7.3"', (t) => {
  t.is(supportedSeriesList(), '5.4, 6.1, 6.12, 7.3');
  t.deepEqual(SUPPORTED_SERIES.map((s) => s.series), ['5.4', '6.1', '6.12', '7.3']);
});

test('--kernel distro without a series uses the newest source package of the host\'s own release, never backports\'', (t) => {
  const s = distroSeries(undefined);
  t.is(s.series, '6.12');
  t.is(s.distroPackage, 'linux-source-6.12');
  t.is(s.distroTarball, '/usr/src/linux-source-6.12.tar.xz');
});

test('--kernel distro with a series uses that series\' source package', (t) => {
  const s = distroSeries('6.1');
  t.is(s.distroPackage, 'linux-source-6.1');
  t.is(s.distroTarball, '/usr/src/linux-source-6.1.tar.xz');
});

test('--kernel distro for a series without a distribution package is a usage error naming the choices', (t) => {
  for (const name of ['5.4', '4.19']) {
    const err = t.throws(() => distroSeries(name), { instanceOf: GsError });
    t.is(err?.exitCode, 2);
    t.true(err?.message.includes(name));
    t.is(err?.hint, 'Choose --series 6.1, 6.12 or 7.3.');
  }
});

test('a series whose source is another release\'s package names that suite: it is fetched, not installed', (t) => {
  const s = distroSeries('7.3');
  t.is(s.distroPackage, 'linux-source-7.3');
  t.is(s.distroSuite, 'trixie-backports');
});

test('5.4.1 is downloaded from kernel.org\'s v5.x directory with its sha256sums.asc', (t) => {
  t.deepEqual(kernelOrgUrls(parseKernelVersion('5.4.1')), {
    tarball: 'https://cdn.kernel.org/pub/linux/kernel/v5.x/linux-5.4.1.tar.xz',
    sums: 'https://cdn.kernel.org/pub/linux/kernel/v5.x/sha256sums.asc',
    file: 'linux-5.4.1.tar.xz',
  });
});

test('a .0 release is named the way kernel.org names it (linux-6.1.tar.xz)', (t) => {
  const urls = kernelOrgUrls(parseKernelVersion('6.1'));
  t.is(urls.file, 'linux-6.1.tar.xz');
  t.is(urls.tarball, 'https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.1.tar.xz');
});

test('a patch level ending in 0 is kept (6.1.10 is not 6.1.1)', (t) => {
  t.is(kernelOrgUrls(parseKernelVersion('6.1.10')).file, 'linux-6.1.10.tar.xz');
  t.is(kernelOrgUrls(parseKernelVersion('6.10.0')).file, 'linux-6.10.tar.xz');
});

test('a mirror replaces the kernel.org base URL', (t) => {
  const urls = kernelOrgUrls(parseKernelVersion('5.4.1'), 'https://mirrors.example.org/linux/kernel');
  t.is(urls.tarball, 'https://mirrors.example.org/linux/kernel/v5.x/linux-5.4.1.tar.xz');
  t.is(urls.sums, 'https://mirrors.example.org/linux/kernel/v5.x/sha256sums.asc');
});

test('every series make test boots, patched or stock, is in exactly one group, and each group has its test file', async (t) => {
  const grouped = SUITE_GROUPS.flat();
  t.deepEqual([...grouped].sort(), [...new Set(grouped)].sort(), 'a series in two groups');
  for (const series of [...TESTED_SERIES, ...STOCK_SERIES.map((s) => s.name)]) {
    t.true(grouped.includes(series), `${series} is in no group: the guest suite would skip it`);
  }
  const files = (await readdir(join(repoRoot(), 'cli', 'test-vm'))).filter((f) => f.endsWith('.test.ts')).sort();
  t.deepEqual(files, SUITE_GROUPS.map((_, i) => `group-${i + 1}.test.ts`));
});
