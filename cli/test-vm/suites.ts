import test from 'ava';
import { SUITE_GROUPS, TESTED_SERIES } from '../src/lib/kernels.js';
import { stockScenarios } from '../src/lib/scenario.js';
import { SUITE } from '../src/lib/catalogue.js';
import { STOCK_SERIES } from '../src/lib/stock.js';
import { runScenario, suiteGuest, type Guest } from '../src/services/guests.js';
import { passed } from '../src/lib/checks.js';
import { consoleUi } from '../src/ui/render.js';

/*
 * Every scenario boots its own guest, so that one scenario's OOM cannot
 * disturb the next: on the oldest and the newest patched kernel (5.4.1,
 * and Debian's 7.3 source), then on Debian's own unmodified oldest and
 * newest (6.1, 7.3) with the module in stock mode: lkm/kernels.json's
 * *_tested; `make test-kernels` runs the others. The checks are the ones
 * `gs-kit vm test` prints; each is asserted here on its own. Each test
 * file runs the series of one SUITE_GROUPS group; ava runs the files side
 * by side.
 *
 * GS_SERIES=7.3 runs one patched series; GS_STOCK_SERIES=6.1 one stock
 * series ("none" for none). GS_PROFILE=debug runs the suites on the debug
 * kernels (KASAN, lockdep, kmemleak...): the patched ones, then, since
 * Debian has no debug kernel, the stock-mode module on our debug build of
 * the same series (the patch there, unused).
 */
const pick = (env: string | undefined, all: readonly string[]) =>
  env === 'none' ? [] : env ? env.split(',') : [...all];

export function defineSuites(group: number): void {
  const mine = (series: string) => SUITE_GROUPS[group]!.includes(series);
  const profile = process.env.GS_PROFILE === 'debug' ? 'debug' : 'qemu';
  const debug = profile === 'debug' ? ' debug' : '';
  const ui = consoleUi();
  const suites = [
    ...pick(process.env.GS_SERIES, TESTED_SERIES).filter(mine).map((series) => ({ label: `${series}${debug}`, series, stock: false })),
    ...pick(process.env.GS_STOCK_SERIES, STOCK_SERIES.map((s) => s.name)).filter(mine)
      .map((name) => ({ label: `${name}${debug} stock`, series: name, stock: true })),
  ];
  // A misspelt series would otherwise select nothing and pass unseen.
  test(`GS_SERIES and GS_STOCK_SERIES name only series the suite has (group ${group + 1})`, (t) => {
    const stock = STOCK_SERIES.map((s) => s.name);
    t.deepEqual(pick(process.env.GS_SERIES, TESTED_SERIES).filter((s) => !TESTED_SERIES.includes(s)), [],
      `GS_SERIES: make test's patched series are ${TESTED_SERIES.join(', ')} (the others: gs-kit vm test --series)`);
    t.deepEqual(pick(process.env.GS_STOCK_SERIES, stock).filter((s) => !stock.includes(s)), [],
      `GS_STOCK_SERIES: make test's stock kernels are ${stock.join(', ')} (the others: gs-kit vm test --stock --series)`);
  });

  for (const suite of suites) {
    let guest: Promise<Guest> | undefined;
    const prepared = () => (guest ??= suiteGuest(suite.series, profile, suite.stock, ui));

    test.serial(`[${suite.label}] the kernel boots and the module builds for it without warnings`, async (t) => {
      const g = await prepared();
      const series = suite.stock ? STOCK_SERIES.find((s) => s.name === suite.series)!.series : suite.series;
      t.regex(g.release, new RegExp(`^${series.replace('.', '\\.')}\\.`));
      t.deepEqual(g.moduleWarnings, []);
    });

    // Stock mode makes no promise that needs the reserves patch (README): those scenarios are not run there.
    for (const scenario of suite.stock ? stockScenarios(SUITE) : SUITE) {
      test.serial(`[${suite.label}] ${scenario.name}: ${scenario.title}`, async (t) => {
        const g = await prepared();
        const run = await runScenario(scenario, g, { slowdown: profile === 'debug' ? 3 : 1, hook: g.hook });
        // Before the assertions: a failed one ends the test.
        if (!passed(run)) t.log(run.boot.console);
        for (const c of run.checks) t.true(c.ok, `${c.name}${c.detail ? `: ${c.detail}` : ''}`);
      });
    }
  }
}
