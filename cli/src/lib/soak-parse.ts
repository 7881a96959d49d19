/**
 * What the soak and lifecycle-stress guests report: the shapes of their
 * trials and victims, and their "@gs" facts and kernel log parsed. Pure.
 */
import { facts, parseFields, parseRecord, reportedNumber, type GuestReport, type ModuleEvent } from './guest-protocol.js';

export type TrialKind = 'memcg' | 'global';
export type HandlerKind = 'record' | 'sleep' | 'hang' | 'crash' | 'missing' | 'fail';

export interface SoakTrial {
  n: number;
  kind: TrialKind;
  victims: number[];
  handlers: string[];
  /** Each victim's exit status as the shell saw it (137: SIGKILL). */
  statuses: string[];
  /** proc_write's answer to the trial's one multi-line registration. */
  register: string;
  /** Guest wall time of the trial, ms (the clock printk stamps use too). */
  ms: number;
  /**
   * The same span counted in scheduler ticks, ms. timeout_ms is a wait in
   * ticks; under TCG on an overloaded host the guest loses ticks, so a
   * wait of timeout_ms can take longer on the clock. NaN if not reported.
   */
  ticksMs: number;
}

/** What became of one registered victim. */
export type Outcome =
  /** Handler record written while the victim lived; start and exit logged before the kill. */
  | 'before-kill'
  /** The handler did not finish before the kill and the module logged why (timeout, error). */
  | 'reason'
  /** Neither: the case the soak exists to rule out. */
  | 'unexplained';

export interface VictimResult {
  trial: number;
  kind: TrialKind;
  pid: number;
  handler: string;
  status: string;
  record?: Record<string, string>;
  start?: ModuleEvent;
  /** The handler's exit, if logged. */
  exit?: ModuleEvent;
  /** The first timeout or error line for this victim, if any. */
  why?: ModuleEvent;
  /** When the OOM killer killed it (printk seconds). */
  killTime?: number;
  /** Seconds from the module's start line to the kill. */
  killDelayS?: number;
  /** Clock time per tick time in this trial (>= 1; 1 when not reported). */
  tickStretch: number;
  outcome: Outcome;
  /** "timeout", "error errno=N" or "skip REASON" for outcome "reason". */
  reason?: string;
}

export interface SoakSummary {
  trials: number;
  memcgTrials: number;
  globalTrials: number;
  /** Registered victims over all trials. */
  victims: number;
  /** Victims whose handler ran to its exit before the kill, while they lived. */
  handlerBeforeKill: number;
  handlerBeforeKillMemcg: number;
  handlerBeforeKillGlobal: number;
  /** Victims whose handler did not run to its exit first, with the module's reason. */
  reasons: number;
  reasonsByKind: Record<string, number>;
  /** Victims with neither: must be 0. */
  unexplained: number;
  /** Trials in which every victim's handler ran before its kill or had a stated reason. */
  trialsAccounted: number;
  /**
   * event=timeout lines, and how many of those kills came within
   * timeout_ms + 1 s of the start (timeout_ms in the guest's ticks).
   */
  timeouts: number;
  timeoutsHonoured: number;
  /** The longest start-to-kill delay, seconds (printk clock). */
  maxKillDelayS: number;
  /** Kills later than timeout_ms + 1 s on the printk clock alone, lost ticks not allowed for. */
  killsBeyondClockBound: number;
  /** The largest clock/ticks ratio of a trial (1: no tick lost). */
  maxTickStretch: number;
  /** Kernel log lines that findSplats reports. */
  warnings: number;
  /** How the handlers ended, e.g. {"status=0": 120, "signal=11": 40}. */
  handlerExits: Record<string, number>;
  /** Guest wall time of the whole soak and per trial (ms), when reported. */
  soakMs?: number;
  msPerTrial?: number;
  timeoutMs: number;
}

/** A reported number, NaN when missing. */
export const num = (s: string | undefined): number => reportedNumber(s) ?? NaN;
const kv = parseFields;

function list(s: string | undefined): string[] {
  return s ? s.split(',').filter(Boolean) : [];
}

/** The "trial" facts, in order. */
export function parseTrials(report: GuestReport): SoakTrial[] {
  return facts(report, 'trial').map((line) => {
    const [n, ...rest] = line.trim().split(/\s+/);
    const f = kv(rest);
    return {
      n: num(n),
      kind: f.kind === 'global' ? 'global' : 'memcg',
      victims: list(f.victims).map(Number),
      handlers: list(f.handlers),
      statuses: list(f.statuses),
      register: (f.register ?? '').replace(/_/g, ' '),
      ms: num(f.ms),
      ticksMs: num(f.ticks_ms),
    };
  });
}

/** Each victim's handler record ("vrec PID k=v ..." or "vrec PID none"), in the order printed. */
export function parseVictimRecords(report: GuestReport): { pid: number; record?: Record<string, string> }[] {
  return facts(report, 'vrec').map((line) => {
    const [pid, ...rest] = line.trim().split(/\s+/);
    return rest.length === 0 || rest[0] === 'none'
      ? { pid: Number(pid) }
      : { pid: Number(pid), record: parseRecord(rest.join('\n')) };
  });
}

const TRIAL_MARKER = /gs_soak: trial=(\d+) /;

/**
 * The kernel log cut at the guest's trial markers: trial number -> its
 * lines, up to the next trial's marker. Without markers, the whole log is
 * every trial's.
 */
export function trialLogs(dmesg: string): { of(n: number): string } {
  const parts = new Map<number, string[]>();
  let current: string[] | undefined;
  for (const line of dmesg.split('\n')) {
    const m = TRIAL_MARKER.exec(line);
    if (m) {
      current = [];
      parts.set(Number(m[1]), current);
    } else if (current) {
      current.push(line);
    }
  }
  if (parts.size === 0) return { of: () => dmesg };
  return { of: (n) => (parts.get(n) ?? []).join('\n') };
}

/** Lines of the kernel log between two marker lines the guest wrote to /dev/kmsg. */
export function logBetween(dmesg: string, begin: string, end: string): string {
  const lines = dmesg.split('\n');
  const from = lines.findIndex((l) => l.includes(begin));
  if (from < 0) return '';
  const to = lines.findIndex((l, i) => i > from && l.includes(end));
  return lines.slice(from + 1, to < 0 ? undefined : to).join('\n');
}

