import test from 'ava';
import { runScenario } from '../src/adapters/guest.js';
import { prepareGuest } from '../src/services/guests.js';
import { SERIES_NAMES } from '../src/lib/kernels.js';
import { ALL_SCENARIOS } from '../src/lib/scenarios.js';

/*
 * Every scenario boots its own guest on each distribution kernel, so that
 * one scenario's OOM cannot disturb the next. The checks are the same ones
 * `gs-kit vm test` prints; each is asserted here on its own.
 */
const seriesList = process.env.GS_SERIES ? process.env.GS_SERIES.split(',') : [...SERIES_NAMES];
// GS_PROFILE=debug runs the suite on the debug kernel (KASAN, lockdep, kmemleak...).
const profile = process.env.GS_PROFILE === 'debug' ? 'debug' : 'qemu';

for (const series of seriesList) {
  let guest: Promise<Awaited<ReturnType<typeof prepareGuest>>> | undefined;
  const prepared = () => (guest ??= prepareGuest(series, profile));

  test.serial(`[${series}${profile === 'debug' ? ' debug' : ''}] the patched kernel and the module build without module warnings`, async (t) => {
    const { artifacts } = await prepared();
    t.regex(artifacts.release, new RegExp(`^${series.replace('.', '\\.')}\\.`));
    t.deepEqual(artifacts.moduleWarnings, []);
  });

  for (const scenario of ALL_SCENARIOS) {
    test.serial(`[${series}${profile === 'debug' ? ' debug' : ''}] ${scenario.name}: ${scenario.title}`, async (t) => {
      const { artifacts, initrd } = await prepared();
      const run = await runScenario(scenario, artifacts.bzImage, initrd, { slowdown: profile === 'debug' ? 3 : 1 });
      // Before the assertions: a failed one ends the test.
      if (!run.checks.every((c) => c.ok)) t.log(run.boot.console);
      for (const c of run.checks) t.true(c.ok, `${c.name}${c.detail ? `: ${c.detail}` : ''}`);
    });
  }
}
