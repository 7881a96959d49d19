/**
 * Least privilege, proven in guests: nothing a handler starts outlives its
 * run or escapes the handler cgroup, nothing is shielded from the OOM
 * killer, the handler has its registrant's whole identity and no more,
 * per-user limits hold, and the handler path cannot be swapped. Pure.
 */
import { check, equal, type Check } from './checks.js';
import { fact, factRecord, moduleEvents, type GuestReport } from './guest-protocol.js';
import {
  answerOk, eventFor, guestHandlerCgroup, handlerBeforeKill, handlerTimeline, killOf, recordOf, type Scenario,
} from './scenario.js';

/** The victims' exit statuses, in the order the guest reported them. */
const statuses = (r: GuestReport) => r.facts.get('victim_status') ?? [];

/** Whether capability @bit is in a hex capability set from /proc/PID/status. */
export function hasCapability(hexSet: string | undefined, bit: number): boolean | undefined {
  if (!hexSet || !/^[0-9a-f]+$/i.test(hexSet)) return undefined;
  return (BigInt(`0x${hexSet}`) >> BigInt(bit) & 1n) === 1n;
}

const CAP_KILL = 5;
const CAP_SYS_ADMIN = 21;

/** A victim whose handler the module did not run, and said why; it was killed all the same. */
function notRun(r: GuestReport, victimKey: string, event: string, reason: string, status: string | undefined,
  errno?: string): Check[] {
  const victim = fact(r, victimKey);
  const why = eventFor(moduleEvents(r.dmesg), event, victim);
  return [
    check(`the module logged ${event} reason=${reason}${errno ? ` errno=${errno}` : ''} for ${victimKey}`,
      why?.fields.reason === reason && (errno === undefined || why.fields.errno === errno), JSON.stringify(why)),
    check(`the OOM killer killed ${victimKey} all the same`, killOf(r, victim) !== undefined),
    equal(`${victimKey} died of SIGKILL`, status, '137'),
  ];
}

const escape: Scenario = {
  name: 'escape',
  title: 'nothing a handler starts outlives its run, is shielded from the OOM killer, or leaves the handler cgroup',
  memoryMb: 256,
  checks: (r) => {
    const events = moduleEvents(r.dmesg);
    const tree = factRecord(r, 'tree');
    const treeB = factRecord(r, 'tree_b');
    const exitA = eventFor(events, 'exit', fact(r, 'victim'));
    const exitB = eventFor(events, 'exit', fact(r, 'victim_b'));
    return [
      check('a user registers its own process', answerOk(fact(r, 'register')), fact(r, 'register')),
      ...handlerBeforeKill(r, { uid: '1000', victimStatus: statuses(r)[0] }),
      equal('the user\'s handler started six background processes (setsid, double fork, nohup, a pipeline, setsid in a subshell)',
        tree.started, '6'),
      equal('the user\'s handler may not set oom_score_adj -1000 on itself', tree.lower, 'refused'),
      equal('a process the handler starts has the victim\'s oom_score_adj, 0', tree.child_adj, '0'),
      equal('a process the handler starts is in the user\'s handler cgroup', tree.child_cgroup, guestHandlerCgroup('1000')),
      check('when the handler exited, the module killed the six it left behind',
        Number(exitA?.fields.killed) >= 6, JSON.stringify(exitA)),
      equal('nothing the user\'s handler started is left running', fact(r, 'leftovers'), '0'),
      equal('no process is left with oom_score_adj -1000', fact(r, 'shielded'), '0'),
      equal('the user still may not set oom_score_adj -1000 afterwards', fact(r, 'user_lower_after'), 'refused'),
      check('root registers a process', answerOk(fact(r, 'register_b')), fact(r, 'register_b')),
      ...handlerBeforeKill(r, { victimKey: 'victim_b', recKey: 'rec_b', victimStatus: statuses(r)[1], status: '3' }),
      equal('root\'s handler started its six background processes too', treeB.started, '6'),
      check('when root\'s handler exited with status 3, the module killed what it left behind',
        Number(exitB?.fields.killed) >= 6, JSON.stringify(exitB)),
      equal('nothing root\'s handler started is left running', fact(r, 'leftovers_b'), '0'),
      equal('no process is left with oom_score_adj -1000 after root\'s handler', fact(r, 'shielded_b'), '0'),
      equal('the handler cgroups hold no process afterwards (parked helpers aside)', fact(r, 'handler_cgroup_procs'), '0'),
    ];
  },
};

const identity: Scenario = {
  name: 'identity',
  title: 'the handler has its registrant\'s whole identity (LSM state included) and never a wider bounding set',
  memoryMb: 256,
  // Smack is built into the qemu profile, Landlock into the distribution's
  // kernels; the guest starts whichever is there.
  append: 'lsm=smack,landlock',
  checks: (r) => {
    const rec = recordOf(r);
    const landlocked = recordOf(r, 'rec_landlock');
    const root = recordOf(r, 'rec_root');
    const [lo] = (fact(r, 'umh_bset') ?? '').split(/\s+/);
    const smack = fact(r, 'smack') === 'yes';
    const landlock = fact(r, 'landlock') === 'yes';
    return [
      check('an LSM with per-process state runs in the guest (Smack or Landlock)', smack || landlock,
        `smack=${fact(r, 'smack')} landlock=${fact(r, 'landlock')}`),
      check('the user registers its own process', answerOk(fact(r, 'register')), fact(r, 'register')),
      ...handlerBeforeKill(r, { uid: '1000', victimStatus: statuses(r)[0] }),
      ...(smack ? [equal('the handler has the registrant\'s Smack label', rec?.label, 'gs_user')] : []),
      equal('the handler has the registrant\'s gid', rec?.gid, '1000'),
      equal('the handler has the registrant\'s supplementary groups', rec?.groups, '4242,4243'),
      equal('the handler has no_new_privs, as the registrant had', rec?.no_new_privs, '1'),
      equal('the handler has its registrant\'s RLIMIT_NOFILE (77), not the victim\'s (88)', rec?.rlimit_nofile, '77'),
      equal('the handler has its registrant\'s nice value (19)', rec?.nice, '19'),
      ...(fact(r, 'loginuid') === 'yes'
        ? [equal('the handler has its registrant\'s audit login uid', rec?.loginuid, '4242')] : []),
      equal('the user\'s handler has no effective capabilities', rec?.cap_eff, '0000000000000000'),
      ...(landlock ? [
        check('a user confined by Landlock registers its own process', answerOk(fact(r, 'register_landlock')), fact(r, 'register_landlock')),
        ...handlerBeforeKill(r, { uid: '1000', victimKey: 'victim_landlock', recKey: 'rec_landlock', victimStatus: statuses(r)[1] }),
        equal('the handler is confined by the registrant\'s Landlock domain (may not create a file outside /tmp/rec)',
          landlocked?.probe_write, 'EACCES'),
      ] : []),
      check('the usermode-helper bounding set was narrowed to exclude CAP_SYS_ADMIN',
        lo !== undefined && /^\d+$/.test(lo) && (Number(lo) & (1 << CAP_SYS_ADMIN)) === 0, fact(r, 'umh_bset')),
      check('root registers a process', answerOk(fact(r, 'register_root')), fact(r, 'register_root')),
      ...handlerBeforeKill(r, { victimKey: 'victim_root', recKey: 'rec_root', victimStatus: statuses(r).at(-1) }),
      equal('root\'s handler may create a file anywhere (it has no confinement of its registrant\'s)', root?.probe_write, 'ok'),
      equal('root\'s handler lacks CAP_SYS_ADMIN in its bounding set, as a usermode helper does',
        String(hasCapability(root?.cap_bnd, CAP_SYS_ADMIN)), 'false'),
      equal('root\'s handler lacks CAP_SYS_ADMIN in its effective set', String(hasCapability(root?.cap_eff, CAP_SYS_ADMIN)), 'false'),
      equal('root\'s handler keeps the capabilities the helper may have (CAP_KILL)',
        String(hasCapability(root?.cap_bnd, CAP_KILL)), 'true'),
    ];
  },
};

const limits: Scenario = {
  name: 'limits',
  title: 'per-user limits: registrations, the wait a user\'s handler gets, the time handlers may hold the OOM killer',
  memoryMb: 256,
  checks: (r) => {
    const events = moduleEvents(r.dmesg);
    const timeoutU1 = eventFor(events, 'timeout', fact(r, 'victim_u1'));
    const timeoutR2 = eventFor(events, 'timeout', fact(r, 'victim_r2'));
    const exitR1 = eventFor(events, 'exit', fact(r, 'victim_r1'));
    const st = statuses(r);
    return [
      check('a user registers two processes in one write', answerOk(fact(r, 'quota_1')), fact(r, 'quota_1')),
      check('and a third', answerOk(fact(r, 'quota_2')), fact(r, 'quota_2')),
      equal('a fourth is refused with EDQUOT (user_max_entries=3)', fact(r, 'quota_full'), 'err EDQUOT'),
      check('replacing one of its three still works', answerOk(fact(r, 'quota_replace')), fact(r, 'quota_replace')),
      check('root may still register the user\'s fourth process', answerOk(fact(r, 'quota_root')), fact(r, 'quota_root')),
      check('the user removes one', answerOk(fact(r, 'quota_remove')), fact(r, 'quota_remove')),
      check('and may then register another', answerOk(fact(r, 'quota_again')), fact(r, 'quota_again')),
      equal('the user lists its three', fact(r, 'quota_listing'), '3'),
      equal('the user\'s hung handler is cut at user_timeout_ms (1000), not timeout_ms (4000)',
        timeoutU1?.fields.timeout_ms, '1000'),
      ...notRun(r, 'victim_u2', 'skip', 'user_budget', st[1]),
      equal('the skipped handler wrote no record', fact(r, 'rec_u2'), 'no'),
      equal('root\'s handler still runs (the user\'s budget is the user\'s)', exitR1?.fields.status, '0'),
      equal('root\'s handler wrote its record', fact(r, 'rec_r1'), 'yes'),
      check('root\'s hung handler gets only what is left of hold_budget_ms (2000), not timeout_ms (4000)',
        Number(timeoutR2?.fields.timeout_ms) >= 100 && Number(timeoutR2?.fields.timeout_ms) < 2000, JSON.stringify(timeoutR2)),
      ...notRun(r, 'victim_r3', 'skip', 'budget', st[4]),
      equal('the handler skipped for the budget wrote no record', fact(r, 'rec_r3'), 'no'),
      check('every victim died of SIGKILL', st.length === 5 && st.every((s) => s === '137'), st.join(',')),
      equal('no hung handler is left', fact(r, 'leftover_helpers'), '0'),
    ];
  },
};

const handlerPath: Scenario = {
  name: 'handlerpath',
  title: 'a handler path that someone else could swap is refused; a swapped handler is not run',
  memoryMb: 256,
  checks: (r) => {
    const st = statuses(r);
    return [
      equal('root may not register a handler in a directory owned by uid 1000', fact(r, 'root_in_user_dir'), 'err EPERM'),
      equal('nor in a group-writable directory', fact(r, 'root_in_group_writable_dir'), 'err EPERM'),
      equal('nor through a symbolic link into uid 1000\'s directory', fact(r, 'root_through_user_symlink'), 'err EPERM'),
      equal('nor a symbolic link that sits in uid 1000\'s directory', fact(r, 'root_symlink_in_user_dir'), 'err EPERM'),
      check('uid 1000 may register a handler in its own directory', answerOk(fact(r, 'user_in_own_dir')), fact(r, 'user_in_own_dir')),
      check('a handler in a root directory is accepted', answerOk(fact(r, 'register_replaced'))),
      ...notRun(r, 'victim_replaced', 'error', 'handler_replaced', st[0], '116'),
      equal('the replaced handler did not run', fact(r, 'rec_replaced'), 'no'),
      check('another is accepted', answerOk(fact(r, 'register_unsafe'))),
      ...notRun(r, 'victim_unsafe', 'error', 'handler_check', st[1], '1'),
      equal('the handler whose directory became group-writable did not run', fact(r, 'rec_unsafe'), 'no'),
      equal('a writer in a chroot is refused with EXDEV', fact(r, 'chroot_register'), 'err EXDEV'),
      check('a handler registered through a symbolic link is accepted', answerOk(fact(r, 'register_link')), fact(r, 'register_link')),
      equal('and runs by its real path, the file that was checked', fact(r, 'ran_as'), '/tmp/pub/real/h0'),
    ];
  },
};

const handlerLimit: Scenario = {
  name: 'handlerlimit',
  title: 'a handler that runs into the handler cgroup\'s memory.max is stopped and killed in time; the kill goes on',
  memoryMb: 256,
  checks: (r) => {
    const { timeout, delay } = handlerTimeline(r);
    return [
      check('a handler that allocates 48M is registered', answerOk(fact(r, 'register'))),
      check('it ran into the handler cgroup\'s limit (memory.events oom)', Number(fact(r, 'handler_oom_events')) >= 1,
        fact(r, 'handler_oom_events')),
      check('the module timed it out at timeout_ms', timeout?.fields.timeout_ms === '2000', JSON.stringify(timeout)),
      equal('it wrote no record', fact(r, 'rec_greedy'), 'no'),
      check('the victim was killed within timeout_ms + 1 s of being chosen', delay <= 3.0005, `${delay.toFixed(3)} s`),
      equal('the victim died of SIGKILL', statuses(r)[0], '137'),
      equal('no handler is left', fact(r, 'leftover_helpers'), '0'),
      ...handlerBeforeKill(r, { victimKey: 'victim_ok', recKey: 'rec_ok', victimStatus: statuses(r)[1] }),
    ];
  },
};

/**
 * Victim "victim_<key>", no longer the registering user's: passed over with
 * reason not_owner (no handler start, no record "rec_<key>"), killed.
 */
function notOwner(r: GuestReport, key: string, what: string): Check[] {
  const victimKey = `victim_${key}`;
  const started = eventFor(moduleEvents(r.dmesg), 'start', fact(r, victimKey));
  return [
    ...notRun(r, victimKey, 'skip', 'not_owner', fact(r, `${victimKey}_status`)),
    check(`the user's handler did not run for ${what}`, fact(r, `rec_${key}`) === 'no' && started === undefined,
      `record ${fact(r, `rec_${key}`)}, start ${JSON.stringify(started)}`),
  ];
}

const tree: Scenario = {
  name: 'tree',
  title: '"+<pid>" covers the processes a registered process starts; "<pid>" only itself; a user\'s, only the user\'s own',
  memoryMb: 256,
  checks: (r) => {
    const events = moduleEvents(r.dmesg);
    const plainVictim = fact(r, 'victim_plain');
    return [
      check('"+<pid>" is accepted', answerOk(fact(r, 'register')), fact(r, 'register')),
      check('and listed with its "+"', (fact(r, 'listing') ?? '').startsWith(`+${fact(r, 'parent')} /gs/gs_handler_record /tmp/rec`),
        fact(r, 'listing')),
      ...handlerBeforeKill(r),
      equal('the handler was told which registration fired (GS_REGISTERED_PID)', recordOf(r)?.GS_REGISTERED_PID, fact(r, 'parent') ?? ''),
      check('a plain registration of the parent is accepted', answerOk(fact(r, 'register_plain'))),
      check('it does not fire for the child', eventFor(events, 'start', plainVictim) === undefined &&
        fact(r, 'rec_plain') === 'no', JSON.stringify(eventFor(events, 'start', plainVictim))),
      check('the child was killed all the same', killOf(r, plainVictim) !== undefined),
      check('a user registers "+<pid>" for its own shell', answerOk(fact(r, 'register_user')), fact(r, 'register_user')),
      equal('the shell\'s first child became user 1001 (a setuid program)', fact(r, 'victim_other_uid'), '1001 1001 1001'),
      ...notOwner(r, 'other', 'user 1001\'s process'),
      equal('the registration passed over is still listed', fact(r, 'listing_user'), '1'),
      ...handlerBeforeKill(r, { uid: '1000', victimKey: 'victim_own', recKey: 'rec_own',
        victimStatus: fact(r, 'victim_own_status') }),
      check('a user registers its own process', answerOk(fact(r, 'register_exec')), fact(r, 'register_exec')),
      equal('which then execs a setuid program (same pid)', fact(r, 'victim_exec_same'), 'yes'),
      ...notOwner(r, 'exec', 'it'),
    ];
  },
};

export const PRIVILEGE_SCENARIOS: readonly Scenario[] = [escape, identity, limits, handlerPath, handlerLimit, tree];
