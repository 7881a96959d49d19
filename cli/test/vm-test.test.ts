import test from 'ava';
import { kernelLacks, runnableOn } from '../src/lib/scenario.js';
import { SUITE } from '../src/lib/catalogue.js';
import { CLI_SCENARIO, SCENARIOS } from '../src/lib/scenarios.js';

const CLOUD = '7.3.4+deb13-cloud-amd64';

test('on a kernel without 9p the scenarios that need the host\'s root are not run, and the user is told which and why', (t) => {
  const all = [...SCENARIOS, CLI_SCENARIO];
  const no9p = runnableOn(CLOUD, ['9p'], all);
  t.false(no9p.run.includes(CLI_SCENARIO));
  t.is(no9p.run.length, all.length - 1);
  t.regex(no9p.note ?? '', /^not run on 7\.3\.4\+deb13-cloud-amd64: cli \(its kernel has no 9p/);
  const generic = runnableOn('7.3.4+deb13-amd64', [], all);
  t.is(generic.run.length, all.length);
  t.is(generic.note, undefined);
});

test('on a kernel without NUMA emulation the memory-policy scenario is not run, and the note says why', (t) => {
  const all = SUITE;
  const cloud = runnableOn(CLOUD, ['9p', 'numa-emulation'], all);
  t.deepEqual(all.filter((s) => !cloud.run.includes(s)).map((s) => s.name).sort(), ['cli', 'constraint']);
  t.regex(cloud.note ?? '', /constraint \(its kernel has no NUMA emulation, which numa=fake=2 needs/);
});

test('what a kernel lacks is read from its config: Debian\'s cloud kernels have neither 9p nor NUMA emulation', (t) => {
  t.deepEqual(kernelLacks('CONFIG_9P_FS=m\nCONFIG_NET_9P_VIRTIO=m\nCONFIG_NUMA_EMU=y\n'), []);
  t.deepEqual(kernelLacks('CONFIG_VIRTIO_PCI=y\n# CONFIG_9P_FS is not set\nCONFIG_NUMA=y\n# CONFIG_NUMA_EMU is not set\n'), ['9p', 'numa-emulation']);
  t.deepEqual(kernelLacks('CONFIG_9P_FS=y\n# CONFIG_NET_9P_VIRTIO is not set\nCONFIG_NUMA_EMU=y\n'), ['9p'], '9p without its virtio transport cannot mount a share');
});
