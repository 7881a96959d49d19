import test from 'ava';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../src/adapters/paths.js';
import { parseGuestOutput, type GuestReport } from '../src/lib/guest-protocol.js';
import {
  ALL_SCENARIOS, BAD_WRITE_ERRNOS, SCENARIOS, commonChecks, recordOf, scenarioNamed, type Check, type Scenario,
} from '../src/lib/scenarios.js';
import { PRIVILEGE_SCENARIOS } from '../src/lib/scenarios-privilege.js';
import { hookChecks, stockScenarios } from '../src/lib/scenario.js';

function scenario(name: string): Scenario {
  const s = scenarioNamed(name);
  if (!s) throw new Error(`no scenario ${name}`);
  return s;
}

/** A serial console as the guest init prints it: boot noise, facts, the kernel log, done. */
function transcript(facts: readonly string[], dmesg: readonly string[], done = true): string {
  return [
    'SeaBIOS (version 1.16.2)',
    '[    0.000000] Linux version 5.4.1 (gs@build) #1 SMP',
    '@gs kernel 5.4.1',
    ...facts,
    '@gs alive yes',
    '@gs-dmesg-begin',
    ...dmesg,
    '@gs-dmesg-end',
    ...(done ? ['@gs-done'] : []),
    '[    3.200000] reboot: Power down',
  ].join('\r\n') + '\r\n';
}

function allChecks(s: Scenario, r: GuestReport): Check[] {
  return [...commonChecks(r), ...s.checks(r)];
}

function failing(s: Scenario, console: string): Check[] {
  return allChecks(s, parseGuestOutput(console)).filter((c) => !c.ok);
}

// ---- memcg -------------------------------------------------------------

const MEMCG_FACTS = [
  '@gs scenario memcg',
  '@gs insmod ok',
  '@gs victim 37',
  '@gs register ok 33',
  '@gs listing 37 /gs/gs_handler_record /tmp/rec|',
  '@gs victim_status 137',
  '@gs rec started_ns=2126104000',
  '@gs rec mode=record',
  '@gs rec uid=0',
  '@gs rec euid=0',
  '@gs rec gid=0',
  '@gs rec handler_pid=42',
  '@gs rec victim_alive=1',
  '@gs rec cgroup=0::/gs-handlers/admin/run',
  '@gs rec nice=0',
  '@gs rec GS_PID=37',
  '@gs rec GS_CONSTRAINT=memcg',
  '@gs rec GS_CGROUP=/work',
  '@gs rec GS_CHOSEN_NS=2124100000',
  '@gs oom_kill 1',
  '@gs listing_after ',
];

const MEMCG_DMESG = [
  '[    0.000000] Linux version 5.4.1 (gs@build) #1 SMP',
  '[    1.000000] graceful_shutdown: loaded: timeout_ms=5000 max_entries=1024 reserve_kb=0',
  '[    2.120000] oom_condition_c invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
  '[    2.120001] CPU: 0 PID: 37 Comm: oom_condition_c Not tainted 5.4.1 #1',
  '[    2.120002] Call Trace:',
  '[    2.124104] graceful_shutdown: event=start victim=37 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0 spawn=parked',
  '[    2.140105] graceful_shutdown: event=exit victim=37 handler=/gs/gs_handler_record helper=42 status=0 duration_ms=16 killed=0',
  '[    2.144106] Memory cgroup out of memory: Killed process 37 (oom_condition_c) total-vm:39260kB, anon-rss:32000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:100kB oom_score_adj:0',
];

const MEMCG = transcript(MEMCG_FACTS, MEMCG_DMESG);

test('a good memcg run passes every common and memcg check', (t) => {
  const r = parseGuestOutput(MEMCG);
  const checks = allChecks(scenario('memcg'), r);
  t.true(checks.length >= 15);
  t.deepEqual(checks.filter((c) => !c.ok), []);
});

test('a memcg handler at a raised priority fails: only a global OOM raises it', (t) => {
  const bad = failing(scenario('memcg'), MEMCG.replace('@gs rec nice=0', '@gs rec nice=-10'));
  t.deepEqual(bad.map((c) => c.name), ['the handler ran at its usual priority (nice 0): only a global OOM raises it']);
});

const GLOBAL = transcript(
  [...MEMCG_FACTS.filter((l) => !/listing|oom_kill|GS_CGROUP/.test(l))
    .map((l) => l.replace('GS_CONSTRAINT=memcg', 'GS_CONSTRAINT=global').replace('nice=0', 'nice=-10')),
  '@gs sleeper 50', '@gs register_after ok 30', '@gs listing_after 50 /gs/gs_handler_record /tmp/rec'],
  MEMCG_DMESG.map((l) => l.replace('constraint=memcg', 'constraint=global').replace('Memory cgroup out of memory', 'Out of memory')),
);

test('a global handler runs at global_nice; one at its usual priority fails', (t) => {
  t.deepEqual(failing(scenario('global'), GLOBAL), []);
  const bad = failing(scenario('global'), GLOBAL.replace('@gs rec nice=-10', '@gs rec nice=0'));
  t.deepEqual(bad.map((c) => c.name), ['the handler ran at global_nice (-10)']);
});

test('passing checks carry no detail', (t) => {
  for (const c of allChecks(scenario('memcg'), parseGuestOutput(MEMCG))) t.false('detail' in c, c.name);
});

test('the handler record is rebuilt from the guest\'s "@gs rec" lines', (t) => {
  const rec = recordOf(parseGuestOutput(MEMCG));
  t.is(rec?.GS_PID, '37');
  t.is(rec?.GS_CGROUP, '/work');
  t.is(rec?.victim_alive, '1');
});

test('"@gs rec none" means the handler wrote no record', (t) => {
  t.is(recordOf(parseGuestOutput('@gs rec none\n')), undefined);
  t.is(recordOf(parseGuestOutput('@gs victim 1\n')), undefined);
});

test('memcg fails when the handler found the victim already dead', (t) => {
  const bad = MEMCG.replace('@gs rec victim_alive=1', '@gs rec victim_alive=0');
  const f = failing(scenario('memcg'), bad);
  t.deepEqual(f.map((c) => c.name), ['the victim was alive when the handler started']);
  t.is(f[0]!.detail, 'expected "1", got "0"');
});

test('memcg fails when the OOM kill comes before the handler exits', (t) => {
  const bad = transcript(MEMCG_FACTS, MEMCG_DMESG.map((l) => l
    .replace('[    2.144106] Memory cgroup', '[    2.130000] Memory cgroup')));
  const f = failing(scenario('memcg'), bad);
  t.deepEqual(f.map((c) => c.name), ['the handler started and exited before the kill']);
  t.is(f[0]!.detail, 'start 2.124104 exit 2.140105 kill 2.13');
});

test('memcg fails when the OOM kill comes before the handler even starts', (t) => {
  const bad = transcript(MEMCG_FACTS, MEMCG_DMESG.map((l) => l
    .replace('[    2.144106] Memory cgroup', '[    2.100000] Memory cgroup')));
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), ['the handler started and exited before the kill']);
});

test('memcg fails the kernel-log check when dmesg has a WARNING, and shows the line', (t) => {
  const warning = '[    2.142000] WARNING: CPU: 0 PID: 42 at kernel/exit.c:735 do_exit+0x4f/0xa00';
  const bad = transcript(MEMCG_FACTS, [...MEMCG_DMESG, warning]);
  const f = failing(scenario('memcg'), bad);
  t.deepEqual(f.map((c) => c.name), ['the kernel log has no BUG, WARNING, Oops, hung task or lockdep report']);
  t.is(f[0]!.detail, warning);
});

test('memcg fails "ran to the end" when the guest never printed @gs-done', (t) => {
  const bad = transcript(MEMCG_FACTS, MEMCG_DMESG, false);
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), ['the guest ran to the end of its scenario']);
});

test('a guest that stopped before "@gs alive yes" did not run to the end', (t) => {
  const bad = MEMCG.replace('@gs alive yes', '');
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), ['the guest ran to the end of its scenario']);
});

test('memcg fails when the module logged no exit for the handler, or a non-zero status', (t) => {
  const noExit = transcript(MEMCG_FACTS, MEMCG_DMESG.filter((l) => !l.includes('event=exit')));
  t.deepEqual(failing(scenario('memcg'), noExit).map((c) => c.name), [
    'the module logged the exit of the handler with status 0',
    'the handler started and exited before the kill',
  ]);
  const status1 = MEMCG.replace('status=0 duration_ms=16 killed=0', 'status=1 duration_ms=16');
  t.deepEqual(failing(scenario('memcg'), status1).map((c) => c.name), ['the module logged the exit of the handler with status 0']);
});

test('memcg fails when the handler ran for a different pid', (t) => {
  const bad = MEMCG.replace('@gs rec GS_PID=37', '@gs rec GS_PID=38');
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), ['the handler was given GS_PID = the victim']);
});

test('memcg fails every record check when the handler wrote no record', (t) => {
  const facts = MEMCG_FACTS.filter((l) => !l.startsWith('@gs rec ')).concat('@gs rec none');
  const names = failing(scenario('memcg'), transcript(facts, MEMCG_DMESG)).map((c) => c.name);
  t.deepEqual(names, [
    'the handler wrote its record',
    'the handler was given GS_PID = the victim',
    'the victim was alive when the handler started',
    'the handler ran as uid 0',
    'the handler ran in its registrant\'s handler cgroup',
    'the handler saw the memcg constraint',
    'the handler saw the victim\'s cgroup',
    'the handler ran at its usual priority (nice 0): only a global OOM raises it',
  ]);
});

test('memcg fails when the entry was still listed after it fired', (t) => {
  const bad = MEMCG.replace('@gs listing_after ', '@gs listing_after 37 /gs/gs_handler_record /tmp/rec|');
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), ['the entry fired once and left the registry']);
});

test('memcg fails when the victim died some other way than SIGKILL or the kill was counted twice', (t) => {
  const bad = MEMCG.replace('@gs victim_status 137', '@gs victim_status 0').replace('@gs oom_kill 1', '@gs oom_kill 2');
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), [
    'the victim died of SIGKILL',
    'memory.events counts one oom_kill',
  ]);
});

test('memcg fails when the registration was refused', (t) => {
  const bad = MEMCG.replace('@gs register ok 33', '@gs register err EPERM');
  t.deepEqual(failing(scenario('memcg'), bad).map((c) => c.name), ['the registration was accepted']);
});

// ---- hang --------------------------------------------------------------

function hangConsole(killAfter: number | undefined, timeoutMs = '2000', killed = 3): string {
  const start = 2.0;
  const facts = [
    '@gs scenario hang',
    '@gs victim 51',
    '@gs register ok 31',
    '@gs victim_status 137',
    '@gs rec started_ns=2001000000',
    '@gs rec mode=hang',
    '@gs rec uid=0',
    '@gs rec victim_alive=1',
    '@gs rec GS_PID=51',
    '@gs leftover_helpers 0',
  ];
  const ts = (s: number) => `[${s.toFixed(6).padStart(12)}]`;
  const dmesg = [
    `${ts(start)} graceful_shutdown: event=start victim=51 comm=oom_condition_c handler=/gs/gs_handler_hang uid=0 constraint=memcg reserve_kb=0`,
    `${ts(start + Number(timeoutMs) / 1000)} graceful_shutdown: event=timeout victim=51 handler=/gs/gs_handler_hang helper=60 timeout_ms=${timeoutMs} phase=run killed=${killed}`,
  ];
  if (killAfter !== undefined) {
    dmesg.push(`${ts(start + killAfter)} Memory cgroup out of memory: Killed process 51 (oom_condition_c) total-vm:39260kB`);
  }
  return transcript(facts, dmesg);
}

test('a hanging handler whose victim is killed 2.1 s after the start passes every check', (t) => {
  t.deepEqual(failing(scenario('hang'), hangConsole(2.1)), []);
});

test('a victim killed 3.5 s after the start fails the timeout_ms + 1 s check', (t) => {
  const f = failing(scenario('hang'), hangConsole(3.5));
  t.deepEqual(f.map((c) => c.name), ['the victim was killed within timeout_ms + 1 s of being chosen']);
  t.is(f[0]!.detail, 'kill came 3.500 s after the start');
});

test('a victim that was never killed fails the hang timing check', (t) => {
  const f = failing(scenario('hang'), hangConsole(undefined));
  t.deepEqual(f.map((c) => c.name), ['the victim was killed within timeout_ms + 1 s of being chosen']);
});

test('a timeout logged with a different timeout_ms fails the hang check', (t) => {
  const f = failing(scenario('hang'), hangConsole(2.1, '5000'));
  t.deepEqual(f.map((c) => c.name), ['the module logged the timeout']);
});

test('a timeout that killed only the handler, not its children, fails the hang check', (t) => {
  const f = failing(scenario('hang'), hangConsole(2.1, '2000', 1));
  t.deepEqual(f.map((c) => c.name), ['the timeout killed the handler and the two processes it started']);
  t.is(f[0]!.detail, 'expected "3", got "1"');
});

test('a helper left running after the hang fails the hang check', (t) => {
  const bad = hangConsole(2.1).replace('@gs leftover_helpers 0', '@gs leftover_helpers 1');
  t.deepEqual(failing(scenario('hang'), bad).map((c) => c.name), ['no helper is left behind']);
});

// ---- badwrites ---------------------------------------------------------

function badwritesFacts(override: Record<string, string> = {}): string[] {
  return [
    '@gs scenario badwrites',
    '@gs register ok 32',
    ...Object.entries(BAD_WRITE_ERRNOS).map(([name, errno]) => `@gs write ${name} ${override[name] ?? `err ${errno} same=yes`}`),
    '@gs good ok 38',
    '@gs listing 40 /gs/gs_handler_sleep /tmp/rec 100|39 /gs/gs_handler_record /tmp/rec|',
    '@gs replace ok 39',
    '@gs listing_replaced 40 /gs/gs_handler_record /tmp/rec|39 /gs/gs_handler_record /tmp/rec|',
    '@gs relative_cgroup_param refused',
    '@gs handler_cgroup_param /sys/fs/cgroup/gs-handlers',
    '@gs rewrite ok 64',
    '@gs rewrite_same yes',
  ];
}

test('bad writes that each get their errno and change nothing pass every check', (t) => {
  const r = parseGuestOutput(transcript(badwritesFacts(), []));
  const checks = allChecks(scenario('badwrites'), r);
  t.is(checks.filter((c) => c.name.startsWith('the bad write ')).length, Object.keys(BAD_WRITE_ERRNOS).length);
  t.deepEqual(checks.filter((c) => !c.ok), []);
});

test('a bad write that changed the registry (same=no) fails its check', (t) => {
  const console = transcript(badwritesFacts({ unknown_pid: 'err ESRCH same=no' }), []);
  const f = failing(scenario('badwrites'), console);
  t.deepEqual(f.map((c) => c.name), ['the bad write "unknown pid" fails with ESRCH and changes nothing']);
  t.is(f[0]!.detail, 'expected "err ESRCH same=yes", got "err ESRCH same=no"');
});

test('a bad write with the wrong errno, or one that was accepted, fails its check', (t) => {
  const console = transcript(badwritesFacts({ group_writable: 'err EACCES same=yes', table_full: 'ok 40 same=no' }), []);
  t.deepEqual(failing(scenario('badwrites'), console).map((c) => c.name), [
    'the bad write "group writable" fails with EPERM and changes nothing',
    'the bad write "table full" fails with ENOSPC and changes nothing',
  ]);
});

test('a bad write the guest never reported fails its check', (t) => {
  const facts = badwritesFacts().filter((l) => !l.startsWith('@gs write embedded_nul '));
  const f = failing(scenario('badwrites'), transcript(facts, []));
  t.deepEqual(f.map((c) => c.name), ['the bad write "embedded nul" fails with EILSEQ and changes nothing']);
  t.is(f[0]!.detail, 'expected "err EILSEQ same=yes", got undefined');
});

test('a replacement that kept the old handler fails the replace check', (t) => {
  const facts = badwritesFacts().map((l) => l.startsWith('@gs listing_replaced ')
    ? '@gs listing_replaced 40 /gs/gs_handler_sleep /tmp/rec 100|39 /gs/gs_handler_record /tmp/rec|' : l);
  t.deepEqual(failing(scenario('badwrites'), transcript(facts, [])).map((c) => c.name),
    ['a second registration for a pid replaces the first, normalising blanks']);
});

// ---- the table ---------------------------------------------------------

test('every scenario of the suite has a guest script, a title and a memory size', async (t) => {
  const scripts = new Set((await readdir(join(repoRoot(), 'vm', 'guest', 'scenarios'))).map((f) => f.replace(/\.sh$/, '')));
  t.deepEqual(SCENARIOS.map((s) => s.name), ['memcg', 'global', 'global4', 'global8', 'hang', 'badwrites', 'perms', 'lifecycle', 'nomodule']);
  t.deepEqual(PRIVILEGE_SCENARIOS.map((s) => s.name), ['escape', 'identity', 'limits', 'handlerpath', 'handlerlimit', 'tree']);
  for (const s of ALL_SCENARIOS) {
    t.true(scripts.has(s.name), s.name);
    t.is(scenarioNamed(s.name), s);
    t.true(s.title.length > 0);
    t.true(s.memoryMb >= 128);
  }
  t.is(scenarioNamed('nope'), undefined);
});

test('each scenario\'s own checks fail, rather than throw, on a guest that printed nothing', (t) => {
  const r = parseGuestOutput('@gs alive yes\n@gs-done\n');
  for (const s of ALL_SCENARIOS) {
    const checks = s.checks(r);
    t.true(checks.length > 0, s.name);
    t.true(checks.some((c) => !c.ok), s.name);
    for (const c of checks) if (!c.ok && c.detail !== undefined) t.is(typeof c.detail, 'string');
  }
});

test('the documented errno for each class of bad write', (t) => {
  t.is(BAD_WRITE_ERRNOS.unknown_pid, 'ESRCH');
  t.is(BAD_WRITE_ERRNOS.overlong_line, 'ENAMETOOLONG');
  t.is(BAD_WRITE_ERRNOS.table_full, 'ENOSPC');
  t.is(BAD_WRITE_ERRNOS.no_handler_cgroup, 'EOPNOTSUPP');
  t.is(Object.keys(BAD_WRITE_ERRNOS).length, 18);
});

test('stock mode runs every scenario but those that need the reserves patch', (t) => {
  const stock = stockScenarios(ALL_SCENARIOS).map((s) => s.name);
  t.deepEqual(ALL_SCENARIOS.filter((s) => !stock.includes(s.name)).map((s) => s.name), ['global4', 'global8']);
  t.true(stock.includes('global'));
  t.true(stock.includes('cli'));
});

test('the module must report the hook the suite built it for, at every load', (t) => {
  const report = (modes: string[]) => parseGuestOutput(transcript(['@gs insmod ok', ...modes.map((m) => `@gs hook ${m}`)], []));
  t.deepEqual(hookChecks(report(['stock', 'stock']), 'stock').map((c) => c.ok), [true]);
  // A stock-mode run that ended up on the patch's notifier proves nothing about stock mode.
  t.deepEqual(hookChecks(report(['stock', 'patched']), 'stock').map((c) => c.ok), [false]);
  t.deepEqual(hookChecks(report(['patched']), 'stock').map((c) => c.ok), [false]);
  t.deepEqual(hookChecks(report(['patched']), 'patched').map((c) => c.ok), [true]);
  // A scenario that never loads the module (nomodule) has nothing to check.
  t.deepEqual(hookChecks(report([]), 'patched'), []);
});

test('the cli scenario wants status to name the hook the module reported, and no patch hook on a stock kernel', (t) => {
  const status = (kernel: string, hook: string) => JSON.stringify([
    { label: 'kernel', ok: true, value: `6.12.117: ${kernel}` },
    { label: 'hook', ok: true, value: `${hook}: ...` },
  ]);
  const hookCheck = (loaded: string, kernel: string, hook: string) => scenario('cli').checks(parseGuestOutput(transcript(
    [`@gs hook ${loaded}`, `@gs status ${status(kernel, hook)}`], [],
  ))).find((c) => c.name.startsWith('gs-kit status names the hook'))!.ok;
  t.true(hookCheck('patched', 'patched (register_oom_victim_notifier present)', 'patched'));
  t.true(hookCheck('stock', 'not patched, which stock mode does not need', 'stock'));
  // The debug suite's stock mode: a stock-mode module on our patched debug kernel.
  t.true(hookCheck('stock', 'patched (register_oom_victim_notifier present)', 'stock'));
  t.false(hookCheck('stock', 'patched (register_oom_victim_notifier present)', 'patched'));
  t.false(hookCheck('patched', 'not patched', 'patched'));
});

test('memcg fails when the handler\'s helper was forked at the OOM instead of woken from its parking', (t) => {
  const forked = MEMCG.replace('spawn=parked', 'spawn=fork');
  t.deepEqual(failing(scenario('memcg'), forked).map((c) => c.name),
    ['the handler ran in the helper parked before the OOM, not one forked at it']);
});
