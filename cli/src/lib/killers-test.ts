/**
 * `gs-kit vm killers`: one registration heard by whichever killer comes
 * first (systemd-oomd, earlyoom, the kernel's OOM killer), in a Debian
 * system in QEMU booted on Debian's own kernel (vm/system/stage-killers.sh).
 * What the image holds besides the system test's, and what each killer's
 * run must show. Pure: no I/O.
 */
import { check, equal, type Check } from './checks.js';
import { fact, facts, parseRecord, printkTime, type GuestReport } from './guest-protocol.js';
import { runWindow } from './containers-test.js';
import { EARLYOOM_PROGRAM } from './killers.js';
import type { SystemRelease } from './system-test.js';

/**
 * Debian unstable: the first with systemd-oomd's pre-kill hook (systemd
 * 262) and earlyoom's -P (1.9); Debian 13 has systemd 257 and earlyoom
 * 1.8.2, which have neither.
 */
export const KILLERS_RELEASE: SystemRelease = { number: 'unstable', suite: 'sid', kernelSeries: '7.2' };

export const KILLER_PACKAGES: readonly string[] = ['systemd-oomd', 'earlyoom'];

/** A killer's run in the stage: its facts' prefix, its name as the module logs it, what it is. */
interface KillerRun {
  key: 'oomd' | 'early' | 'kernel';
  mark: string;
  killer: string;
  title: string;
  uid: string;
}

const RUNS: readonly KillerRun[] = [
  { key: 'oomd', mark: 'oomd', killer: 'systemd-oomd', title: 'systemd-oomd (memory pressure in the workload slice)', uid: '0' },
  { key: 'early', mark: 'earlyoom', killer: 'earlyoom', title: 'earlyoom (available memory under 40%)', uid: '0' },
  { key: 'kernel', mark: 'kernel', killer: 'kernel', title: 'the kernel\'s OOM killer (a scope\'s memory.max)', uid: '1000' },
];

/** A journal line's CLOCK_MONOTONIC seconds (journalctl -o short-monotonic: "[  123.456789] ..."). */
function journalTime(line: string): number {
  return printkTime(line);
}

/** When systemd-oomd killed, and when earlyoom signalled its victim, by their journals. */
export function killerKillTimes(r: GuestReport): { oomd?: number; earlyoom?: number } {
  const oomd = facts(r, 'oomd_journal').find((l) => /systemd-oomd\[\d+\]: Killed /.test(l));
  const early = facts(r, 'early_journal').find((l) => /earlyoom\[\d+\]: sending SIG(TERM|KILL) to process/.test(l));
  return {
    ...(oomd ? { oomd: journalTime(oomd) } : {}),
    ...(early ? { earlyoom: journalTime(early) } : {}),
  };
}

/** What one killer's run must show: one handler run, told who kills, before the kill. */
function runChecks(r: GuestReport, run: KillerRun, killAt: number | undefined): Check[] {
  const recs = facts(r, `${run.key}_rec`).map((l) => parseRecord(l.trim().split(/\s+/).join('\n')));
  const rec = recs[0];
  const { events, kills } = runWindow(r.dmesg, run.mark);
  const start = events.find((e) => e.event === 'start');
  const exit = events.find((e) => e.event === 'exit');
  const t = run.title;
  const kernelKill = kills[0]?.time;
  const killTime = run.key === 'kernel' ? kernelKill : killAt;
  return [
    equal(`${t}: one handler record`, String(recs.length), '1'),
    equal(`${t}: the handler was told who kills (GS_KILLER)`, rec?.GS_KILLER, run.killer),
    equal(`${t}: the victim was alive when the handler started`, rec?.victim_alive, '1'),
    equal(`${t}: the handler ran as its registrant`, rec?.uid, run.uid),
    check(`${t}: the module logged the start, killer=${run.killer}`, start?.fields.killer === run.killer, JSON.stringify(start)),
    check(`${t}: and the exit, status 0`, exit?.fields.status === '0' && exit.fields.killer === run.killer, JSON.stringify(exit)),
    check(`${t}: the kill came, after the handler had exited`,
      killTime !== undefined && exit !== undefined && exit.time <= killTime, `exit ${exit?.time} kill ${killTime}`),
    ...(run.key === 'kernel' ? [] : [equal(`${t}: it killed before the kernel had to`, String(kills.length), '0')]),
  ];
}

export function killersChecks(r: GuestReport): Check[] {
  const status = facts(r, 'status').join('\n');
  const times = killerKillTimes(r);
  return [
    check('Debian unstable booted with systemd-oomd 260+ and earlyoom 1.9+', /systemd-oomd 2(6\d|[7-9]\d)/.test(fact(r, 'versions') ?? '') &&
      /earlyoom 1\.(9|\d\d)/.test(fact(r, 'versions') ?? ''), `${fact(r, 'system')}; ${fact(r, 'versions')}`),
    equal('gs-kit install-module succeeded', fact(r, 'install_rc'), '0'),
    equal('gs-kit configure succeeded', fact(r, 'configure_rc'), '0'),
    check('a second configure changes nothing', fact(r, 'configure_again_rc') === '0' && facts(r, 'configure_again').some((l) => /✓ 0 changes\./.test(l)),
      facts(r, 'configure_again').join(' | ')),
    check('systemd-oomd finds gs-kit\'s pre-kill socket, root\'s only', /^srw------- 1 root root .* gs-kit$/.test(fact(r, 'prekill_dir') ?? ''), fact(r, 'prekill_dir')),
    check('systemd-oomd waits for it (PrekillHookTimeoutSec=)', /^\d+s$/.test(fact(r, 'oomd_timeout') ?? ''), fact(r, 'oomd_timeout')),
    check('earlyoom runs with gs-kit\'s -P', (fact(r, 'earlyoom_cmdline') ?? '').includes(`-P ${EARLYOOM_PROGRAM}`), fact(r, 'earlyoom_cmdline')),
    check('gs-kit status says all three killers are covered',
      /killers\s+covered: the kernel's OOM killer \(stock\), systemd-oomd \S+ \(pre-kill hook, waits up to \d+ s\), earlyoom \S+ \(-P/.test(status), status),
    ...RUNS.flatMap((run) => runChecks(r, run, run.key === 'oomd' ? times.oomd : times.earlyoom)),
  ];
}

/** What the run measured, for bench/killers.json and the docs. */
export interface KillerTimings {
  /** From each run's handler start (module log) to its exit: how long the handler ran (ms). */
  handlerMs: Record<string, number | undefined>;
  /** From the handler's exit to the killer's kill (ms): how much room was left. */
  marginMs: Record<string, number | undefined>;
}

export function killerTimings(r: GuestReport): KillerTimings {
  const times = killerKillTimes(r);
  const handlerMs: Record<string, number | undefined> = {};
  const marginMs: Record<string, number | undefined> = {};
  for (const run of RUNS) {
    const { events, kills } = runWindow(r.dmesg, run.mark);
    const exit = events.find((e) => e.event === 'exit');
    handlerMs[run.killer] = exit ? Number(exit.fields.duration_ms) : undefined;
    const kill = run.key === 'kernel' ? kills[0]?.time : run.key === 'oomd' ? times.oomd : times.earlyoom;
    marginMs[run.killer] = exit && kill !== undefined ? Math.round((kill - exit.time) * 1000) : undefined;
  }
  return { handlerMs, marginMs };
}
