import test from 'ava';
import { DEBIAN_PACKAGES, debPackagingNeeds, installedFromDpkgQuery, missingPackages } from '../src/lib/deps.js';

const DPKG_OUTPUT = [
  'bc install ok installed',
  'bison install ok installed',
  'libc6:amd64 install ok installed',
  'libelf-dev:amd64 install ok installed',
  'flex deinstall ok config-files',
  'cpio deinstall ok installed',
  'bzip2 hold ok installed',
  'kmod install ok half-configured',
  'patch install ok unpacked',
  '  xz-utils   install ok installed  ',
  '',
].join('\n');

test('packages dpkg reports as "install ok installed" are installed', (t) => {
  const installed = installedFromDpkgQuery(DPKG_OUTPUT);
  t.true(installed.has('bc'));
  t.true(installed.has('bison'));
});

test('an architecture suffix such as libc6:amd64 is dropped from the name', (t) => {
  const installed = installedFromDpkgQuery(DPKG_OUTPUT);
  t.true(installed.has('libc6'));
  t.true(installed.has('libelf-dev'));
  t.false(installed.has('libc6:amd64'));
});

test('removed packages with config files left are not counted as installed', (t) => {
  t.false(installedFromDpkgQuery(DPKG_OUTPUT).has('flex'));
});

test('half-configured or only unpacked packages are not counted as installed', (t) => {
  const installed = installedFromDpkgQuery(DPKG_OUTPUT);
  t.false(installed.has('kmod'));
  t.false(installed.has('patch'));
});

test('extra whitespace around a dpkg-query line is tolerated', (t) => {
  t.true(installedFromDpkgQuery(DPKG_OUTPUT).has('xz-utils'));
});

test('a package on hold, or selected for removal but still installed, counts as installed', (t) => {
  const installed = installedFromDpkgQuery(DPKG_OUTPUT);
  t.true(installed.has('bzip2'));
  t.true(installed.has('cpio'));
});

test('the installed set holds exactly the installed packages', (t) => {
  t.deepEqual([...installedFromDpkgQuery(DPKG_OUTPUT)].sort(), ['bc', 'bison', 'bzip2', 'cpio', 'libc6', 'libelf-dev', 'xz-utils']);
  t.is(installedFromDpkgQuery('').size, 0);
});

test('missing packages are those wanted by the groups and not installed, in group order', (t) => {
  const installed = new Set(['build-essential', 'bc', 'bison', 'flex', 'libelf-dev', 'libssl-dev', 'xz-utils', 'cpio', 'kmod']);
  t.deepEqual(missingPackages(['build'], installed), ['file', 'patch']);
  t.deepEqual(missingPackages(['build', 'vm'], installed), ['file', 'patch', 'qemu-system-x86', 'busybox-static', 'dwarves', 'mmdebstrap']);
});

test('a group named twice lists each missing package once', (t) => {
  const missing = missingPackages(['vm', 'build', 'vm', 'build'], new Set());
  t.is(new Set(missing).size, missing.length);
  t.deepEqual(missing, [...DEBIAN_PACKAGES.vm, ...DEBIAN_PACKAGES.build]);
});

test('nothing is missing when everything wanted is installed', (t) => {
  const everything = new Set([...DEBIAN_PACKAGES.build, ...DEBIAN_PACKAGES.vm, ...DEBIAN_PACKAGES.distroSource]);
  t.deepEqual(missingPackages(['build', 'vm', 'distroSource'], everything), []);
});

test('no groups want no packages', (t) => {
  t.deepEqual(missingPackages([], new Set()), []);
});

test('dpkg-query output feeds missingPackages end to end', (t) => {
  const missing = missingPackages(['build'], installedFromDpkgQuery(DPKG_OUTPUT));
  t.true(missing.includes('flex'));
  t.true(missing.includes('kmod'));
  t.false(missing.includes('bc'));
  t.false(missing.includes('libelf-dev'));
});

test('the bench group brings the other contenders and the memory hog, once each', (t) => {
  t.deepEqual(missingPackages(['bench', 'bench'], new Set(['stress-ng'])), ['earlyoom', 'nohang']);
});

test('bindeb-pkg needs dpkg-dev, and what the tree\'s mkdebian says: rsync from 6.1, debhelper from 6.12, neither on 5.4', (t) => {
  const v54 = 'Build-Depends: bc, kmod, cpio, bison, flex | flex:native $extra_build_depends';
  const v61 = 'Build-Depends: bc, rsync, kmod, cpio, bison, flex | flex:native $extra_build_depends';
  const v612 = 'Build-Depends: debhelper-compat (= 12)\nBuild-Depends-Arch: bc, bison, cpio, flex,\n kmod, libelf-dev:native,\n rsync';
  const dpkg = [{ command: 'dpkg-deb', pkg: 'dpkg-dev' }, { command: 'dpkg-gencontrol', pkg: 'dpkg-dev' }];
  t.deepEqual(debPackagingNeeds(v54), dpkg);
  t.deepEqual(debPackagingNeeds(v61).map((n) => n.pkg), ['dpkg-dev', 'dpkg-dev', 'rsync']);
  t.deepEqual(debPackagingNeeds(v612), [...dpkg, { command: 'rsync', pkg: 'rsync' }, { command: 'dh', pkg: 'debhelper' }]);
  t.true(debPackagingNeeds(v612).every((n) => DEBIAN_PACKAGES.package.includes(n.pkg)));
});
