/**
 * Every guest scenario gs-kit boots, in one catalogue that `vm test`, the
 * guest suite, `demo`, `soak` and `bench` all take theirs from. Scenario
 * NAME runs vm/guest/scenarios/NAME.sh in the guest (which may hand over
 * to a stage-2 script it names); its checks sit with its definition, in
 * the file this catalogue imports it from. A unit test holds every check
 * to the facts its script says (cli/test/guest-facts.test.ts). Pure.
 */
import { BENCH_LATENCY, BENCH_REGISTRY, BENCH_SAVE, BENCH_SAVESIZE } from './bench.js';
import { GsError } from './errors.js';
import type { Scenario } from './scenario.js';
import { ALL_SCENARIOS } from './scenarios.js';
import { LIFECYCLE_STRESS_SCENARIO } from './soak-lifecycle.js';
import { SOAK_SCENARIO } from './soak.js';

/** The guest suite: `vm test` and `npm run test:vm` boot each on every series. */
export const SUITE: readonly Scenario[] = ALL_SCENARIOS;

/** The soak's own boots (it also boots the suite's global4 and global8 many times). */
export const SOAK: readonly Scenario[] = [SOAK_SCENARIO, LIFECYCLE_STRESS_SCENARIO];

/** The bench's guests. */
export const BENCH: readonly Scenario[] = [BENCH_LATENCY, BENCH_REGISTRY, BENCH_SAVE, BENCH_SAVESIZE];

/** Every scenario, by name. */
export const CATALOGUE: readonly Scenario[] = [...SUITE, ...SOAK, ...BENCH];

/** The guest script of scenario @name, relative to the checkout. */
export function scenarioScript(name: string): string {
  return `vm/guest/scenarios/${name}.sh`;
}

/** The scenario called @name, of @among (default: the catalogue); a usage error naming the choices if none. */
export function scenarioNamed(name: string, among: readonly Scenario[] = CATALOGUE): Scenario {
  const s = among.find((x) => x.name === name);
  if (!s) throw new GsError(`There is no scenario "${name}".`, `Choose from ${among.map((x) => x.name).join(', ')}.`, 'usage');
  return s;
}
