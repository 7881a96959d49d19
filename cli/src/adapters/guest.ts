import { parseGuestOutput, type GuestReport } from '../lib/guest-protocol.js';
import type { Check } from '../lib/checks.js';
import { commonChecks, hookChecks, type Scenario } from '../lib/scenario.js';
import { buildTestPrograms } from './initramfs.js';
import { repoRoot } from './paths.js';
import { boot, type BootResult } from './qemu.js';

export interface ScenarioRun {
  scenario: Scenario;
  boot: BootResult;
  report: GuestReport;
  checks: Check[];
}

export interface RunOptions {
  /** Hard limit for the boot. */
  timeoutMs?: number;
  /** More kernel command line, e.g. "gs.count=200" for the scenario to read. */
  append?: string;
  /** Multiply the default timeouts: debug kernels (KASAN, lockdep) run several times slower. */
  slowdown?: number;
  /** Guest RAM instead of the scenario's (debug kernels keep much of it for themselves). */
  memoryMb?: number;
  /** The mode the module must report each time a scenario loads it. */
  hook?: ModuleHook;
}

export type ModuleHook = 'patched' | 'stock';

/** Boot one guest for @scenario and judge what it reported. */
export async function runScenario(
  scenario: Scenario, kernel: string, initrd: string, options: RunOptions | number = {},
): Promise<ScenarioRun> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const timeoutMs = opts.timeoutMs
    ?? (scenario.timeoutMs ?? (scenario.hostRoot ? 600_000 : 120_000)) * ('slowdown' in opts && opts.slowdown ? opts.slowdown : 1);
  const hostRoot = scenario.hostRoot
    ? ` gs.repo=${repoRoot()} gs.progs=${await buildTestPrograms()}`
    : '';
  const result = await boot({
    kernel, initrd, memoryMb: opts.memoryMb ?? scenario.memoryMb, timeoutMs,
    ...(scenario.smp ? { smp: scenario.smp } : {}),
    append: [`gs.scenario=${scenario.name}${hostRoot}`, scenario.append, opts.append].filter(Boolean).join(' '),
    shareHostRoot: Boolean(scenario.hostRoot),
  });
  const report = parseGuestOutput(result.console);
  const checks = [
    ...(result.timedOut ? [{ name: `the guest finished within ${timeoutMs / 1000} s`, ok: false }] : []),
    ...commonChecks(report),
    ...(opts.hook ? hookChecks(report, opts.hook) : []),
    ...scenario.checks(report),
  ];
  return { scenario, boot: result, report, checks };
}
