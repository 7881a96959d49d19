/** Booting a scenario's guest: its kernel command line, memory, CPUs and time limit, and the host root when it needs it. */
import type { Scenario } from '../lib/scenario.js';
import { buildTestPrograms } from './initramfs.js';
import { repoRoot } from './paths.js';
import { boot, type BootResult } from './qemu.js';

export interface BootOptions {
  /** Hard limit for the boot. */
  timeoutMs?: number;
  /** More kernel command line, e.g. "gs.count=200" for the scenario to read. */
  append?: string;
  /** Multiply the default timeouts: debug kernels (KASAN, lockdep) run several times slower. */
  slowdown?: number;
  /** Guest RAM instead of the scenario's (debug kernels keep much of it for themselves). */
  memoryMb?: number;
}

/** Guest RAM at least, on the debug kernels (those of the global scenarios, which passed there). */
const DEBUG_MIN_MEMORY_MB = 192;

/** Boot one guest for @scenario; the boot and the limit it had. */
export async function bootScenario(
  scenario: Scenario, kernel: string, initrd: string, opts: BootOptions = {},
): Promise<{ boot: BootResult; timeoutMs: number }> {
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
  return { boot: result, timeoutMs };
}
