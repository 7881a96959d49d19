import test from 'ava';
import { judgeBoot, judgeScenario, scenarioVerdict, type BootOutcome } from '../src/lib/judge.js';
import { check } from '../src/lib/checks.js';
import type { Scenario } from '../src/lib/scenario.js';

const CLEAN = ['@gs hook patched', '@gs step done', '@gs alive yes', '@gs-dmesg-begin', '[ 1.0] ok', '@gs-dmesg-end', '@gs-done'].join('\n');
const boot = (console: string, timedOut = false): BootOutcome => ({ console, timedOut, exitCode: 0, durationMs: 1500 });
const scenario: Scenario = {
  name: 'probe', title: 'a probe', memoryMb: 64,
  checks: (r) => [check('the step was done', r.facts.get('step')?.at(-1) === 'done')],
};

test('a boot is judged by the checks every boot must pass, then its own', (t) => {
  const j = judgeBoot(boot(CLEAN), () => [check('its own', true)], { limit: '120 s' });
  t.deepEqual(j.checks.map((c) => c.name), [
    'the guest ran to the end of its scenario',
    'the kernel log has no BUG, WARNING, Oops, hung task or lockdep report',
    'its own',
  ]);
  t.true(j.checks.every((c) => c.ok));
});

test('a boot that ran out of time fails first, naming its limit as the caller says it', (t) => {
  const j = judgeBoot(boot(CLEAN, true), () => [], { limit: '30 min' });
  t.deepEqual(j.checks[0], { name: 'the guest finished within 30 min', ok: false });
});

test('with a hook, every module load must report it', (t) => {
  const j = judgeBoot(boot(CLEAN), () => [], { limit: '120 s', hook: 'stock' });
  t.deepEqual(j.checks.find((c) => /mode/.test(c.name)), { name: 'the module ran in stock mode', ok: false, detail: 'patched' });
});

test('a scenario run carries its scenario, and its limit in seconds', (t) => {
  const run = judgeScenario(scenario, boot(CLEAN, true), 120_000);
  t.is(run.scenario, scenario);
  t.is(run.checks[0]!.name, 'the guest finished within 120 s');
  t.true(run.checks.at(-1)!.ok);
});

test('a verdict shows the console only of a failed run, and only when asked', (t) => {
  const passed = judgeScenario(scenario, boot(CLEAN), 120_000);
  const failed = judgeScenario(scenario, boot('@gs step half'), 120_000);
  t.is(scenarioVerdict(passed, '6.1', true).console, undefined);
  t.is(scenarioVerdict(failed, '6.1').console, undefined);
  t.is(scenarioVerdict(failed, '6.1 debug', true).console, '@gs step half', 'the whole console, as the guest printed it');
  t.like(scenarioVerdict(failed, '6.1'), { label: '6.1', name: 'probe', title: 'a probe', durationMs: 1500 });
});
