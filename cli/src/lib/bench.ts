/**
 * `gs-kit bench`: the bench guests and their verdicts, and the shape of
 * bench/results.json (rendered by bench-render.ts). Pure.
 *
 * Guests run under TCG on a shared 2-core host, so absolute times are only
 * comparable within one run: every comparison is also given as a ratio.
 */
import { findSplats, type GuestReport } from './guest-protocol.js';
import type { Check } from './checks.js';
import type { Scenario } from './scenario.js';
import type { Summary } from './stats.js';
import {
  forkExecLatencies, handlerLatencies, killDelayResult, lastFact, registryResult, saveTrials, values, type HostInfo,
  type KillDelayResult, type LatencyResult, type RegistryResult, type SaveCell, type SaveTrial,
} from './bench-parse.js';

// ---- the bench guests ----

const TRIAL_LIMIT_NOTE = 'every trial reported';

function benchCheck(name: string, ok: boolean, detail?: string): Check {
  return ok || detail === undefined ? { name, ok } : { name, ok, detail };
}

function errorsOf(report: GuestReport): Check {
  const errors = values(report, 'error');
  return benchCheck('the guest reported no error', errors.length === 0, errors.join('; '));
}

export const BENCH_LATENCY: Scenario = {
  name: 'bench_latency',
  title: 'bench: handler start latency and added kill delay (memcg OOM)',
  memoryMb: 256,
  checks: (r) => {
    const trials = Number(lastFact(r, 'trials') ?? NaN);
    const splats = killDelayResult(r).splats;
    return [
      errorsOf(r),
      benchCheck(`${TRIAL_LIMIT_NOTE}: a handler record per gs trial`, handlerLatencies(r).length === trials,
        `${handlerLatencies(r).length} of ${trials}`),
      benchCheck(`${TRIAL_LIMIT_NOTE}: a fork+exec sample per trial`, forkExecLatencies(r).length === trials,
        `${forkExecLatencies(r).length} of ${trials}`),
      benchCheck('no BUG, WARNING or Oops during the trials', splats.length === 0, splats.join('\n')),
    ];
  },
};

export const BENCH_REGISTRY: Scenario = {
  name: 'bench_registry',
  title: 'bench: registry cost with 1 to 4,096 entries',
  memoryMb: 1024,
  // add_reading times a registration on one CPU while the other reads the file.
  smp: 2,
  timeoutMs: 900_000,
  checks: (r) => {
    const rows = registryResult(r).rows;
    return [
      errorsOf(r),
      benchCheck('every size read back its entries', rows.length > 0 && rows.every((row) => row.readBack === row.entries),
        rows.map((row) => `${row.entries}: ${row.readBack}`).join(', ')),
    ];
  },
};

export const BENCH_SAVE: Scenario = {
  name: 'bench_save',
  title: 'bench: graceful-save success vs allocation rate (gs-kit, earlyoom, nohang, stock)',
  memoryMb: 256,
  hostRoot: true,
  timeoutMs: 3_000_000,
  checks: (r) => [
    errorsOf(r),
    benchCheck('trials were run', saveTrials(r).length > 0),
  ],
};

// ---- results.json ----

export interface PartNotDone {
  part: string;
  why: string;
}

export interface BuildTiming {
  /** Cold `gs-kit build-kernel` (qemu profile): extract, patch, configure, kernel, module. */
  coldQemuBuildS: number | null;
  /** The same tree, unpatched, plain `make tinyconfig && make -jN`. */
  plainTinyconfigBuildS: number | null;
  /** ensureBuild again with the kernel cached: the module step (and the source hash). */
  moduleRebuildS: number | null;
  /** Every guest scenario of the suite, one boot each, for one series. */
  suiteWallS: number | null;
  suiteScenarios: number | null;
  jobs: number;
}

export interface BenchResults {
  schema: 1;
  generatedAt: string;
  host: HostInfo;
  guest: { series: string; kernelRelease: string; accel: 'tcg'; smp: number; clocksource: string | null };
  latency: LatencyResult | null;
  killDelay: KillDelayResult | null;
  registry: RegistryResult | null;
  save: {
    cells: SaveCell[];
    trials: SaveTrial[];
    memcgMax: string;
    handlerWaitMs: number;
    /** How long one OOM held the OOM killer (module start line to kill), ms, per gs-kit contender. */
    holdMs?: Record<string, Summary>;
    tools: Record<string, string>;
    /** The kernel's OOM and module lines of each trial whose state was not saved. */
    failedTrialKernelLog?: Record<string, string[]>;
  } | null;
  /** The latency and save guests again on the distribution's own kernel, the module in stock mode. */
  stock: {
    kernelRelease: string;
    latency: LatencyResult | null;
    killDelay: KillDelayResult | null;
    save: BenchResults['save'];
  } | null;
  build: BuildTiming | null;
  notDone: PartNotDone[];
  notes: string[];
}

