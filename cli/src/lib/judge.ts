/**
 * Judging a boot, in one place: what the guest said (guest-protocol.ts),
 * the checks every boot must pass, the hook the module must report, and
 * the checks of the scenario or stage. The guest suite, `vm test`, the
 * soak, the bench and the system test all judge here. Pure.
 */
import { check, type Check } from './checks.js';
import { parseGuestOutput, type GuestReport } from './guest-protocol.js';
import type { ModuleHook } from './kernels.js';
import type { Verdict } from './reporter.js';
import { commonChecks, hookChecks, type Scenario } from './scenario.js';

/** How a boot ended: what its console said, and whether its time ran out. */
export interface BootOutcome {
  console: string;
  timedOut: boolean;
  exitCode: number | null;
  durationMs: number;
}

/** A boot judged: the guest's report and every check of it. */
export interface Judged {
  boot: BootOutcome;
  report: GuestReport;
  checks: Check[];
}

/** A scenario's boot, judged. */
export interface ScenarioRun extends Judged {
  scenario: Scenario;
}

export interface JudgeOptions {
  /** The boot's time limit as a sentence says it, e.g. "120 s", "30 min". */
  limit: string;
  /** The mode the module must report each time the guest loads it. */
  hook?: ModuleHook;
}

/** @boot judged: its time limit, the checks every boot must pass, the hook, then @own. */
export function judgeBoot(boot: BootOutcome, own: (r: GuestReport) => Check[], opts: JudgeOptions): Judged {
  const report = parseGuestOutput(boot.console);
  return {
    boot,
    report,
    checks: [
      ...(boot.timedOut ? [check(`the guest finished within ${opts.limit}`, false)] : []),
      ...commonChecks(report),
      ...(opts.hook ? hookChecks(report, opts.hook) : []),
      ...own(report),
    ],
  };
}

/** A boot of @scenario judged by its checks; @timeoutMs is the boot's limit. */
export function judgeScenario(scenario: Scenario, boot: BootOutcome, timeoutMs: number, hook?: ModuleHook): ScenarioRun {
  return { scenario, ...judgeBoot(boot, (r) => scenario.checks(r), { limit: `${timeoutMs / 1000} s`, ...(hook ? { hook } : {}) }) };
}

/** A scenario run as a reporter is told of it, on @label; with @console, the console of a failed run. */
export function scenarioVerdict(run: ScenarioRun, label: string, console = false): Verdict {
  return {
    label,
    name: run.scenario.name,
    title: run.scenario.title,
    checks: run.checks,
    durationMs: run.boot.durationMs,
    ...(console && !run.checks.every((c) => c.ok) ? { console: run.boot.console } : {}),
  };
}
