import test from 'ava';
import { SERIES_NAMES, SUITE_GROUPS } from '../src/lib/kernels.js';
import { stockScenarios } from '../src/lib/scenario.js';
import { SUITE } from '../src/lib/catalogue.js';
import { STOCK_SERIES } from '../src/lib/stock.js';
import { runScenario, suiteGuest, type Guest } from '../src/services/guests.js';
import { passed } from '../src/lib/checks.js';
import { consoleUi } from '../src/ui/render.js';

/*
 * Every scenario boots its own guest, so that one scenario's OOM cannot
 * disturb the next: on each patched kernel (5.4.1, and Debian's 6.1 and
 * 6.12 sources), then on Debian's own unmodified 6.1 and 6.12 kernels with
 * the module in stock mode. The checks are the ones `gs-kit vm test`
 * prints; each is asserted here on its own. Each test file runs the series
 * of one SUITE_GROUPS group; ava runs the files side by side.
 *
 * GS_SERIES=6.1 runs one patched series; GS_STOCK_SERIES=6.12 one stock
 * series ("none" for none). GS_PROFILE=debug runs the suites on the debug
 * kernels (KASAN, lockdep, kmemleak...): the patched ones, then, since
 * Debian has no debug kernel, the stock-mode module on our debug 6.1 and
 * 6.12 (the patch there, unused).
 */
const pick = (env: string | undefined, all: readonly string[]) =>
  env === 'none' ? [] : env ? env.split(',') : [...all];

export function defineSuites(group: number): void {
  const mine = (series: string) => SUITE_GROUPS[group]!.includes(series);
  const profile = process.env.GS_PROFILE === 'debug' ? 'debug' : 'qemu';
  const debug = profile === 'debug' ? ' debug' : '';
  const ui = consoleUi();
  const suites = [
    ...pick(process.env.GS_SERIES, SERIES_NAMES).filter(mine).map((series) => ({ label: `${series}${debug}`, series, stock: false })),
    ...pick(process.env.GS_STOCK_SERIES, STOCK_SERIES.map((s) => s.name)).filter(mine)
      .map((name) => ({ label: `${name}${debug} stock`, series: name, stock: true })),
  ];
  // A misspelt series would otherwise select nothing and pass unseen.
  test(`GS_SERIES and GS_STOCK_SERIES name only series the suite has (group ${group + 1})`, (t) => {
    const stock = STOCK_SERIES.map((s) => s.name);
    t.deepEqual(pick(process.env.GS_SERIES, SERIES_NAMES).filter((s) => !SERIES_NAMES.includes(s)), [],
      `GS_SERIES: gs-kit has patches for ${SERIES_NAMES.join(', ')}`);
    t.deepEqual(pick(process.env.GS_STOCK_SERIES, stock).filter((s) => !stock.includes(s)), [],
      `GS_STOCK_SERIES: the stock suites are ${stock.join(', ')}`);
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
