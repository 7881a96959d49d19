/**
 * The holes an attacker would try, proven closed in guests: a thread (or a
 * core dump) outliving its handler's run, memory a user's handler leaves
 * charged where others need it, a listing written back as root, other
 * users starving root, confinement a handler cannot carry, a stalled FUSE
 * path holding every writer. Pure.
 */
import { check, equal, type Check } from './checks.js';
import { fact, moduleEvents, type GuestReport } from './guest-protocol.js';
import { answerOk, eventFor, handlerBeforeKill, recordOf, type Scenario } from './scenario.js';

const statuses = (r: GuestReport) => r.facts.get('victim_status') ?? [];

/** The module's event @name for the victim in fact @victimKey. */
const eventOf = (r: GuestReport, name: string, victimKey: string) =>
  eventFor(moduleEvents(r.dmesg), name, fact(r, victimKey));

/** A handler cut at its timeout, and every process of it killed then. */
function cutAndKilled(r: GuestReport, victimKey: string, what: string): Check[] {
  const timeout = eventOf(r, 'timeout', victimKey);
  return [
    check(`the module cut ${what} at its timeout`, timeout !== undefined, JSON.stringify(timeout)),
    check(`and killed it then (killed >= 1)`, Number(timeout?.fields.killed) >= 1, JSON.stringify(timeout)),
  ];
}

const threads: Scenario = {
  name: 'threads',
  title: 'a handler that lives on in a second thread, or in its core dump, is killed at the end of its run',
  memoryMb: 256,
  checks: (r) => {
    const st = statuses(r);
    const starts = moduleEvents(r.dmesg).filter((e) => e.event === 'start' && e.fields.victim === fact(r, 'victim_comm'));
    return [
      check('a user registers a handler whose main thread exits alone', answerOk(fact(r, 'register')), fact(r, 'register')),
      check('the handler ran (its record)', recordOf(r)?.mode === 'thread', JSON.stringify(recordOf(r))),
      ...cutAndKilled(r, 'victim', 'the handler whose leader exited'),
      equal('its second thread beat no more after its run', fact(r, 'beats_after_run'), '0'),
      equal('no process of it is left', fact(r, 'thread_left'), '0'),
      equal('its victim died of SIGKILL', st[0], '137'),
      check('root registers a handler that crashes into a core dump nobody reads', answerOk(fact(r, 'register_core')),
        fact(r, 'register_core')),
      ...cutAndKilled(r, 'victim_core', 'the handler stuck in its core dump'),
      equal('the crashed handler is gone after its run', fact(r, 'core_left'), '0'),
      equal('the handler cgroups hold no process afterwards (parked helpers aside)', fact(r, 'handler_procs'), '0'),
      check('a thread id registers its process', answerOk(fact(r, 'register_tid')), fact(r, 'register_tid')),
      equal('which is listed by its process id', fact(r, 'listed_as_process'), '1'),
      check('a victim whose comm holds a space, a newline and "event=" is registered', answerOk(fact(r, 'register_comm'))),
      check('its start is logged as one line, its comm one field, as it is',
        starts.length === 1 && starts[0]!.fields.comm === 'a b\nevent=exit', JSON.stringify(starts)),
      check('its handler ran', recordOf(r, 'rec_comm') !== undefined),
      equal('and it died of SIGKILL', st[2], '137'),
    ];
  },
};

const leftover: Scenario = {
  name: 'leftover',
  title: 'what a user\'s handler leaves charged stays in that user\'s own capped handler cgroup, and harms no one else\'s',
  memoryMb: 256,
  checks: (r) => {
    const stashKb = Number(fact(r, 'stash_kb'));
    const left = eventOf(r, 'leftover', 'victim');
    const otherExit = eventOf(r, 'exit', 'victim_other');
    return [
      check('a user registers root\'s dd writing 40 MiB to tmpfs as its handler', answerOk(fact(r, 'register')), fact(r, 'register')),
      check('the handler wrote some of it', stashKb > 0, fact(r, 'stash_kb')),
      check('but no more than the user\'s cap (24 MiB), not 40 MiB', stashKb <= 24576, fact(r, 'stash_kb')),
      equal('the user\'s handler cgroup is capped at user_handler_memory_kb', fact(r, 'user_cgroup_max'), String(24576 * 1024)),
      check('what it left is charged to the user\'s handler cgroup', Number(fact(r, 'user_cgroup_kb')) >= stashKb * 0.9,
        `${fact(r, 'user_cgroup_kb')} KiB for a ${stashKb} KiB file`),
      check('and the module logged it, and whose it is', left?.fields.cgroup === 'user-1000' && left.fields.uid === '1000' &&
        Number(left.fields.leftover_kb) >= stashKb * 0.9, JSON.stringify(left)),
      check('root registers a handler that needs 24 MiB', answerOk(fact(r, 'register_root'))),
      ...handlerBeforeKill(r, { victimKey: 'victim_root', recKey: 'rec_root', victimStatus: statuses(r)[1] }),
      check('another user registers a handler that writes 16 MiB to tmpfs', answerOk(fact(r, 'register_other'))),
      equal('it wrote all of it', fact(r, 'other_stash_kb'), '16384'),
      equal('and exited with status 0', otherExit?.fields.status, '0'),
      check('root\'s handler cgroup holds nothing of the users\'', Number(fact(r, 'admin_cgroup_kb')) < 8192,
        `${fact(r, 'admin_cgroup_kb')} KiB`),
      equal('the handler cgroups hold no process afterwards (parked helpers aside)', fact(r, 'handler_procs'), '0'),
    ];
  },
};

const roundtrip: Scenario = {
  name: 'roundtrip',
  title: 'a listing written back by root never makes a user\'s registration root\'s',
  memoryMb: 256,
  checks: (r) => {
    const victim = fact(r, 'victim') ?? '';
    const line = `1000:${victim} /bin/sh -c id>/tmp/rec/${victim}.who|`;
    return [
      check('a user registers a shell command as its handler', answerOk(fact(r, 'register')), fact(r, 'register')),
      equal('the user lists it as it wrote it', fact(r, 'user_listing'), `${victim} /bin/sh -c id>/tmp/rec/${victim}.who|`),
      equal('root lists it with its registrant first', fact(r, 'root_listing'), line),
      check('root writes the listing back', answerOk(fact(r, 'write_back')), fact(r, 'write_back')),
      equal('and the registration is still the user\'s', fact(r, 'listing_after'), line),
      check('the user removes it', answerOk(fact(r, 'removed'))),
      check('root writes the saved listing back (a reload)', answerOk(fact(r, 'restore')), fact(r, 'restore')),
      equal('and the registration is the user\'s again', fact(r, 'listing_restored'), line),
      equal('a user may not name root as the registrant', fact(r, 'other_names_root'), 'err EPERM'),
      equal('nor another user', fact(r, 'other_names_user'), 'err EPERM'),
      equal('root may name a user only for that user\'s own process', fact(r, 'root_names_wrong_owner'), 'err EPERM'),
      check('the handler ran as the user, not as root', /^uid=1000\b/.test(fact(r, 'who') ?? ''), fact(r, 'who')),
      equal('the victim died of SIGKILL', fact(r, 'victim_status'), '137'),
    ];
  },
};

const starve: Scenario = {
  name: 'starve',
  title: 'other users cannot take root\'s share of the table or of the hold budget, however many uids they map',
  memoryMb: 256,
  checks: (r) => {
    const rootTimeout = eventOf(r, 'timeout', 'victim_root');
    const skip3 = eventOf(r, 'skip', 'victim_u3');
    return [
      check('users register five processes', ['table_1001', 'table_1002', 'table_1003_a'].every((k) => answerOk(fact(r, k)))),
      equal('a sixth is refused: users hold at most users_max_entries (5)', fact(r, 'table_1003_b'), 'err ENOSPC'),
      check('root still registers three', answerOk(fact(r, 'table_root')), fact(r, 'table_root')),
      equal('the table holds max_entries (8)', fact(r, 'table_count'), '8'),
      check('a user registers two processes (its user_max_entries)', answerOk(fact(r, 'ns_outside')), fact(r, 'ns_outside')),
      equal('as another uid of its own user namespace, it is still that user: EDQUOT', fact(r, 'ns_inside'), 'err EDQUOT'),
      check('three users register hung handlers', ['register_u1', 'register_u2', 'register_u3'].every((k) => answerOk(fact(r, k)))),
      check('the first two are cut at user_timeout_ms', !!eventOf(r, 'timeout', 'victim_u1') && !!eventOf(r, 'timeout', 'victim_u2')),
      equal('the third is skipped: the users\' budget is spent', skip3?.fields.reason, 'users_budget'),
      check('root registers a hung handler', answerOk(fact(r, 'register_root'))),
      equal('root\'s handler still gets its whole timeout_ms', rootTimeout?.fields.timeout_ms, fact(r, 'root_timeout_ms') ?? '?'),
      equal('no hung handler is left', fact(r, 'hung_left'), '0'),
    ];
  },
};

const confine: Scenario = {
  name: 'confine',
  title: 'a registrant whose confinement a handler cannot carry is refused; a passed descriptor registers nothing',
  memoryMb: 256,
  checks: (r) => [
    check('an unconfined user registers its process', answerOk(fact(r, 'plain')), fact(r, 'plain')),
    equal('from another UTS namespace: EXDEV', fact(r, 'uts_ns'), 'err EXDEV'),
    equal('from another network namespace (PrivateNetwork=): EXDEV', fact(r, 'net_ns'), 'err EXDEV'),
    equal('under a seccomp filter (SystemCallFilter=): EXDEV', fact(r, 'seccomp'), 'err EXDEV'),
    equal('under cgroup BPF programs (IPAddressDeny=): EXDEV', fact(r, 'cgroup_bpf'), 'err EXDEV'),
    equal('a descriptor root opened, written by a user, registers nothing', fact(r, 'passed_fd'), 'refused'),
    equal('nothing was registered', fact(r, 'listing'), ''),
  ],
};

const fuse: Scenario = {
  name: 'fuse',
  title: 'a handler path on a stalled FUSE mount holds up its own writer only, which can be killed',
  memoryMb: 256,
  checks: (r) => [
    equal('a FUSE mount whose daemon answers nothing after INIT', fact(r, 'fuse'), 'ready'),
    check('root registers a process', answerOk(fact(r, 'register_root'))),
    check('a user\'s registration with a handler on the mount waits in its lookup',
      /^[SD]\b/.test(fact(r, 'user_writer') ?? ''), fact(r, 'user_writer')),
    check('meanwhile root\'s removal completes', answerOk(fact(r, 'root_remove')), fact(r, 'root_remove')),
    check('the waiting writer dies of SIGKILL', ['gone', 'Z'].includes(fact(r, 'user_writer_killed') ?? ''),
      fact(r, 'user_writer_killed')),
  ],
};

const constraint: Scenario = {
  name: 'constraint',
  title: 'an OOM of a memory policy is not global: no reserve lent, no raised priority',
  memoryMb: 256,
  append: 'numa=fake=2',
  kernelNeeds: ['numa-emulation'],
  checks: (r) => {
    const start = eventOf(r, 'start', 'victim');
    return [
      equal('the guest has two NUMA nodes (numa=fake=2)', fact(r, 'nodes'), '2'),
      check('root registers a process bound to node 1', answerOk(fact(r, 'register')), fact(r, 'register')),
      ...handlerBeforeKill(r),
      equal('the handler is told the OOM is its memory policy\'s', recordOf(r)?.GS_CONSTRAINT, 'mempolicy'),
      equal('the module logged the mempolicy constraint', start?.fields.constraint, 'mempolicy'),
      equal('it lent no reserve (only a global OOM does)', start?.fields.reserve_kb, '0'),
      equal('the handler ran at its registrant\'s nice value, 0 (only a global OOM raises it)', recordOf(r)?.nice, '0'),
    ];
  },
};

export const SECURITY_SCENARIOS: readonly Scenario[] = [threads, leftover, roundtrip, starve, confine, fuse, constraint];
