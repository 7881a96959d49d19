import test from 'ava';
import { parseGuestOutput, type GuestReport } from '../src/lib/guest-protocol.js';
import { SOAK_SCENARIO, soakBootTimeoutMs, soakChecks, soakSummary, soakVictims } from '../src/lib/soak.js';
import { LIFECYCLE_STRESS_SCENARIO, lifecycleChecks, lifecycleSummary } from '../src/lib/soak-lifecycle.js';
import { logBetween, parseTrials, parseVictimRecords } from '../src/lib/soak-parse.js';
import type { Check } from '../src/lib/scenarios.js';

/** A serial console as the guest prints it: facts, kernel log chunks, done. */
function transcript(facts: readonly string[], dmesg: readonly string[]): string {
  return [
    '[    0.000000] Linux version 6.1.0-gs',
    ...facts,
    '@gs alive yes',
    '@gs-dmesg-begin',
    ...dmesg,
    '@gs-dmesg-end',
    '@gs-done',
  ].join('\r\n') + '\r\n';
}

const ts = (s: number) => `[${s.toFixed(6).padStart(12)}]`;
const start = (s: number, pid: number, h: string, c = 'memcg') =>
  `${ts(s)} graceful_shutdown: event=start victim=${pid} comm=oom_condition_c handler=/gs/gs_handler_${h} uid=0 constraint=${c} reserve_kb=0`;
const exit = (s: number, pid: number, h: string, end: string) =>
  `${ts(s)} graceful_shutdown: event=exit victim=${pid} handler=/gs/gs_handler_${h} helper=${pid + 100} ${end} duration_ms=10`;
const timeout = (s: number, pid: number, h: string) =>
  `${ts(s)} graceful_shutdown: event=timeout victim=${pid} handler=/gs/gs_handler_${h} helper=${pid + 100} timeout_ms=1000`;
const error = (s: number, pid: number, errno: number) =>
  `${ts(s)} graceful_shutdown: event=error victim=${pid} handler=/tmp/miss/1.2/gs_handler_record errno=${errno} duration_ms=4`;
const kill = (s: number, pid: number, global = false) =>
  `${ts(s)} ${global ? 'Out of memory' : 'Memory cgroup out of memory'}: Killed process ${pid} (oom_condition_c) total-vm:25656kB, anon-rss:24560kB`;
const vrec = (pid: number, mode: string, alive = 1, c = 'memcg') =>
  `@gs vrec ${pid} started_ns=1 mode=${mode} uid=0 euid=0 gid=0 handler_pid=9 victim_alive=${alive} GS_PID=${pid} GS_CONSTRAINT=${c} GS_CGROUP=/soak`;

/**
 * Two trials: a memcg one with four victims (instant, hung, deleted,
 * crashing handler) and a global one with two (one ran, one hung and was
 * cut at its timeout).
 */
function soakFacts(): string[] {
  return [
    '@gs scenario soak',
    '@gs insmod ok',
    '@gs soak_config count=2 timeout_ms=1000 memcg_max=24M mem_kb=118796',
    '@gs trial 1 kind=memcg victims=10,11,12,13 handlers=record,hang,missing,crash statuses=137,137,137,137 register=ok_150 ms=1500 ticks_ms=1500',
    vrec(10, 'record'),
    vrec(11, 'hang'),
    '@gs vrec 12 none',
    vrec(13, 'crash'),
    '@gs trial 2 kind=global victims=20,21 handlers=sleep,hang statuses=137,137 register=ok_80 ms=2500',
    vrec(20, 'sleep', 1, 'global'),
    vrec(21, 'hang', 1, 'global'),
    '@gs usable 2 ok 36 listed=1',
    '@gs racer iterations=12 ok=36 err=0',
    '@gs soak_done trials=2 ms=4000',
    '@gs leftover_helpers 0',
    '@gs listing_end ',
    '@gs rmmod ok',
  ];
}

function soakDmesg(): string[] {
  return [
    `${ts(1.0)} graceful_shutdown: loaded: timeout_ms=1000 max_entries=1024 reserve_kb=4096`,
    `${ts(1.1)} gs_soak: trial=1 kind=memcg begin`,
    start(1.2, 10, 'record'), exit(1.21, 10, 'record', 'status=0'), kill(1.22, 10),
    start(1.3, 11, 'hang'), timeout(2.3, 11, 'hang'), kill(2.31, 11), exit(2.32, 11, 'hang', 'signal=9'),
    start(2.4, 12, 'record'), error(2.401, 12, 2), kill(2.402, 12),
    start(2.5, 13, 'crash'), exit(2.51, 13, 'crash', 'signal=11'), kill(2.52, 13),
    `${ts(2.6)} gs_soak: trial=2 kind=global begin`,
    start(3.0, 20, 'sleep', 'global'), exit(3.3, 20, 'sleep', 'status=0'), kill(3.31, 20, true),
    start(3.5, 21, 'hang', 'global'), timeout(4.5, 21, 'hang'), kill(4.51, 21, true), exit(4.6, 21, 'hang', 'signal=9'),
    `${ts(5.0)} graceful_shutdown: unloaded`,
  ];
}

function report(facts = soakFacts(), dmesg = soakDmesg()): GuestReport {
  return parseGuestOutput(transcript(facts, dmesg));
}

function failed(checks: Check[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.name);
}

test('parseTrials and parseVictimRecords read the soak facts', (t) => {
  const r = report();
  const trials = parseTrials(r);
  t.is(trials.length, 2);
  t.deepEqual(trials[0], {
    n: 1, kind: 'memcg', victims: [10, 11, 12, 13], handlers: ['record', 'hang', 'missing', 'crash'],
    statuses: ['137', '137', '137', '137'], register: 'ok 150', ms: 1500, ticksMs: 1500,
  });
  t.true(Number.isNaN(trials[1]!.ticksMs)); // older guests did not report ticks
  t.is(trials[1]!.kind, 'global');
  const recs = parseVictimRecords(r);
  t.deepEqual(recs.map((x) => x.pid), [10, 11, 12, 13, 20, 21]);
  t.is(recs[0]?.record?.mode, 'record');
  t.is(recs[0]?.record?.victim_alive, '1');
  t.is(recs[2]?.record, undefined);
});

test('soakVictims classifies each victim by what the log and record show', (t) => {
  const v = soakVictims(report());
  const by = new Map(v.map((x) => [x.pid, x]));
  t.is(by.get(10)?.outcome, 'before-kill');
  t.is(by.get(11)?.outcome, 'reason');
  t.is(by.get(11)?.reason, 'timeout');
  t.is(by.get(12)?.reason, 'error errno=2');
  t.is(by.get(13)?.outcome, 'before-kill'); // crashed, but ran and ended before the kill
  t.is(by.get(20)?.outcome, 'before-kill');
  t.is(by.get(21)?.reason, 'timeout');
  t.is(Number(by.get(11)?.killDelayS?.toFixed(3)), 1.01);
});

test('pids that wrap during the soak are matched within their own trial', (t) => {
  // Trial 3 reuses pid 10 (trial 1's instant handler) with a hung handler.
  const facts = [...soakFacts()];
  facts.splice(facts.indexOf('@gs racer iterations=12 ok=36 err=0'), 0,
    '@gs trial 3 kind=memcg victims=10,30 handlers=hang,record statuses=137,137 register=ok_70 ms=1200',
    vrec(10, 'hang'), vrec(30, 'record'));
  const dmesg = [...soakDmesg().slice(0, -1),
    `${ts(4.8)} gs_soak: trial=3 kind=memcg begin`,
    start(5.0, 10, 'hang'), timeout(6.0, 10, 'hang'), kill(6.01, 10), exit(6.02, 10, 'hang', 'signal=9'),
    start(6.1, 30, 'record'), exit(6.11, 30, 'record', 'status=0'), kill(6.12, 30),
    `${ts(7.0)} graceful_shutdown: unloaded`];
  const v = soakVictims(report(facts.map((l) => l.replace('count=2', 'count=3')), dmesg));
  const tenth = v.filter((x) => x.pid === 10);
  t.deepEqual(tenth.map((x) => [x.trial, x.outcome, x.reason, x.record?.mode]),
    [[1, 'before-kill', undefined, 'record'], [3, 'reason', 'timeout', 'hang']]);
  t.is(Number(tenth[0]!.killDelayS!.toFixed(3)), 0.02);
  t.is(Number(tenth[1]!.killDelayS!.toFixed(3)), 1.01);
});

test('soakSummary computes the figures the issue asks for', (t) => {
  const s = soakSummary(report(), 1000);
  t.like(s, {
    trials: 2, memcgTrials: 1, globalTrials: 1, victims: 6,
    handlerBeforeKill: 3, handlerBeforeKillMemcg: 2, handlerBeforeKillGlobal: 1,
    reasons: 3, unexplained: 0, trialsAccounted: 2,
    timeouts: 2, timeoutsHonoured: 2, warnings: 0, soakMs: 4000, msPerTrial: 2000, timeoutMs: 1000,
  });
  t.deepEqual(s.reasonsByKind, { timeout: 2, 'error errno=2': 1 });
  t.deepEqual(s.handlerExits, { 'status=0': 2, 'signal=9': 2, 'signal=11': 1 });
  t.is(Number(s.maxKillDelayS.toFixed(3)), 1.01);
});

test('a clean soak passes every check', (t) => {
  t.deepEqual(failed(soakChecks(report())), []);
  t.is(SOAK_SCENARIO.checks, soakChecks);
  // The same report without trial markers in the kernel log (pids unique) reads the same.
  const bare = report(soakFacts(), soakDmesg().filter((l) => !l.includes('gs_soak:')));
  t.deepEqual(soakSummary(bare, 1000), soakSummary(report(), 1000));
  t.is(SOAK_SCENARIO.name, 'soak');
});

test('a handler that started and was never heard of again is unexplained', (t) => {
  const dmesg = soakDmesg().filter((l) => !/event=exit victim=10 /.test(l));
  const r = report(soakFacts(), dmesg);
  const s = soakSummary(r, 1000);
  t.is(s.unexplained, 1);
  t.is(s.trialsAccounted, 1);
  t.true(failed(soakChecks(r)).includes('every handler ran before its kill, or the module logged why not'));
});

test('a handler that ended after the kill, with no reason, is unexplained', (t) => {
  const dmesg = soakDmesg().map((l) => (/event=exit victim=13 /.test(l) ? exit(2.6, 13, 'crash', 'signal=11') : l));
  const s = soakSummary(report(soakFacts(), dmesg), 1000);
  t.is(s.unexplained, 1);
  t.is(s.handlerBeforeKill, 2);
});

test('a handler that found its victim dead does not count as run before the kill', (t) => {
  const facts = soakFacts().map((l) => (l.startsWith('@gs vrec 10 ') ? vrec(10, 'record', 0) : l));
  const s = soakSummary(report(facts), 1000);
  t.is(s.handlerBeforeKill, 2);
  t.is(s.unexplained, 1);
});

test('a kill later than timeout_ms + 1 s fails the timeout checks', (t) => {
  const dmesg = soakDmesg().map((l) => (/Killed process 11 /.test(l) ? kill(3.6, 11) : l));
  const r = report(soakFacts(), dmesg);
  const s = soakSummary(r, 1000);
  t.is(s.timeouts, 2);
  t.is(s.timeoutsHonoured, 1);
  t.is(Number(s.maxKillDelayS.toFixed(3)), 2.3);
  const f = failed(soakChecks(r));
  t.true(f.includes('every timeout\'s kill came within timeout_ms + 1 s of the start'));
  t.true(f.includes('no kill was delayed beyond timeout_ms + 1 s (timeout_ms counted in the guest\'s ticks)'));
  t.is(s.killsBeyondClockBound, 1);
  // The same log judged against a longer timeout_ms is within bounds.
  t.is(soakSummary(r, 2000).timeoutsHonoured, 2);
});

test('a kill late on the clock but on time in the guest\'s ticks passes, and is still counted', (t) => {
  // Trial 1 took 1.5 s on the clock but only 0.75 s of ticks: the guest lost half its ticks.
  const facts = soakFacts().map((l) => l.replace('ms=1500 ticks_ms=1500', 'ms=1500 ticks_ms=750'));
  const dmesg = soakDmesg().map((l) => (/Killed process 11 /.test(l) ? kill(4.0, 11) : l));
  const r = report(facts, dmesg);
  const s = soakSummary(r, 1000);
  t.is(Number(s.maxTickStretch.toFixed(2)), 2);
  t.is(s.timeoutsHonoured, 2);
  t.is(s.killsBeyondClockBound, 1);
  t.deepEqual(failed(soakChecks(r)), []);
  // Beyond the stretched bound (2 s + 1 s) it fails.
  const later = report(facts, soakDmesg().map((l) => (/Killed process 11 /.test(l) ? kill(4.4, 11) : l)));
  t.is(soakSummary(later, 1000).timeoutsHonoured, 1);
});

test('a kernel warning is counted and fails the soak', (t) => {
  const dmesg = [...soakDmesg(), `${ts(4.7)} WARNING: CPU: 0 PID: 1 at mm/page_alloc.c:5000 __alloc_pages+0x1/0x2`];
  const r = report(soakFacts(), dmesg);
  t.is(soakSummary(r, 1000).warnings, 1);
  t.true(failed(soakChecks(r)).includes('0 kernel warnings'));
});

test('a deleted handler whose helper was killed at the timeout before exec did not run', (t) => {
  const dmesg = soakDmesg().map((l) => (/event=error victim=12 /.test(l)
    ? `${timeout(2.401, 12, 'record')}\n${exit(2.41, 12, 'record', 'signal=9')}` : l));
  const r = report(soakFacts(), dmesg);
  const f = failed(soakChecks(r));
  t.false(f.includes('a handler deleted before the OOM never ran'));
  // In a memcg OOM it should have failed at once with ENOENT, though.
  t.true(f.includes('in memcg OOMs every handler behaved as designed (exit 0/3, SIGSEGV, timeout, ENOENT)'));
});

test('a global OOM\'s handler that timed out without a hang of its own fails the soak', (t) => {
  // The reserves patch's promise: in a global OOM too, a handler runs to its end before the kill.
  const dmesg = soakDmesg().map((l) => (/event=exit victim=20 /.test(l) ? timeout(3.3, 20, 'sleep') : l));
  const r = report(soakFacts(), dmesg);
  const f = failed(soakChecks(r));
  t.true(f.includes('in global OOMs too every handler behaved as designed'));
  t.false(f.includes('in memcg OOMs every handler behaved as designed (exit 0/3, SIGSEGV, timeout, ENOENT)'));
});

test('a handler the module skipped, saying why, is a reason, not by design', (t) => {
  const skip = `${ts(1.3)} graceful_shutdown: event=skip victim=11 registered=11 handler=/gs/gs_handler_hang uid=0 reason=budget`;
  const dmesg = soakDmesg().filter((l) => !/victim=11 /.test(l)).map((l) => (/Killed process 11 /.test(l) ? `${skip}\n${l}` : l));
  const r = report(soakFacts(), dmesg);
  const v = soakVictims(r).find((x) => x.pid === 11);
  t.is(v?.outcome, 'reason');
  t.is(v?.reason, 'skip budget');
  const f = failed(soakChecks(r));
  t.false(f.includes('every handler ran before its kill, or the module logged why not'));
  t.true(f.includes('in memcg OOMs every handler behaved as designed (exit 0/3, SIGSEGV, timeout, ENOENT)'));
});

test('a deleted handler that still ran fails the soak', (t) => {
  const facts = soakFacts().map((l) => (l === '@gs vrec 12 none' ? vrec(12, 'record') : l));
  const f = failed(soakChecks(report(facts)));
  t.true(f.includes('a handler deleted before the OOM never ran'));
  t.true(f.includes('in memcg OOMs every handler behaved as designed (exit 0/3, SIGSEGV, timeout, ENOENT)'));
});

test('missing trials, a refused registration, a surviving victim and an unusable guest fail', (t) => {
  const facts = soakFacts()
    .filter((l) => !l.startsWith('@gs usable'))
    .map((l) => l
      .replace('count=2', 'count=3')
      .replace('statuses=137,137 register=ok_80', 'statuses=137,0 register=err_ESRCH'));
  const f = failed(soakChecks(report(facts)));
  t.true(f.includes('the guest ran all 3 trials in one boot'));
  t.true(f.includes('every trial registered its victims in one write'));
  t.true(f.includes('every victim was killed by the OOM killer (SIGKILL)'));
  t.true(f.includes('the guest stayed usable after every global OOM'));
});

test('the soak boot limit grows with the trial count', (t) => {
  t.true(soakBootTimeoutMs(200) > 200 * 2_000);
  t.true(soakBootTimeoutMs(10) < soakBootTimeoutMs(200));
  t.true(soakBootTimeoutMs(200, 'debug') > soakBootTimeoutMs(200, 'qemu'));
});

// ---- lifecycle stress ----------------------------------------------------

function lcFacts(): string[] {
  return [
    '@gs scenario lifecycle_stress',
    '@gs insmod ok',
    '@gs lc_config cycles=2 timeout_ms=500',
    '@gs reuse_old 307',
    '@gs reuse_register ok 40',
    '@gs reuse_old_status 143',
    '@gs reuse_attempts 1',
    '@gs reuse_new 307',
    '@gs reuse_new_status 137',
    '@gs reuse_rec none',
    '@gs reuse_oom_kill 1',
    '@gs reuse_listing_after ',
    '@gs reuse_control 314',
    '@gs reuse_control_register ok 40',
    '@gs reuse_control_status 137',
    '@gs reuse_control_rec present',
    '@gs lc_oom 1 victims=328,329 handlers=/gs/gs_handler_sleep,/gs/gs_handler_hang register=ok_76 statuses=137,137',
    '@gs lc_cycle 1 rmmod=0 insmod=0 rmmod_ms=420',
    '@gs lc_oom 2 victims=375,376 handlers=/gs/gs_handler_hang,/gs/gs_handler_record register=err_ENOENT statuses=137,137',
    '@gs lc_cycle 2 rmmod=0 insmod=0 rmmod_ms=60',
    '@gs lc_racer iterations=10 ok=8 err=12',
    '@gs leftover_helpers 0',
    '@gs rmmod_final ok',
  ];
}

function lcDmesg(): string[] {
  return [
    `${ts(1.0)} graceful_shutdown: loaded: timeout_ms=500 max_entries=1024 reserve_kb=4096`,
    `${ts(2.0)} gs_reuse: begin`,
    kill(2.7, 307),
    start(3.0, 314, 'record'), exit(3.01, 314, 'record', 'status=0'), kill(3.02, 314),
    `${ts(3.1)} gs_reuse: end`,
    `${ts(3.2)} gs_stress: begin`,
    start(3.5, 328, 'sleep'), exit(3.8, 328, 'sleep', 'status=0'), kill(3.81, 328),
    start(3.9, 329, 'hang'), timeout(4.4, 329, 'hang'), kill(4.41, 329), exit(4.42, 329, 'hang', 'signal=9'),
    `${ts(4.5)} graceful_shutdown: unloaded`,
    `${ts(4.6)} graceful_shutdown: loaded: timeout_ms=500 max_entries=1024 reserve_kb=4096`,
    kill(4.8, 375), kill(4.9, 376),
    `${ts(5.0)} graceful_shutdown: unloaded`,
    `${ts(5.1)} graceful_shutdown: loaded: timeout_ms=500 max_entries=1024 reserve_kb=4096`,
    `${ts(6.0)} graceful_shutdown: unloaded`,
    `${ts(6.1)} gs_stress: end`,
  ];
}

test('logBetween cuts the kernel log at the guest\'s markers', (t) => {
  const log = lcDmesg().join('\n');
  t.is(logBetween(log, 'gs_reuse: begin', 'gs_reuse: end').split('\n').length, 4);
  t.is(logBetween(log, 'no such marker', 'gs_reuse: end'), '');
});

test('a clean lifecycle stress run passes, with its summary', (t) => {
  const r = report(lcFacts(), lcDmesg());
  t.deepEqual(failed(lifecycleChecks(r)), []);
  t.is(LIFECYCLE_STRESS_SCENARIO.checks, lifecycleChecks);
  const s = lifecycleSummary(r);
  t.like(s, {
    cycles: 2, rmmodOk: 2, insmodOk: 2, maxRmmodMs: 420, oomRounds: 2, registeredRounds: 1,
    handlersStarted: 2, handlersUnended: 0, warnings: 0,
    reuse: { old: '307', new: '307', samePid: true, staleFired: false, controlFired: true },
  });
  t.is(Number(s.maxKillDelayS.toFixed(3)), 0.51);
});

test('a stale entry firing for a recycled pid fails', (t) => {
  const dmesg = lcDmesg().map((l) => (l.includes('Killed process 307 ') ? `${start(2.69, 307, 'record')}\n${l}` : l));
  const facts = lcFacts().map((l) => (l === '@gs reuse_rec none' ? '@gs reuse_rec present' : l));
  const r = report(facts, dmesg);
  t.true(lifecycleSummary(r).reuse.staleFired);
  t.true(failed(lifecycleChecks(r)).includes('pid reuse: the stale entry never fired (no handler record, no module start for that pid)'));
});

test('a pid that did not come round, an EBUSY rmmod and an unended handler fail', (t) => {
  const facts = lcFacts().map((l) => l
    .replace('reuse_new 307', 'reuse_new 308')
    .replace('lc_cycle 2 rmmod=0', 'lc_cycle 2 rmmod=1'));
  const dmesg = lcDmesg().filter((l) => !/event=exit victim=328 /.test(l));
  const f = failed(lifecycleChecks(report(facts, dmesg)));
  t.true(f.includes('pid reuse: a new process got the same pid after the first exited'));
  t.true(f.includes('every rmmod succeeded (never EBUSY), while OOMs fired'));
  t.true(f.includes('every handler started got an exit, timeout or error line'));
});
