/**
 * `gs-kit vm test`: the scenarios on each series asked for, patched or in
 * stock mode, one boot each, each verdict told as it comes.
 */
import { passed } from '../lib/checks.js';
import { scenarioVerdict } from '../lib/judge.js';
import type { Profile } from '../lib/kconfig.js';
import type { Reporter } from '../lib/reporter.js';
import { runnableOn, stockScenarios, type Scenario } from '../lib/scenario.js';
import type { Flavour } from '../lib/stock.js';
import { runScenario, suiteGuest, type RunOptions } from './guests.js';

export interface VmTestPlan {
  scenarios: readonly Scenario[];
  series: readonly string[];
  profile: Profile;
  /** Boot Debian's own kernel (stock mode) instead of a patched one. */
  stock: boolean;
  /** Which of Debian's kernel flavours, in stock mode. */
  flavour?: Flavour;
  /** What every boot gets: a time limit, the debug slowdown, more command line. */
  boot: Omit<RunOptions, 'hook'>;
  /** Show the console of a failed run (--debug). */
  consoles: boolean;
}

/** Runs @plan; how many runs failed. */
export async function runVmTest(plan: VmTestPlan, reporter: Reporter): Promise<number> {
  let failed = 0;
  const { profile, stock } = plan;
  for (const series of plan.series) {
    const flavour = plan.flavour ?? 'generic';
    const guest = await suiteGuest(series, profile, stock, reporter, flavour);
    const label = `${series}${flavour === 'generic' ? '' : ` ${flavour}`}${profile === 'debug' ? ' debug' : ''}${stock ? ' stock' : ''}`;
    const skipped = stock ? plan.scenarios.filter((s) => !stockScenarios([s]).length) : [];
    if (skipped.length) {
      reporter.note(`not run in stock mode: ${skipped.map((s) => s.name).join(', ')} (they need the gs-kit patch's memory reserves for handlers; see README, stock mode)`, 'warn');
    }
    const runnable = runnableOn(guest.release, guest.lacks, stock ? stockScenarios(plan.scenarios) : plan.scenarios);
    if (runnable.note) reporter.note(runnable.note, 'warn');
    for (const scenario of runnable.run) {
      const run = await runScenario(scenario, guest, { ...plan.boot, hook: guest.hook });
      reporter.verdict(scenarioVerdict(run, label, plan.consoles));
      if (!passed(run)) failed++;
    }
  }
  return failed;
}
