import test from 'ava';
import { parseGuestOutput, type GuestReport } from '../src/lib/guest-protocol.js';
import { commonChecks, scenarioNamed } from '../src/lib/scenarios.js';
import { globalManyRow, globalManySummary, type GlobalRun } from '../src/lib/soak-global.js';
import { passed } from '../src/lib/checks.js';

const ts = (s: number) => `[${s.toFixed(6).padStart(12)}]`;

interface Victim {
  pid: number;
  start: number;
  exit?: number;
  kill: number;
  record?: boolean;
  timeout?: boolean;
}

/** A global4/global8 guest's console: victims, their records and statuses, the module's lines, the kills. */
function globalConsole(victims: readonly Victim[]): string {
  const facts = [
    `@gs victims ${victims.map((v) => v.pid).join(' ')}`,
    `@gs register ok ${victims.length * 40}`,
    ...victims.map((v) => `@gs vstatus ${v.pid} 137`),
    ...victims.map((v) => (v.record === false ? `@gs vrec ${v.pid} none`
      : `@gs vrec ${v.pid} started_ns=1 mode=record victim_alive=1 GS_PID=${v.pid} GS_CONSTRAINT=global `)),
    '@gs register_after ok 30',
  ];
  const dmesg = victims.flatMap((v) => [
    `${ts(v.start)} graceful_shutdown: event=start victim=${v.pid} comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=global reserve_kb=4096`,
    v.timeout
      ? `${ts(v.kill - 0.001)} graceful_shutdown: event=timeout victim=${v.pid} handler=/gs/gs_handler_record helper=${v.pid + 100} timeout_ms=5000 phase=run killed=1`
      : `${ts(v.exit!)} graceful_shutdown: event=exit victim=${v.pid} handler=/gs/gs_handler_record helper=${v.pid + 100} status=0 duration_ms=10 killed=0`,
    `${ts(v.kill)} Out of memory: Killed process ${v.pid} (oom_condition_c) total-vm:39260kB, anon-rss:32000kB, UID:0 oom_score_adj:0`,
  ]);
  return [
    '@gs kernel 6.12.117-gs', '@gs scenario global4', ...facts, '@gs alive yes',
    '@gs-dmesg-begin', ...dmesg, '@gs-dmesg-end', '@gs-done',
  ].join('\r\n') + '\r\n';
}

function globalRun(victims: readonly Victim[]): GlobalRun {
  const report: GuestReport = parseGuestOutput(globalConsole(victims));
  return { report, checks: [...commonChecks(report), ...scenarioNamed('global4')!.checks(report)] };
}

const good = (pid: number, start: number, holdMs: number): Victim =>
  ({ pid, start, exit: start + holdMs / 1000 - 0.002, kill: start + holdMs / 1000 });

test('global soak: every handler before its kill, hold times from start line to kill', (t) => {
  const runs = [
    globalRun([good(40, 2, 10), good(41, 3, 20), good(42, 4, 30), good(43, 5, 40)]),
    globalRun([good(40, 2, 50), good(41, 3, 60), good(42, 4, 70), good(43, 5, 80)]),
  ];
  t.true(runs.every(passed), JSON.stringify(runs.flatMap((r) => r.checks.filter((c) => !c.ok))));
  const s = globalManySummary('global4', runs);
  t.is(s.runs, 2);
  t.is(s.runsPassed, 2);
  t.is(s.handlers, 8);
  t.is(s.beforeKill, 8);
  t.is(s.holdMs.n, 8);
  t.is(Math.round(s.holdMs.median), 45);
  t.is(Math.round(s.holdMs.max), 80);
  t.deepEqual(s.failures, []);
  t.regex(globalManyRow(s)[1], /^8\/8 handlers before their kill, 2\/2 boots clean; OOM killer held: median 45 ms, p95 80 ms, max 80 ms$/);
});

test('global soak: a handler that timed out without a record is counted, and the run says why', (t) => {
  const runs = [
    globalRun([good(40, 2, 10), good(41, 3, 20), good(42, 4, 30), good(43, 5, 40)]),
    globalRun([good(40, 2, 10), { pid: 41, start: 3, kill: 8.001, record: false, timeout: true }, good(42, 9, 30), good(43, 10, 40)]),
  ];
  const s = globalManySummary('global4', runs);
  t.is(s.runsPassed, 1);
  t.is(s.handlers, 8);
  t.is(s.beforeKill, 7);
  // The timed-out OOM held the killer for its whole wait: it counts in the hold times.
  t.is(Math.round(s.holdMs.max), 5001);
  t.is(s.failures.length, 1);
  t.regex(s.failures[0]!, /^run 2: every handler wrote its record .*\(3\/4\).*41: no record \(module: timeout/);
});

test('global soak: a boot that never reported its victims counts no handlers and fails', (t) => {
  const report = parseGuestOutput('@gs kernel 6.12.117-gs\r\n');
  const run: GlobalRun = { report, checks: [...commonChecks(report), ...scenarioNamed('global8')!.checks(report)] };
  const s = globalManySummary('global8', [run]);
  t.is(s.handlers, 0);
  t.is(s.runsPassed, 0);
  t.true(s.failures.length > 0);
  t.is(globalManyRow(s)[1].split(';')[1]!.trim(), 'OOM killer held: median -, p95 -, max -');
});
