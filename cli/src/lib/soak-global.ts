/**
 * The soak's global part: the global4 and global8 guests (a global OOM
 * with 4 or 8 registered processes allocating at once) booted many times.
 * Counts the handlers that wrote their record and exited before their
 * victim's kill, and how long each OOM held the OOM killer (the module's
 * start line to the kill). Pure: no I/O.
 */
import { passed, type Check } from './checks.js';
import type { GuestReport } from './guest-protocol.js';
import { globalManyVictims } from './scenarios.js';
import { summarize, type Summary } from './stats.js';

/** Boots of each of global4 and global8 in `gs-kit soak` (issue 12: at least 20). */
export const GLOBAL_DEFAULT_RUNS = 20;

/** The global scenarios the soak repeats. */
export const GLOBAL_SOAK_SCENARIOS = ['global4', 'global8'] as const;

/** One boot: what the guest reported, and every check of it (the common ones included). */
export interface GlobalRun {
  report: GuestReport;
  checks: readonly Check[];
}

export interface GlobalManySummary {
  scenario: string;
  runs: number;
  /** Boots in which every check held (all handlers first, no warnings, guest usable). */
  runsPassed: number;
  handlers: number;
  /** Handlers that wrote their record and exited before their victim was killed. */
  beforeKill: number;
  /** How long one OOM held the OOM killer, in ms, over every victim with a start line and a kill. */
  holdMs: Summary;
  /** "run N: check (detail)" for every failed check. */
  failures: string[];
}

export function globalManySummary(scenario: string, runs: readonly GlobalRun[]): GlobalManySummary {
  const victims = runs.flatMap((r) => globalManyVictims(r.report));
  const holds = victims.map((v) => v.holdMs).filter((h): h is number => h !== undefined);
  const failures = runs.flatMap((r, i) => r.checks.filter((c) => !c.ok)
    .map((c) => `run ${i + 1}: ${c.name}${c.detail ? ` (${c.detail})` : ''}`));
  return {
    scenario,
    runs: runs.length,
    runsPassed: runs.filter(passed).length,
    handlers: victims.length,
    beforeKill: victims.filter((v) => !v.problem).length,
    holdMs: summarize(holds),
    failures,
  };
}

/** The summary as one table row: label and value. */
export function globalManyRow(s: GlobalManySummary): [string, string] {
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
  return [
    `${s.scenario} x${s.runs}`,
    `${s.beforeKill}/${s.handlers} handlers before their kill, ${s.runsPassed}/${s.runs} boots clean; ` +
      `OOM killer held: median ${ms(s.holdMs.median)}, p95 ${ms(s.holdMs.p95)}, max ${ms(s.holdMs.max)}`,
  ];
}
