import test from 'ava';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hostSnapshot } from '../src/adapters/host-snapshot.js';
import { openHost } from '../src/adapters/host.js';
import { SILENT } from '../src/lib/reporter.js';
import { oomPolicy, statusLines } from '../src/lib/status.js';
import { status } from '../src/commands/status.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { ExitCode } from '../src/lib/errors.js';
import { recordingEnv } from './helpers/env.js';

const snapshot = (root: string) => hostSnapshot(openHost(root, false, SILENT));

async function sysroot(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gs-status-'));
  await mkdir(join(root, 'proc'), { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
  return root;
}

const SET_UP: Record<string, string> = {
    '/proc/sys/kernel/osrelease': '6.12.117-gs\n',
    '/proc/kallsyms': '0000000000000000 T register_oom_victim_notifier\n',
    '/sys/module/proc_create_module/parameters/timeout_ms': '5000\n',
    '/sys/module/proc_create_module/parameters/hook': 'patched\n',
    '/proc/graceful_shutdown': '42 /usr/bin/save /data\n',
    '/proc/mounts': 'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n',
    '/sys/fs/cgroup/cgroup.controllers': 'cpu io memory pids\n',
    '/sys/fs/cgroup/gs-workload/memory.max': '1073741824\n',
    '/sys/fs/cgroup/gs-workload/cgroup.procs': '',
    '/sys/module/proc_create_module/parameters/handler_cgroup': '/sys/fs/cgroup/gs-handlers\n',
    '/sys/fs/cgroup/gs-handlers/cgroup.procs': '',
    '/sys/fs/cgroup/gs-handlers/memory.min': '67108864\n',
    '/sys/module/proc_create_module/parameters/user_handler_memory_kb': '32768\n',
    '/etc/default/grub.d/gs-kit.cfg': '# gs-kit\n',
    '/proc/sys/vm/panic_on_oom': '0\n',
    '/proc/sys/vm/oom_kill_allocating_task': '0\n',
};

test('a fully set-up system reports every line as fine', async (t) => {
  const root = await sysroot(SET_UP);
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  t.deepEqual(lines.filter((l) => !l.ok), []);
  t.regex(lines.find((l) => l.label === 'module')!.value, /timeout_ms=5000/);
  t.is(lines.find((l) => l.label === 'registry')!.value, '1 registered: 42 /usr/bin/save /data');
  t.is(lines.find((l) => l.label === 'handler cgroup')!.value,
    '/sys/fs/cgroup/gs-handlers: memory.min 64 MiB, each user\'s handlers at most 32 MiB, one handler cgroup per registrant in it (named by the module\'s handler_cgroup)');
});

test('under systemd the workload and handler cgroups are slices; the handler cgroup is read from modprobe.d before the module loads', async (t) => {
  const root = await sysroot({
    '/proc/mounts': 'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n',
    '/sys/fs/cgroup/gs-workload.slice/cgroup.procs': '',
    '/sys/fs/cgroup/gs-workload.slice/memory.max': '1073741824\n',
    '/sys/fs/cgroup/gs-handlers.slice/cgroup.procs': '',
    '/sys/fs/cgroup/gs-handlers.slice/memory.max': 'max\n',
    '/etc/modprobe.d/gs-kit.conf': 'options proc_create_module handler_cgroup=/sys/fs/cgroup/gs-handlers.slice\n',
  });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  const workload = lines.find((l) => l.label === 'workload cgroup')!;
  t.true(workload.ok);
  t.is(workload.value, '/sys/fs/cgroup/gs-workload.slice: memory.max 1024 MiB');
  const handler = lines.find((l) => l.label === 'handler cgroup')!;
  t.true(handler.ok);
  t.regex(handler.value, /^\/sys\/fs\/cgroup\/gs-handlers\.slice: memory\.min .*, each user's handlers at most user_handler_memory_kb, .*named by \/etc\/modprobe\.d\/gs-kit\.conf/);
});

test('a handler cgroup that is not configured, or named but missing, is a problem that configure fixes', async (t) => {
  const none = await sysroot({ '/sys/module/proc_create_module/parameters/timeout_ms': '5000\n' });
  const missing = await sysroot({ '/sys/module/proc_create_module/parameters/handler_cgroup': '/sys/fs/cgroup/gone\n' });
  t.teardown(() => Promise.all([none, missing].map((r) => rm(r, { recursive: true, force: true }))));
  const lineOf = async (root: string) => statusLines(await snapshot(root)).find((l) => l.label === 'handler cgroup')!;
  t.deepEqual(await lineOf(none), {
    label: 'handler cgroup', ok: false, value: 'none configured: the module runs no handler and refuses registrations', fix: 'sudo gs-kit configure',
  });
  t.regex((await lineOf(missing)).value, /^\/sys\/fs\/cgroup\/gone \(named by the module's handler_cgroup\) does not exist/);
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

test('sysctls that make the OOM killer skip choosing a victim are problems, each named', async (t) => {
  const root = await sysroot({
    '/proc/sys/vm/panic_on_oom': '1\n',
    '/proc/sys/vm/oom_kill_allocating_task': '1\n',
  });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const policy = statusLines(await snapshot(root)).find((l) => l.label === 'oom policy')!;
  t.false(policy.ok);
  t.regex(policy.value, /vm\.panic_on_oom=1: a global OOM panics the machine, handlers run for memcg OOMs only/);
  t.regex(policy.value, /vm\.oom_kill_allocating_task=1: a global OOM kills the allocating task/);
  t.regex(policy.fix!, /^sudo sysctl -w vm\.panic_on_oom=0 vm\.oom_kill_allocating_task=0/);
});

test('panic_on_oom=2 means no handler ever runs; unreadable sysctls are not taken as fine', (t) => {
  t.deepEqual(oomPolicy('2', '0'), { ok: false, value: 'vm.panic_on_oom=2: every OOM panics the machine, no handler ever runs' });
  t.false(oomPolicy(undefined, '0').ok);
  t.true(oomPolicy('0', '0').ok);
});

test('the hook line says which mode the loaded module runs in; stock mode makes an unpatched kernel usable', async (t) => {
  const at = (hook: string | undefined) => sysroot({
    '/proc/sys/kernel/osrelease': '6.1.0-57-amd64\n',
    '/proc/kallsyms': '0000000000000000 T out_of_memory\n',
    '/sys/module/proc_create_module/parameters/timeout_ms': '5000\n',
    ...(hook ? { '/sys/module/proc_create_module/parameters/hook': `${hook}\n` } : {}),
    '/proc/sys/vm/panic_on_oom': '0\n',
    '/proc/sys/vm/oom_kill_allocating_task': '1\n',
  });
  const stock = await at('stock');
  const old = await at(undefined);
  const none = await sysroot({ '/proc/sys/kernel/osrelease': '6.1.0-57-amd64\n', '/proc/kallsyms': '0 T out_of_memory\n' });
  t.teardown(() => Promise.all([stock, old, none].map((r) => rm(r, { recursive: true, force: true }))));

  const s = statusLines(await snapshot(stock));
  const of = (lines: typeof s, label: string) => lines.find((l) => l.label === label)!;
  t.true(of(s, 'kernel').ok);
  t.is(of(s, 'kernel').value, '6.1.0-57-amd64: not patched, which stock mode does not need');
  t.true(of(s, 'hook').ok);
  t.regex(of(s, 'hook').value, /^stock: an ftrace direct call at the entry of oom_kill_process\(\)/);
  t.false(/hook=/.test(of(s, 'module').value));
  // oom_kill_allocating_task goes through oom_kill_process() too: handlers run.
  t.true(of(s, 'oom policy').ok);
  t.regex(of(s, 'oom policy').value, /oom_kill_allocating_task=1: in stock mode the allocating task's handler runs/);

  const o = statusLines(await snapshot(old));
  t.false(of(o, 'hook').ok);
  t.false(of(o, 'kernel').ok);
  t.false(of(o, 'oom policy').ok);

  const n = statusLines(await snapshot(none));
  t.deepEqual(of(n, 'hook'), { label: 'hook', ok: false, value: 'none: proc_create_module is not loaded', fix: 'sudo modprobe proc_create_module' });
  t.regex(of(n, 'kernel').fix!, /^sudo gs-kit install-module/);
});

test('under systemd a configured workload slice without a cgroup yet is fine: systemd makes it when a unit runs in it', async (t) => {
  const root = await sysroot({ '/etc/systemd/system/gs-workload.slice': '[Slice]\nMemoryMax=1G\n' });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const workload = statusLines(await snapshot(root)).find((l) => l.label === 'workload cgroup')!;
  t.true(workload.ok);
  t.regex(workload.value, /^gs-workload\.slice configured/);
});

test('gs-kit status exits 0 when every line is fine, and 12 (attention) when one needs doing, JSON or not', async (t) => {
  const good = await sysroot(SET_UP);
  const { '/etc/default/grub.d/gs-kit.cfg': _grub, ...noGrub } = SET_UP;
  const bad = await sysroot(noGrub);
  t.teardown(async () => {
    await rm(good, { recursive: true, force: true });
    await rm(bad, { recursive: true, force: true });
  });
  const run = async (argv: string[]) => {
    const env = recordingEnv();
    return { code: await status.run(parseArgs(argv, status.spec), env), out: env.ui.out };
  };
  t.is((await run(['--root', good])).code, ExitCode.ok);
  const text = await run(['--root', bad]);
  t.is(text.code, ExitCode.attention);
  t.is(ExitCode.attention, 12);
  t.regex(text.out, /^! grub +no gs-kit GRUB drop-in$/m);
  t.regex(text.out, /fix: sudo gs-kit configure/);
  t.is((await run(['--root', bad, '--json'])).code, ExitCode.attention);
});

test('gs-kit status on a directory that is not a system root says so (exit 2)', async (t) => {
  const env = recordingEnv();
  const err = await t.throwsAsync(status.run(parseArgs(['--root', '/nonexistent/root'], status.spec), env));
  t.regex(err!.message, /has no proc directory/);
});

// Status in a container: rootless Podman's marks, its own user and pid namespaces.
const ROOTLESS_PODMAN: Record<string, string> = {
  '/proc/sys/kernel/osrelease': '6.12.117-amd64\n',
  '/sys/module/proc_create_module/parameters/hook': 'stock\n',
  '/sys/module/proc_create_module/parameters/handler_cgroup': '/sys/fs/cgroup/gs-handlers\n',
  '/proc/graceful_shutdown': '',
  '/proc/mounts': 'proc /proc proc rw,nosuid 0 0\ncgroup2 /sys/fs/cgroup cgroup2 ro 0 0\n',
  '/proc/sys/vm/panic_on_oom': '0\n',
  '/proc/sys/vm/oom_kill_allocating_task': '0\n',
  '/run/.containerenv': 'engine="podman-5.8.0"\nname="app"\nrootless=1\n',
  '/proc/self/uid_map': '         0       1000          1\n         1     100000      65536\n',
  '/proc/self/status': 'Name:\tnode\nSeccomp:\t2\n',
  '/proc/1/comm': 'gs-kit\n',
};

test('in a container status says what it can see, tells the host\'s part as the host\'s, and how a handler runs from here', async (t) => {
  const root = await sysroot(ROOTLESS_PODMAN);
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  t.deepEqual(lines.map((l) => l.label), ['container', 'kernel', 'module', 'hook', 'proc file', 'host setup', 'oom policy', 'registry']);
  t.deepEqual(lines.filter((l) => !l.ok), [], 'nothing for the container to fix: the host set up stock mode');
  const container = lines[0]!.value;
  t.regex(container, /^podman \(rootless\): the kernel cannot start a handler path from here/);
  t.regex(container, /a seccomp filter/);
  t.regex(container, /gs-kit run-with-gs HANDLER -- PROGRAM/);
  t.regex(lines.find((l) => l.label === 'proc file')!.value, /this container can register its own processes/);
  t.regex(lines.find((l) => l.label === 'host setup')!.value, /not visible from a container.*under \/sys\/fs\/cgroup\/gs-handlers/);
});

test('in a container whose host has no module, each fix is said to be the host\'s', async (t) => {
  const files = { ...ROOTLESS_PODMAN };
  delete files['/sys/module/proc_create_module/parameters/hook'];
  delete files['/sys/module/proc_create_module/parameters/handler_cgroup'];
  delete files['/proc/graceful_shutdown'];
  const root = await sysroot(files);
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const bad = statusLines(await snapshot(root)).filter((l) => !l.ok);
  t.deepEqual(bad.map((l) => l.label), ['kernel', 'module', 'hook', 'proc file', 'registry']);
  for (const l of bad) t.regex(l.fix ?? '', /^on the host, not in the container: sudo /, l.label);
  t.false(bad.some((l) => /configure/.test(l.fix ?? '')), 'no host configuration is asked of a container');
});

test('an engine\'s mark alone, with the initial namespaces, is no container (a root shared with a guest)', async (t) => {
  const root = await sysroot({ ...SET_UP, '/.dockerenv': '', '/proc/2/comm': 'kthreadd\n',
    '/proc/self/uid_map': '0 0 4294967295\n', '/proc/self/status': 'Seccomp:\t0\n' });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  t.deepEqual(lines.filter((l) => !l.ok), []);
  t.false(lines.some((l) => l.label === 'container' || l.label === 'handlers'));
  t.true(lines.some((l) => l.label === 'grub'));
});

test('a sandboxed shell on the host (a seccomp filter) is told that its handler paths are refused, and what runs them', async (t) => {
  const root = await sysroot({ ...SET_UP, '/proc/2/comm': 'kthreadd\n', '/proc/self/status': 'Seccomp:\t2\n' });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines = statusLines(await snapshot(root));
  const handlers = lines.find((l) => l.label === 'handlers');
  t.regex(handlers?.value ?? '', /^the kernel cannot start a handler path from here \(a seccomp filter: EXDEV\); a waiter/);
  t.true(lines.some((l) => l.label === 'grub'), 'the host\'s lines are all there');
});
