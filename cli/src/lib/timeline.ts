import { fact, moduleEvents, oomKills, type GuestReport } from './guest-protocol.js';
import { recordOf } from './scenario.js';

export interface TimelineEntry {
  /** Seconds after the OOM killer chose the victim. */
  at: number;
  what: string;
}

/**
 * What happened to a registered victim, from the module's log, the
 * handler's record and the OOM killer's own line, relative to the moment
 * the victim was chosen.
 */
export function victimTimeline(report: GuestReport): TimelineEntry[] {
  const victim = fact(report, 'victim');
  const events = moduleEvents(report.dmesg).filter((e) => e.fields.victim === victim);
  const start = events.find((e) => e.event === 'start');
  if (!start) return [];
  const entries: TimelineEntry[] = [{
    at: 0,
    what: `OOM killer chooses pid ${victim} (${start.fields.comm}), ${start.fields.constraint} OOM; module starts ${start.fields.handler}`,
  }];
  const rec = recordOf(report);
  if (rec?.started_ns && rec.GS_CHOSEN_NS) {
    const at = (Number(rec.started_ns) - Number(rec.GS_CHOSEN_NS)) / 1e9;
    entries.push({ at, what: `handler runs as uid ${rec.uid}; victim still alive: ${rec.victim_alive === '1' ? 'yes' : 'no'}; state saved` });
  }
  for (const e of events) {
    if (e.event === 'exit') entries.push({ at: e.time - start.time, what: `handler exits${e.fields.status !== undefined ? ` with status ${e.fields.status}` : ` on signal ${e.fields.signal}`}` });
    if (e.event === 'timeout') entries.push({ at: e.time - start.time, what: `handler still running after ${e.fields.timeout_ms} ms: killed` });
    if (e.event === 'error') entries.push({ at: e.time - start.time, what: `handler could not run (${e.fields.reason ?? `errno ${e.fields.errno}`})` });
  }
  const kill = oomKills(report.dmesg).find((k) => String(k.pid) === victim);
  if (kill) entries.push({ at: kill.time - start.time, what: `OOM killer kills pid ${victim}` });
  return entries.sort((a, b) => a.at - b.at);
}

export function formatTimeline(entries: readonly TimelineEntry[]): string {
  return entries.map((e) => `  +${(e.at * 1000).toFixed(1).padStart(7)} ms  ${e.what}`).join('\n');
}
