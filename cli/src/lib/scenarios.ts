import { check, equal } from './checks.js';
import { PROC_FILE } from './module.js';
import { FUZZ_SCENARIO } from './fuzz.js';
import { fact, moduleEvents, parseRecord, type GuestReport } from './guest-protocol.js';
import { PRIVILEGE_SCENARIOS } from './scenarios-privilege.js';
import { SECURITY_SCENARIOS } from './scenarios-security.js';
import { CONTAINER_SCENARIOS } from './scenarios-container.js';
import { KILLER_SCENARIOS } from './scenarios-killers.js';
import { answerOk as ok, eventFor, handlerBeforeKill, handlerTimeline, killOf, recordOf, type Scenario } from './scenario.js';

export type { Check } from './checks.js';

/**
 * The first OOM after load finds a helper forked ahead of time and parked:
 * the OOM path only wakes it (the module logs spawn=parked, else spawn=fork).
 */
function parkedStart(r: GuestReport) {
  const start = eventFor(moduleEvents(r.dmesg), 'start', fact(r, 'victim'));
  return equal('the handler ran in the helper parked before the OOM, not one forked at it',
    start?.fields.spawn, 'parked');
}
export { commonChecks, recordOf, type Scenario } from './scenario.js';

const writeCases: Record<string, string> = {
  malformed: 'EINVAL',
  malformed_pid: 'EINVAL',
  remove_with_args: 'EINVAL',
  unknown_pid: 'ESRCH',
  relative_path: 'EINVAL',
  missing_file: 'ENOENT',
  not_executable: 'EACCES',
  directory: 'EACCES',
  group_writable: 'EPERM',
  world_writable: 'EPERM',
  overlong_line: 'ENAMETOOLONG',
  embedded_nul: 'EILSEQ',
  multi_line_one_bad: 'ESRCH',
  duplicate_pid: 'EINVAL',
  remove_unregistered: 'ENOENT',
  table_full: 'ENOSPC',
  no_handler_cgroup: 'EOPNOTSUPP',
  not_a_cgroup: 'EOPNOTSUPP',
};

/** One victim of a global OOM with several allocators: what went wrong, if anything, and how long its OOM was held. */
export interface GlobalVictim {
  pid: string;
  /** Why the handler did not finish before the kill; absent when it did. */
  problem?: string;
  /** From the module's start line to the kill: how long this OOM held the OOM killer (ms). */
  holdMs?: number;
}

/** How each of several global-OOM victims fared (the global4/global8 guests). */
export function globalManyVictims(r: GuestReport): GlobalVictim[] {
  const events = moduleEvents(r.dmesg);
  const victims = (fact(r, 'victims') ?? '').trim().split(/\s+/).filter(Boolean);
  const lineOf = (key: string, pid: string) =>
    (r.facts.get(key) ?? []).find((l) => l.startsWith(`${pid} `))?.slice(pid.length + 1);
  return victims.map((v) => {
    const recLine = lineOf('vrec', v);
    const rec = recLine && recLine !== 'none' ? parseRecord(recLine.trim().split(/\s+/).join('\n')) : undefined;
    const start = eventFor(events, 'start', v);
    const exit = eventFor(events, 'exit', v);
    const kill = killOf(r, v);
    const why = events.find((e) => e.fields.victim === v && e.event !== 'start' && e.event !== 'exit');
    const problem = !rec ? `no record${why ? ` (module: ${why.event} ${JSON.stringify(why.fields)})` : ''}`
      : rec.victim_alive !== '1' ? 'the victim was gone when the handler started'
        : rec.GS_CONSTRAINT !== 'global' ? `constraint ${rec.GS_CONSTRAINT}`
          : !start || exit?.fields.status !== '0' ? `exit ${JSON.stringify(exit?.fields)}`
            : !kill ? 'never killed by the OOM killer'
              : exit.time > kill.time ? `handler exit ${exit.time} after the kill ${kill.time}`
                : lineOf('vstatus', v) !== '137' ? `victim status ${lineOf('vstatus', v)}` : undefined;
    return {
      pid: v,
      ...(problem ? { problem } : {}),
      ...(start && kill && kill.time >= start.time ? { holdMs: (kill.time - start.time) * 1000 } : {}),
    };
  });
}

/** The victims of a global4/global8 guest, and a sentence per victim whose handler did not finish first. */
export function globalManyFailures(r: GuestReport): { victims: string[]; failures: string[] } {
  const all = globalManyVictims(r);
  return { victims: all.map((v) => v.pid), failures: all.filter((v) => v.problem).map((v) => `${v.pid}: ${v.problem}`) };
}

function globalMany(n: number): Scenario {
  return {
    name: `global${n}`,
    title: `global OOM with ${n} processes allocating at once, all registered: each handler finishes before its victim is killed`,
    memoryMb: 192,
    needs: 'reserves',
    checks: (r) => {
      const { victims, failures } = globalManyFailures(r);
      return [
        equal(`${n} allocators ran`, String(victims.length), String(n)),
        check('all were registered in one write', ok(fact(r, 'register')), fact(r, 'register')),
        check(`every handler wrote its record and exited before its victim was killed (${victims.length - failures.length}/${victims.length})`,
          victims.length === n && failures.length === 0, failures.join('; ')),
        check('the guest was usable afterwards', ok(fact(r, 'register_after')), fact(r, 'register_after')),
      ];
    },
  };
}

/** The errno each class of bad write gets; README.md documents the same. */
export const BAD_WRITE_ERRNOS: Readonly<Record<string, string>> = writeCases;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'memcg',
    title: 'memcg OOM: handler runs before the kill',
    memoryMb: 256,
    checks: (r) => [
      check('the registration was accepted', /^ok /.test(fact(r, 'register') ?? '')),
      check('the listing shows the registration',
        (fact(r, 'listing') ?? '').startsWith(`${fact(r, 'victim')} /gs/gs_handler_record /tmp/rec`)),
      ...handlerBeforeKill(r),
      equal('the handler saw the memcg constraint', recordOf(r)?.GS_CONSTRAINT, 'memcg'),
      equal('the handler saw the victim\'s cgroup', recordOf(r)?.GS_CGROUP, '/work'),
      equal('the handler ran at its usual priority (nice 0): only a global OOM raises it', recordOf(r)?.nice, '0'),
      parkedStart(r),
      equal('memory.events counts one oom_kill', fact(r, 'oom_kill'), '1'),
      equal('the entry fired once and left the registry', fact(r, 'listing_after'), ''),
    ],
  },
  {
    name: 'global',
    title: 'global OOM: the handler runs to completion before the kill',
    memoryMb: 256,
    checks: (r) => [
      ...handlerBeforeKill(r),
      equal('the handler saw the global constraint', recordOf(r)?.GS_CONSTRAINT, 'global'),
      equal('the handler ran at global_nice (-10)', recordOf(r)?.nice, '-10'),
      parkedStart(r),
      check('the guest was usable afterwards', ok(fact(r, 'register_after')), fact(r, 'register_after')),
      check('the listing after shows the new entry',
        (fact(r, 'listing_after') ?? '').startsWith(`${fact(r, 'sleeper')} `)),
    ],
  },
  globalMany(4),
  globalMany(8),
  {
    name: 'hang',
    title: 'a handler that never exits: killed after timeout_ms, victim killed',
    memoryMb: 256,
    checks: (r) => {
      const { timeout, delay } = handlerTimeline(r);
      return [
        equal('the handler started', recordOf(r)?.mode, 'hang'),
        check('the module logged the timeout', timeout?.fields.timeout_ms === '2000', JSON.stringify(timeout)),
        check('the victim was killed within timeout_ms + 1 s of being chosen',
          delay <= 3.0005, `kill came ${delay.toFixed(3)} s after the start`),
        equal('the victim died of SIGKILL', fact(r, 'victim_status'), '137'),
        // gs_handler_hang records only once its child (in a session of its
        // own) and grandchild exist: all three must go with the timeout.
        equal('the timeout killed the handler and the two processes it started',
          timeout?.fields.killed, '3'),
        equal('no helper is left behind', fact(r, 'leftover_helpers'), '0'),
      ];
    },
  },
  {
    name: 'badwrites',
    title: 'bad writes: precise errno, registry unchanged',
    memoryMb: 128,
    checks: (r) => {
      const results = new Map<string, string>();
      for (const line of r.facts.get('write') ?? []) {
        const [name, ...rest] = line.split(' ');
        results.set(name!, rest.join(' '));
      }
      const listing = fact(r, 'listing') ?? '';
      return [
        check('the first registration was accepted', /^ok /.test(fact(r, 'register') ?? '')),
        ...Object.entries(writeCases).map(([name, errno]) =>
          equal(`the bad write "${name.replace(/_/g, ' ')}" fails with ${errno} and changes nothing`,
            results.get(name), `err ${errno} same=yes`)),
        check('a good write after the bad ones is accepted', /^ok /.test(fact(r, 'good') ?? '')),
        check('the listing shows handler arguments', listing.includes('/gs/gs_handler_sleep /tmp/rec 100')),
        check('a second registration for a pid replaces the first, normalising blanks',
          /^ok /.test(fact(r, 'replace') ?? '') &&
          (fact(r, 'listing_replaced') ?? '').includes(' /gs/gs_handler_record /tmp/rec|') &&
          !(fact(r, 'listing_replaced') ?? '').includes('gs_handler_sleep')),
        equal('a relative handler_cgroup is refused', fact(r, 'relative_cgroup_param'), 'refused'),
        equal('handler_cgroup reads back as set', fact(r, 'handler_cgroup_param'), '/sys/fs/cgroup/gs-handlers'),
        check('what is read can be written back unchanged',
          /^ok /.test(fact(r, 'rewrite') ?? '') && fact(r, 'rewrite_same') === 'yes'),
      ];
    },
  },
  {
    name: 'perms',
    title: 'a user registers its own processes only, and its handler runs as that user',
    memoryMb: 256,
    checks: (r) => [
      check('root may register any process', /^ok /.test(fact(r, 'root_register') ?? '')),
      equal('a user cannot register a root process', fact(r, 'user_register_root'), 'err EPERM'),
      equal('a user cannot register init', fact(r, 'user_register_init'), 'err EPERM'),
      equal('a user cannot remove a root process\'s entry', fact(r, 'user_remove_root'), 'err EPERM'),
      check('a user can register its own process', /^ok /.test(fact(r, 'user_register_own') ?? '')),
      equal('a user lists only its own entries',
        fact(r, 'user_listing'), `${fact(r, 'victim')} /gs/gs_handler_record /tmp/rec|`),
      check('root lists every entry', (fact(r, 'root_listing') ?? '').split('|').filter(Boolean).length === 2),
      ...handlerBeforeKill(r, { uid: '1000' }),
      equal('the handler ran with the user\'s gid', recordOf(r)?.gid, '1000'),
    ],
  },
  {
    name: 'lifecycle',
    title: 'exited processes leave the listing; -<pid> removes; rmmod and insmod are clean',
    memoryMb: 128,
    checks: (r) => [
      check('a short-lived process can be registered', /^ok /.test(fact(r, 'register_short') ?? '')),
      check('the listing shows it while it lives',
        (fact(r, 'listing_with_short') ?? '').startsWith(`${fact(r, 'short')} `)),
      equal('the listing drops it once it exits', fact(r, 'listing_after_exit'), ''),
      check('a two-line write registers both', /^ok /.test(fact(r, 'register_both') ?? '')),
      check('-<pid> removes one entry', /^ok /.test(fact(r, 'remove_l1') ?? '')),
      equal('the other entry stays', fact(r, 'listing_after_remove'),
        `${fact(r, 'l2')} /gs/gs_handler_sleep /tmp/rec 10|`),
      equal('rmmod with an entry present succeeds', fact(r, 'rmmod'), 'ok'),
      equal(`rmmod removes ${PROC_FILE}`, fact(r, 'proc_after_rmmod'), 'absent'),
      equal('insmod again succeeds', r.facts.get('insmod')?.[1], 'ok'),
      equal('the reloaded registry starts empty', fact(r, 'listing_after_reload'), ''),
      check('the reloaded module accepts registrations', /^ok /.test(fact(r, 'register_after_reload') ?? '')),
      equal('the module unloads again', fact(r, 'rmmod_again'), 'ok'),
    ],
  },
  {
    name: 'nomodule',
    title: 'patched kernel without the module: stock OOM behaviour',
    memoryMb: 256,
    checks: (r) => [
      equal(`there is no ${PROC_FILE}`, fact(r, 'proc_file'), 'absent'),
      check('the OOM killer killed the victim', killOf(r, fact(r, 'victim')) !== undefined),
      equal('the victim died of SIGKILL', fact(r, 'victim_status'), '137'),
      equal('memory.events counts one oom_kill', fact(r, 'oom_kill'), '1'),
      equal('no handler ran', fact(r, 'rec'), 'none'),
      check('the module logged nothing', moduleEvents(r.dmesg).length === 0),
    ],
  },
];

function statusLine(report: GuestReport, label: string): { ok: boolean; value: string } | undefined {
  try {
    const lines = JSON.parse(fact(report, 'status') ?? '[]') as { label: string; ok: boolean; value: string }[];
    return lines.find((l) => l.label === label);
  } catch {
    return undefined;
  }
}

const statusOk = (report: GuestReport, label: string) => statusLine(report, label)?.ok === true;

/**
 * The hook status names is the one the loaded module reported at insmod
 * (the suite checks that mode against the build), and an unpatched kernel
 * can only have the stock one.
 */
function hookMatchesModule(report: GuestReport): boolean {
  const loaded = fact(report, 'hook');
  const patched = /: patched /.test(statusLine(report, 'kernel')?.value ?? '');
  return statusOk(report, 'hook') && loaded !== undefined && (patched || loaded === 'stock') &&
    (statusLine(report, 'hook')?.value ?? '').startsWith(`${loaded}:`);
}

/** The CLI itself, run by the real node inside the guest. */
export const CLI_SCENARIO: Scenario = {
  name: 'cli',
  title: 'gs-kit in the guest: status, register/list/unregister, run-with-gs',
  memoryMb: 512,
  hostRoot: true,
  checks: (r) => {
    const s = fact(r, 'sleeper');
    const rec = recordOf(r);
    return [
      check('gs-kit status reports a kernel the module can hook (patched, or stock mode)', statusOk(r, 'kernel'), fact(r, 'status')),
      check('gs-kit status names the hook in use, the one the module reported', hookMatchesModule(r), fact(r, 'status')),
      check('gs-kit status reports the loaded module', statusOk(r, 'module') && statusOk(r, 'proc file'), fact(r, 'status')),
      check('gs-kit register registers a process', (fact(r, 'register') ?? '').startsWith(`registered ${s} /`), fact(r, 'register')),
      check('gs-kit list shows it', /^\d+ \/\S+\/gs_handler_record \/tmp\/rec\|$/.test(fact(r, 'list') ?? '') &&
        (fact(r, 'list') ?? '').startsWith(`${s} `), fact(r, 'list')),
      equal('gs-kit unregister removes it', fact(r, 'unregister'), `unregistered ${s}`),
      equal('gs-kit list is then empty', fact(r, 'list_after'), ''),
      check('unregistering it again says it is not registered, exit code 10',
        fact(r, 'unregister_again_rc') === '10' && /is not registered/.test(fact(r, 'unregister_again') ?? ''),
        `${fact(r, 'unregister_again_rc')} ${fact(r, 'unregister_again')}`),
      check('registering a missing pid says "No such process", exit code 10',
        fact(r, 'register_nosuch_rc') === '10' && /No such process: 999999/.test(fact(r, 'register_nosuch') ?? ''),
        `${fact(r, 'register_nosuch_rc')} ${fact(r, 'register_nosuch')}`),
      ...handlerBeforeKill(r),
      equal('run-with-gs exits with the program\'s status (SIGKILL: 137)', fact(r, 'rwg_status'), '137'),
      check('the program ran in a cgroup of its own under gs-workload', /^\/gs-workload\/run-\d+$/.test(rec?.GS_CGROUP ?? ''), rec?.GS_CGROUP),
      equal('the handler saw a memcg OOM', rec?.GS_CONSTRAINT, 'memcg'),
      equal('run-with-gs removes its cgroup afterwards', fact(r, 'cgroups_left'), '0'),
      equal('run-with-gs passes an exit status through', fact(r, 'rwg_exit7'), '7'),
      check('in another network namespace run-with-gs says it runs the handler from a waiter',
        /a waiter of this run will run it/.test(fact(r, 'rwg_waiter_stderr') ?? ''), fact(r, 'rwg_waiter_stderr')),
      check('the module woke that waiter', eventFor(moduleEvents(r.dmesg), 'start', fact(r, 'victim_waiter'))?.fields.spawn === 'waiter',
        JSON.stringify(eventFor(moduleEvents(r.dmesg), 'start', fact(r, 'victim_waiter')))),
      ...handlerBeforeKill(r, { victimKey: 'victim_waiter', recKey: 'rec_waiter', victimStatus: fact(r, 'rwg_waiter_status') }),
      equal('no waiter is left', fact(r, 'waiters_left_waiter'), '0'),
      equal('as a container\'s PID 1 (bin/gs-kit), run-with-gs exits with the program\'s status (SIGKILL: 137)', fact(r, 'rwg_init_status'), '137'),
      check('its handler wrote its record, from inside the namespaces', recordOf(r, 'rec_init') !== undefined, fact(r, 'rec_init')),
      equal('and was given GS_PID as the namespace sees it (the victim\'s own pid there)',
        recordOf(r, 'rec_init')?.GS_PID, fact(r, 'victim_init') ?? ''),
      equal('with the victim alive when it started', recordOf(r, 'rec_init')?.victim_alive, '1'),
      equal('no waiter of it is left', fact(r, 'waiters_left_init'), '0'),
    ];
  },
};

export function scenarioNamed(name: string): Scenario | undefined {
  return ALL_SCENARIOS.find((s) => s.name === name);
}

/** Every scenario the guest suite runs: the kernel's, the fuzzer, then the CLI's. */
export const ALL_SCENARIOS: readonly Scenario[] = [
  ...SCENARIOS, ...PRIVILEGE_SCENARIOS, ...SECURITY_SCENARIOS, ...CONTAINER_SCENARIOS, ...KILLER_SCENARIOS, FUZZ_SCENARIO, CLI_SCENARIO,
];
