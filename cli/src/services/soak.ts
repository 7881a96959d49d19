/**
 * `gs-kit soak`'s runs: the soak boot, the lifecycle-stress boot and the
 * global4/global8 boots, and the summary they add up to. Summing up and
 * judging are lib/soak*.ts; the command prints and writes what this returns.
 */
import { passed, type Check } from '../lib/checks.js';
import { scenarioVerdict } from '../lib/judge.js';
import type { Profile } from '../lib/kconfig.js';
import type { Reporter } from '../lib/reporter.js';
import type { Scenario } from '../lib/scenario.js';
import { SOAK_SCENARIO, SOAK_TIMEOUT_MS, soakBootTimeoutMs, soakSummary, type SoakPart } from '../lib/soak.js';
import { LIFECYCLE_DEFAULT_CYCLES, LIFECYCLE_STRESS_SCENARIO, lifecycleSummary } from '../lib/soak-lifecycle.js';
import { factFields } from '../lib/guest-protocol.js';
import { lifecycleRows, soakRows } from '../lib/soak-render.js';
import { GLOBAL_SOAK_SCENARIOS, globalManyRow, globalManySummary, type GlobalManySummary } from '../lib/soak-global.js';
import { scenarioNamed } from '../lib/catalogue.js';
import { prepareGuest, runScenario, type RunOptions, type ScenarioRun } from './guests.js';

/** What one `gs-kit soak` runs, from its options. */
export interface SoakPlan {
  series: string;
  profile: Profile;
  parts: ReadonlySet<SoakPart>;
  /** OOM trials in the soak boot. */
  count: number;
  /** Boots of each of global4 and global8. */
  globalRuns: number;
}

export interface SoakOutcome {
  /** Every boot, in the order they ran. */
  runs: ScenarioRun[];
  /** The summary table, a label and a value a row. */
  rows: [string, string][];
  /** What goes into the JSON summary. */
  summary: Record<string, unknown> & { ok: boolean };
}

const checksJson = (checks: readonly Check[]) =>
  checks.map((c) => ({ name: c.name, ok: c.ok, ...(c.detail ? { detail: c.detail } : {}) }));

/** Runs the parts of @plan, telling each boot's verdict as it ends. */
export async function runSoak(plan: SoakPlan, reporter: Reporter): Promise<SoakOutcome> {
  const { series, profile, parts, count, globalRuns } = plan;
  const guest = await prepareGuest(series, profile, reporter);
  const { artifacts } = guest;
  const say = (line: string) => reporter.note(line);
  // KASAN's shadow and the lock and leak trackers take a good part of a small guest's RAM.
  const memory = (mb: number) => (profile === 'debug' ? { memoryMb: mb * 2 } : {});
  const runs: ScenarioRun[] = [];
  const rows: [string, string][] = [];
  const boot = async (scenario: Scenario, label: string, options: RunOptions = {}) => {
    const r = await runScenario(scenario, guest, { ...memory(scenario.memoryMb), ...options });
    reporter.verdict(scenarioVerdict(r, label));
    runs.push(r);
    return r;
  };
  const summary: Record<string, unknown> = { series, release: artifacts.release, profile, parts: [...parts] };

  if (parts.has('trials')) {
    say(`\nSoak: ${count} OOM trials in one boot of Linux ${artifacts.release} (QEMU TCG, about ${Math.ceil((count * 2) / 60)} min on the qemu profile, longer on debug)…`);
    const r = await boot(SOAK_SCENARIO, series, { timeoutMs: soakBootTimeoutMs(count, profile), append: `gs.count=${count}` });
    const timeoutMs = Number(factFields(r.report, 'soak_config').timeout_ms) || SOAK_TIMEOUT_MS;
    const s = soakSummary(r.report, timeoutMs);
    rows.push(...soakRows(s));
    summary.count = count;
    summary.soak = { ...s, bootMs: r.boot.durationMs, checks: checksJson(r.checks) };
  }

  if (parts.has('lifecycle')) {
    say(`\nLifecycle: ${LIFECYCLE_DEFAULT_CYCLES} rmmod/insmod cycles under OOMs, and a recycled pid…`);
    const r = await boot(LIFECYCLE_STRESS_SCENARIO, series, {
      append: `gs.cycles=${LIFECYCLE_DEFAULT_CYCLES}`,
      timeoutMs: (LIFECYCLE_STRESS_SCENARIO.timeoutMs ?? 300_000) * (profile === 'debug' ? 4 : 1),
    });
    const s = lifecycleSummary(r.report);
    rows.push(...lifecycleRows(s));
    summary.lifecycle = { ...s, bootMs: r.boot.durationMs, checks: checksJson(r.checks) };
  }

  if (parts.has('global')) {
    const globals: GlobalManySummary[] = [];
    for (const name of GLOBAL_SOAK_SCENARIOS) {
      const scenario = scenarioNamed(name);
      say(`\n${name}: ${globalRuns} boots, ${scenario.title}…`);
      const these: ScenarioRun[] = [];
      for (let i = 0; i < globalRuns; i++) these.push(await boot(scenario, `${series} ${i + 1}/${globalRuns}`));
      const s = globalManySummary(name, these);
      globals.push(s);
      rows.push(globalManyRow(s));
    }
    summary.globalRuns = globalRuns;
    summary.global = globals;
  }

  return { runs, rows, summary: { ...summary, ok: runs.every(passed) } };
}
