import { parseGuestOutput, type GuestReport } from '../lib/guest-protocol.js';
import { commonChecks, type Check, type Scenario } from '../lib/scenarios.js';
import { buildTestPrograms } from './initramfs.js';
import { repoRoot } from './paths.js';
import { boot, type BootResult } from './qemu.js';

export interface ScenarioRun {
  scenario: Scenario;
  boot: BootResult;
  report: GuestReport;
  checks: Check[];
}

/** Boot one guest for @scenario and judge what it reported. */
export async function runScenario(
  scenario: Scenario, kernel: string, initrd: string, timeoutMs = scenario.hostRoot ? 400_000 : 120_000,
): Promise<ScenarioRun> {
  const hostRoot = scenario.hostRoot
    ? ` gs.repo=${repoRoot()} gs.progs=${await buildTestPrograms()}`
    : '';
  const result = await boot({
    kernel, initrd, memoryMb: scenario.memoryMb, timeoutMs,
    append: `gs.scenario=${scenario.name}${hostRoot}`, shareHostRoot: Boolean(scenario.hostRoot),
  });
  const report = parseGuestOutput(result.console);
  const checks = [
    ...(result.timedOut ? [{ name: `the guest finished within ${timeoutMs / 1000} s`, ok: false }] : []),
    ...commonChecks(report),
    ...scenario.checks(report),
  ];
  return { scenario, boot: result, report, checks };
}
