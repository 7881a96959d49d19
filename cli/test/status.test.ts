import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { snapshot } from '../src/commands/status.js';
import { statusLines } from '../src/lib/status.js';

async function sysroot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gs-status-'));
  await mkdir(join(root, 'proc'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

test('a fully set-up system reports every line as fine', async (t) => {
  const root = await sysroot({
    '/proc/sys/kernel/osrelease': '6.12.117-gs\n',
    '/proc/kallsyms': '0000000000000000 T register_oom_victim_notifier\n',
    '/sys/module/proc_create_module/parameters/timeout_ms': '5000\n',
    '/proc/graceful_shutdown': '42 /usr/bin/save /data\n',
    '/proc/mounts': 'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n',
    '/sys/fs/cgroup/cgroup.controllers': 'cpu io memory pids\n',
    '/sys/fs/cgroup/gs-workload/memory.max': '1073741824\n',
    '/etc/default/grub.d/gs-kit.cfg': '# gs-kit\n',
  });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  t.deepEqual(lines.filter((l) => !l.ok), []);
  t.regex(lines.find((l) => l.label === 'module')!.value, /timeout_ms=5000/);
  t.is(lines.find((l) => l.label === 'registry')!.value, '1 registered: 42 /usr/bin/save /data');
});

test('an unpatched kernel without the module says what fixes each problem', async (t) => {
  const root = await sysroot({
    '/proc/sys/kernel/osrelease': '6.1.0-26-amd64\n',
    '/proc/kallsyms': '0000000000000000 T register_oom_notifier\n',
    '/proc/mounts': 'cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0\n',
  });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  const bad = Object.fromEntries(lines.filter((l) => !l.ok).map((l) => [l.label, l.fix]));
  t.regex(bad.kernel!, /build-kernel --profile host/);
  t.is(bad.module, 'sudo modprobe proc_create_module');
  t.is(bad.cgroup, 'sudo gs-kit configure');
  t.is(bad.grub, 'sudo gs-kit configure');
  t.regex(lines.find((l) => l.label === 'cgroup')!.value, /cgroup v1/);
});
