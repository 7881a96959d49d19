/** Booting a scenario's guest: its kernel command line, memory, CPUs and time limit, the host root and a scratch disk when it needs them. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GsError } from '../lib/errors.js';
import type { Scenario } from '../lib/scenario.js';
import { run } from './exec.js';
import { buildTestPrograms } from './initramfs.js';
import { repoRoot } from './paths.js';
import { boot, type BootResult } from './qemu.js';

/** An empty ext4 file system of @mb MiB in a sparse file under @dir. */
async function scratchDisk(dir: string, mb: number): Promise<string> {
  const image = join(dir, 'scratch.img');
  const r = await run(['mkfs.ext4', '-q', '-F', image, `${mb}M`]);
  if (r.exitCode !== 0) {
    throw new GsError(`mkfs.ext4 failed: ${r.stderr.trim()}`, 'Install e2fsprogs (apt-get install e2fsprogs).', 'dependency');
  }
  return image;
}

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
  const scratch = scenario.diskMb ? await mkdtemp(join(tmpdir(), 'gs-disk-')) : undefined;
  try {
    const drives = scratch ? [await scratchDisk(scratch, scenario.diskMb!)] : [];
    const result = await boot({
      kernel, initrd, memoryMb, timeoutMs, drives,
      ...(scenario.smp ? { smp: scenario.smp } : {}),
      // gs.slowdown: the guest scales the handler time budgets that are not what a scenario measures.
      // watchdog_thresh: a debug kernel under TCG unpacks its initramfs for over 20 s without a schedule (a false soft lockup).
      append: [`gs.scenario=${scenario.name}${hostRoot}`, slowdown > 1 ? `gs.slowdown=${slowdown} watchdog_thresh=60` : '', scenario.append, opts.append]
        .filter(Boolean).join(' '),
      shareHostRoot: Boolean(scenario.hostRoot),
    });
    return { boot: result, timeoutMs };
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}
