import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInit, protectBundle } from '../src/adapters/oci.js';
import { configure } from '../src/commands/configure.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { GsError } from '../src/lib/errors.js';
import { handlerOf, createdBundle, runtimeLog, runtimeLogLine, startedContainer, HANDLER_ANNOTATION, INIT_IN_CONTAINER, protectSpec, reserveOf, type OciSpec } from '../src/lib/oci.js';
import { cgroupSplit, parentReserve, parseProcStat, reserveSteps, splitRoot, waiterOf } from '../src/lib/oci-cgroup.js';
import { CONTAINERD_CONFIG, containerdConfigWithRuntime, containerdHasRuntime, DOCKER_DAEMON_JSON, dockerDaemonJson, OCI_HOOK, OCI_INIT, OCI_RUNTIME, ociPlan, PODMAN_HOOK, renderPodmanHook, renderRuntimeWrapper } from '../src/lib/oci-install.js';
import { containerHookLine } from '../src/lib/status.js';
import { recordingEnv } from './helpers/env.js';

const install = { init: '/usr/local/lib/gs-kit/gs-init', hook: '/usr/local/lib/gs-kit/gs-kit-oci' };
const spec = (annotations?: Record<string, string>): OciSpec => ({
  ociVersion: '1.2.0',
  process: { args: ['/app/server', '--port', '80'], cwd: '/', env: ['PATH=/usr/bin'] },
  mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
  ...(annotations ? { annotations } : {}),
  linux: { namespaces: [{ type: 'pid' }] },
});

test('a spec without the annotation passes through untouched', (t) => {
  const s = spec({ 'org.example': 'x' });
  t.is(protectSpec(s, install), s);
  const bare = spec();
  t.is(protectSpec(bare, install), bare);
});

test('a spec with the annotation gets gs-init in front of its command, mounted read-only, and the createRuntime hook', (t) => {
  const out = protectSpec(spec({ [HANDLER_ANNOTATION]: '/app/save-state  --fast' }), install);
  t.deepEqual(out.process?.args, [INIT_IN_CONTAINER, '/app/save-state', '--fast', '--', '/app/server', '--port', '80']);
  t.deepEqual(out.process?.cwd, '/');
  t.deepEqual(out.mounts?.at(-1), { destination: INIT_IN_CONTAINER, type: 'bind', source: install.init, options: ['bind', 'ro', 'nosuid', 'nodev'] });
  t.deepEqual(out.mounts?.[0], { destination: '/proc', type: 'proc', source: 'proc' });
  t.deepEqual(out.hooks?.createRuntime, [{ path: install.hook, args: ['gs-kit-oci', 'create-runtime'] }]);
  t.deepEqual(out.hooks?.poststart, [{ path: install.hook, args: ['gs-kit-oci', 'poststart'] }]);
  t.deepEqual(out.linux, { namespaces: [{ type: 'pid' }] }, 'the rest of the spec as it was');
  // Podman's precreate and the runtime wrapper may both see it: once is enough.
  t.is(protectSpec(out, install), out);
});

test('in a pod: the container\'s own annotation first, the pod\'s for every container, never the sandbox', (t) => {
  const pod = { [HANDLER_ANNOTATION]: '/app/save', [`${HANDLER_ANNOTATION}.db`]: '/db/flush --now' };
  t.deepEqual(handlerOf({ ...pod, 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'db' }), ['/db/flush', '--now']);
  t.deepEqual(handlerOf({ ...pod, 'io.kubernetes.cri.container-type': 'container', 'io.kubernetes.cri.container-name': 'web' }), ['/app/save']);
  t.is(handlerOf({ ...pod, 'io.kubernetes.cri.container-type': 'sandbox' }), undefined);
  t.is(handlerOf({ ...pod, 'io.kubernetes.cri-o.ContainerType': 'sandbox' }), undefined);
  t.deepEqual(handlerOf({ [`${HANDLER_ANNOTATION}.db`]: '/db/flush', 'io.kubernetes.cri-o.ContainerName': 'db' }), ['/db/flush']);
  t.is(handlerOf({ [`${HANDLER_ANNOTATION}.db`]: '/db/flush', 'io.kubernetes.cri.container-name': 'web' }), undefined);
  t.is(handlerOf(undefined), undefined);
});

test('a handler that is not an absolute path, a spec with no command, or a bad reserve is refused', (t) => {
  for (const bad of ['save-state', '', '   ']) {
    const err = t.throws(() => protectSpec(spec({ [HANDLER_ANNOTATION]: bad }), install), { instanceOf: GsError });
    t.regex(err!.message, /absolute path/);
  }
  const none = { ...spec({ [HANDLER_ANNOTATION]: '/app/save' }), process: { args: [] } };
  t.throws(() => protectSpec(none, install), { instanceOf: GsError, message: /no command/ });
  t.throws(() => protectSpec(spec({ [HANDLER_ANNOTATION]: '/app/save', 'io.gs-kit.reserve': 'lots' }), install), { instanceOf: GsError });
  t.throws(() => reserveOf({ 'io.gs-kit.reserve': '512K' }), { instanceOf: GsError, message: /less than 1 MiB/ });
  t.is(reserveOf({ 'io.gs-kit.reserve': '32M' }), 32 * 1024 * 1024);
  t.is(reserveOf(undefined), 16 * 1024 * 1024);
});

test('the runtime wrapper finds the bundle of create and run, and nothing else', (t) => {
  t.is(createdBundle(['--root', '/run/docker/runtime-runc/moby', '--log', '/x/log.json', '--log-format', 'json', '--systemd-cgroup',
    'create', '--bundle', '/run/containerd/b/c1', '--pid-file', '/run/x/init.pid', 'c1'], '/'), '/run/containerd/b/c1');
  t.is(createdBundle(['create', '-b', 'rel', 'c1'], '/work'), '/work/rel');
  t.is(createdBundle(['create', '--bundle=/b', 'c1'], '/'), '/b');
  t.is(createdBundle(['run', 'c1'], '/bundles/c1'), '/bundles/c1');
  t.is(createdBundle(['--root', 'create', 'start', 'create'], '/'), undefined, 'a container named "create" is started, not created');
  t.is(createdBundle(['kill', 'create', 'KILL'], '/'), undefined);
  t.is(createdBundle(['--debug'], '/'), undefined);
  t.deepEqual(startedContainer(['--root', '/run/docker/runtime-runc/moby', '--log', '/l.json', '--systemd-cgroup', 'start', 'c1']),
    { id: 'c1', globals: ['--root', '/run/docker/runtime-runc/moby', '--log', '/l.json', '--systemd-cgroup'] });
  t.is(startedContainer(['kill', 'start', 'KILL']), undefined, 'a container named "start" is killed, not started');
  t.is(startedContainer(['start']), undefined);
});

test('the cgroup split: the init to gs-workload, the memory controller for both sides', (t) => {
  t.deepEqual(cgroupSplit('cpuset cpu io memory pids\n', 4242), [
    { kind: 'mkdir', path: 'gs-workload' },
    { kind: 'mkdir', path: 'gs-handler' },
    { kind: 'write', path: 'gs-workload/cgroup.procs', content: '4242' },
    { kind: 'write', path: 'cgroup.subtree_control', content: '+memory' },
  ]);
  t.deepEqual(cgroupSplit('pids', 7).map((s) => s.path), ['gs-workload', 'gs-handler', 'gs-workload/cgroup.procs']);
});

test('the reserve: gs-workload at the container\'s limit, the container\'s cgroup that much more, whenever the runtime wrote its limit', (t) => {
  const MiB = 1024 * 1024;
  const L = String(64 * MiB);
  // The runtime wrote C's limit after the split (runc, crun): gs-workload takes it.
  t.deepEqual(reserveSteps({ memoryMax: `${L}\n`, swapMax: '0\n', workloadMax: 'max\n' }, 16 * MiB), [
    { kind: 'write', path: 'gs-workload/memory.max', content: L },
    { kind: 'write', path: 'gs-workload/memory.swap.max', content: '0' },
    { kind: 'write', path: 'memory.max', content: String(80 * MiB) },
  ]);
  // Done already: nothing. Run twice, the reserve is not added twice.
  t.deepEqual(reserveSteps({ memoryMax: String(80 * MiB), swapMax: '0', workloadMax: L }, 16 * MiB), []);
  // The runtime wrote C's limit again over the reserve: only C's grows back.
  t.deepEqual(reserveSteps({ memoryMax: L, swapMax: '0', workloadMax: L }, 16 * MiB), [{ kind: 'write', path: 'memory.max', content: String(80 * MiB) }]);
  // No limit, or no memory controller: nothing to keep back.
  t.deepEqual(reserveSteps({ memoryMax: 'max', swapMax: 'max', workloadMax: 'max' }, MiB), []);
  t.deepEqual(reserveSteps({ memoryMax: undefined, swapMax: undefined, workloadMax: undefined }, MiB), []);
  t.throws(() => reserveSteps({ memoryMax: 'lots', swapMax: undefined, workloadMax: 'max' }, MiB), { instanceOf: GsError });
});

test('the poststart stage finds init\'s own child named gs-waiter, in the cgroup the split made', (t) => {
  t.deepEqual(parseProcStat('812 (gs-waiter) S 800 812 812 0 -1 4194560 100'), { pid: 812, ppid: 800, comm: 'gs-waiter' });
  t.deepEqual(parseProcStat('9 (a) b (c)) R 1 9'), { pid: 9, ppid: 1, comm: 'a) b (c)' });
  t.is(parseProcStat('garbage'), undefined);
  const procs = [
    { pid: 900, ppid: 812, comm: 'gs-waiter' }, // a process of the container that took the name: not init's child
    { pid: 813, ppid: 800, comm: 'server' },
    { pid: 812, ppid: 800, comm: 'gs-waiter' },
  ];
  t.is(waiterOf(procs, 800), 812);
  t.is(waiterOf(procs, 813), undefined);
  t.is(splitRoot('/system.slice/docker-abc.scope/gs-workload'), '/system.slice/docker-abc.scope');
  t.is(splitRoot('/system.slice/docker-abc.scope'), undefined, 'no split, no move');
});

test('Docker\'s daemon.json keeps every setting and runtime it had, and is refused when it is not JSON', (t) => {
  const before = JSON.stringify({ 'log-driver': 'journald', runtimes: { nvidia: { path: 'nvidia-container-runtime' } } });
  const after = JSON.parse(dockerDaemonJson(before, OCI_RUNTIME));
  t.deepEqual(after, { 'log-driver': 'journald', runtimes: { nvidia: { path: 'nvidia-container-runtime' }, 'gs-kit': { path: OCI_RUNTIME } } });
  t.is(dockerDaemonJson(dockerDaemonJson(before, OCI_RUNTIME), OCI_RUNTIME), dockerDaemonJson(before, OCI_RUNTIME));
  t.deepEqual(JSON.parse(dockerDaemonJson(undefined, OCI_RUNTIME)), { runtimes: { 'gs-kit': { path: OCI_RUNTIME } } });
  t.throws(() => dockerDaemonJson('{ "log-driver": ', OCI_RUNTIME), { instanceOf: GsError, message: /not valid JSON/ });
  t.throws(() => dockerDaemonJson('[1]', OCI_RUNTIME), { instanceOf: GsError, message: /not a JSON object/ });
});

test('the plan installs for the engines there are: none, Podman alone, Docker and containerd', (t) => {
  const base = { init: new Uint8Array([1]), node: '/usr/bin/node', cli: '/opt/gs-kit/dist/cli/src/bin.js', runc: '/usr/sbin/runc', dockerDaemon: undefined };
  t.deepEqual(ociPlan({ ...base, engines: { podman: false, docker: false, containerd: false } }), []);
  const podman = ociPlan({ ...base, engines: { podman: true, docker: false, containerd: false } });
  t.deepEqual(podman.flatMap((c) => (c.kind === 'file' ? [c.path] : [])), [OCI_INIT, OCI_HOOK, PODMAN_HOOK]);
  const docker = ociPlan({ ...base, engines: { podman: false, docker: true, containerd: true } });
  t.deepEqual(docker.flatMap((c) => (c.kind === 'file' ? [c.path] : [])),
    [OCI_INIT, OCI_HOOK, OCI_RUNTIME, CONTAINERD_CONFIG, DOCKER_DAEMON_JSON]);
  t.true(docker.some((c) => c.kind === 'command' && c.argv.join(' ') === 'systemctl try-restart containerd.service'));
  t.true(docker.some((c) => c.kind === 'command' && c.argv.join(' ') === 'systemctl try-reload-or-restart docker.service'));
  const hook = JSON.parse(renderPodmanHook(OCI_HOOK));
  t.deepEqual(hook.stages, ['precreate']);
  t.deepEqual(Object.keys(hook.when.annotations), ['^io\\.gs-kit\\.handler(\\..+)?$']);
  const when = new RegExp(Object.keys(hook.when.annotations)[0]!);
  t.true(when.test(HANDLER_ANNOTATION));
  t.true(when.test(`${HANDLER_ANNOTATION}.app`));
  t.false(when.test(`${HANDLER_ANNOTATION}x`));
});

test('the runtime wrapper runs node only for create, run and start, and runc with every argument', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-wrapper-'));
  try {
    const log = join(dir, 'log');
    await writeFile(join(dir, 'node'), `#!/bin/sh\necho "node $*" >> ${log}\n`);
    await writeFile(join(dir, 'runc'), `#!/bin/sh\necho "runc $*" >> ${log}\n[ "$1" = start ] && exit 0\nexit 3\n`);
    await writeFile(join(dir, 'wrapper'), renderRuntimeWrapper(join(dir, 'node'), '/cli.js', join(dir, 'runc')));
    for (const f of ['node', 'runc', 'wrapper']) await chmod(join(dir, f), 0o755);
    const runc = join(dir, 'runc');
    t.is(spawnSync(join(dir, 'wrapper'), ['--root', '/r', 'state', 'c1']).status, 3);
    t.is(spawnSync(join(dir, 'wrapper'), ['create', '--bundle', '/b c', 'c1']).status, 3);
    t.is(spawnSync(join(dir, 'wrapper'), ['start', 'c1']).status, 0);
    t.is(await readFile(log, 'utf8'), [
      'runc --root /r state c1',
      'node /cli.js oci-hook prepare-bundle -- create --bundle /b c c1',
      'runc create --bundle /b c c1',
      'runc start c1',
      `node /cli.js oci-hook started --runc ${runc} -- start c1`,
      '',
    ].join('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bundle is protected in place, once, and left alone when it does not ask', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-bundle-'));
  try {
    await writeFile(join(dir, 'config.json'), JSON.stringify(spec({ [HANDLER_ANNOTATION]: '/app/save' })));
    t.true(await protectBundle(dir, install));
    const once = await readFile(join(dir, 'config.json'), 'utf8');
    t.is(JSON.parse(once).process.args[0], INIT_IN_CONTAINER);
    t.false(await protectBundle(dir, install));
    t.is(await readFile(join(dir, 'config.json'), 'utf8'), once);
    t.false(existsSync(join(dir, 'config.json.gs-kit.tmp')));
    await writeFile(join(dir, 'config.json'), '{"process": ');
    await t.throwsAsync(protectBundle(dir, install), { instanceOf: GsError, message: /not JSON/ });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gs-init as a container init: the program\'s exit status, a signal passed on, unprotected with the reason where there is no module', async (t) => {
  const init = await buildInit();
  const exit = spawnSync(init, ['/bin/true', '--', 'sh', '-c', 'exit 7']);
  t.is(exit.status, 7);
  if (!existsSync('/proc/graceful_shutdown')) t.regex(exit.stderr.toString(), /sh runs unprotected: \/proc\/graceful_shutdown: No such file/);
  const killed = spawnSync(init, ['/bin/true', '--', 'sh', '-c', 'kill -TERM $$; sleep 5']);
  t.is(killed.status, 128 + 15);
  const usage = spawnSync(init, ['/bin/true']);
  t.is(usage.status, 2);
  t.regex(usage.stderr.toString(), /usage: gs-init HANDLER/);
  const missing = spawnSync(init, ['/bin/true', '--', '/no/such/program']);
  t.is(missing.status, 127);
});

test('configure installs the hook where an engine is installed, and a second run changes nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'gs-configure-oci-'));
  try {
    await mkdir(join(root, 'proc'), { recursive: true });
    await mkdir(join(root, 'run/systemd/system'), { recursive: true });
    await writeFile(join(root, 'proc/mounts'), 'cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n');
    await writeFile(join(root, 'proc/meminfo'), 'MemTotal:        2097152 kB\n');
    for (const p of ['usr/bin/podman', 'usr/sbin/dockerd', 'usr/sbin/runc']) {
      await mkdir(join(root, p, '..'), { recursive: true });
      await writeFile(join(root, p), '#!/bin/sh\n');
      await chmod(join(root, p), 0o755);
    }
    await mkdir(join(root, 'etc/docker'), { recursive: true });
    await writeFile(join(root, 'etc/docker/daemon.json'), '{"log-driver": "journald"}');
    const env = recordingEnv();
    t.is(await configure.run(parseArgs(['--root', root, '--no-grub'], configure.spec), env), 0);
    t.regex(env.ui.out, /container hook for podman, docker: annotation io\.gs-kit\.handler; Podman: \/usr\/share\/containers\/oci\/hooks\.d\/gs-kit\.json; Docker: --runtime gs-kit/);
    t.is(await readFile(join(root, PODMAN_HOOK), 'utf8'), renderPodmanHook(OCI_HOOK));
    t.deepEqual(JSON.parse(await readFile(join(root, DOCKER_DAEMON_JSON), 'utf8')), { 'log-driver': 'journald', runtimes: { 'gs-kit': { path: OCI_RUNTIME } } });
    t.deepEqual(await readFile(join(root, OCI_INIT)), await readFile(await buildInit()));
    t.regex(await readFile(join(root, OCI_RUNTIME), 'utf8'), /exec '\/usr\/sbin\/runc' "\$@"/);
    const again = recordingEnv();
    t.is(await configure.run(parseArgs(['--root', root, '--no-grub'], configure.spec), again), 0);
    t.regex(again.ui.out, /\b0 changes\./);
    const none = recordingEnv();
    t.is(await configure.run(parseArgs(['--root', root, '--no-grub', '--no-containers', '--dry-run'], configure.spec), none), 0);
    t.notRegex(none.ui.out, /container hook/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('containerd: the CRI runtime gs-kit in config.toml, by its config version, once, with what it held kept', (t) => {
  const fresh = containerdConfigWithRuntime(undefined, OCI_RUNTIME, true);
  t.regex(fresh, /^version = 2\n/);
  t.regex(fresh, /^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.gs-kit\]$/m);
  t.regex(fresh, /^ {2}pod_annotations = \["io\.gs-kit\.\*"\]$/m);
  t.regex(fresh, new RegExp(`^  BinaryName = "${OCI_RUNTIME}"$`, 'm'));
  t.regex(fresh, /^ {2}SystemdCgroup = true$/m);
  t.true(containerdHasRuntime(fresh));
  // The plugin's default runtime, which a runtimes table of the file's own would otherwise drop.
  t.regex(fresh, /^\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.runc\]\n {2}runtime_type = "io\.containerd\.runc\.v2"$/m);
  const ownRunc = 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n  runtime_type = "io.containerd.runc.v2"\n';
  t.is(containerdConfigWithRuntime(ownRunc, OCI_RUNTIME, true).split('runtimes.runc]').length, 2, 'a runc of the file\'s own is kept, not written again');
  // Debian's own config.toml: kept, the block after it; a second run changes nothing.
  const debian = 'version = 2\n\n[plugins]\n  [plugins."io.containerd.grpc.v1.cri"]\n    [plugins."io.containerd.grpc.v1.cri".cni]\n      bin_dir = "/usr/lib/cni"\n';
  const once = containerdConfigWithRuntime(debian, OCI_RUNTIME, false);
  t.true(once.startsWith(debian));
  t.regex(once, /^ {2}SystemdCgroup = false$/m);
  t.is(containerdConfigWithRuntime(once, OCI_RUNTIME, false), once);
  t.is(containerdConfigWithRuntime(once, '/other/runc', false).split('BinaryName').length, 2, 'the block is replaced, not added again');
  // containerd 2's version 3: its plugin's name.
  t.regex(containerdConfigWithRuntime('version = 3\n', OCI_RUNTIME, true), /^\[plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.gs-kit\]$/m);
  // Version 1 (no version line): refused, not guessed at.
  t.throws(() => containerdConfigWithRuntime('[plugins.cri]\n', OCI_RUNTIME, true), { instanceOf: GsError, message: /config version 1/ });
  t.false(containerdHasRuntime(debian));
  t.false(containerdHasRuntime(undefined));
});

test('status says which engines a container is protected on, and which have no hook yet', (t) => {
  const engines = { podman: true, docker: true, containerd: false };
  const all = { engines, init: true, podmanHook: true, dockerRuntime: true, criRuntime: false };
  t.is(containerHookLine(undefined), undefined);
  t.is(containerHookLine({ ...all, engines: { podman: false, docker: false, containerd: false } }), undefined);
  t.deepEqual(containerHookLine(all), { ok: true, value: 'annotation io.gs-kit.handler protects a container on Podman (hooks.d), Docker (--runtime gs-kit)' });
  t.deepEqual(containerHookLine({ ...all, dockerRuntime: false }),
    { ok: false, value: 'annotation io.gs-kit.handler protects a container on Podman (hooks.d); no hook yet for Docker' });
  t.deepEqual(containerHookLine({ ...all, init: false }), { ok: false, value: 'no hook yet for Podman, Docker' });
});

test('the wrapper\'s refusal goes where containerd and Docker read a failed create\'s reason: runc\'s log', (t) => {
  t.deepEqual(runtimeLog(['--root', '/r', '--log', '/run/c/log.json', '--log-format', 'json', 'create', '--bundle', '/b', 'c1']), { path: '/run/c/log.json', json: true });
  t.deepEqual(runtimeLog(['--log=/l', 'create', 'c1']), { path: '/l', json: false });
  t.is(runtimeLog(['create', '--bundle', '/b', 'c1']), undefined);
  const line = runtimeLogLine('gs-kit: bad', true, new Date(0));
  t.deepEqual(JSON.parse(line), { level: 'error', msg: 'gs-kit: bad', time: '1970-01-01T00:00:00.000Z' });
  t.is(runtimeLogLine('gs-kit: bad', false, new Date(0)), '1970-01-01T00:00:00.000Z error: gs-kit: bad\n');
});

test('the reserve is made in the container\'s own parent too (crun\'s scope), never in a shared one', (t) => {
  const want = 80n * 1024n * 1024n;
  t.is(parentReserve({ memoryMax: String(64 * 1024 * 1024), children: ['container'] }, 'container', want), String(want));
  t.is(parentReserve({ memoryMax: 'max', children: ['container'] }, 'container', want), undefined, 'no limit there: nothing to raise');
  t.is(parentReserve({ memoryMax: String(want), children: ['container'] }, 'container', want), undefined, 'already enough');
  t.is(parentReserve({ memoryMax: String(64 * 1024 * 1024), children: ['container', 'sandbox'] }, 'container', want), undefined, 'a pod\'s: shared');
  t.is(parentReserve({ memoryMax: String(64 * 1024 * 1024), children: ['other'] }, 'container', want), undefined);
});
