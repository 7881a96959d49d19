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

/**
 * One user-space killer's kill, as its journal lines tell it (their
 * CLOCK_MONOTONIC stamps, the clock of a handler's record too; the kernel
 * log's own lines reach the journal late, and are not used): when the
 * killer decided (systemd-oomd invoking its hooks; earlyoom logging its
 * signal, which it sends once -P has exited or it stopped waiting, 200 ms
 * on), gs-kit-killer's answer, and when the killer went on to kill
 * (systemd-oomd: its hooks finished; earlyoom: the answer, or its giving
 * up on -P).
 */
export interface JournalKill {
  decided?: number;
  answered?: number;
  killed?: number;
  /** gs-kit-killer's answer says the handler ran (oomd: "1 handler(s) run"; earlyoom: "its handler ran"). */
  ran: boolean;
  /** The killer went on without the answer: earlyoom's 200 ms were up first. */
  waitedOut: boolean;
}

export function journalKill(r: GuestReport, killer: 'systemd-oomd' | 'earlyoom'): JournalKill {
  const journal = facts(r, 'journal');
  const at = (re: RegExp, after = 0) => {
    const line = journal.find((l) => re.test(l) && journalTime(l) >= after);
    return line === undefined ? undefined : journalTime(line);
  };
  if (killer === 'systemd-oomd') {
    const decided = at(/systemd-oomd\[\d+\]: Invoking oomd prekill hook gs-kit for cgroup /);
    const answer = journal.find((l) => /gs-kit-killer: systemd-oomd kills .*: 1 handler\(s\) run/.test(l));
    const finished = at(/systemd-oomd\[\d+\]: oomd prekill hook finished for cgroup /);
    const killed = at(/systemd\[1\]: .*: systemd-oomd killed \d+ process\(es\)/, finished ?? 0);
    return { decided, answered: answer ? journalTime(answer) : undefined, killed: killed ?? finished, ran: answer !== undefined, waitedOut: finished === undefined };
  }
  const decided = at(/earlyoom\[\d+\]: sending SIGTERM to process/);
  const answer = journal.find((l) => /gs-kit-killer: earlyoom kills \d+: its handler ran/.test(l));
  const gaveUp = at(/earlyoom\[\d+\]: notify_spawn_subprocess: timeout waiting for process .*gs-kit-earlyoom/);
  const answered = answer ? journalTime(answer) : undefined;
  return { decided, answered, killed: gaveUp ?? answered, ran: answer !== undefined, waitedOut: gaveUp !== undefined };
}

/** What one killer's run must show: one handler run, told who kills, before the kill. */
function runChecks(r: GuestReport, run: KillerRun): Check[] {
  const recs = facts(r, `${run.key}_rec`).map((l) => parseRecord(l.trim().split(/\s+/).join('\n')));
  const rec = recs[0];
  const { events, kills } = runWindow(r.dmesg, run.mark);
  const start = events.find((e) => e.event === 'start');
  const exit = events.find((e) => e.event === 'exit');
  const t = run.title;
  const common = [
    equal(`${t}: one handler record`, String(recs.length), '1'),
    equal(`${t}: the handler was told who kills (GS_KILLER)`, rec?.GS_KILLER, run.killer),
    equal(`${t}: the victim was alive when the handler started`, rec?.victim_alive, '1'),
    equal(`${t}: the handler ran as its registrant`, rec?.uid, run.uid),
    check(`${t}: the module logged the start, killer=${run.killer}`, start?.fields.killer === run.killer, JSON.stringify(start)),
    check(`${t}: and the exit, status 0`, exit?.fields.status === '0' && exit.fields.killer === run.killer, JSON.stringify(exit)),
  ];
  if (run.key === 'kernel') {
    return [...common,
      check(`${t}: the kill came, after the handler had exited`, !!exit && !!kills[0] && exit.time <= kills[0].time, `exit ${exit?.time} kill ${kills[0]?.time}`),
      equal(`${t}: stress-ng took its worker's kill (--oomable) and run-with-gs passed on its exit 0`, fact(r, 'kernel_rc'), '0')];
  }
  const j = journalKill(r, run.killer as 'systemd-oomd' | 'earlyoom');
  // The order is causal: the module's write returns after the handler's exit, gs-kit-killer answers after the write, the killer kills after the answer.
  const waited = run.key === 'oomd'
    ? check(`${t}: it killed only once gs-kit's hook had answered, after the handler's exit ("prekill hook finished")`, j.ran && !j.waitedOut,
      JSON.stringify(j))
    : check(`${t}: it killed only once gs-kit's -P had its answer, after the handler's exit (its 200 ms were not up first)`, j.ran && !j.waitedOut,
      JSON.stringify(j));
  return [...common, waited,
    equal(`${t}: it killed before the kernel had to`, String(kills.length), '0'),
    ...(run.key === 'oomd' ? [equal(`${t}: the workload's scope was killed (run-with-gs exit 137)`, fact(r, 'oomd_rc'), '137')] : []),
  ];
}

export function killersChecks(r: GuestReport): Check[] {
  const status = facts(r, 'status').join('\n');
  return [
    check('Debian unstable booted with systemd-oomd 260+ and earlyoom 1.9+', /systemd-oomd 2(6\d|[7-9]\d)/.test(fact(r, 'versions') ?? '') &&
      /earlyoom 1\.(9|\d\d)/.test(fact(r, 'versions') ?? ''), `${fact(r, 'system')}; ${fact(r, 'versions')}`),
    equal('gs-kit install-module succeeded', fact(r, 'install_rc'), '0'),
    equal('gs-kit configure succeeded', fact(r, 'configure_rc'), '0'),
    check('a second configure changes nothing', fact(r, 'configure_again_rc') === '0' && facts(r, 'configure_again').some((l) => /✓ 0 changes\./.test(l)),
      facts(r, 'configure_again').join(' | ')),
    check('systemd-oomd finds gs-kit\'s pre-kill socket, root\'s only', /^srw------- 1 root root .* gs-kit$/.test((fact(r, 'prekill_dir') ?? '').trim()), fact(r, 'prekill_dir')),
    check('gs-kit-earlyoom.service is resident, beside earlyoom', fact(r, 'earlyoom_active') === 'active active', fact(r, 'earlyoom_active')),
    check('systemd-oomd waits for it (PrekillHookTimeoutSec=)', /^\d+s$/.test(fact(r, 'oomd_timeout') ?? ''), fact(r, 'oomd_timeout')),
    check('earlyoom runs with gs-kit\'s -P', (fact(r, 'earlyoom_cmdline') ?? '').includes(`-P ${EARLYOOM_PROGRAM}`), fact(r, 'earlyoom_cmdline')),
    check('gs-kit status says all three killers are covered',
      /killers\s+covered: the kernel's OOM killer \(stock\), systemd-oomd \S+ \(pre-kill hook, waits up to \d+ s\), earlyoom \S+ \(-P/.test(status), status),
    ...RUNS.flatMap((run) => runChecks(r, run)),
  ];
}

/** What the run measured, for bench/killers.json and the docs (ms, on the journal's clock for the user-space killers). */
export interface KillerTimings {
  /** How long each handler ran, as the module logged it (duration_ms). */
  handlerMs: Record<string, number | undefined>;
  /** From the killer's decision to the handler running (its record's started_ns). */
  startMs: Record<string, number | undefined>;
  /** From the killer's decision to its kill: how long it waited for gs-kit. */
  heldMs: Record<string, number | undefined>;
  /** earlyoom gave up on -P (its 200 ms) before the handler's answer came. */
  earlyoomWaitedOut: boolean;
}

export function killerTimings(r: GuestReport): KillerTimings {
  const ms = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : Math.round((b - a) * 1000));
  const handlerMs: Record<string, number | undefined> = {};
  for (const run of RUNS) {
    const exit = runWindow(r.dmesg, run.mark).events.find((e) => e.event === 'exit');
    handlerMs[run.killer] = exit ? Number(exit.fields.duration_ms) : undefined;
  }
  const oomd = journalKill(r, 'systemd-oomd');
  const early = journalKill(r, 'earlyoom');
  const started = (key: string) => {
    const ns = parseRecord((fact(r, `${key}_rec`) ?? '').trim().split(/\s+/).join('\n')).started_ns;
    return ns === undefined ? undefined : Number(ns) / 1e9;
  };
  return {
    handlerMs,
    startMs: { 'systemd-oomd': ms(oomd.decided, started('oomd')), earlyoom: ms(early.decided, started('early')) },
    heldMs: { 'systemd-oomd': ms(oomd.decided, oomd.killed), earlyoom: ms(early.decided, early.killed) },
    earlyoomWaitedOut: early.waitedOut,
  };
}
