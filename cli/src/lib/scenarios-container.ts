/**
 * A process in a container, its handler run inside the container by a
 * waiter the container starts ("<pid> @wait"), rootless and rootful;
 * proven in guests with a small container runtime (container_run). Pure.
 */
import { check, equal, type Check } from './checks.js';
import { fact, moduleEvents, type GuestReport } from './guest-protocol.js';
import { answerOk, eventFor, handlerBeforeKill, killOf, recordOf, type Scenario } from './scenario.js';

/** A run of a waiter for the victim in fact @victimKey: started, ended with status 0, before the kill. */
function waiterRun(r: GuestReport, victimKey: string, uid: string): Check[] {
  const victim = fact(r, victimKey);
  const events = moduleEvents(r.dmesg);
  const start = eventFor(events, 'start', victim);
  const exit = eventFor(events, 'exit', victim);
  const kill = killOf(r, victim);
  return [
    check('the module woke the waiter (spawn=waiter)', start?.fields.spawn === 'waiter', JSON.stringify(start)),
    equal(`its registrant is uid ${uid} outside the container`, start?.fields.uid, uid),
    check('the run ended with status 0', exit?.fields.status === '0', JSON.stringify(exit)),
    check('the run ended before the kill', !!exit && !!kill && exit.time <= kill.time,
      `exit ${exit?.time} kill ${kill?.time}`),
  ];
}

const container: Scenario = {
  name: 'container',
  title: 'a process in a rootless or rootful container has its handler run inside the container, by its waiter',
  memoryMb: 256,
  checks: (r) => {
    const listingA = fact(r, 'a_listing') ?? '';
    return [
      equal('a handler path named in a container is refused (another file to the kernel)', fact(r, 'a_by_path'), 'err EXDEV'),
      check('the rootless container\'s waiter registers its application', answerOk(fact(r, 'a_waiter')), fact(r, 'a_waiter')),
      check('root\'s listing shows it as uid 1000\'s waiter', new RegExp(`^1000:${fact(r, 'victim')} @wait\\|$`).test(listingA),
        listingA),
      ...waiterRun(r, 'victim', '1000'),
      check('the container sees its application under a pid of its own namespace',
        /^\d+$/.test(fact(r, 'a_app') ?? '') && fact(r, 'a_app') !== fact(r, 'victim'),
        `inside ${fact(r, 'a_app')}, outside ${fact(r, 'victim')}`),
      equal('the handler saw the victim\'s pid as the container sees it', fact(r, 'a_pid'), fact(r, 'a_app') ?? '-'),
      equal('and the registered pid likewise', fact(r, 'a_registered'), fact(r, 'a_app') ?? '-'),
      equal('it ran as the container\'s root', fact(r, 'a_uid'), '0'),
      equal('which is uid 1000 outside (the owner of what it wrote)', fact(r, 'a_owner'), '1000'),
      equal('in the container\'s network namespace', fact(r, 'a_saved_net'), fact(r, 'a_net') ?? '-'),
      equal('with the container\'s hostname (UTS namespace)', fact(r, 'a_host'), 'ctr'),
      equal('and its root directory: the file landed in the container, not on the host', fact(r, 'a_host_saved'), 'no'),
      equal('the victim was alive while it ran', fact(r, 'a_alive'), 'yes'),
      equal('it was told the OOM is its cgroup\'s (memcg)', fact(r, 'a_constraint'), 'memcg'),
      equal('and the cgroup as the container\'s cgroup namespace sees it', fact(r, 'a_cgroup'), '/'),
      check('it ran in uid 1000\'s handler cgroup, outside its full container',
        /gs-handlers\/user-1000\/run$/.test(fact(r, 'a_in') ?? ''), fact(r, 'a_in')),
      equal('so it wrote its 8 MiB state although its container was out of memory', fact(r, 'a_state_kb'), '8192'),
      equal('the application died of SIGKILL after', fact(r, 'a_app_status'), '137'),
      equal('nothing of the handler is left', fact(r, 'a_left'), '0'),

      equal('the rootful container\'s path registration is refused too', fact(r, 'b_by_path'), 'err EXDEV'),
      check('its waiter registers', answerOk(fact(r, 'b_waiter')), fact(r, 'b_waiter')),
      check('root\'s listing shows it without a registrant (uid 0, root\'s own uid)',
        new RegExp(`^${fact(r, 'victim_b')} @wait\\|$`).test(fact(r, 'b_listing') ?? ''), fact(r, 'b_listing')),
      ...waiterRun(r, 'victim_b', '0'),
      equal('its handler ran as uid 0', fact(r, 'b_uid'), '0'),
      equal('while the victim was alive', fact(r, 'b_alive'), 'yes'),
      check('in the handler cgroup of uid 0 as a user (no CAP_SYS_ADMIN: not an admin)',
        /gs-handlers\/user-0\/run$/.test(fact(r, 'b_in') ?? ''), fact(r, 'b_in')),
      check('the waiter that said "done" was killed at the end of the run',
        Number(eventFor(moduleEvents(r.dmesg), 'exit', fact(r, 'victim_b'))?.fields.killed) >= 1,
        JSON.stringify(eventFor(moduleEvents(r.dmesg), 'exit', fact(r, 'victim_b')))),
      equal('no waiter is left', fact(r, 'b_left'), '0'),
      equal('the application died of SIGKILL after', fact(r, 'b_app_status'), '137'),
      equal('the handler cgroups hold no process afterwards (parked helpers aside)', fact(r, 'handler_procs'), '0'),

      equal('a waiter may not register another user\'s process', fact(r, 'c_other'), 'err EPERM'),
      check('a user\'s waiter on the host registers its process', answerOk(fact(r, 'c_waiter')), fact(r, 'c_waiter')),
      check('and is listed', /@wait\|$/.test(fact(r, 'c_listing') ?? ''), fact(r, 'c_listing')),
      equal('its registration ends with its descriptor', fact(r, 'c_listing_closed'), ''),

      equal('the README\'s shell waiter registers', fact(r, 'd_ready'), 'registered'),
      ...handlerBeforeKill(r, { victimKey: 'victim_d', recKey: 'd_rec', uid: '1000' }),

      check('a waiter blocks in its read', answerOk(fact(r, 'e_waiter')), fact(r, 'e_waiter')),
      equal('rmmod meanwhile completes', fact(r, 'e_rmmod'), '0'),
      equal('and ends the waiter\'s read: it exits 0, having run nothing', fact(r, 'e_waiter_status'), '0'),
    ];
  },
};

const waiterGlobal: Scenario = {
  name: 'waiter_global',
  title: 'a user\'s waiter in a global OOM runs its handler to its end before the kill',
  memoryMb: 256,
  checks: (r) => [
    check('a user\'s waiter registers its process', answerOk(fact(r, 'waiter')), fact(r, 'waiter')),
    ...waiterRun(r, 'victim', '1000'),
    ...handlerBeforeKill(r, { uid: '1000' }),
    equal('the handler saw the global constraint', recordOf(r)?.GS_CONSTRAINT, 'global'),
    equal('no waiter is left', fact(r, 'waiters_left'), '0'),
  ],
};

export const CONTAINER_SCENARIOS: readonly Scenario[] = [container, waiterGlobal];
