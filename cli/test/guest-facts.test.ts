import test from 'ava';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../src/adapters/paths.js';
import { killDelayResult, latencyResult, registryResult, saveHoldMs, saveKernelLines, saveTools, saveTrials } from '../src/lib/bench-parse.js';
import { CATALOGUE, scenarioScript } from '../src/lib/catalogue.js';
import { fact, type GuestReport } from '../src/lib/guest-protocol.js';
import { commonChecks, hookChecks } from '../src/lib/scenario.js';
import { soakSummary } from '../src/lib/soak.js';
import { lifecycleSummary } from '../src/lib/soak-lifecycle.js';
import { stage1Checks, stage2Checks } from '../src/lib/system-test.js';
import { victimTimeline } from '../src/lib/timeline.js';
import { GuestScripts } from './helpers/guest-script.js';

/*
 * A scenario's checks are TypeScript and its guest says its facts in sh:
 * a key misspelt on either side would be found only after a boot. These
 * tests read every fact key the checks (and the summaries built from the
 * same boots) read, and hold each to the keys the scenario's script, with
 * the helpers it calls, can say.
 */

/**
 * The fact keys @read reads from a report, whatever the guest said: run on
 * reports that answer nothing, then every key with the same value, so that
 * the checks behind an "if the guest said yes" are read too.
 */
function keysRead(read: (r: GuestReport) => unknown): Set<string> {
  const keys = new Set<string>();
  for (const value of [undefined, 'yes', 'ok 1', '1', '137', 'none']) {
    const facts = new (class extends Map<string, string[]> {
      override get(key: string) {
        keys.add(key);
        return value === undefined ? undefined : [value, value, value, value, value];
      }
      override has(key: string) {
        keys.add(key);
        return value !== undefined;
      }
    })();
    try {
      read({ facts, dmesg: '', console: '', done: true });
    } catch {
      // A check that throws on nonsense still told which keys it read first.
    }
  }
  return keys;
}

/** What is read of each scenario's boots besides its checks: the summaries and results built from them. */
const ALSO_READ: Readonly<Record<string, (r: GuestReport) => unknown>> = {
  memcg: (r) => [victimTimeline(r), fact(r, 'victim'), fact(r, 'listing')],
  soak: (r) => soakSummary(r, 1000),
  lifecycle_stress: (r) => lifecycleSummary(r),
  bench_latency: (r) => [latencyResult(r), killDelayResult(r)],
  bench_registry: (r) => registryResult(r),
  bench_save: (r) => [saveTrials(r), saveKernelLines(r), saveHoldMs(r), saveTools(r)],
};

const repo = repoRoot();
const guest = new GuestScripts(repo, ['vm/guest/lib.sh']);
/** What every boot can say: init, and anything a guest library function says. */
const initSays = guest.says('vm/guest/init');
const librarySays = guest.says('vm/guest/lib.sh');

function unsaid(read: Set<string>, says: (key: string) => boolean): string[] {
  return [...read].filter((k) => !says(k)).sort();
}

test('every key the judge reads of every boot is one the guest init or its library says', (t) => {
  const read = keysRead((r) => [commonChecks(r), hookChecks(r, 'patched')]);
  t.true(read.size > 0);
  t.deepEqual(unsaid(read, (k) => initSays(k) || librarySays(k)), []);
});

for (const scenario of CATALOGUE) {
  test(`every fact key the ${scenario.name} checks read is one its script says`, (t) => {
    const says = guest.says(scenarioScript(scenario.name));
    const read = keysRead((r) => [scenario.checks(r), ALSO_READ[scenario.name]?.(r)]);
    t.deepEqual(unsaid(read, (k) => says(k) || initSays(k)), [], `${scenarioScript(scenario.name)} never says these`);
  });
}

test('every scenario of the catalogue has its guest script, and every guest script is a scenario or a stage of one', async (t) => {
  const scripts = (await readdir(join(repo, 'vm', 'guest', 'scenarios'))).filter((f) => f.endsWith('.sh')).map((f) => `vm/guest/scenarios/${f}`);
  const named = CATALOGUE.map((s) => scenarioScript(s.name));
  t.deepEqual(named.filter((s) => !scripts.includes(s)), []);
  t.deepEqual(scripts.filter((s) => !named.includes(s) && !s.endsWith('_stage2.sh')), []);
  t.is(new Set(CATALOGUE.map((s) => s.name)).size, CATALOGUE.length, 'no two scenarios share a name');
});

test('every fact key the system test\'s stage checks read is one its stage scripts say', (t) => {
  const system = new GuestScripts(repo, ['vm/system/lib.sh']);
  const runner = system.says('vm/system/gs-system-stage');
  for (const [stage, checks] of [
    ['vm/system/stage1.sh', (r: GuestReport) => [stage1Checks(r, '6.1.0-gs', 'deb'), stage1Checks(r, '6.1.0-gs', 'stock')]],
    ['vm/system/stage2.sh', (r: GuestReport) => [stage2Checks(r, '6.1.0-gs', 'x', 'deb'), stage2Checks(r, '6.1.0-gs', 'x', 'stock')]],
  ] as const) {
    const says = system.says(stage);
    t.deepEqual(unsaid(keysRead(checks), (k) => says(k) || runner(k)), [], `${stage} never says these`);
  }
});

test('the reader sees a misspelt key: a check reading one the script never says fails this test', (t) => {
  const says = guest.says(scenarioScript('memcg'));
  t.true(says('oom_kill'));
  t.true(says('listing_after'));
  t.true(says('rec'), 'say_record, a library helper, says rec');
  t.true(says('insmod'), 'load_module says insmod');
  t.false(says('oom_kills'));
  t.deepEqual(unsaid(keysRead((r) => fact(r, 'oom_kills')), says), ['oom_kills']);
});

test('a key a script builds from a variable is a pattern; a helper says the key its caller names', (t) => {
  const latency = guest.says(scenarioScript('bench_latency'));
  t.true(latency('lat_gs'));
  t.true(latency('k_stock'));
  t.false(latency('lat'));
  const tree = guest.says(scenarioScript('tree'));
  t.true(tree('rec_own'), 'say_file rec_own FILE');
  t.true(tree('rec_plain'), 'say_wrote rec_plain PID');
  const cli = guest.says(scenarioScript('cli'));
  t.true(cli('unregister_again_rc'), 'said by cli-stage2.sh, which cli.sh hands over to');
});
