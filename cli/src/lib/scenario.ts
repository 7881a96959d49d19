/**
 * What every guest scenario shares: its shape, and the checks that judge a
 * handler run from what the guest reported. Pure: no I/O.
 */
import { check, equal, type Check } from './checks.js';
import {
  fact, facts, findSplats, moduleEvents, oomKills, parseRecord,
  type GuestReport, type ModuleEvent,
} from './guest-protocol.js';

export interface Scenario {
  name: string;
  title: string;
  /** Guest RAM in MiB. */
  memoryMb: number;
  /** Virtual CPUs (default 1): a scenario that measures one CPU against another needs 2. */
  smp?: number;
  /** Share the host's root over 9p (the scenario runs the real CLI in it). */
  hostRoot?: boolean;
  /** A scratch disk of this many MiB, an empty ext4 file system, as /dev/vda. */
  diskMb?: number;
  /** Hard limit for one boot, when the default (120 s) is not enough. */
  timeoutMs?: number;
  /** Kernel command-line words the scenario needs (e.g. lsm=smack). */
  append?: string;
  /**
   * What the promise needs of the kernel beyond the hook: "reserves", the
   * gs-kit patch that lets a handler use the OOM victim's memory reserves.
   * Stock mode (no patch) does not make that promise, so such scenarios do
   * not run there (README: stock mode).
   */
  needs?: 'reserves';
  /** What its setup needs in the kernel's config beyond what every guest kernel has (hostRoot: 9p). */
  kernelNeeds?: readonly KernelFeature[];
  checks(report: GuestReport): Check[];
}

/**
 * A kernel feature a scenario's setup needs that some distribution
 * kernels leave out: 9p (the host's root in the guest), NUMA emulation
 * (numa=fake=N). Debian's cloud kernels have neither.
 */
export type KernelFeature = '9p' | 'numa-emulation';

const FEATURE_WHY: Readonly<Record<KernelFeature, string>> = {
  '9p': 'no 9p, which brings the host\'s node and tools into the guest',
  'numa-emulation': 'no NUMA emulation, which numa=fake=2 needs for a second node',
};

/** The features of KernelFeature the kernel configured so lacks. */
export function kernelLacks(config: string): KernelFeature[] {
  const on = (option: string) => new RegExp(`^${option}=[ym]$`, 'm').test(config);
  return [
    ...(on('CONFIG_9P_FS') && on('CONFIG_NET_9P_VIRTIO') ? [] : ['9p' as const]),
    ...(on('CONFIG_NUMA_EMU') ? [] : ['numa-emulation' as const]),
  ];
}

/** What @s needs of the kernel's config. */
export function scenarioKernelNeeds(s: Pick<Scenario, 'hostRoot' | 'kernelNeeds'>): KernelFeature[] {
  return [...(s.hostRoot ? ['9p' as const] : []), ...(s.kernelNeeds ?? [])];
}

/** The scenarios of @scenarios a kernel that @lacks features can run, and why the others cannot (for @release). */
export function runnableOn<S extends Pick<Scenario, 'name' | 'hostRoot' | 'kernelNeeds'>>(
  release: string, lacks: readonly KernelFeature[], scenarios: readonly S[],
): { run: S[]; note?: string } {
  const missing = (s: S) => scenarioKernelNeeds(s).filter((f) => lacks.includes(f));
  const cannot = scenarios.filter((s) => missing(s).length > 0);
  const why = cannot.map((s) => `${s.name} (its kernel has ${missing(s).map((f) => FEATURE_WHY[f]).join(', and ')})`);
  return {
    run: scenarios.filter((s) => missing(s).length === 0),
    ...(cannot.length ? { note: `not run on ${release}: ${why.join('; ')}` } : {}),
  };
}

/** The scenarios that hold their promise on a kernel without the gs-kit patch (stock mode). */
export function stockScenarios<S extends Pick<Scenario, 'needs'>>(scenarios: readonly S[]): S[] {
  return scenarios.filter((s) => s.needs !== 'reserves');
}

/** The handler's record, as the guest reported it line by line (fact @key). */
export function recordOf(report: GuestReport, key = 'rec'): Record<string, string> | undefined {
  const lines = facts(report, key);
  if (lines.length === 0 || lines[0] === 'none') return undefined;
  return parseRecord(lines.join('\n'));
}

/**
 * The cgroup a handler of registrant @uid runs in (/proc/self/cgroup): the
 * module's per-principal leaf under the guests' handler cgroup, which they
 * make as gs-kit configure does.
 */
export function guestHandlerCgroup(uid = '0'): string {
  return `0::/gs-handlers/${uid === '0' ? 'admin' : `user-${uid}`}/run`;
}

/** proc_write's answer to a write that succeeded. */
export const answerOk = (answer: string | undefined) => /^ok /.test(answer ?? '');


export function eventFor(events: ModuleEvent[], name: string, victim: string | undefined) {
  return events.find((e) => e.event === name && e.fields.victim === victim);
}

export function killOf(report: GuestReport, victim: string | undefined) {
  return oomKills(report.dmesg).find((k) => String(k.pid) === victim);
}

/** A timed-out handler's story: its victim, start and timeout events, the kill, start-to-kill in ms. */
export function handlerTimeline(report: GuestReport) {
  const victim = fact(report, 'victim');
  const events = moduleEvents(report.dmesg);
  const start = eventFor(events, 'start', victim);
  const timeout = eventFor(events, 'timeout', victim);
  const kill = killOf(report, victim);
  return { victim, start, timeout, kill, delay: start && kill ? kill.time - start.time : NaN };
}

/** Checks every boot must pass (issue 2, h). */
export function commonChecks(report: GuestReport): Check[] {
  // A guest that dies (a panic) never prints its log block: look at the console too.
  const splats = [...findSplats(report.dmesg), ...findSplats(report.console ?? '')];
  const leaks = fact(report, 'kmemleak');
  return [
    ...(leaks === undefined ? [] : [equal('kmemleak found no leaked objects', leaks, '0')]),
    check('the guest ran to the end of its scenario', report.done && fact(report, 'alive') === 'yes'),
    check('the kernel log has no BUG, WARNING, Oops, hung task or lockdep report',
      splats.length === 0, splats.join('\n')),
  ];
}

/**
 * Every time the guest loaded the module, it hooked the OOM killer the way
 * the suite built it to (the module's "hook" parameter): a stock-mode run
 * that fell back to the patch would prove nothing about stock mode.
 */
export function hookChecks(report: GuestReport, hook: 'patched' | 'stock'): Check[] {
  const modes = facts(report, 'hook');
  if (modes.length === 0) return [];
  return [check(`the module ran in ${hook} mode`, modes.every((m) => m === hook), modes.join(', '))];
}

export interface HandlerRun {
  /** The uid the handler must run as (default 0). */
  uid?: string;
  /** The fact naming the victim (default "victim"). */
  victimKey?: string;
  /** The fact holding the handler's record (default "rec"). */
  recKey?: string;
  /** The victim's exit status as the guest saw it (default: the last victim_status). */
  victimStatus?: string;
  /** The handler's exit status (default 0). */
  status?: string;
}

/** The handler ran before the kill, while the victim was alive, in the handler cgroup. */
export function handlerBeforeKill(report: GuestReport, run: HandlerRun = {}): Check[] {
  const expectUid = run.uid ?? '0';
  const status = run.status ?? '0';
  const victim = fact(report, run.victimKey ?? 'victim');
  const rec = recordOf(report, run.recKey);
  const events = moduleEvents(report.dmesg);
  const start = eventFor(events, 'start', victim);
  const exit = eventFor(events, 'exit', victim);
  const kill = killOf(report, victim);
  return [
    check('the handler wrote its record', rec !== undefined),
    equal('the handler was given GS_PID = the victim', rec?.GS_PID, victim ?? ''),
    equal('the victim was alive when the handler started', rec?.victim_alive, '1'),
    equal(`the handler ran as uid ${expectUid}`, rec?.uid, expectUid),
    equal('the handler ran in its registrant\'s handler cgroup', rec?.cgroup, guestHandlerCgroup(expectUid)),
    check('the module logged the start of the handler', start !== undefined),
    check(`the module logged the exit of the handler with status ${status}`,
      exit?.fields.status === status, JSON.stringify(exit)),
    check('the OOM killer killed the victim', kill !== undefined),
    check('the handler started and exited before the kill',
      !!start && !!exit && !!kill && start.time <= kill.time && exit.time <= kill.time,
      `start ${start?.time} exit ${exit?.time} kill ${kill?.time}`),
    equal('the victim died of SIGKILL', run.victimStatus ?? fact(report, 'victim_status'), '137'),
  ];
}

