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

/** Guest RAM at least, on the debug kernels (those of the global scenarios, which passed there). */
const DEBUG_MIN_MEMORY_MB = 192;

/** Boot one guest for @scenario and judge what it reported. */
export async function runScenario(
  scenario: Scenario, kernel: string, initrd: string, options: RunOptions | number = {},
): Promise<ScenarioRun> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const slowdown = opts.slowdown && opts.slowdown > 1 ? opts.slowdown : 1;
  const timeoutMs = opts.timeoutMs ?? (scenario.timeoutMs ?? (scenario.hostRoot ? 600_000 : 120_000)) * slowdown;
  const hostRoot = scenario.hostRoot
    ? ` gs.repo=${repoRoot()} gs.progs=${await buildTestPrograms()}`
    : '';
  // A debug kernel (KASAN shadow, lockdep, ftrace) needs more of a small guest than the 128 MiB some scenarios give.
  const memoryMb = opts.memoryMb ?? (slowdown > 1 ? Math.max(scenario.memoryMb, DEBUG_MIN_MEMORY_MB) : scenario.memoryMb);
  const result = await boot({
    kernel, initrd, memoryMb, timeoutMs,
    ...(scenario.smp ? { smp: scenario.smp } : {}),
    // gs.slowdown: the guest scales the handler time budgets that are not what a scenario measures.
    // watchdog_thresh: a debug kernel under TCG unpacks its initramfs for over 20 s without a schedule (a false soft lockup).
    append: [`gs.scenario=${scenario.name}${hostRoot}`, slowdown > 1 ? `gs.slowdown=${slowdown} watchdog_thresh=60` : '', scenario.append, opts.append]
      .filter(Boolean).join(' '),
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
