import test from 'ava';
import {
  aptViewOptions, aptViewSources, GUEST_MODULES, imagePackages, HOST_SUITE, loadOrder, newestAbi, stockPackages, stockSeriesNamed,
  stockRelease, toolchainRootArgv,
} from '../src/lib/stock.js';

const [s61, s612] = [stockSeriesNamed('6.1')!, stockSeriesNamed('6.12')!];

test('the newest Debian kernel of a series is found among the package names, by number', (t) => {
  const names = ['linux-image-6.1.0-9-amd64-unsigned', 'linux-image-6.1.0-57-amd64-unsigned', 'linux-image-6.1.0-57-amd64',
    'linux-image-6.1.0-100-cloud-amd64-unsigned', 'linux-image-6.12.117+deb12-amd64-unsigned', 'linux-image-6.12.99+deb12-amd64-unsigned'];
  t.is(newestAbi(s61!, names), '6.1.0-57');
  t.is(newestAbi(s612!, names), '6.12.117+deb12');
  t.is(newestAbi(s61!, ['linux-image-amd64']), undefined);
});

test('a stock guest needs the unsigned image, both headers packages and the matching kbuild', (t) => {
  t.deepEqual(stockPackages(s61!, '6.1.0-57'), ['linux-image-6.1.0-57-amd64-unsigned', 'linux-headers-6.1.0-57-amd64',
    'linux-headers-6.1.0-57-common', 'linux-kbuild-6.1']);
  t.is(stockPackages(s612!, '6.12.117+deb12').at(-1), 'linux-kbuild-6.12.117+deb12');
});

test('modules load dependencies first, each once; a built-in module needs nothing', (t) => {
  const dep = [
    'kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko',
    'kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/net/9p/9pnet_virtio.ko: kernel/net/9p/9pnet.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko',
    'kernel/net/9p/9pnet.ko:',
  ].join('\n');
  t.deepEqual(loadOrder(dep, GUEST_MODULES), [
    'kernel/drivers/virtio/virtio_ring.ko', 'kernel/drivers/virtio/virtio.ko', 'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
    'kernel/drivers/virtio/virtio_pci_legacy_dev.ko', 'kernel/drivers/virtio/virtio_pci.ko',
    'kernel/net/9p/9pnet.ko', 'kernel/net/9p/9pnet_virtio.ko',
    'kernel/fs/netfs/netfs.ko', 'kernel/fs/fscache/fscache.ko', 'kernel/fs/9p/9p.ko',
  ]);
  t.deepEqual(loadOrder('kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz\n', ['virtio_pci', '9pnet_virtio']),
    ['kernel/net/9p/9pnet.ko.xz', 'kernel/net/9p/9pnet_virtio.ko.xz']);
});

test('Debian 12\'s and Debian 13\'s 6.12 are told apart by their ABI, and each has its release', (t) => {
  const names = ['linux-image-6.12.118+deb12-amd64-unsigned', 'linux-image-6.12.117+deb13-amd64-unsigned',
    'linux-image-6.12.117+deb13-cloud-amd64-unsigned', 'linux-image-6.12.117+deb13-rt-amd64-unsigned'];
  t.is(newestAbi(stockSeriesNamed('6.12')!, names), '6.12.118+deb12');
  t.is(newestAbi(stockSeriesNamed('6.12-deb13')!, names), '6.12.117+deb13');
  t.is(stockSeriesNamed('6.12')!.suite, HOST_SUITE);
  t.is(stockSeriesNamed('6.12-deb13')!.suite, 'trixie');
  t.is(stockSeriesNamed('7.3')!.suite, 'trixie-backports', 'Debian 13 has 7.3 from backports');
  t.is(stockSeriesNamed('7.4'), undefined);
});

test('another release is reached through an apt view of its own, never the host\'s sources', (t) => {
  const opts = aptViewOptions('/c/apt/trixie');
  t.true(opts.includes('Dir::Etc::SourceList=/c/apt/trixie/sources.list'));
  t.true(opts.includes('Dir::Etc::SourceParts=/nonexistent'), 'the host\'s sources.list.d is not read');
  t.true(opts.includes('Dir::State::Lists=/c/apt/trixie/lists'));
  t.is(aptViewSources('http://deb.debian.org/debian', 'trixie'),
    'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n');
  t.deepEqual(aptViewSources('http://m', 'trixie-backports').split('\n').filter(Boolean).map((l) => l.split(' ').slice(-2)[0]),
    ['trixie', 'trixie-backports'], 'backports comes with its release, whose packages it depends on');
});

test('the toolchain root is that release with the kernel\'s headers (its gcc and kbuild come with them)', (t) => {
  const argv = toolchainRootArgv('trixie', stockRelease('6.12.117+deb13', 'rt'), 'http://m/debian', '/c/root');
  t.is(argv[0], 'mmdebstrap');
  t.true(argv.includes('--include=linux-headers-6.12.117+deb13-rt-amd64,make,binutils,dkms,openssl'));
  t.deepEqual(argv.slice(-3), ['trixie', '/c/root', 'deb http://m/debian trixie main']);
  const bpo = toolchainRootArgv('trixie-backports', '7.3.4+deb13-amd64', 'http://m/debian', '/c/root');
  t.deepEqual(bpo.slice(-4), ['trixie', '/c/root', 'deb http://m/debian trixie main', 'deb http://m/debian trixie-backports main'],
    'a backports kernel\'s headers are installed in its release, with backports beside it');
});

test('a flavour names its image, headers and common headers: generic, cloud, PREEMPT_RT', (t) => {
  const names = ['linux-image-6.12.117+deb13-amd64-unsigned', 'linux-image-6.12.117+deb13-cloud-amd64-unsigned',
    'linux-image-6.12.107+deb13-rt-amd64-unsigned', 'linux-image-6.12.117+deb13-rt-amd64-unsigned'];
  const deb13 = stockSeriesNamed('6.12-deb13')!;
  t.is(newestAbi(deb13, names, 'rt'), '6.12.117+deb13');
  t.is(newestAbi(deb13, ['linux-image-6.12.117+deb13-amd64-unsigned'], 'cloud'), undefined, 'no cloud image, no cloud guest');
  t.is(stockRelease('6.12.117+deb13', 'cloud'), '6.12.117+deb13-cloud-amd64');
  t.deepEqual(stockPackages(deb13, '6.12.117+deb13', 'rt').slice(0, 3), ['linux-image-6.12.117+deb13-rt-amd64-unsigned',
    'linux-headers-6.12.117+deb13-rt-amd64', 'linux-headers-6.12.117+deb13-common-rt']);
});

test('Debian 14 keeps the kernel in linux-binary, its config in linux-base and its modules in linux-modules; the image is then their metapackage', (t) => {
  const release = '7.2.13+deb14-amd64';
  const sid = [`linux-image-${release}`, `linux-binary-${release}`, `linux-binary-unsigned-${release}`, `linux-modules-${release}`, `linux-base-${release}`];
  t.deepEqual(imagePackages(release, sid), [`linux-image-${release}`, `linux-binary-${release}`, `linux-modules-${release}`, `linux-base-${release}`]);
  t.deepEqual(imagePackages('6.12.117+deb13-amd64', ['linux-image-6.12.117+deb13-amd64', 'linux-image-6.12.117+deb13-amd64-unsigned']),
    ['linux-image-6.12.117+deb13-amd64-unsigned'], 'where Debian has both, the unsigned image');
});

test('Debian\'s 7.2 comes from unstable, whose image has no "-unsigned" name', (t) => {
  const s72 = stockSeriesNamed('7.2')!;
  t.is(s72.suite, 'sid');
  t.is(newestAbi(s72, ['linux-image-7.2.13+deb14-amd64', 'linux-image-7.2.13+deb14-rt-amd64', 'linux-image-7.2.9+deb14-amd64']), '7.2.13+deb14');
  t.is(newestAbi(s72, ['linux-image-7.2.13+deb14-amd64-dbg']), undefined, 'not the debug symbols');
});
