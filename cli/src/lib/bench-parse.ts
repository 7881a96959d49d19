/**
 * `gs-kit bench`: what the machine and the bench guests report (their "@gs"
 * lines and kernel logs), parsed and summarized per measure. Pure.
 */
import { LOG_PREFIX } from './module.js';
import {
  fact, facts, findSplats, moduleEvents, oomKills, parseFields, printkTime, reportedNumber, type GuestReport,
} from './guest-protocol.js';
import { median, ratio, summarize, type Summary } from './stats.js';

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
  for (const v of facts(report, `k_${mode}`)) {
    const m = /^(\d+) (.*)$/.exec(v);
    if (!m) continue;
    const trial = Number(m[1]);
    const line = m[2]!;
    const log = byTrial.get(trial) ?? { trial, splats: [] };
    byTrial.set(trial, log);
    const time = printkTime(line);
    // The first of each: one OOM per trial.
    if (/invoked oom-killer/.test(line)) log.invoked ??= time;
    else if (line.includes(`${LOG_PREFIX}event=start `)) log.start ??= time;
    else if (line.includes(`${LOG_PREFIX}event=exit `)) log.exit ??= time;
    else if (/Killed process \d+/.test(line)) log.killed ??= time;
    if (findSplats(line).length) log.splats.push(line);
  }
  return [...byTrial.values()].sort((a, b) => a.trial - b.trial);
}

/**
 * Handler start latencies (ns): record started_ns - GS_CHOSEN_NS, for a
 * handler the kernel starts ("gs") or one a waiter execs ("waiter").
 */
export function handlerLatencies(report: GuestReport, mode: 'gs' | 'waiter' = 'gs'): number[] {
  const out: number[] = [];
  for (const v of facts(report, mode === 'gs' ? 'lat_gs' : 'lat_waiter')) {
    const [, , started, chosen] = v.split(' ');
    const s = Number(started);
    const c = Number(chosen);
    if (Number.isFinite(s) && Number.isFinite(c)) out.push(s - c);
  }
  return out;
}

/** fork+exec latencies (ns) of forkexec_bench: "@gs fe <trial> <ns>". */
export function forkExecLatencies(report: GuestReport): number[] {
  return facts(report, 'fe').map((v) => Number(v.split(' ')[1])).filter(Number.isFinite);
}

export interface LatencyResult {
  trials: number;
  handlerStartUs: Summary;
  forkExecUs: Summary;
  /** handler median / fork+exec median, and the same for p95. */
  ratioMedian: number | null;
  ratioP95: number | null;
  /** A waiter's handler: woken, moved into the handler cgroup, exec (absent from older runs). */
  waiterStartUs?: Summary;
  waiterRatioMedian?: number | null;
  clocksource: string | null;
}

const toUs = (ns: number[]) => ns.map((v) => v / 1000);

export function latencyResult(report: GuestReport): LatencyResult {
  const handler = summarize(toUs(handlerLatencies(report)));
  const waiter = summarize(toUs(handlerLatencies(report, 'waiter')));
  const fe = summarize(toUs(forkExecLatencies(report)));
  return {
    trials: Number(fact(report, 'trials') ?? NaN),
    handlerStartUs: handler,
    forkExecUs: fe,
    ratioMedian: ratio(handler.median, fe.median),
    ratioP95: ratio(handler.p95, fe.p95),
    waiterStartUs: waiter,
    waiterRatioMedian: ratio(waiter.median, fe.median),
    clocksource: fact(report, 'clocksource') ?? null,
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

/** add_reading: a registration while another process reads the whole file in a loop (two vCPUs). */
export const REGISTRY_OPS = ['add', 'replace', 'remove', 'read', 'add_reading'] as const;
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
  for (const v of facts(report, 'reg')) {
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

const kv = parseFields;
const num = reportedNumber;

export function saveTrials(report: GuestReport): SaveTrial[] {
  return facts(report, 'save').map((line) => {
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
  for (const v of facts(report, 'k_save')) {
    const m = /^(\S+ \d+ \d+) (.*)$/.exec(v);
    if (m) (out[m[1]!] ??= []).push(m[2]!);
  }
  return out;
}

/** The other contenders' versions as the save guest reported them, and the global runs' ballast. */
export function saveTools(report: GuestReport): Record<string, string> {
  return {
    earlyoom: fact(report, 'earlyoom_version') ?? 'not run',
    nohang: fact(report, 'nohang_version') ?? 'not run',
    'stress-ng': 'ballast for the global runs (stress-ng --vm 1 --vm-hang 0), oom_score_adj -1000',
  };
}

/**
 * How long each OOM held the OOM killer, per contender, in ms: from the
 * module's start line to the victim's kill, over every trial that had both
 * (the gs-kit contenders; the others have no start line).
 */
export function saveHoldMs(report: GuestReport): Record<string, Summary> {
  const holds = new Map<string, number[]>();
  for (const [key, lines] of Object.entries(saveKernelLines(report))) {
    const contender = key.split(' ')[0]!;
    const log = lines.join('\n');
    const kills = oomKills(log);
    for (const start of moduleEvents(log).filter((e) => e.event === 'start')) {
      const kill = kills.find((k) => String(k.pid) === start.fields.victim && k.time >= start.time);
      if (!kill) continue;
      holds.set(contender, [...(holds.get(contender) ?? []), (kill.time - start.time) * 1000]);
    }
  }
  return Object.fromEntries([...holds].map(([c, ms]) => [c, summarize(ms)]));
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

