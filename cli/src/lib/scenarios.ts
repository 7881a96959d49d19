import { FUZZ_SCENARIO } from './fuzz.js';
import {
  fact, findSplats, moduleEvents, oomKills, parseRecord,
  type GuestReport, type ModuleEvent,
} from './guest-protocol.js';

/** One verdict about a guest run: what must hold, whether it did, and why not. */
export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface Scenario {
  name: string;
  title: string;
  /** Guest RAM in MiB. */
  memoryMb: number;
  /** Share the host's root over 9p (the scenario runs the real CLI in it). */
  hostRoot?: boolean;
  /** Hard limit for one boot, when the default (120 s) is not enough. */
  timeoutMs?: number;
  checks(report: GuestReport): Check[];
}

function check(name: string, ok: boolean, detail?: string): Check {
  return detail === undefined || ok ? { name, ok } : { name, ok, detail };
}

function equal(name: string, got: string | undefined, want: string): Check {
  return check(name, got === want, `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

/** The handler's record, as the guest reported it line by line. */
export function recordOf(report: GuestReport): Record<string, string> | undefined {
  const lines = report.facts.get('rec') ?? [];
  if (lines.length === 0 || lines[0] === 'none') return undefined;
  return parseRecord(lines.join('\n'));
}

function eventFor(events: ModuleEvent[], name: string, victim: string | undefined) {
  return events.find((e) => e.event === name && e.fields.victim === victim);
}

function killOf(report: GuestReport, victim: string | undefined) {
  return oomKills(report.dmesg).find((k) => String(k.pid) === victim);
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

/** The handler ran before the kill, while the victim was alive. */
function handlerBeforeKill(report: GuestReport, expectUid = '0'): Check[] {
  const victim = fact(report, 'victim');
  const rec = recordOf(report);
  const events = moduleEvents(report.dmesg);
  const start = eventFor(events, 'start', victim);
  const exit = eventFor(events, 'exit', victim);
  const kill = killOf(report, victim);
  return [
    check('the handler wrote its record', rec !== undefined),
    equal('the handler was given GS_PID = the victim', rec?.GS_PID, victim ?? ''),
    equal('the victim was alive when the handler started', rec?.victim_alive, '1'),
    equal(`the handler ran as uid ${expectUid}`, rec?.uid, expectUid),
    check('the module logged the start of the handler', start !== undefined),
    check('the module logged the exit of the handler with status 0',
      exit?.fields.status === '0', JSON.stringify(exit)),
    check('the OOM killer killed the victim', kill !== undefined),
    check('the handler started and exited before the kill',
      !!start && !!exit && !!kill && start.time <= kill.time && exit.time <= kill.time,
      `start ${start?.time} exit ${exit?.time} kill ${kill?.time}`),
    equal('the victim died of SIGKILL', fact(report, 'victim_status'), '137'),
  ];
}

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
};

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
      equal('memory.events counts one oom_kill', fact(r, 'oom_kill'), '1'),
      equal('the entry fired once and left the registry', fact(r, 'listing_after'), ''),
    ],
  },
  {
    name: 'global',
    title: 'global OOM: handler runs before the kill, or the module says why not',
    memoryMb: 256,
    checks: (r) => {
      const victim = fact(r, 'victim');
      const events = moduleEvents(r.dmesg);
      const ran = recordOf(r) !== undefined;
      const why = events.find((e) => (e.event === 'error' || e.event === 'timeout') && e.fields.victim === victim);
      return [
        check('the module started the handler', eventFor(events, 'start', victim) !== undefined),
        ran ? handlerBeforeKill(r) : [check('the module logged why the handler did not run', why !== undefined)],
        equal('the handler saw the global constraint', recordOf(r)?.GS_CONSTRAINT ?? 'global', 'global'),
        check('the OOM killer killed the victim', killOf(r, victim) !== undefined),
        check('the guest was usable afterwards', /^ok /.test(fact(r, 'register_after') ?? ''),
          fact(r, 'register_after')),
        check('the listing after shows the new entry',
          (fact(r, 'listing_after') ?? '').startsWith(`${fact(r, 'sleeper')} `)),
      ].flat();
    },
  },
  {
    name: 'hang',
    title: 'a handler that never exits: killed after timeout_ms, victim killed',
    memoryMb: 256,
    checks: (r) => {
      const victim = fact(r, 'victim');
      const events = moduleEvents(r.dmesg);
      const start = eventFor(events, 'start', victim);
      const timeout = eventFor(events, 'timeout', victim);
      const kill = killOf(r, victim);
      const delay = start && kill ? kill.time - start.time : NaN;
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
      ...handlerBeforeKill(r, '1000'),
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
      equal('rmmod removes /proc/graceful_shutdown', fact(r, 'proc_after_rmmod'), 'absent'),
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
      equal('there is no /proc/graceful_shutdown', fact(r, 'proc_file'), 'absent'),
      check('the OOM killer killed the victim', killOf(r, fact(r, 'victim')) !== undefined),
      equal('the victim died of SIGKILL', fact(r, 'victim_status'), '137'),
      equal('memory.events counts one oom_kill', fact(r, 'oom_kill'), '1'),
      equal('no handler ran', fact(r, 'rec'), 'none'),
      check('the module logged nothing', moduleEvents(r.dmesg).length === 0),
    ],
  },
];

function statusOk(report: GuestReport, label: string): boolean {
  try {
    const lines = JSON.parse(fact(report, 'status') ?? '[]') as { label: string; ok: boolean }[];
    return lines.find((l) => l.label === label)?.ok === true;
  } catch {
    return false;
  }
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
      check('gs-kit status reports the patched kernel', statusOk(r, 'kernel'), fact(r, 'status')),
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
    ];
  },
};

export function scenarioNamed(name: string): Scenario | undefined {
  return ALL_SCENARIOS.find((s) => s.name === name);
}

/** Every scenario the guest suite runs: the kernel's, the fuzzer, then the CLI's. */
export const ALL_SCENARIOS: readonly Scenario[] = [...SCENARIOS, FUZZ_SCENARIO, CLI_SCENARIO];
