/** `gs-kit soak`: the summary table, one label and value per row. Pure. */
import type { LifecycleSummary } from './soak-lifecycle.js';
import type { SoakSummary } from './soak-parse.js';

/** The soak boot's rows. */
export function soakRows(s: SoakSummary): [string, string][] {
  const pct = (a: number, b: number) => (b ? ` (${((100 * a) / b).toFixed(0)}%)` : '');
  const reasons = Object.entries(s.reasonsByKind).map(([k, n]) => `${n} ${k}`).join(', ');
  return [
    ['trials', `${s.trials} (${s.memcgTrials} memcg, ${s.globalTrials} global), ${s.victims} registered victims`],
    ['handler before kill', `${s.handlerBeforeKill}/${s.victims}${pct(s.handlerBeforeKill, s.victims)}: memcg ${s.handlerBeforeKillMemcg}, global ${s.handlerBeforeKillGlobal}`],
    ['not run, reason logged', `${s.reasons}${reasons ? ` (${reasons})` : ''}`],
    ['unexplained', String(s.unexplained)],
    ['timeouts honoured', `${s.timeoutsHonoured}/${s.timeouts} within timeout_ms ${s.timeoutMs} + 1 s`],
    ['max kill delay', `${s.maxKillDelayS.toFixed(3)} s (${s.killsBeyondClockBound} beyond timeout_ms + 1 s on the clock; guest ticks ran up to ${s.maxTickStretch.toFixed(2)}x slow)`],
    ['warnings', String(s.warnings)],
    ['guest time per trial', s.msPerTrial !== undefined ? `${(s.msPerTrial / 1000).toFixed(2)} s (${((s.soakMs ?? 0) / 1000).toFixed(0)} s in all)` : '?'],
  ];
}

/** The lifecycle-stress boot's rows. */
export function lifecycleRows(l: LifecycleSummary): [string, string][] {
  return [
    ['rmmod/insmod cycles', `${l.cycles}: rmmod ok ${l.rmmodOk}, insmod ok ${l.insmodOk}, longest rmmod ${l.maxRmmodMs} ms`],
    ['OOMs during cycles', `${l.oomRounds} rounds, ${l.handlersStarted} handlers started, ${l.handlersUnended} without an end`],
    ['recycled pid', `${l.reuse.old ?? '?'} -> ${l.reuse.new ?? '?'}: stale handler ${l.reuse.staleFired ? 'FIRED' : 'never fired'}`],
    ['lifecycle warnings', String(l.warnings)],
  ];
}

