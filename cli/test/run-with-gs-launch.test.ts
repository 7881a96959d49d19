import test from 'ava';
import { planLaunch, type RunWithGsRequest } from '../src/services/run-with-gs.js';
import { RecordingUi, StubHost } from './helpers/env.js';

const REQ: RunWithGsRequest = { handler: '/usr/local/bin/save', handlerArgs: [], program: 'train', programArgs: ['--fast'], proc: '/proc/x' };
const host = (files: Record<string, string>) => new StubHost('/', false, new RecordingUi(), files);

test('under systemd the program runs in a scope, in the workload slice when configure made it', async (t) => {
  const launch = await planLaunch(REQ, host({ '/run/systemd/system/x': '', '/etc/systemd/system/gs-workload.slice': '' }));
  const root = process.getuid?.() === 0;
  t.deepEqual(launch.argv.slice(0, 5), root
    ? ['systemd-run', '--slice=gs-workload.slice', '--scope', '--quiet', '--collect']
    : ['systemd-run', '--user', '--scope', '--quiet', '--collect']);
  t.deepEqual(launch.argv.slice(-2), ['train', '--fast']);
});

test('without systemd the program gets a cgroup of its own under the workload cgroup, when there is one', async (t) => {
  const launch = await planLaunch(REQ, host({ '/sys/fs/cgroup/gs-workload/cgroup.procs': '' }));
  t.is(launch.runCgroup, `/sys/fs/cgroup/gs-workload/run-${process.pid}`);
  t.is(launch.note, undefined);
});

test('with no workload cgroup and no --memory-max the program runs outside one, and the user is told', async (t) => {
  const launch = await planLaunch(REQ, host({}));
  t.is(launch.runCgroup, undefined);
  t.regex(launch.note ?? '', /there is no workload cgroup/);
  const limited = await planLaunch({ ...REQ, memoryMax: 256 << 20 }, host({}));
  t.is(limited.runCgroup, `/sys/fs/cgroup/gs-workload/run-${process.pid}`, '--memory-max makes the workload cgroup');
});

test('--cgroup names the cgroup to run under, systemd or not', async (t) => {
  const launch = await planLaunch({ ...REQ, cgroup: '/sys/fs/cgroup/mine' }, host({ '/run/systemd/system/x': '' }));
  t.is(launch.runCgroup, `/sys/fs/cgroup/mine/run-${process.pid}`);
});
