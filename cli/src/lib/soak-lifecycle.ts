/**
 * The lifecycle-stress guest (vm/guest/scenarios/lifecycle_stress.sh):
 * rmmod/insmod cycles while memcg OOMs fire and registrations race, then a
 * recycled pid. What it reports, how it is summed up, and what must hold.
 * Pure: no I/O.
 */
import { check, equal, type Check } from './checks.js';
import { fact, factFields, facts, findSplats, moduleEvents, oomKills, parseFields, type GuestReport } from './guest-protocol.js';
import type { Scenario } from './scenario.js';
import { LOG_PREFIX } from './module.js';
import { KILL_SLACK_S, some } from './soak.js';
import { logBetween, num } from './soak-parse.js';

/** timeout_ms the lifecycle-stress guest loads the module with. */
export const LIFECYCLE_TIMEOUT_MS = 500;

/** Default rmmod/insmod cycles of the lifecycle-stress guest. */
export const LIFECYCLE_DEFAULT_CYCLES = 30;

export interface LifecycleSummary {
  cycles: number;
  rmmodOk: number;
  insmodOk: number;
  /** The longest rmmod (ms), which waits for OOM callbacks and helpers in flight. */
  maxRmmodMs: number;
  /** OOM rounds (two victims each) during the cycles, and how many registrations the module took. */
  oomRounds: number;
  registeredRounds: number;
  /** Handlers the module started during the cycles, and how many of those have no end line. */
  handlersStarted: number;
  handlersUnended: number;
  maxKillDelayS: number;
  reuse: { old?: string; new?: string; samePid: boolean; staleFired: boolean; controlFired: boolean };
  warnings: number;
}

export function lifecycleSummary(report: GuestReport): LifecycleSummary {
  const cycles = facts(report, 'lc_cycle').map((l) => parseFields(l.trim().split(/\s+/).slice(1)));
  const rounds = facts(report, 'lc_oom').map((l) => parseFields(l.trim().split(/\s+/).slice(1)));
  const stress = logBetween(report.dmesg, 'gs_stress: begin', 'gs_stress: end');
  const events = moduleEvents(stress);
  const starts = events.filter((e) => e.event === 'start');
  const kills = oomKills(stress);
  const delays = starts.map((s) => {
    const k = kills.find((x) => String(x.pid) === s.fields.victim && x.time >= s.time);
    return k ? k.time - s.time : NaN;
  }).filter(Number.isFinite);
  const unended = starts.filter((s) => !events.some((e) => e !== s && e.fields.victim === s.fields.victim &&
    ['exit', 'timeout', 'error'].includes(e.event) && e.time >= s.time));
  const reuseLog = logBetween(report.dmesg, 'gs_reuse: begin', 'gs_reuse: end');
  const old = fact(report, 'reuse_old');
  const ctl = fact(report, 'reuse_control');
  const reuseEvents = moduleEvents(reuseLog);
  return {
    cycles: cycles.length,
    rmmodOk: cycles.filter((c) => c.rmmod === '0').length,
    insmodOk: cycles.filter((c) => c.insmod === '0').length,
    maxRmmodMs: Math.max(0, ...cycles.map((c) => num(c.rmmod_ms)).filter(Number.isFinite)),
    oomRounds: rounds.length,
    registeredRounds: rounds.filter((r) => /^ok_/.test(r.register ?? '')).length,
    handlersStarted: starts.length,
    handlersUnended: unended.length,
    maxKillDelayS: delays.length ? Math.max(...delays) : 0,
    reuse: {
      ...(old !== undefined ? { old } : {}),
      ...(fact(report, 'reuse_new') !== undefined ? { new: fact(report, 'reuse_new') } : {}),
      samePid: old !== undefined && fact(report, 'reuse_new') === old,
      staleFired: fact(report, 'reuse_rec') !== 'none' || reuseEvents.some((e) => e.fields.victim === old),
      controlFired: fact(report, 'reuse_control_rec') === 'present' &&
        reuseEvents.some((e) => e.event === 'start' && e.fields.victim === ctl),
    },
    warnings: findSplats(report.dmesg).length,
  };
}

export function lifecycleChecks(report: GuestReport): Check[] {
  const config = factFields(report, 'lc_config');
  const want = num(config.cycles);
  const timeoutMs = Number.isFinite(num(config.timeout_ms)) ? num(config.timeout_ms) : LIFECYCLE_TIMEOUT_MS;
  const s = lifecycleSummary(report);
  const old = fact(report, 'reuse_old');
  const reuseLog = logBetween(report.dmesg, 'gs_reuse: begin', 'gs_reuse: end');
  const killedNew = oomKills(reuseLog).some((k) => String(k.pid) === old);
  const rounds = facts(report, 'lc_oom');
  const badRounds = rounds.filter((r) => !/statuses=137,137$/.test(r));
  const loads = (report.dmesg.match(new RegExp(`${LOG_PREFIX}loaded:`, 'g')) ?? []).length;
  const unloads = (report.dmesg.match(new RegExp(`${LOG_PREFIX}unloaded`, 'g')) ?? []).length;
  const racer = factFields(report, 'lc_racer');
  const cycles = facts(report, 'lc_cycle');
  return [
    check('pid reuse: the first process was registered', /^ok /.test(fact(report, 'reuse_register') ?? ''),
      fact(report, 'reuse_register')),
    check('pid reuse: a new process got the same pid after the first exited', s.reuse.samePid,
      `old ${old}, new ${fact(report, 'reuse_new')} after ${fact(report, 'reuse_attempts')} attempt(s)`),
    check('pid reuse: the OOM killer killed the new process',
      fact(report, 'reuse_new_status') === '137' && killedNew, `status ${fact(report, 'reuse_new_status')}`),
    check('pid reuse: the stale entry never fired (no handler record, no module start for that pid)',
      !s.reuse.staleFired, `record ${fact(report, 'reuse_rec')}`),
    check('pid reuse: the stale entry is gone from the listing', fact(report, 'reuse_listing_after') === '',
      fact(report, 'reuse_listing_after')),
    check('pid reuse: a registered process with a fresh pid fired as usual', s.reuse.controlFired),
    check(`all ${Number.isFinite(want) ? want : '?'} rmmod/insmod cycles ran`, Number.isFinite(want) && s.cycles === want,
      `${s.cycles} cycle(s)`),
    check('every rmmod succeeded (never EBUSY), while OOMs fired', s.rmmodOk === s.cycles && s.cycles > 0,
      cycles.filter((c) => !/rmmod=0 /.test(c)).slice(0, 5).join('; ')),
    check('every insmod succeeded', s.insmodOk === s.cycles && s.cycles > 0,
      cycles.filter((c) => !/insmod=0 /.test(c)).slice(0, 5).join('; ')),
    check('the module logged each load and unload', loads === s.cycles + 1 && unloads === s.cycles + 1,
      `${loads} loads, ${unloads} unloads for ${s.cycles} cycles`),
    check('OOMs fired during the cycles, some while the module was loaded',
      s.oomRounds > 0 && s.registeredRounds > 0 && s.handlersStarted > 0,
      `${s.oomRounds} rounds, ${s.registeredRounds} registered, ${s.handlersStarted} handlers started`),
    check('every victim died of SIGKILL', rounds.length > 0 && badRounds.length === 0, badRounds.slice(0, 5).join('; ')),
    check('every handler started got an exit, timeout or error line', s.handlersUnended === 0,
      `${s.handlersUnended} without an end`),
    check(`no kill was delayed beyond timeout_ms + ${KILL_SLACK_S} s`, s.maxKillDelayS <= timeoutMs / 1000 + KILL_SLACK_S,
      `max ${s.maxKillDelayS.toFixed(3)} s`),
    check('registrations raced the cycles', num(racer.ok) > 0, fact(report, 'lc_racer')),
    check('no handler is left running', fact(report, 'leftover_helpers') === '0', fact(report, 'leftover_helpers')),
    equal('the module unloads at the end', fact(report, 'rmmod_final'), 'ok'),
    check('0 kernel warnings', s.warnings === 0, some(findSplats(report.dmesg), (l) => l, 3)),
  ];
}

export const LIFECYCLE_STRESS_SCENARIO: Scenario = {
  name: 'lifecycle_stress',
  title: 'rmmod/insmod under memcg OOMs and racing registrations; a recycled pid never fires a stale handler',
  memoryMb: 128,
  timeoutMs: 300_000,
  checks: lifecycleChecks,
};
