import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../src/adapters/paths.js';
import type { GuestReport } from '../src/lib/guest-protocol.js';
import { containersChecks, containerTimings, ENGINE_RUNS, engineChecks, runWindow } from '../src/lib/containers-test.js';

function report(facts: Record<string, string[] | string>, dmesg: string): GuestReport {
  return { facts: new Map(Object.entries(facts).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])), dmesg, console: '', done: true };
}

const DMESG = [
  '[  100.000000] gs-test: run=docker',
  '[  101.000000] graceful_shutdown: event=start victim=812 registered=811 handler=@wait uid=0 constraint=memcg timeout_ms=5000 spawn=waiter',
  '[  101.200000] graceful_shutdown: event=exit victim=812 status=0 ms=200',
  '[  101.300000] Memory cgroup out of memory: Killed process 812 (oom_condition_c) total-vm:70000kB',
  '[  102.000000] gs-test: run=ctr',
  '[  103.000000] Memory cgroup out of memory: Killed process 900 (oom_condition_c) total-vm:70000kB',
].join('\n');

const docker = ENGINE_RUNS.find((r) => r.key === 'docker')!;
const good = {
  docker_rec: 'GS_PID=2 victim_alive=1 uid=0 GS_CONSTRAINT=memcg', docker_rec_owner: '0', docker_workload_pid: '2', docker_workload_net: 'refused',
  docker_probe: 'host_root=cat: can\'t open \'/proc/1/root/etc/gs-host-marker\': No such file or directory host_path=absent host_net=refused ' +
    'victim_capbnd=00000000a80425fb self_capbnd=00000000a80425fb victim_seccomp=2 self_seccomp=2 victim_nofile=1048576 self_nofile=1048576',
};

test('an engine\'s run passes when its handler ran in the container, as its root, for its workload, before the kill, and reached nothing of the host', (t) => {
  const checks = engineChecks(report(good, DMESG), docker);
  t.deepEqual(checks.filter((c) => !c.ok).map((c) => c.name), []);
});

test('each broken promise fails its own check', (t) => {
  const failing = (facts: Record<string, string>, dmesg = DMESG) =>
    engineChecks(report({ ...good, ...facts }, dmesg), docker).filter((c) => !c.ok).map((c) => c.name.replace(/^Docker \(--runtime gs-kit\): /, ''));
  t.deepEqual(failing({ docker_rec: '' }).slice(0, 1), ['the container\'s handler wrote its record in the container\'s volume']);
  t.deepEqual(failing({ docker_rec: 'GS_PID=2 victim_alive=0 uid=0 GS_CONSTRAINT=memcg' }), ['while its victim lived']);
  t.deepEqual(failing({ docker_rec: 'GS_PID=812 victim_alive=1 uid=0 GS_CONSTRAINT=memcg' }), ['its victim is the workload, by the pid the container sees']);
  t.deepEqual(failing({ docker_rec_owner: '1000' }), ['which is uid 0 on the host']);
  const confined = ' victim_capbnd=1 self_capbnd=1 victim_seccomp=2 self_seccomp=2 victim_nofile=9 self_nofile=9';
  t.deepEqual(failing({ docker_probe: `host_root=host-only host_path=absent host_net=refused${confined}` }), ['the handler cannot read the host\'s files through /proc/1/root']);
  t.deepEqual(failing({ docker_probe: `host_root=x host_path=seen host_net=reached${confined}` }),
    ['nor find them by their path', 'nor reach the host\'s loopback, which its container cannot either']);
  t.deepEqual(failing({ docker_workload_net: 'reached' }), ['nor reach the host\'s loopback, which its container cannot either'],
    'a container on the host\'s network is not what this run sets up');
  t.deepEqual(failing({ docker_probe: 'host_root=x host_path=absent host_net=refused victim_capbnd=1 self_capbnd=3 victim_seccomp=2 self_seccomp=2 victim_nofile=9 self_nofile=9' }),
    ['with its victim\'s confinement: the same capability bounding set, seccomp mode and open-files limit']);
  // The kill before the handler's exit: not a graceful shutdown.
  t.deepEqual(failing({}, DMESG.replace('[  101.300000] Memory', '[  101.100000] Memory')), ['the module ran it from the container\'s waiter, start and exit before the kill']);
  // Another run's events do not count for this one.
  t.deepEqual(failing({}, DMESG.replace('run=docker', 'run=podman')), ['the module ran it from the container\'s waiter, start and exit before the kill']);
});

test('a run\'s window ends where the next run begins', (t) => {
  t.is(runWindow(DMESG, 'docker').kills.length, 1);
  t.deepEqual(runWindow(DMESG, 'ctr').kills.map((k) => k.pid), [900]);
  t.deepEqual(runWindow(DMESG, 'ctr').events, []);
  t.deepEqual(runWindow(DMESG, 'missing'), { events: [], kills: [] });
});

test('the stage fails as a whole when nothing ran', (t) => {
  const checks = containersChecks(report({}, ''));
  t.true(checks.length > ENGINE_RUNS.length * 5);
  t.true(checks.every((c) => !c.ok));
});

test('the timings: each engine\'s start without and with the hook, and each handler\'s run as the module logged it', (t) => {
  const r = report({ start_ms: ['podman plain 900', 'docker plain 700', 'podman hook 1100', 'podman plain 1000', 'podman hook 1300', 'docker hook 1000', 'junk'] },
    DMESG.replace('status=0 ms=200', 'status=0 duration_ms=203'));
  const timings = containerTimings(r);
  t.deepEqual(timings.startMs.podman, { plain: [900, 1000], hook: [1100, 1300] });
  t.deepEqual(timings.startMedianMs.podman, { plain: 950, hook: 1200, added: 250 });
  t.deepEqual(timings.startMedianMs.docker, { plain: 700, hook: 1000, added: 300 });
  t.is(timings.handlerMs.docker, 203);
  t.is(timings.handlerMs.podman, undefined);
});

test('the container test\'s CRI client encodes and decodes its messages, and speaks gRPC to a server on a unix socket', (t) => {
  const r = spawnSync(process.execPath, [join(repoRoot(), 'vm', 'system', 'cri-pod.mjs'), 'selftest'], { encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { selftest: 'ok' });
});

test('a pod on the node\'s network: its handler reaches the host\'s loopback as its container does, and no more', (t) => {
  const cri = ENGINE_RUNS.find((r) => r.key === 'cri')!;
  const facts = (handler: string, container: string) => ({
    cri_rec: 'GS_PID=14 victim_alive=1 uid=0 GS_CONSTRAINT=memcg', cri_rec_owner: '0', cri_workload_pid: '14', cri_workload_net: container,
    cri_probe: `host_root=x host_path=absent host_net=${handler} victim_capbnd=1 self_capbnd=1 victim_seccomp=0 self_seccomp=0 victim_nofile=9 self_nofile=9`,
  });
  const net = (handler: string, container: string) =>
    engineChecks(report(facts(handler, container), DMESG.replace(/run=docker/, 'run=cri')), cri).find((c) => /loopback/.test(c.name))!.ok;
  t.true(net('reached', 'reached'));
  t.false(net('reached', 'refused'));
  t.false(net('', ''));
});
