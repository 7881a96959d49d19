import test from 'ava';
import { exitStatus, forwardedSignals, launchPlan, splitInvocation, waiterArgv, WRAPPER_SCRIPT } from '../src/lib/run-with-gs.js';
import { waiterLine } from '../src/lib/registry.js';
import { GsError } from '../src/lib/errors.js';

const wrapper = (cgroup: string, ...program: string[]) => ['sh', '-c', WRAPPER_SCRIPT, 'gs-kit-run', cgroup, ...program];

test('the handler and its arguments come before "--", the program and its arguments after', (t) => {
  t.deepEqual(splitInvocation(['/usr/bin/save', '--fast'], ['python3', 'train.py']),
    { handler: '/usr/bin/save', handlerArgs: ['--fast'], program: 'python3', programArgs: ['train.py'] });
  t.throws(() => splitInvocation(['/usr/bin/save'], []), { instanceOf: GsError });
  t.throws(() => splitInvocation([], ['python3']), { instanceOf: GsError });
});

test('under systemd, root runs the program in a scope in the workload slice, with --memory-max as its MemoryMax', (t) => {
  const l = launchPlan({ systemd: true, root: true, workloadSlice: 'gs-workload.slice', memoryMax: 67108864, pid: 5 }, 'stress-ng', ['--vm', '1']);
  t.deepEqual(l.argv, ['systemd-run', '--slice=gs-workload.slice', '--scope', '--quiet', '--collect',
    '-p', 'MemoryMax=67108864', '-p', 'MemorySwapMax=0', '--', ...wrapper('', 'stress-ng', '--vm', '1')]);
  t.is(l.runCgroup, undefined);
  t.is(l.note, undefined);
});

test('under systemd, a user runs the program in a scope of its own user manager; systemd owns the cgroups, gs-kit makes none', (t) => {
  const l = launchPlan({ systemd: true, root: false, workloadSlice: 'gs-workload.slice', memoryMax: 1024, pid: 5 }, 'prog', []);
  t.deepEqual(l.argv.slice(0, 5), ['systemd-run', '--user', '--scope', '--quiet', '--collect']);
  t.true(l.argv.includes('MemoryMax=1024'));
  t.is(l.runCgroup, undefined);
});

test('under systemd without the workload slice, root is told and the program still runs in a scope', (t) => {
  const l = launchPlan({ systemd: true, root: true, pid: 5 }, 'prog', []);
  t.false(l.argv.some((a) => a.startsWith('--slice=')));
  t.regex(l.note ?? '', /no workload slice/);
});

test('without systemd, the program gets a cgroup of its own under the workload cgroup', (t) => {
  const l = launchPlan({ systemd: false, root: true, workloadCgroup: '/sys/fs/cgroup/gs-workload', memoryMax: 2048, pid: 77 }, 'prog', ['a']);
  t.is(l.runCgroup, '/sys/fs/cgroup/gs-workload/run-77');
  t.deepEqual(l.argv, wrapper('/sys/fs/cgroup/gs-workload/run-77', 'prog', 'a'));
});

test('without systemd or a workload cgroup, the program runs where it is, with a warning', (t) => {
  const l = launchPlan({ systemd: false, root: false, pid: 1 }, 'prog', []);
  t.deepEqual(l.argv, wrapper('', 'prog'));
  t.regex(l.note ?? '', /no workload cgroup/);
});

test('the exit status is the program\'s, or 128 + the signal that ended it', (t) => {
  t.is(exitStatus(7, null), 7);
  t.is(exitStatus(null, 'SIGKILL'), 137);
  t.is(exitStatus(null, null), 1);
});

test('signals from a terminal reach the program directly; others are passed on', (t) => {
  t.false(forwardedSignals(true).includes('SIGINT'));
  t.true(forwardedSignals(false).includes('SIGINT'));
  t.true(forwardedSignals(true).includes('SIGTERM'));
});

// The waiter, run by a real sh with a file of the module's NAME=value lines on fd 3.
async function runWaiter(t: import('ava').ExecutionContext, description: string, handler: string[]): Promise<{ status: number | null; stdout: string }> {
  const { mkdtemp, writeFile, rm, open } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const dir = await mkdtemp(join(tmpdir(), 'gs-waiter-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'description'), description);
  const fd = await open(join(dir, 'description'), 'r');
  try {
    const argv = waiterArgv(handler[0]!, handler.slice(1));
    const out = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit', fd.fd], encoding: 'utf8' });
    return { status: out.status, stdout: out.stdout };
  } finally {
    await fd.close();
  }
}

test('the waiter takes the victim\'s description as its environment and execs the handler with its arguments', async (t) => {
  const out = await runWaiter(t, 'GS_PID=42\nGS_COMM=my worker\nGS_CONSTRAINT=memcg\n',
    ['/bin/sh', '-c', 'echo "$GS_PID|$GS_COMM|$GS_CONSTRAINT|$1"', 'save', 'arg1']);
  t.is(out.status, 0);
  t.is(out.stdout, '42|my worker|memcg|arg1\n');
});

test('the waiter whose registration ended (end of file at once) runs nothing and exits 0', async (t) => {
  const out = await runWaiter(t, '', ['/bin/sh', '-c', 'echo ran']);
  t.is(out.status, 0);
  t.is(out.stdout, '');
});

test('a waiter line names the process, and "+" for what it starts', (t) => {
  t.is(waiterLine(42, true), '+42 @wait');
  t.is(waiterLine(7, false), '7 @wait');
});
