import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { chmod, lstat, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStatic } from '../src/adapters/static-program.js';
import { configure } from '../src/commands/configure.js';
import { parseArgs } from '../src/lib/cli-args.js';
import {
  dpkgVersion, EARLYOOM_DROPIN, EARLYOOM_PROGRAM, EARLYOOM_SOCKET_UNIT, KILLER_BIN, killersLine, killersPlan, OOMD_DROPIN,
  OOMD_SOCKET_UNIT, parsePrekillTimeout, PREKILL_SOCKET, prekillTimeoutSec, renderEarlyoomDropIn, renderOomdSocket, SYSUSERS_FILE,
  unitPath, versionAtLeast,
} from '../src/lib/killers.js';
import { recordingEnv } from './helpers/env.js';
import { parseGuestOutput } from '../src/lib/guest-protocol.js';
import { journalKill, killersChecks, killerTimings } from '../src/lib/killers-test.js';

const STATUS = [
  'Package: earlyoom', 'Status: install ok installed', 'Version: 1.9.0-1', '',
  'Package: systemd-oomd', 'Status: install ok installed', 'Version: 262.1-1', '',
  'Package: nohang', 'Status: deinstall ok config-files', 'Version: 0.2.0-1', '',
].join('\n');

test('versions come from dpkg\'s database, installed packages only', (t) => {
  t.is(dpkgVersion(STATUS, 'earlyoom'), '1.9.0-1');
  t.is(dpkgVersion(STATUS, 'systemd-oomd'), '262.1-1');
  t.is(dpkgVersion(STATUS, 'nohang'), undefined, 'removed, its configuration kept: not installed');
  t.is(dpkgVersion(STATUS, 'systemd'), undefined);
  t.is(dpkgVersion(undefined, 'earlyoom'), undefined);
  t.is(dpkgVersion('Package: systemd\nStatus: install ok installed\nVersion: 1:262.1-1\n', 'systemd'), '262.1-1', 'an epoch is not the version');
});

test('version comparison: dotted numbers, Debian revisions ignored', (t) => {
  t.true(versionAtLeast('262.1', '260'));
  t.false(versionAtLeast('257.9', '260'));
  t.true(versionAtLeast('1.9.0', '1.9'));
  t.false(versionAtLeast('1.8.2', '1.9'));
  t.true(versionAtLeast('1.10', '1.9'), 'numbers, not strings');
  t.true(versionAtLeast('260~rc1', '260'));
});

test('systemd-oomd waits as long as the longest handler may run, and a second more', (t) => {
  t.is(prekillTimeoutSec(5000, 2000), 6);
  t.is(prekillTimeoutSec(1000, 3500), 5);
  t.is(prekillTimeoutSec(0, 0), 1, 'never under oomd\'s minimum of 1 s');
  t.is(parsePrekillTimeout('[OOM]\nPrekillHookTimeoutSec=6s\n'), 6);
  t.is(parsePrekillTimeout(undefined), undefined);
});

const killer = new Uint8Array([0x7f, 0x45, 0x4c, 0x46]);

test('the plan hooks only the killers that can be hooked', (t) => {
  const none = killersPlan({ oomd: { present: true, version: '257.9' }, earlyoom: { present: true, version: '1.8.2' }, killer, timeoutMs: 5000, userTimeoutMs: 2000 });
  t.deepEqual(none, [], 'systemd 257 has no pre-kill hook and earlyoom 1.8.2 no -P: nothing to install');
  const both = killersPlan({ oomd: { present: true, version: '262.1' }, earlyoom: { present: true, version: '1.9.0', path: '/usr/bin/earlyoom' }, killer, timeoutMs: 5000, userTimeoutMs: 2000 });
  const paths = both.filter((c) => c.kind === 'file').map((c) => c.path);
  for (const p of [KILLER_BIN, unitPath(OOMD_SOCKET_UNIT), OOMD_DROPIN, unitPath(EARLYOOM_SOCKET_UNIT), EARLYOOM_DROPIN, SYSUSERS_FILE]) {
    t.true(paths.includes(p), `${p} is installed`);
  }
  const dropIn = both.find((c) => c.kind === 'file' && c.path === OOMD_DROPIN);
  t.regex(String(dropIn?.kind === 'file' ? dropIn.content : ''), /^\[OOM\]\nPrekillHookTimeoutSec=6s$/m);
  t.regex(renderOomdSocket(), new RegExp(`^ListenStream=${PREKILL_SOCKET}$`, 'm'));
  t.regex(renderOomdSocket(), /^SocketMode=0600$/m, 'root\'s only: oomd reaches it with CAP_DAC_OVERRIDE');
  t.regex(renderEarlyoomDropIn('/usr/bin/earlyoom'), new RegExp(`^ExecStart=\\n?ExecStart=/usr/bin/earlyoom \\$EARLYOOM_ARGS -P ${EARLYOOM_PROGRAM}$`, 'm'));
  const oomdOnly = killersPlan({ oomd: { present: true, version: '262.1' }, earlyoom: { present: false }, killer, timeoutMs: 5000, userTimeoutMs: 2000 });
  t.false(oomdOnly.some((c) => c.kind === 'file' && (c.path === EARLYOOM_DROPIN || c.path === SYSUSERS_FILE)), 'no earlyoom pieces without earlyoom');
});

test('status says which killers a registration is heard by', (t) => {
  const all = killersLine({ oomd: { present: true, version: '262.1', hooked: true, timeoutSec: 6 }, earlyoom: { present: true, version: '1.9.0', hooked: true } }, 'stock');
  t.true(all.ok);
  t.is(all.value, 'covered: the kernel\'s OOM killer (stock), systemd-oomd 262.1 (pre-kill hook, waits up to 6 s), earlyoom 1.9.0 (-P; it waits at most 200 ms)');
  const old = killersLine({ oomd: { present: true, version: '257.9', hooked: false }, earlyoom: { present: true, version: '1.9.0', hooked: false } }, undefined);
  t.false(old.ok);
  t.is(old.value, 'covered: the kernel\'s OOM killer; not covered: systemd-oomd 257.9 (no pre-kill hook before 260: it kills unheard), earlyoom 1.9.0');
  const bare = killersLine({ oomd: { present: false, hooked: false }, earlyoom: { present: false, hooked: false } }, 'patched');
  t.deepEqual(bare, { ok: true, value: 'covered: the kernel\'s OOM killer (patched)' });
});

test('configure hooks systemd-oomd and earlyoom in a sysroot that has them, and a second run changes nothing', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'gs-configure-killers-'));
  try {
    await mkdir(join(root, 'proc'), { recursive: true });
    await mkdir(join(root, 'run/systemd/system'), { recursive: true });
    await mkdir(join(root, 'var/lib/dpkg'), { recursive: true });
    await writeFile(join(root, 'proc/mounts'), 'cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n');
    await writeFile(join(root, 'proc/meminfo'), 'MemTotal:        2097152 kB\n');
    await writeFile(join(root, 'var/lib/dpkg/status'), STATUS);
    for (const p of ['usr/bin/earlyoom', 'usr/lib/systemd/systemd-oomd']) {
      await mkdir(join(root, p, '..'), { recursive: true });
      await writeFile(join(root, p), '#!/bin/sh\n');
      await chmod(join(root, p), 0o755);
    }
    const env = recordingEnv();
    t.is(await configure.run(parseArgs(['--root', root, '--no-grub', '--no-containers'], configure.spec), env), 0);
    t.regex(env.ui.out, /systemd-oomd 262\.1: pre-kill hook \/run\/systemd\/oomd\.prekill\.hook\/gs-kit, PrekillHookTimeoutSec=6s/);
    t.regex(env.ui.out, /earlyoom 1\.9\.0: -P /);
    t.regex(env.ui.out, /skipped systemctl daemon-reload/, 'a sysroot\'s systemd is not the running one');
    t.is(await readFile(join(root, OOMD_DROPIN), 'utf8'), '# Written by gs-kit configure: systemd-oomd waits for gs-kit\'s pre-kill hook,\n# as long as the longest handler may run (the module\'s timeout_ms and\n# user_timeout_ms) and a second more.\n[OOM]\nPrekillHookTimeoutSec=6s\n');
    t.is(await readlink(join(root, EARLYOOM_PROGRAM)), 'gs-kit-killer');
    t.true((await lstat(join(root, 'etc/systemd/system/sockets.target.wants', OOMD_SOCKET_UNIT))).isSymbolicLink());
    t.is((await lstat(join(root, KILLER_BIN))).mode & 0o777, 0o755);
    const again = recordingEnv();
    t.is(await configure.run(parseArgs(['--root', root, '--no-grub', '--no-containers'], configure.spec), again), 0);
    t.regex(again.ui.out, /\b0 changes\./);
    const off = recordingEnv();
    t.is(await configure.run(parseArgs(['--root', root, '--no-grub', '--no-containers', '--no-killers', '--dry-run'], configure.spec), off), 0);
    t.notRegex(off.ui.out, /systemd-oomd|earlyoom/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** gs-kit-killer run with @args, @input on stdin; its stdout with NULs as "|", its stderr and status. */
async function killerRun(args: string[], input: string, env: Record<string, string> = {}) {
  const bin = await buildStatic({ dir: 'killers', name: 'gs-kit-killer', sources: ['killers/gs-kit-killer.c', 'killers/Makefile', 'lkm/graceful_shutdown.h'] });
  const r = spawnSync(bin, args, { input, env: { PATH: '/usr/bin:/bin', ...env } });
  return { out: r.stdout.toString().replace(/\0/g, '|'), err: r.stderr.toString(), status: r.status };
}

test('gs-kit-killer oomd speaks varlink: Notify replied to, other methods not found, bad input closes the connection', async (t) => {
  const notify = (cgroup: string) => `{"method":"io.systemd.oom.Prekill.Notify","parameters":{"cgroup":${JSON.stringify(cgroup)}}}\0`;
  // A cgroup with no processes: the reply comes whether or not the module is here (this host has none).
  const empty = await killerRun(['oomd'], notify('/gs-kit-test-no-such-cgroup'));
  t.is(empty.status, 0);
  t.is(empty.out, '{"parameters":{}}|');
  const two = await killerRun(['oomd'], `${notify('/a')}{"method":"org.varlink.service.GetInfo","parameters":{}}\0{"method":"x.Y","oneway":true}\0`);
  t.is(two.out, '{"parameters":{}}|{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"org.varlink.service.GetInfo"}}|',
    'each call answered in order; a oneway call gets no reply');
  const climb = await killerRun(['oomd'], notify('/a/../../etc'));
  t.is(climb.out, '{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"cgroup"}}|');
  const escaped = await killerRun(['oomd'], '{"method":"io.systemd.oom.Prekill.Notify","parameters":{"cgroup":"\\/x\\u002ey","extra":[1,{"a":null}]}}\0');
  t.is(escaped.out, '{"parameters":{}}|', 'escapes decoded, unknown parameters passed over');
  t.regex(escaped.err, /systemd-oomd kills \/x\.y:/);
  const broken = await killerRun(['oomd'], '{"method":"io.systemd.oom.Prekill.Notify","parameters":{"cgroup":"/a"}\0');
  t.is(broken.status, 1);
  t.is(broken.out, '', 'a malformed message gets no reply');
  const quote = await killerRun(['oomd'], '{"method":"a\\"b"}\0');
  t.is(quote.out, '{"error":"org.varlink.service.MethodNotFound","parameters":{"method":""}}|', 'a name that needs escaping is not echoed');
});

test('gs-kit-killer earlyoom-listen answers each connection in turn on the socket systemd passes, and drops a silent one', async (t) => {
  const bin = await buildStatic({ dir: 'killers', name: 'gs-kit-killer', sources: ['killers/gs-kit-killer.c', 'killers/Makefile', 'lkm/graceful_shutdown.h'] });
  const alone = await killerRun(['earlyoom-listen'], '');
  t.is(alone.status, 2, 'not started by a socket: refused');
  t.regex(alone.err, /no socket from systemd/);
  const dir = await mkdtemp(join(tmpdir(), 'gs-earlyoom-listen-'));
  const sock = join(dir, 's');
  // systemd-socket-activate passes the listening socket as systemd would (fd 3, LISTEN_FDS=1).
  const server = spawn('systemd-socket-activate', ['-l', sock, bin, 'earlyoom-listen'], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !existsSync(sock); i++) await sleep(20);
    const ask = (line: string | undefined) => new Promise<string>((resolve, reject) => {
      const c = createConnection(sock);
      let got = '';
      c.on('data', (d) => { got += d.toString(); });
      c.on('end', () => resolve(got));
      c.on('error', reject);
      if (line !== undefined) c.write(line);
    });
    t.is(await ask('12x\n'), 'err EINVAL\n');
    t.is(await ask(undefined), 'err EINVAL\n', 'a client that says nothing is dropped after a second');
    // No module on this host: the request file is missing, and the answer says so.
    t.is(await ask(`${process.pid}\n`), 'err ENXIO\n');
  } finally {
    server.kill();
    await rm(dir, { recursive: true, force: true });
  }
});

test('gs-kit-killer earlyoom-serve takes one pid; gs-kit-earlyoom needs EARLYOOM_PID and the socket', async (t) => {
  const bad = await killerRun(['earlyoom-serve'], '12x\n');
  t.is(bad.out, 'err EINVAL\n');
  t.is(bad.status, 1);
  const noPid = await killerRun(['earlyoom'], '');
  t.is(noPid.status, 2);
  t.regex(noPid.err, /EARLYOOM_PID is not a pid/);
  const noSocket = await killerRun([], '', { EARLYOOM_PID: '1' });
  t.is(noSocket.status, 1, 'run with no arguments and EARLYOOM_PID set, it is earlyoom\'s -P');
  t.regex(noSocket.err, /gs-kit-earlyoom: \/run\/gs-kit\/earlyoom\.sock: /);
  const usage = await killerRun(['bogus'], '');
  t.is(usage.status, 2);
});

const JOURNAL = [
  '@gs journal [  340.613700] gs-system systemd-oomd[1396]: Invoking oomd prekill hook gs-kit for cgroup /gs.slice/gs-workload.slice/run-p1410-i768.scope',
  '@gs journal [  340.933124] gs-system kernel: graceful_shutdown: event=start victim=1410 registered=1410 comm=stress-ng handler=/h uid=0 constraint=userspace timeout_ms=5000 reserve_kb=0 spawn=parked killer=systemd-oomd',
  '@gs journal [  340.972569] gs-system kernel: graceful_shutdown: event=exit victim=1410 handler=/h helper=1412 status=0 duration_ms=42 killed=0 killer=systemd-oomd',
  '@gs journal [  340.976425] gs-system gs-kit-killer[1415]: gs-kit-killer: systemd-oomd kills /gs.slice/gs-workload.slice/run-p1410-i768.scope: 1 handler(s) run (pid 1410), 2 process(es) not registered, 0 gone, 0 failed, in 52 ms',
  '@gs journal [  340.978302] gs-system systemd-oomd[1396]: oomd prekill hook finished for cgroup /gs.slice/gs-workload.slice/run-p1410-i768.scope',
  '@gs journal [  340.995266] gs-system systemd[1]: run-p1410-i768.scope: systemd-oomd killed 3 process(es) in this unit.',
  '@gs journal [  352.057167] gs-system earlyoom[1449]: sending SIGTERM to process 1467 uid 0 "stress-ng-vm": oom_score 1686',
  '@gs journal [  352.080732] gs-system kernel: graceful_shutdown: event=start victim=1467 registered=1465 comm=stress-ng-vm handler=/h uid=0 constraint=userspace timeout_ms=5000 reserve_kb=0 spawn=parked killer=earlyoom',
  '@gs journal [  352.100437] gs-system kernel: graceful_shutdown: event=exit victim=1467 handler=/h helper=1417 status=0 duration_ms=21 killed=0 killer=earlyoom',
  '@gs journal [  352.101996] gs-system gs-kit-killer[1320]: gs-kit-killer: earlyoom kills 1467: its handler ran',
  '@gs oomd_rec started_ns=340950000000 uid=0 victim_alive=1 GS_PID=1410 GS_KILLER=systemd-oomd',
  '@gs early_rec started_ns=352085000000 uid=0 victim_alive=1 GS_PID=1467 GS_KILLER=earlyoom',
];
const DMESG = [
  '@gs-dmesg-begin',
  '[  340.000000] gs-test: run=oomd',
  '[  340.875000] graceful_shutdown: event=start victim=1410 registered=1410 comm=stress-ng handler=/h uid=0 constraint=userspace timeout_ms=5000 reserve_kb=0 spawn=parked killer=systemd-oomd',
  '[  340.914000] graceful_shutdown: event=exit victim=1410 handler=/h helper=1412 status=0 duration_ms=42 killed=0 killer=systemd-oomd',
  '[  347.000000] gs-test: run=earlyoom',
  '[  352.022000] graceful_shutdown: event=start victim=1467 registered=1465 comm=stress-ng-vm handler=/h uid=0 constraint=userspace timeout_ms=5000 reserve_kb=0 spawn=parked killer=earlyoom',
  '[  352.042000] graceful_shutdown: event=exit victim=1467 handler=/h helper=1417 status=0 duration_ms=21 killed=0 killer=earlyoom',
  '[  357.000000] gs-test: run=kernel',
  '[  358.047619] graceful_shutdown: event=start victim=1544 registered=1542 comm=stress-ng-vm handler=/h uid=1000 constraint=memcg timeout_ms=2000 reserve_kb=0 spawn=parked killer=kernel',
  '[  358.094444] graceful_shutdown: event=exit victim=1544 handler=/h helper=1502 status=0 duration_ms=47 killed=0 killer=kernel',
  '[  358.100000] Memory cgroup out of memory: Killed process 1544 (stress-ng-vm) total-vm:1kB',
  '[  358.475867] gs-test: run=end',
  '@gs-dmesg-end',
  '@gs-done',
];

test('the killers test reads each kill from the journal, on its one clock, and fails a run whose killer went on without the answer', (t) => {
  const r = parseGuestOutput([...JOURNAL, ...DMESG].join('\n'));
  const oomd = journalKill(r, 'systemd-oomd');
  t.like(oomd, { decided: 340.6137, answered: 340.976425, killed: 340.995266, ran: true, waitedOut: false });
  const early = journalKill(r, 'earlyoom');
  t.like(early, { decided: 352.057167, answered: 352.101996, killed: 352.101996, ran: true, waitedOut: false });
  t.deepEqual(killerTimings(r), {
    handlerMs: { 'systemd-oomd': 42, earlyoom: 21, kernel: 47 },
    startMs: { 'systemd-oomd': 336, earlyoom: 28 },
    heldMs: { 'systemd-oomd': 382, earlyoom: 45 },
    earlyoomWaitedOut: false,
  });
  const byName = (rep: typeof r) => new Map(killersChecks(rep).map((c) => [c.name, c.ok]));
  const early200 = 'earlyoom (available memory under 40%): it killed only once gs-kit\'s -P had its answer, after the handler\'s exit (its 200 ms were not up first)';
  t.true(byName(r).get(early200));
  // earlyoom stopped waiting before the answer: the handler may have outlived its process.
  const late = parseGuestOutput([...JOURNAL, '@gs journal [  352.090000] gs-system earlyoom[1449]: notify_spawn_subprocess: timeout waiting for process /usr/local/lib/gs-kit/gs-kit-earlyoom', ...DMESG].join('\n'));
  t.true(journalKill(late, 'earlyoom').waitedOut);
  t.is(journalKill(late, 'earlyoom').killed, 352.09);
  t.false(byName(late).get(early200));
});
