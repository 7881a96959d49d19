import test from 'ava';
import { spawnSync } from 'node:child_process';
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
  t.is(all.value, 'covered: the kernel\'s OOM killer (stock), systemd-oomd 262.1 (pre-kill hook, waits up to 6 s), earlyoom 1.9.0 (-P; it kills 200 ms after)');
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
