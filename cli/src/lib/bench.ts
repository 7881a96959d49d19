/**
 * `gs-kit bench`: the pure part. Statistics (median, p95), what the bench
 * guests report (parsed from their "@gs" lines), the shape of
 * bench/results.json, and the table printed from it. No I/O here.
 *
 * Guests run under TCG on a shared 2-core host, so absolute times are only
 * comparable within one run: every comparison is also given as a ratio.
 */
import { findSplats, type GuestReport } from './guest-protocol.js';
import type { Check } from './checks.js';
import type { Scenario } from './scenario.js';

// ---- statistics ----

export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
}

function sorted(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/** The median (mean of the two middle values for an even count); NaN if empty. */
export function median(values: readonly number[]): number {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile by nearest rank (p in 0..100); NaN if empty. */
export function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const s = sorted(values);
  return {
    n: s.length,
    median: median(s),
    p95: percentile(s, 95),
    min: s.length ? s[0]! : NaN,
    max: s.length ? s[s.length - 1]! : NaN,
  };
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined) return null;
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

// ---- the machine ----

export interface HostInfo {
  nproc: number;
  cpuModel: string;
  memTotalKb: number;
  kernelRelease: string;
  /** The TSC frequency given to the guests (tsc_early_khz), if any. */
  tscKhz: number | null;
}

export function cpuModel(cpuinfo: string): string {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
}

/** A "Key: N kB" value of /proc/meminfo text, or NaN. */
export function meminfoKb(meminfo: string, key: string): number {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(meminfo);
  return m ? Number(m[1]) : NaN;
}

/**
 * The kernel command line that gives a TCG guest a nanosecond clock. Under
 * TCG the guest's TSC is the host's, but the guest often fails to
 * calibrate it or marks it unstable under load, and then falls back to
 * jiffies (4 ms steps), too coarse for these measurements. A host whose
 * TSC is constant tells its frequency ("cpu MHz" with constant_tsc).
 */
export function tscAppend(cpuinfo: string): { append: string; khz: number | null } {
  const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1] ?? NaN);
  if (!Number.isFinite(mhz) || !/\bconstant_tsc\b/.test(cpuinfo)) return { append: '', khz: null };
  const khz = Math.round(mhz * 1000);
  return { append: `tsc_early_khz=${khz} tsc=reliable`, khz };
}

// ---- guest output ----

const PRINTK_TIME = /^\[\s*(\d+\.\d+)\]\s*/;

function values(report: GuestReport, key: string): string[] {
  return report.facts.get(key) ?? [];
}

function lastFact(report: GuestReport, key: string): string | undefined {
  return values(report, key).at(-1);
}

/** "@gs k_<mode> <trial> [time] text": the kernel log lines of one trial. */
export interface TrialLog {
  trial: number;
  invoked?: number;
  start?: number;
  exit?: number;
  killed?: number;
  splats: string[];
}

export function trialLogs(report: GuestReport, mode: 'gs' | 'stock'): TrialLog[] {
  const byTrial = new Map<number, TrialLog>();
  for (const v of values(report, `k_${mode}`)) {
    const m = /^(\d+) (.*)$/.exec(v);
    if (!m) continue;
    const trial = Number(m[1]);
    const line = m[2]!;
    const log = byTrial.get(trial) ?? { trial, splats: [] };
    byTrial.set(trial, log);
    const t = PRINTK_TIME.exec(line);
    const time = t ? Number(t[1]) : NaN;
    // The first of each: one OOM per trial.
    if (/invoked oom-killer/.test(line)) log.invoked ??= time;
    else if (/graceful_shutdown: event=start /.test(line)) log.start ??= time;
    else if (/graceful_shutdown: event=exit /.test(line)) log.exit ??= time;
    else if (/Killed process \d+/.test(line)) log.killed ??= time;
    if (findSplats(line).length) log.splats.push(line);
  }
  return [...byTrial.values()].sort((a, b) => a.trial - b.trial);
}

/** Handler start latencies (ns): record started_ns - GS_CHOSEN_NS. */
export function handlerLatencies(report: GuestReport): number[] {
  const out: number[] = [];
  for (const v of values(report, 'lat_gs')) {
    const [, , started, chosen] = v.split(' ');
    const s = Number(started);
    const c = Number(chosen);
    if (Number.isFinite(s) && Number.isFinite(c)) out.push(s - c);
  }
  return out;
}

/** fork+exec latencies (ns) of forkexec_bench: "@gs fe <trial> <ns>". */
export function forkExecLatencies(report: GuestReport): number[] {
  return values(report, 'fe').map((v) => Number(v.split(' ')[1])).filter(Number.isFinite);
}

export interface LatencyResult {
  trials: number;
  handlerStartUs: Summary;
  forkExecUs: Summary;
  /** handler median / fork+exec median, and the same for p95. */
  ratioMedian: number | null;
  ratioP95: number | null;
  clocksource: string | null;
}

const toUs = (ns: number[]) => ns.map((v) => v / 1000);

export function latencyResult(report: GuestReport): LatencyResult {
  const handler = summarize(toUs(handlerLatencies(report)));
  const fe = summarize(toUs(forkExecLatencies(report)));
  return {
    trials: Number(lastFact(report, 'trials') ?? NaN),
    handlerStartUs: handler,
    forkExecUs: fe,
    ratioMedian: ratio(handler.median, fe.median),
    ratioP95: ratio(handler.p95, fe.p95),
    clocksource: lastFact(report, 'clocksource') ?? null,
  };
}

export interface KillDelayResult {
  /** With the module: chosen (module start line) to "Killed process", ms. */
  gsChosenToKilledMs: Summary;
  /** The handler's run as the module saw it: start line to exit line, ms. */
  gsHandlerRunMs: Summary;
  /** Per trial: chosen→killed minus the handler's run (exit line to kill), ms. */
  gsResidualMs: Summary;
  /** The same OOM, module not loaded: "invoked oom-killer" to "Killed process", ms. */
  stockChosenToKilledMs: Summary;
  /** What the module adds beyond the handler's own run: residual median - stock median, ms. */
  addedMs: number | null;
  /** residual median / stock median. */
  ratio: number | null;
  splats: string[];
}

export function killDelayResult(report: GuestReport): KillDelayResult {
  const gs = trialLogs(report, 'gs');
  const stock = trialLogs(report, 'stock');
  const ms = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) * 1000 : NaN);
  const chosenToKilled = gs.map((t) => ms(t.start, t.killed));
  const handlerRun = gs.map((t) => ms(t.start, t.exit));
  const residual = gs.map((t) => ms(t.exit, t.killed));
  const stockDelay = stock.map((t) => ms(t.invoked, t.killed));
  const res = summarize(residual);
  const st = summarize(stockDelay);
  return {
    gsChosenToKilledMs: summarize(chosenToKilled),
    gsHandlerRunMs: summarize(handlerRun),
    gsResidualMs: res,
    stockChosenToKilledMs: st,
    addedMs: res.n && st.n ? res.median - st.median : null,
    ratio: ratio(res.median, st.median),
    splats: [...gs, ...stock].flatMap((t) => t.splats),
  };
}

export const REGISTRY_OPS = ['add', 'replace', 'remove', 'read'] as const;
export type RegistryOp = (typeof REGISTRY_OPS)[number];

export interface RegistryRow {
  entries: number;
  /** Lines read back after registering: should equal entries. */
  readBack: number | null;
  ops: Record<RegistryOp, Summary>;
}

export interface RegistryResult {
  rows: RegistryRow[];
  /** Each op's median at the largest size / at the smallest. */
  scaling: Record<RegistryOp, number | null>;
}

/** "@gs reg N entries L" and "@gs reg N <op> <ns>...", in µs. */
export function registryResult(report: GuestReport): RegistryResult {
  const rows = new Map<number, RegistryRow>();
  const empty = () => Object.fromEntries(REGISTRY_OPS.map((op) => [op, summarize([])])) as Record<RegistryOp, Summary>;
  for (const v of values(report, 'reg')) {
    const [n, what, ...rest] = v.split(' ');
    const entries = Number(n);
    if (!Number.isFinite(entries) || !what) continue;
    const row = rows.get(entries) ?? { entries, readBack: null, ops: empty() };
    rows.set(entries, row);
    if (what === 'entries') row.readBack = Number(rest[0]);
    else if ((REGISTRY_OPS as readonly string[]).includes(what)) {
      row.ops[what as RegistryOp] = summarize(rest.map(Number).map((ns) => ns / 1000));
    }
  }
  const list = [...rows.values()].sort((a, b) => a.entries - b.entries);
  const first = list[0];
  const last = list.at(-1);
  const scaling = Object.fromEntries(REGISTRY_OPS.map((op) =>
    [op, first && last && first !== last ? ratio(last.ops[op].median, first.ops[op].median) : null])) as Record<RegistryOp, number | null>;
  return { rows: list, scaling };
}

export const CONTENDERS = ['gs-memcg', 'gs-global', 'earlyoom', 'nohang', 'stock'] as const;

export interface SaveTrial {
  contender: string;
  rate: number;
  trial: number;
  saved: boolean;
  status: number;
  leftKb: number | null;
  allocKb: number | null;
  /** From the start of allocation to the signal, ms. */
  goToSignalMs: number | null;
  /** From the signal to the state being on disk, ms. */
  signalToSavedMs: number | null;
}

function kv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

const num = (s: string | undefined): number | null => {
  if (s === undefined || s === '' || s === 'na') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
};

export function saveTrials(report: GuestReport): SaveTrial[] {
  return values(report, 'save').map((line) => {
    const f = kv(line);
    const go = num(f.go_ns);
    const sig = num(f.signal_ns);
    const saved = num(f.saved_ns);
    return {
      contender: f.contender ?? '?',
      rate: num(f.rate) ?? NaN,
      trial: num(f.trial) ?? NaN,
      saved: f.saved === '1',
      status: num(f.status) ?? NaN,
      leftKb: num(f.left_kb),
      allocKb: num(f.alloc_kb),
      goToSignalMs: go !== null && sig !== null ? (sig - go) / 1e6 : null,
      signalToSavedMs: sig !== null && saved !== null ? (saved - sig) / 1e6 : null,
    };
  });
}

/** The kernel log lines of each graceful-save trial ("contender rate trial" → lines). */
export function saveKernelLines(report: GuestReport): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const v of values(report, 'k_save')) {
    const m = /^(\S+ \d+ \d+) (.*)$/.exec(v);
    if (m) (out[m[1]!] ??= []).push(m[2]!);
  }
  return out;
}

export interface SaveCell {
  contender: string;
  /** MiB/s; 0 = no limit. */
  rate: number;
  trials: number;
  saved: number;
  fraction: number;
  /** Median memory left unused when the contender intervened, KiB (null: not measured). */
  leftKbMedian: number | null;
  /** Median of allocated KiB / time to the signal: the rate the guest really reached. */
  achievedMbSMedian: number | null;
  signalToSavedMsMedian: number | null;
}

export function saveCells(trials: readonly SaveTrial[]): SaveCell[] {
  const cells = new Map<string, SaveTrial[]>();
  for (const t of trials) {
    const key = `${t.contender}\0${t.rate}`;
    cells.set(key, [...(cells.get(key) ?? []), t]);
  }
  const orderOf = (c: string) => {
    const i = (CONTENDERS as readonly string[]).indexOf(c);
    return i < 0 ? CONTENDERS.length : i;
  };
  const rateOrder = (r: number) => (r === 0 ? Infinity : r);
  return [...cells.values()].map((ts) => {
    const saved = ts.filter((t) => t.saved).length;
    const left = ts.map((t) => t.leftKb).filter((v): v is number => v !== null);
    const achieved = ts
      .filter((t) => t.allocKb !== null && t.goToSignalMs)
      .map((t) => t.allocKb! / 1024 / (t.goToSignalMs! / 1000));
    const toSave = ts.map((t) => t.signalToSavedMs).filter((v): v is number => v !== null);
    return {
      contender: ts[0]!.contender,
      rate: ts[0]!.rate,
      trials: ts.length,
      saved,
      fraction: ts.length ? saved / ts.length : 0,
      leftKbMedian: left.length ? median(left) : null,
      achievedMbSMedian: achieved.length ? median(achieved) : null,
      signalToSavedMsMedian: toSave.length ? median(toSave) : null,
    };
  }).sort((a, b) => orderOf(a.contender) - orderOf(b.contender) || rateOrder(a.rate) - rateOrder(b.rate));
}

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
    tools: Record<string, string>;
    /** The kernel's OOM and module lines of each trial whose state was not saved. */
    failedTrialKernelLog?: Record<string, string[]>;
  } | null;
  build: BuildTiming | null;
  notDone: PartNotDone[];
  notes: string[];
}

// ---- rendering ----

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toFixed(digits);
}

function fmtRatio(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(2)}x`;
}

/** A plain text table: first row is the header; numbers right-aligned. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const isNum = (s: string) => /^[-+]?[\d.,]+(x| ?%)?$|^—$/.test(s);
  const line = (r: readonly string[]) => r.map((c, i) =>
    (i > 0 && isNum(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function rateLabel(rate: number): string {
  return rate === 0 ? 'unlimited' : `${rate} MB/s`;
}

export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const h = r.host;
  out.push(`gs-kit bench — ${r.generatedAt}`);
  out.push(`host: ${h.nproc} CPU(s), ${h.cpuModel}, ${(h.memTotalKb / 1024 / 1024).toFixed(1)} GiB RAM, Linux ${h.kernelRelease}`);
  out.push(`guest: Linux ${r.guest.kernelRelease} (series ${r.guest.series}), QEMU ${r.guest.accel}, ${r.guest.smp} vCPU, clocksource ${r.guest.clocksource ?? '?'}`);
  out.push('TCG timings are relative: compare the ratios, not the absolute numbers across machines.');

  if (r.latency) {
    const l = r.latency;
    out.push('', `1. Handler start latency (victim chosen → handler's first instruction), ${l.trials} memcg OOM trials`);
    out.push(textTable([
      ['', 'n', 'median µs', 'p95 µs'],
      ['gs-kit handler (GS_CHOSEN_NS → started_ns)', String(l.handlerStartUs.n), fmt(l.handlerStartUs.median), fmt(l.handlerStartUs.p95)],
      ['plain fork+exec, same binary', String(l.forkExecUs.n), fmt(l.forkExecUs.median), fmt(l.forkExecUs.p95)],
      ['ratio gs-kit / fork+exec', '', fmtRatio(l.ratioMedian), fmtRatio(l.ratioP95)],
    ]));
  }
  if (r.killDelay) {
    const k = r.killDelay;
    out.push('', '2. Kill delay (printk clock), memcg OOM');
    out.push(textTable([
      ['', 'n', 'median ms', 'p95 ms'],
      ['gs-kit: chosen → killed', String(k.gsChosenToKilledMs.n), fmt(k.gsChosenToKilledMs.median, 2), fmt(k.gsChosenToKilledMs.p95, 2)],
      ['gs-kit: handler run (start → exit line)', String(k.gsHandlerRunMs.n), fmt(k.gsHandlerRunMs.median, 2), fmt(k.gsHandlerRunMs.p95, 2)],
      ['gs-kit: chosen → killed minus handler run', String(k.gsResidualMs.n), fmt(k.gsResidualMs.median, 2), fmt(k.gsResidualMs.p95, 2)],
      ['no module: chosen → killed', String(k.stockChosenToKilledMs.n), fmt(k.stockChosenToKilledMs.median, 2), fmt(k.stockChosenToKilledMs.p95, 2)],
      ['added by gs-kit (median difference)', '', fmt(k.addedMs, 2), ''],
      ['ratio residual / no module', '', fmtRatio(k.ratio), ''],
    ]));
  }
  if (r.save) {
    out.push('', `3. Graceful save before the kill (state saved / trials; memory left when the contender acted)`);
    out.push(textTable([
      ['contender', 'rate', 'saved', 'fraction', 'left MiB', 'reached MB/s', 'signal→saved ms'],
      ...r.save.cells.map((c) => [
        c.contender, rateLabel(c.rate), `${c.saved}/${c.trials}`, `${(c.fraction * 100).toFixed(0)} %`,
        fmt(c.leftKbMedian === null ? null : c.leftKbMedian / 1024), fmt(c.achievedMbSMedian, 0), fmt(c.signalToSavedMsMedian, 2),
      ]),
    ]));
  }
  if (r.registry) {
    const g = r.registry;
    out.push('', '4. Registry cost by entries (median µs per operation; p95 in brackets)');
    out.push(textTable([
      ['entries', ...REGISTRY_OPS.map((op) => `${op} µs`)],
      ...g.rows.map((row) => [String(row.entries), ...REGISTRY_OPS.map((op) => `${fmt(row.ops[op].median)} [${fmt(row.ops[op].p95)}]`)]),
      [`ratio ${g.rows.at(-1)?.entries ?? '?'} / ${g.rows[0]?.entries ?? '?'}`, ...REGISTRY_OPS.map((op) => fmtRatio(g.scaling[op]))],
    ]));
  }
  if (r.build) {
    const b = r.build;
    out.push('', `5. Build and test turnaround (make -j${b.jobs})`);
    out.push(textTable([
      ['', 'seconds', 'ratio'],
      ['plain tinyconfig build of the same tree', fmt(b.plainTinyconfigBuildS), '1.00x'],
      ['cold gs-kit qemu-profile kernel + module', fmt(b.coldQemuBuildS), fmtRatio(ratio(b.coldQemuBuildS, b.plainTinyconfigBuildS))],
      ['rebuild after a module-only change', fmt(b.moduleRebuildS), fmtRatio(ratio(b.moduleRebuildS, b.plainTinyconfigBuildS))],
      [`guest suite, ${b.suiteScenarios ?? '?'} scenarios, one series`, fmt(b.suiteWallS), fmtRatio(ratio(b.suiteWallS, b.plainTinyconfigBuildS))],
    ]));
  }
  if (r.notDone.length) {
    out.push('', 'Not done:');
    for (const n of r.notDone) out.push(`  - ${n.part}: ${n.why}`);
  }
  if (r.notes.length) {
    out.push('', 'Notes:');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}
