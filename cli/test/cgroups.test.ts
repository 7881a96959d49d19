import test from 'ava';
import {
  cgroupPlan, defaultReserve, detectCgroup, detectCgroupVersion, keepWrittenLimit, MiB, parseMeminfo, parseSize, parseSizeSpec,
  renderSlice, sliceLimit, workloadLimit,
} from '../src/lib/cgroups.js';
import { GsError } from '../src/lib/errors.js';

const GiB = 1024 * MiB;

test('sizes: bytes, binary units, percentages', (t) => {
  t.deepEqual(parseSizeSpec('1048576'), { kind: 'bytes', bytes: 1048576 });
  t.deepEqual(parseSizeSpec('512M'), { kind: 'bytes', bytes: 512 * MiB });
  t.deepEqual(parseSizeSpec('2G'), { kind: 'bytes', bytes: 2 * GiB });
  t.deepEqual(parseSizeSpec('64KiB'), { kind: 'bytes', bytes: 64 * 1024 });
  t.deepEqual(parseSizeSpec('1.5g'), { kind: 'bytes', bytes: 1.5 * GiB });
  t.deepEqual(parseSizeSpec(' 2GB '), { kind: 'bytes', bytes: 2 * GiB });
  t.deepEqual(parseSizeSpec('50%'), { kind: 'percent', percent: 50 });
  t.is(parseSize('512M'), 512 * MiB);
  t.is(parseSize('50%', 4 * GiB), 2 * GiB);
});

test('bad sizes are usage errors', (t) => {
  for (const bad of ['', 'abc', '-1', '0', '0M', '12X', '100%', '0%', '150%', '1e9', 'M']) {
    const err = t.throws(() => parseSizeSpec(bad), undefined, bad);
    t.true(err instanceof GsError, bad);
    t.is((err as GsError).exitCode, 2, bad);
  }
  t.is((t.throws(() => parseSize('10%')) as GsError).exitCode, 2);
});

test('MemTotal from /proc/meminfo', (t) => {
  t.is(parseMeminfo('MemTotal:        8123456 kB\nMemFree:         1000 kB\n'), 8123456 * 1024);
  t.throws(() => parseMeminfo('MemFree: 1 kB\n'), { instanceOf: GsError });
});

test('the default reserve is 256 MiB or 10%, whichever is larger', (t) => {
  t.is(defaultReserve(1 * GiB), 256 * MiB);
  t.is(defaultReserve(8 * GiB), Math.floor(8 * GiB / 10));
  t.deepEqual(workloadLimit({ totalBytes: 1 * GiB }), { limitBytes: 768 * MiB, reserveBytes: 256 * MiB });
  const big = workloadLimit({ totalBytes: 8 * GiB });
  t.is(big.limitBytes % 4096, 0);
  t.is(big.limitBytes, Math.floor((8 * GiB - Math.floor(8 * GiB / 10)) / 4096) * 4096);
  t.is(big.limitBytes + big.reserveBytes, 8 * GiB);
});

test('a configured reserve or limit', (t) => {
  t.deepEqual(workloadLimit({ totalBytes: 4 * GiB, reserve: parseSizeSpec('512M') }), { limitBytes: 3.5 * GiB, reserveBytes: 512 * MiB });
  t.deepEqual(workloadLimit({ totalBytes: 4 * GiB, reserve: parseSizeSpec('25%') }), { limitBytes: 3 * GiB, reserveBytes: 1 * GiB });
  t.deepEqual(workloadLimit({ totalBytes: 4 * GiB, memoryMax: parseSizeSpec('1G') }), { limitBytes: 1 * GiB, reserveBytes: 3 * GiB });
  t.deepEqual(workloadLimit({ totalBytes: 4 * GiB, memoryMax: parseSizeSpec('1000001') }), { limitBytes: 999424, reserveBytes: 4 * GiB - 999424 });
  for (const req of [
    { totalBytes: 4 * GiB, reserve: parseSizeSpec('4G') },
    { totalBytes: 4 * GiB, memoryMax: parseSizeSpec('5G') },
    { totalBytes: 4 * GiB, reserve: parseSizeSpec('1G'), memoryMax: parseSizeSpec('1G') },
    { totalBytes: 200 * MiB },
  ]) t.is((t.throws(() => workloadLimit(req)) as GsError).exitCode, 2);
});

const V2 = `sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate,memory_recursiveprot 0 0
`;
const HYBRID = `tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
`;

test('cgroup version from /proc/mounts', (t) => {
  t.deepEqual(detectCgroup(V2), { version: 'v2', path: '/sys/fs/cgroup' });
  t.deepEqual(detectCgroup(HYBRID), { version: 'v1', path: '/sys/fs/cgroup/memory' });
  t.is(detectCgroupVersion('cgroup2 /cg cgroup2 rw 0 0\n'), 'v2');
  t.is(detectCgroupVersion('proc /proc proc rw 0 0\n'), undefined);
  t.is(detectCgroupVersion(''), undefined);
  // A v1 hierarchy without memory does not count.
  t.is(detectCgroupVersion('cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n'), undefined);
});

const limit = { limitBytes: 768 * MiB, reserveBytes: 256 * MiB };

test('the systemd slice (v2)', (t) => {
  t.is(renderSlice(limit, 'v2'), `# Written by gs-kit configure. Remove with:
#   rm /etc/systemd/system/gs-workload.slice && systemctl daemon-reload
# Run a workload in it: systemd-run --slice=gs-workload.slice --scope COMMAND
[Unit]
Description=gs-kit workload slice (memory limited, 256 MiB left for OOM handlers)

[Slice]
MemoryAccounting=yes
MemoryMax=805306368
MemorySwapMax=0
`);
  t.false(renderSlice(limit, 'v1').includes('MemorySwapMax'));
  t.deepEqual(cgroupPlan({ version: 'v2', limit, systemd: true }), [
    { kind: 'file', path: '/etc/systemd/system/gs-workload.slice', content: renderSlice(limit, 'v2'), mode: 0o644 },
    { kind: 'command', argv: ['systemctl', 'daemon-reload'], why: 'load gs-workload.slice', after: ['/etc/systemd/system/gs-workload.slice'] },
  ]);
});

test('plain cgroup v2 and the v1 fallback', (t) => {
  t.deepEqual(cgroupPlan({ version: 'v2', limit, systemd: false }), [
    { kind: 'file', path: '/sys/fs/cgroup/cgroup.subtree_control', content: '+memory', control: true },
    { kind: 'dir', path: '/sys/fs/cgroup/gs-workload' },
    { kind: 'file', path: '/sys/fs/cgroup/gs-workload/memory.max', content: '805306368', control: true },
  ]);
  t.deepEqual(cgroupPlan({ version: 'v1', limit, systemd: false }), [
    { kind: 'dir', path: '/sys/fs/cgroup/memory/gs-workload' },
    { kind: 'file', path: '/sys/fs/cgroup/memory/gs-workload/memory.limit_in_bytes', content: '805306368', control: true },
  ]);
  t.deepEqual(cgroupPlan({ version: 'v1', limit, systemd: false, mountPoint: '/cg/mem' })[0], { kind: 'dir', path: '/cg/mem/gs-workload' });
});

test('a limit configure wrote is kept while MemTotal moves within 2% (at least 64 MiB), and recomputed beyond', (t) => {
  const total = 2048 * MiB;
  const computed = { limitBytes: 1790 * MiB, reserveBytes: 256 * MiB };
  t.deepEqual(keepWrittenLimit(computed, 1792 * MiB, total), { limitBytes: 1792 * MiB, reserveBytes: 256 * MiB });
  t.deepEqual(keepWrittenLimit(computed, 1790 * MiB + 64 * MiB, total), { limitBytes: 1854 * MiB, reserveBytes: 256 * MiB });
  t.deepEqual(keepWrittenLimit(computed, 1790 * MiB + 65 * MiB, total), computed);
  t.deepEqual(keepWrittenLimit(computed, undefined, total), computed);
  t.deepEqual(keepWrittenLimit(computed, 3000 * MiB, total), computed); // more than there is
  t.is(sliceLimit(renderSlice({ limitBytes: 1792 * MiB, reserveBytes: 256 * MiB }, 'v2')), 1792 * MiB);
  t.is(sliceLimit('[Slice]\nMemoryMax=infinity\n'), undefined);
});
