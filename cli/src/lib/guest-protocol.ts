/**
 * What a guest says on its serial console, as the host reads it.
 *
 * The guest prints "@gs KEY VALUE" lines with its findings, the kernel log
 * between "@gs-dmesg-begin" and "@gs-dmesg-end", and "@gs-done" last. The
 * host parses these and the tests decide; the guest only reports facts.
 */
import { LOG_PREFIX } from './module.js';

export interface GuestReport {
  /** Every value printed for each key, in order. */
  facts: Map<string, string[]>;
  dmesg: string;
  /** Console lines outside the kernel log block: where a panic shows when the guest dies. */
  console: string;
  done: boolean;
}

export function parseGuestOutput(console: string): GuestReport {
  const facts = new Map<string, string[]>();
  const dmesg: string[] = [];
  const other: string[] = [];
  let inDmesg = false;
  let done = false;
  for (const raw of console.split(/\r?\n/)) {
    const line = raw.replace(/\r/g, '');
    if (line === '@gs-dmesg-begin') inDmesg = true;
    else if (line === '@gs-dmesg-end') inDmesg = false;
    else if (inDmesg) dmesg.push(line);
    else if (line === '@gs-done') done = true;
    else {
      const m = /^@gs (\S+) ?(.*)$/.exec(line);
      if (m) {
        const list = facts.get(m[1]!) ?? [];
        list.push(m[2]!);
        facts.set(m[1]!, list);
      } else {
        other.push(line);
      }
    }
  }
  return { facts, dmesg: dmesg.join('\n'), console: other.join('\n'), done };
}

/*
 * The readers of a guest's facts: every check and summary reads "@gs"
 * facts through these (and recordOf, scenario.ts), never by its own.
 */

/** The last value printed for @key. */
export function fact(report: GuestReport, key: string): string | undefined {
  return report.facts.get(key)?.at(-1);
}

/** Every value printed for @key, in order. */
export function facts(report: GuestReport, key: string): string[] {
  return report.facts.get(key) ?? [];
}

/** Whether the guest printed @key at all. */
export function said(report: GuestReport, key: string): boolean {
  return report.facts.has(key);
}

/** The last value printed for @key as "k=v" words, e.g. "soak_config count=200 timeout_ms=1000". */
export function factFields(report: GuestReport, key: string): Record<string, string> {
  return parseFields((fact(report, key) ?? '').trim().split(/\s+/));
}

/** The values printed for @key as one record, a "k=v" value each (a record file said line by line). */
export function factRecord(report: GuestReport, key: string): Record<string, string> {
  return parseRecord(facts(report, key).join('\n'));
}

/** Kernel log lines that mean the kernel itself went wrong. */
const SPLAT_PATTERNS: readonly RegExp[] = [
  /\bBUG:/,
  /\bWARNING:/,
  /\bOops\b/,
  /blocked for more than \d+ seconds/,
  /possible circular locking dependency/,
  /possible recursive locking/,
  /inconsistent lock state/,
  /suspicious RCU usage/,
  /sleeping function called from invalid context/,
  /Kernel panic/,
  /general protection fault/,
  /KASAN:/,
  /kmemleak:.*new suspected memory leak/,
];

/**
 * Lines that look like a splat and are not one: Linux 5.4's workqueue code
 * prints this (pr_warn_once, no backtrace) at boot when a NUMA node has no
 * CPU, as an emulated node (numa=fake=2, the constraint scenario) has not.
 */
const NOT_SPLATS: readonly RegExp[] = [
  /WARNING: workqueue cpumask: online intersect > possible intersect$/,
];

export function findSplats(dmesg: string): string[] {
  return dmesg.split('\n').filter((line) => SPLAT_PATTERNS.some((re) => re.test(line)) &&
    !NOT_SPLATS.some((re) => re.test(line)));
}

/** One "graceful_shutdown: event=... k=v" line of the module's log. */
export interface ModuleEvent {
  time: number; // seconds since boot, from the printk timestamp
  event: string;
  fields: Record<string, string>;
}

const PRINTK_TIME = /^\[\s*(\d+\.\d+)\]\s*/;

/** The printk timestamp of a kernel log line (seconds since boot), or NaN. */
export function printkTime(line: string): number {
  const t = PRINTK_TIME.exec(line);
  return t ? Number(t[1]) : NaN;
}

/** "k=v" words (whitespace-separated text, or words already split) as a record. */
export function parseFields(words: string | readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of typeof words === 'string' ? words.trim().split(/\s+/) : words) {
    const eq = w.indexOf('=');
    if (eq > 0) out[w.slice(0, eq)] = w.slice(eq + 1);
  }
  return out;
}

/** A number a guest reported; null when missing, "na" or not a number. */
export function reportedNumber(s: string | undefined): number | null {
  if (s === undefined || s === '' || s === 'na') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** A value of the module's log as written: bytes other than [A-Za-z0-9._/+:@,-] come as \\xHH. */
export function unescapeLogValue(value: string): string {
  return value.replace(/\\x([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const MODULE_EVENT = new RegExp(`${LOG_PREFIX}event=(\\S+)(.*)$`);

export function moduleEvents(dmesg: string): ModuleEvent[] {
  const events: ModuleEvent[] = [];
  for (const line of dmesg.split('\n')) {
    const m = MODULE_EVENT.exec(line);
    if (!m) continue;
    const fields = parseFields(m[2]!);
    for (const k of Object.keys(fields)) fields[k] = unescapeLogValue(fields[k]!);
    events.push({ time: printkTime(line), event: m[1]!, fields });
  }
  return events;
}

/** When the OOM killer killed each pid, from "Killed process N (comm)". */
export function oomKills(dmesg: string): { time: number; pid: number; comm: string }[] {
  const kills: { time: number; pid: number; comm: string }[] = [];
  for (const line of dmesg.split('\n')) {
    const m = /Killed process (\d+) \(([^)]*)\)/.exec(line);
    if (!m) continue;
    kills.push({ time: printkTime(line), pid: Number(m[1]), comm: m[2]! });
  }
  return kills;
}

/** A handler's record file: "key=value" lines. */
export function parseRecord(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}
