/**
 * `gs-kit bench`: the bench guests and their verdicts, and the shape of
 * bench/results.json (rendered by bench-render.ts). Pure.
 *
 * Guests run under TCG on a shared 2-core host, so absolute times are only
 * comparable within one run: every comparison is also given as a ratio.
 */
import type { Flavour } from './stock.js';
import { fact, facts, type GuestReport } from './guest-protocol.js';
import { check, type Check } from './checks.js';
import type { Scenario } from './scenario.js';
import type { Summary } from './stats.js';
import {
  forkExecLatencies, handlerLatencies, killDelayResult, registryResult, saveTrials, type HostInfo,
  type KillDelayResult, type LatencyResult, type RegistryResult, type SaveCell, type SaveTrial,
} from './bench-parse.js';

// ---- what a bench runs ----

/** The parts of `gs-kit bench`, in the order they run. */
export const BENCH_PARTS = ['latency', 'registry', 'save', 'savesize', 'stock', 'build', 'suite'] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

/** What one `gs-kit bench` measures, from its options. */
export interface BenchPlan {
  series: string;
  /** Which of Debian's kernels of the series the stock part boots (generic, cloud, rt). */
  flavour: Flavour;
  parts: ReadonlySet<BenchPart>;
  /** memcg OOM and fork+exec trials of the latency parts. */
  trials: number;
  /** Trials per contender and rate of the graceful-save parts. */
  saveTrials: number;
  /** Repeats of each registry operation per size. */
  repeats: number;
  /** Allocation rates of the graceful-save parts, MB/s (0: no limit). */
  rates: number[];
  /** Where the timed kernel builds go. */
  scratch: string;
}

/** The host's programs the graceful-save parts run in the guest: two contenders and the global runs' ballast. */
export const SAVE_TOOLS = ['earlyoom', 'nohang', 'stress-ng'] as const;

/** What the graceful-save figures mean, printed under them. */
export const SAVE_NOTE = 'Graceful save: the workload pre-writes its 64 KiB state file, so saving it needs no new memory, and saves it from a thread of its own on SIGUSR1 (gs-kit handler) or SIGTERM (earlyoom, nohang); success = the state file says saved after the workload died. gs-memcg: 64 MiB memory.max; global contenders: 256 MiB guest with a stress-ng ballast leaving ~80 MiB. earlyoom and nohang both SIGTERM the process with the highest oom_score below 10 % MemAvailable and SIGKILL below 5 %. Stock: the patched kernel without the module, memcg OOM; nothing asks the workload to save.';

/** What the stock-mode rows mean. */
export const STOCK_NOTE = 'Stock mode: Debian\'s unmodified kernel of the same series with the module\'s own hook (an ftrace direct call at oom_kill_process) and no gs-kit patch, so handlers of a global OOM have no access to the memory reserves (README, stock mode).';

/** What the guests' clock is, given the kernel command-line words that pin its TSC (none: not constant). */
export function clockNote(tscAppend: string): string {
  return tscAppend
    ? `Guests boot with "${tscAppend}": under TCG the guest TSC is the host's, and without a given frequency the guest often fails to calibrate it under load and falls back to jiffies (4 ms steps).`
    : 'The host TSC is not constant: guests may fall back to a jiffies clock (4 ms steps).';
}

// ---- the bench guests ----

const TRIAL_LIMIT_NOTE = 'every trial reported';

function errorsOf(report: GuestReport): Check {
  const errors = facts(report, 'error');
  return check('the guest reported no error', errors.length === 0, errors.join('; '));
}

export const BENCH_LATENCY: Scenario = {
  name: 'bench_latency',
  title: 'bench: handler start latency and added kill delay (memcg OOM)',
  memoryMb: 256,
  checks: (r) => {
    const trials = Number(fact(r, 'trials') ?? NaN);
    const splats = killDelayResult(r).splats;
    return [
      errorsOf(r),
      check(`${TRIAL_LIMIT_NOTE}: a handler record per gs trial`, handlerLatencies(r).length === trials,
        `${handlerLatencies(r).length} of ${trials}`),
      check(`${TRIAL_LIMIT_NOTE}: a waiter's handler record per waiter trial`, handlerLatencies(r, 'waiter').length === trials,
        `${handlerLatencies(r, 'waiter').length} of ${trials}`),
      check(`${TRIAL_LIMIT_NOTE}: a fork+exec sample per trial`, forkExecLatencies(r).length === trials,
        `${forkExecLatencies(r).length} of ${trials}`),
      check('no BUG, WARNING or Oops during the trials', splats.length === 0, splats.join('\n')),
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
      check('every size read back its entries', rows.length > 0 && rows.every((row) => row.readBack === row.entries),
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
    check('trials were run', saveTrials(r).length > 0),
  ],
};

/** What the save-size figures mean, printed under them. */
export const SAVESIZE_NOTE = 'Save size: a handler (test_programs/gs_save.c) writes a checkpoint of N MiB in 1 MiB writes from one locked buffer, with O_DIRECT on the disk (a virtio disk holding ext4, backed by a file with cache=unsafe on the host) and through the page cache on tmpfs, then syncs: a new file with fsync(), which on ext4 waits for a journal commit by jbd2, a kernel thread with no access to the memory reserves in a global OOM; a file written ahead of the OOM (disk-ahead) overwritten in place with fdatasync(), which needs no new block and no journal commit. N doubles from 4 MiB until a save does not complete before its victim is killed, with the module\'s default bounds (timeout_ms 5000). memcg: the victim in a 64 MiB cgroup; global1: one process allocating without a limit in a 512 MiB guest; global4: the registered victim (oom_score_adj 1000, so chosen first) and three more allocating at once.';

/** The largest save of each target and OOM kind, from the trials. */
export function saveSizeResult(r: GuestReport): SaveSizeResult {
  const trials: SaveSizeTrial[] = facts(r, 'savesize').map((line) => {
    const f = Object.fromEntries(line.split(/\s+/).map((w) => w.split('=') as [string, string]));
    return {
      target: f.target ?? '?', kind: f.kind ?? '?', mb: Number(f.mb), saved: f.saved === '1',
      ms: f.ms === undefined ? null : Number(f.ms), direct: f.direct === '1',
    };
  });
  const cells: SaveSizeCell[] = [];
  for (const t of trials) {
    let cell = cells.find((c) => c.target === t.target && c.kind === t.kind);
    if (!cell) cells.push(cell = { target: t.target, kind: t.kind, largestSavedMb: 0, firstFailedMb: null, msAtLargest: null });
    if (t.saved && t.mb > cell.largestSavedMb) {
      cell.largestSavedMb = t.mb;
      cell.msAtLargest = t.ms;
    }
    if (!t.saved && (cell.firstFailedMb === null || t.mb < cell.firstFailedMb)) cell.firstFailedMb = t.mb;
  }
  return { sizesMb: (fact(r, 'save_sizes') ?? '').split(/\s+/).filter(Boolean).map(Number), cells, trials };
}

export interface SaveSizeTrial {
  target: string;
  kind: string;
  mb: number;
  saved: boolean;
  /** How long the save took, in the handler (null when it did not complete). */
  ms: number | null;
  direct: boolean;
}

export interface SaveSizeCell {
  target: string;
  kind: string;
  /** The largest checkpoint saved before the kill (0: not even the smallest). */
  largestSavedMb: number;
  /** The smallest that was not (null: every size tried was). */
  firstFailedMb: number | null;
  msAtLargest: number | null;
}

export interface SaveSizeResult {
  sizesMb: number[];
  cells: SaveSizeCell[];
  trials: SaveSizeTrial[];
}

export const BENCH_SAVESIZE: Scenario = {
  name: 'bench_savesize',
  title: 'bench: the largest checkpoint a handler saves before its victim is killed',
  memoryMb: 512,
  diskMb: 512,
  timeoutMs: 1_800_000,
  checks: (r) => {
    const cells = saveSizeResult(r).cells;
    return [
      errorsOf(r),
      check('the scratch disk was mounted (ext4)', fact(r, 'disk') === 'yes', fact(r, 'disk')),
      check('every target and OOM kind was measured', cells.length === 9, cells.map((c) => `${c.target}/${c.kind}`).join(', ')),
    ];
  },
};

// ---- results.json ----

export interface PartNotDone {
  part: string;
  why: string;
  /** The part of `gs-kit bench` it belongs to (its file holds it). */
  of?: BenchPart;
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
  /** The largest checkpoint a handler saves before its victim's kill, by target and OOM kind. */
  savesize?: SaveSizeResult | null;
  build: BuildTiming | null;
  notDone: PartNotDone[];
  notes: string[];
}


// ---- where results go ----

/**
 * The files under bench/ that `gs-kit bench` writes, and the parts each
 * holds: the files the docs quote, named in this one place. A run writes
 * every file whose parts it ran, so `make bench` (every part) writes them
 * all anew from one run.
 */
export const BENCH_FILES: readonly { name: (series: string) => string; parts: readonly BenchPart[] }[] = [
  { name: () => 'results.json', parts: BENCH_PARTS },
  { name: (series) => `save-${series}.json`, parts: ['latency', 'save', 'stock'] },
  { name: (series) => `registry-${series}.json`, parts: ['registry'] },
  { name: (series) => `latency-${series}.json`, parts: ['latency'] },
  { name: (series) => `savesize-${series}.json`, parts: ['savesize'] },
];

/** The files of BENCH_FILES a run of @parts on @series writes, with the parts each holds. */
export function benchFiles(series: string, parts: ReadonlySet<BenchPart>): { name: string; parts: readonly BenchPart[] }[] {
  return BENCH_FILES.filter((f) => f.parts.every((p) => parts.has(p))).map((f) => ({ name: f.name(series), parts: f.parts }));
}

/**
 * @results cut to @parts: the run's host, guest and notes, those parts'
 * figures and what they could not do; the other parts' figures null.
 */
export function partResults(results: BenchResults, parts: readonly BenchPart[]): BenchResults {
  const has = (p: BenchPart) => parts.includes(p);
  const b = results.build;
  const build = b && (has('build') || has('suite')) ? {
    ...b,
    ...(has('build') ? {} : { coldQemuBuildS: null, plainTinyconfigBuildS: null, moduleRebuildS: null }),
    ...(has('suite') ? {} : { suiteWallS: null, suiteScenarios: null }),
  } : null;
  return {
    ...results,
    latency: has('latency') ? results.latency : null,
    killDelay: has('latency') ? results.killDelay : null,
    registry: has('registry') ? results.registry : null,
    save: has('save') ? results.save : null,
    savesize: has('savesize') ? results.savesize ?? null : null,
    stock: has('stock') ? results.stock : null,
    build,
    notDone: results.notDone.filter((n) => n.of === undefined || has(n.of)),
  };
}
