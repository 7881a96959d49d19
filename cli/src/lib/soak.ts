/**
 * The soak guest ("prove it cannot hurt the machine"): what it reports,
 * how it is summed up, and what must hold. The lifecycle-stress guest is
 * soak-lifecycle.ts.
 *
 * The soak guest (vm/guest/scenarios/soak.sh) runs many OOM trials in one
 * boot, each with several registered victims whose handlers behave in
 * different ways; it prints one "trial" fact per trial and one "vrec" fact
 * per victim (the handler's record on one line, or "none"), and drains the
 * kernel log after every trial. Each trial also writes a marker line
 * ("gs_soak: trial=N ...") to the kernel log; module events and OOM kills
 * are matched to a trial's victims by pid within that trial's part of the
 * log, so pids may wrap during a long soak (tinyconfig caps pid_max at
 * 32768). Pure: no I/O.
 */
import { check, type Check } from './checks.js';
import { fact, factFields, facts, findSplats, moduleEvents, oomKills, type GuestReport, type ModuleEvent } from './guest-protocol.js';
import type { Scenario } from './scenario.js';
import {
  num, parseTrials, parseVictimRecords, trialLogs,
  type Outcome, type SoakSummary, type SoakTrial, type VictimResult,
} from './soak-parse.js';

/** timeout_ms the soak guest loads the module with. */
export const SOAK_TIMEOUT_MS = 1000;
/** What the OOM killer may add to timeout_ms before it kills (issue: 1 s). */
export const KILL_SLACK_S = 1;
/** Default trials of `gs-kit soak` and of `npm run test:soak`. */
export const SOAK_DEFAULT_COUNT = 200;

function byVictim(events: readonly ModuleEvent[]): Map<string, ModuleEvent[]> {
  const out = new Map<string, ModuleEvent[]>();
  for (const e of events) {
    const v = e.fields.victim;
    if (v === undefined) continue;
    const l = out.get(v) ?? [];
    l.push(e);
    out.set(v, l);
  }
  return out;
}

function reasonOf(e: ModuleEvent): string {
  if (e.event === 'skip') return `skip ${e.fields.reason ?? ''}`.trim();
  return e.event === 'error' ? `error ${e.fields.errno !== undefined ? `errno=${e.fields.errno}` : e.fields.reason ?? ''}`.trim() : e.event;
}

function exitKey(e: ModuleEvent): string {
  return e.fields.status !== undefined ? `status=${e.fields.status}` : `signal=${e.fields.signal}`;
}

/** How much longer the clock ran than the guest's ticks during a trial (>= 1). */
export function tickStretch(t: SoakTrial): number {
  return Number.isFinite(t.ms) && Number.isFinite(t.ticksMs) && t.ticksMs > 0 ? Math.max(1, t.ms / t.ticksMs) : 1;
}

/**
 * The latest a kill may come after the module's start line: timeout_ms (a
 * wait in ticks, stretched by the ticks the guest lost in that trial) plus
 * KILL_SLACK_S.
 */
export function killBoundS(v: VictimResult, timeoutMs: number): number {
  return (timeoutMs / 1000) * v.tickStretch + KILL_SLACK_S;
}

/** Every registered victim of the soak and what became of it. */
export function soakVictims(report: GuestReport): VictimResult[] {
  const trials = parseTrials(report);
  const records = parseVictimRecords(report);
  const logs = trialLogs(report.dmesg);
  const out: VictimResult[] = [];
  let next = 0;
  for (const t of trials) {
    const log = logs.of(t.n);
    const events = byVictim(moduleEvents(log));
    const kills = new Map<number, number>();
    for (const k of oomKills(log)) if (!kills.has(k.pid)) kills.set(k.pid, k.time);
    t.victims.forEach((pid, i) => {
      const evs = events.get(String(pid)) ?? [];
      const start = evs.find((e) => e.event === 'start');
      const exit = evs.find((e) => e.event === 'exit');
      const why = evs.find((e) => e.event === 'timeout' || e.event === 'error' || e.event === 'skip');
      // The guest prints one record line per victim, right after its trial line.
      const rec = records[next]?.pid === pid ? records[next++] : records.find((r) => r.pid === pid);
      const record = rec?.record;
      const killTime = kills.get(pid);
      const ranBeforeKill = record !== undefined && record.victim_alive === '1' &&
        start !== undefined && exit !== undefined && killTime !== undefined &&
        start.time <= killTime && exit.time <= killTime && why?.event !== 'timeout';
      const outcome: Outcome = ranBeforeKill ? 'before-kill' : why ? 'reason' : 'unexplained';
      const r: VictimResult = {
        trial: t.n, kind: t.kind, pid, handler: t.handlers[i] ?? '?', status: t.statuses[i] ?? '?', outcome,
        tickStretch: tickStretch(t),
      };
      if (record) r.record = record;
      if (start) r.start = start;
      if (exit) r.exit = exit;
      if (why) r.why = why;
      if (killTime !== undefined) r.killTime = killTime;
      if (start && killTime !== undefined) r.killDelayS = killTime - start.time;
      if (outcome === 'reason' && why) r.reason = reasonOf(why);
      out.push(r);
    });
  }
  return out;
}

/** The figures the issue asks for, from one soak guest's report. */
export function soakSummary(report: GuestReport, timeoutMs: number): SoakSummary {
  const trials = parseTrials(report);
  const victims = soakVictims(report);
  const clockLimit = timeoutMs / 1000 + KILL_SLACK_S;
  const reasonsByKind: Record<string, number> = {};
  const handlerExits: Record<string, number> = {};
  for (const v of victims) {
    if (v.outcome === 'reason' && v.reason) reasonsByKind[v.reason] = (reasonsByKind[v.reason] ?? 0) + 1;
    if (v.exit) handlerExits[exitKey(v.exit)] = (handlerExits[exitKey(v.exit)] ?? 0) + 1;
  }
  const timedOut = victims.filter((v) => v.why?.event === 'timeout');
  const delays = victims.map((v) => v.killDelayS).filter((d): d is number => d !== undefined && Number.isFinite(d));
  const accounted = new Set(victims.filter((v) => v.outcome === 'unexplained').map((v) => v.trial));
  const done = factFields(report, 'soak_done');
  const soakMs = num(done.ms);
  const summary: SoakSummary = {
    trials: trials.length,
    memcgTrials: trials.filter((t) => t.kind === 'memcg').length,
    globalTrials: trials.filter((t) => t.kind === 'global').length,
    victims: victims.length,
    handlerBeforeKill: victims.filter((v) => v.outcome === 'before-kill').length,
    handlerBeforeKillMemcg: victims.filter((v) => v.outcome === 'before-kill' && v.kind === 'memcg').length,
    handlerBeforeKillGlobal: victims.filter((v) => v.outcome === 'before-kill' && v.kind === 'global').length,
    reasons: victims.filter((v) => v.outcome === 'reason').length,
    reasonsByKind,
    unexplained: victims.filter((v) => v.outcome === 'unexplained').length,
    trialsAccounted: trials.filter((t) => !accounted.has(t.n)).length,
    timeouts: timedOut.length,
    timeoutsHonoured: timedOut.filter((v) => v.killDelayS !== undefined && v.killDelayS <= killBoundS(v, timeoutMs)).length,
    maxKillDelayS: delays.length ? Math.max(...delays) : 0,
    killsBeyondClockBound: delays.filter((d) => d > clockLimit).length,
    maxTickStretch: Math.max(1, ...trials.map(tickStretch)),
    warnings: findSplats(report.dmesg).length,
    handlerExits,
    timeoutMs,
  };
  if (Number.isFinite(soakMs)) {
    summary.soakMs = soakMs;
    if (trials.length) summary.msPerTrial = Math.round(soakMs / trials.length);
  }
  return summary;
}

function describe(v: VictimResult): string {
  return `trial ${v.trial} (${v.kind}) pid ${v.pid} handler ${v.handler}: ${v.outcome}` +
    `${v.reason ? ` (${v.reason})` : ''}; start ${v.start?.time ?? '-'} exit ${v.exit?.time ?? '-'} kill ${v.killTime ?? '-'}` +
    ` record ${v.record ? `victim_alive=${v.record.victim_alive}` : 'none'}`;
}

/** Up to @max items, shown and joined, and how many more there are. */
export function some<T>(items: readonly T[], show: (t: T) => string, max = 5): string {
  return items.slice(0, max).map(show).join('; ') + (items.length > max ? `; and ${items.length - max} more` : '');
}

/** What a handler of each behaviour must do, in a memcg OOM and (with the reserves patch) a global one. */
function behavedAsDesigned(v: VictimResult): boolean {
  const exit = v.exit ? exitKey(v.exit) : undefined;
  switch (v.handler) {
    case 'record':
    case 'sleep':
      return v.outcome === 'before-kill' && exit === 'status=0';
    case 'fail':
      return v.outcome === 'before-kill' && exit === 'status=3';
    case 'crash':
      return v.outcome === 'before-kill' && exit === 'signal=11';
    case 'hang':
      return v.outcome === 'reason' && v.reason === 'timeout' && v.record?.victim_alive === '1';
    case 'missing':
      return v.outcome === 'reason' && v.reason === 'error errno=2' && v.record === undefined;
    default:
      return false;
  }
}

/** Checks of the soak guest's report (commonChecks come on top, from runScenario). */
export function soakChecks(report: GuestReport): Check[] {
  const config = factFields(report, 'soak_config');
  const count = num(config.count);
  const timeoutMs = Number.isFinite(num(config.timeout_ms)) ? num(config.timeout_ms) : SOAK_TIMEOUT_MS;
  const trials = parseTrials(report);
  const victims = soakVictims(report);
  const s = soakSummary(report, timeoutMs);
  const badRegister = trials.filter((t) => !/^ok /.test(t.register));
  const notKilled = victims.filter((v) => v.status !== '137' || v.killTime === undefined);
  const unexplained = victims.filter((v) => v.outcome === 'unexplained');
  const memcgOdd = victims.filter((v) => v.kind === 'memcg' && !behavedAsDesigned(v));
  const globalOdd = victims.filter((v) => v.kind === 'global' && !behavedAsDesigned(v));
  // A helper killed at the timeout before its exec finished logs exit signal=9: that is not a run.
  const missingRan = victims.filter((v) => v.handler === 'missing' &&
    (v.record !== undefined || v.exit?.fields.status !== undefined));
  const late = victims.filter((v) => v.killDelayS !== undefined && v.killDelayS > killBoundS(v, timeoutMs));
  const usable = facts(report, 'usable');
  const usableOk = usable.filter((u) => /^\d+ ok \d+ listed=1$/.test(u));
  const racer = factFields(report, 'racer');
  const splats = findSplats(report.dmesg);
  const seen = (h: string, o: Outcome) => victims.some((v) => v.kind === 'memcg' && v.handler === h && v.outcome === o);
  return [
    check(`the guest ran all ${Number.isFinite(count) ? count : '?'} trials in one boot`,
      Number.isFinite(count) && trials.length === count && fact(report, 'soak_done') !== undefined,
      `${trials.length} trial(s) reported${fact(report, 'soak_done') === undefined ? ', no end of soak' : ''}`),
    check('every trial registered its victims in one write', trials.length > 0 && badRegister.length === 0,
      some(badRegister, (t) => `trial ${t.n}: ${t.register}`)),
    check('every victim was killed by the OOM killer (SIGKILL)', victims.length > 0 && notKilled.length === 0,
      some(notKilled, (v) => `trial ${v.trial} pid ${v.pid}: status ${v.status}, kill ${v.killTime === undefined ? 'not logged' : 'logged'}`)),
    check('every handler ran before its kill, or the module logged why not', victims.length > 0 && unexplained.length === 0,
      some(unexplained, describe)),
    check('in memcg OOMs every handler behaved as designed (exit 0/3, SIGSEGV, timeout, ENOENT)',
      memcgOdd.length === 0 && seen('record', 'before-kill') && seen('crash', 'before-kill') &&
      seen('hang', 'reason') && seen('missing', 'reason'),
      memcgOdd.length ? some(memcgOdd, describe) : 'not every behaviour was exercised'),
    // The reserves patch (issue 12) makes a global OOM leave the handler what a memcg one does.
    check('in global OOMs too every handler behaved as designed', globalOdd.length === 0, some(globalOdd, describe)),
    check('a handler deleted before the OOM never ran', missingRan.length === 0, some(missingRan, describe)),
    check(`every timeout's kill came within timeout_ms + ${KILL_SLACK_S} s of the start`,
      s.timeoutsHonoured === s.timeouts, `${s.timeoutsHonoured}/${s.timeouts} honoured`),
    check(`no kill was delayed beyond timeout_ms + ${KILL_SLACK_S} s (timeout_ms counted in the guest's ticks)`,
      late.length === 0,
      `max ${s.maxKillDelayS.toFixed(3)} s, tick stretch up to ${s.maxTickStretch.toFixed(2)}: ${some(late, (v) => `${describe(v)} bound ${killBoundS(v, timeoutMs).toFixed(3)} s`)}`),
    check('the guest stayed usable after every global OOM',
      s.globalTrials > 0 && usable.length === s.globalTrials && usableOk.length === usable.length,
      `${usableOk.length}/${s.globalTrials}: ${some(usable.filter((u) => !usableOk.includes(u)), (u) => u)}`),
    check('registrations raced the OOMs', num(racer.iterations) > 0 && num(racer.ok) > 0, fact(report, 'racer')),
    check('no handler is left running', fact(report, 'leftover_helpers') === '0', fact(report, 'leftover_helpers')),
    check('the registry is empty at the end', fact(report, 'listing_end') === '', fact(report, 'listing_end')),
    check('the module unloads after the soak', fact(report, 'rmmod') === 'ok', fact(report, 'rmmod')),
    check('0 kernel warnings', splats.length === 0, some(splats, (l) => l, 3)),
  ];
}

export const SOAK_SCENARIO: Scenario = {
  name: 'soak',
  title: 'many memcg and global OOMs in one boot, several victims, handlers of every behaviour, racing registrations',
  memoryMb: 128,
  // Measured about 2 s a trial under TCG; gs-kit soak sets the limit from --count.
  timeoutMs: 1_500_000,
  checks: soakChecks,
};

/**
 * A hard limit for a soak boot of @count trials: measured ~1.9 s each under
 * TCG on the qemu profile (6.1), with room to spare; the debug profile
 * (KASAN, lockdep) runs several times slower.
 */
export function soakBootTimeoutMs(count: number, profile: 'qemu' | 'debug' | string = 'qemu'): number {
  return (120_000 + count * 8_000) * (profile === 'debug' ? 4 : 1);
}

/** The parts of `gs-kit soak`, in the order they run. */
export const SOAK_PARTS = ['trials', 'lifecycle', 'global'] as const;
export type SoakPart = (typeof SOAK_PARTS)[number];
