/**
 * Killers in user space (systemd-oomd, earlyoom): their request through
 * the module's request file (FIRE_FILE) runs the registration's handler as a kernel
 * OOM would, once, whichever killer comes first. Pure.
 */
import { check, equal } from './checks.js';
import { fact, moduleEvents, type GuestReport } from './guest-protocol.js';
import { answerOk, eventFor, guestHandlerCgroup, killOf, recordOf, type Scenario } from './scenario.js';

/** How proc_write reports a refused write. */
const refused = (answer: string | undefined, errno: string) => answer === `err ${errno}`;

const killers: Scenario = {
  name: 'killers',
  title: 'a user-space killer\'s request runs the handler once, before the write returns; the kernel\'s OOM later finds it gone',
  memoryMb: 256,
  checks: (r: GuestReport) => {
    const victim = fact(r, 'victim');
    const userVictim = fact(r, 'user_victim');
    const events = moduleEvents(r.dmesg);
    const starts = events.filter((e) => e.event === 'start' && e.fields.victim === victim);
    const exit = eventFor(events, 'exit', victim);
    const rec = recordOf(r);
    const userRec = recordOf(r, 'user_rec');
    const userStart = eventFor(events, 'start', userVictim);
    const oomdVictim = fact(r, 'oomd_victim');
    const oomdRec = recordOf(r, 'oomd_rec');
    const oomdLog = (r.facts.get('oomd_log') ?? []).join(' ');
    const earlyRec = recordOf(r, 'early_rec');
    const [pairA, pairB] = (fact(r, 'pair_victims') ?? '').split(' ');
    const pairRuns = [pairA, pairB].map((v) => ({ start: eventFor(events, 'start', v), exit: eventFor(events, 'exit', v) }))
      .sort((x, y) => (x.start?.time ?? 0) - (y.start?.time ?? 0));
    const [wParent, , wOk] = (fact(r, 'waiter_tree') ?? '').split(' ');
    const waiterRec = recordOf(r, 'waiter_rec');
    const waiterStart = eventFor(events, 'start', wParent);
    return [
      check('the victim was registered', answerOk(fact(r, 'register')), fact(r, 'register')),
      check('a user may not ask (the file is root\'s)', refused(fact(r, 'fire_user'), 'EACCES'), fact(r, 'fire_user')),
      check('a request cannot claim to be the kernel', refused(fact(r, 'fire_kernel'), 'EINVAL'), fact(r, 'fire_kernel')),
      check('a request without a killer is refused', refused(fact(r, 'fire_malformed'), 'EINVAL'), fact(r, 'fire_malformed')),
      check('a request for no process gets ESRCH', refused(fact(r, 'fire_nosuch'), 'ESRCH'), fact(r, 'fire_nosuch')),
      check('a request for an unregistered process gets ENOENT', refused(fact(r, 'fire_unregistered'), 'ENOENT'),
        fact(r, 'fire_unregistered')),
      equal('no refused request ran the handler', fact(r, 'rec_before_fire'), 'no'),
      check('earlyoom\'s request was accepted', answerOk(fact(r, 'fire')), fact(r, 'fire')),
      equal('the handler had written its record when the write returned', fact(r, 'rec_at_fire_return'), 'yes'),
      equal('the handler saw the victim', rec?.GS_PID, victim ?? ''),
      equal('the victim was alive when the handler started', rec?.victim_alive, '1'),
      equal('the handler was told who kills (GS_KILLER)', rec?.GS_KILLER, 'earlyoom'),
      equal('and that it is not an OOM of the kernel\'s (GS_CONSTRAINT)', rec?.GS_CONSTRAINT, 'userspace'),
      equal('the handler ran as root, its registrant', rec?.uid, '0'),
      equal('in its registrant\'s handler cgroup', rec?.cgroup, guestHandlerCgroup('0')),
      check('the module logged the start with killer=earlyoom', starts[0]?.fields.killer === 'earlyoom', JSON.stringify(starts[0])),
      check('and the exit, status 0, killer=earlyoom', exit?.fields.status === '0' && exit.fields.killer === 'earlyoom',
        JSON.stringify(exit)),
      equal('the victim was left alive for earlyoom to kill', fact(r, 'victim_alive_after_fire'), 'yes'),
      check('a second request finds the registration gone (ENOENT)', refused(fact(r, 'fire_again'), 'ENOENT'), fact(r, 'fire_again')),
      equal('the registration left the listing', fact(r, 'listing_after_fire'), ''),
      check('the kernel\'s OOM killed the victim afterwards', killOf(r, victim) !== undefined),
      equal('with no second run: one start line for the victim', String(starts.length), '1'),
      equal('and no second record', fact(r, 'rec_after_oom'), 'no'),
      check('a user\'s registration was accepted', answerOk(fact(r, 'user_register')), fact(r, 'user_register')),
      check('systemd-oomd\'s request for it was accepted', answerOk(fact(r, 'user_fire')), fact(r, 'user_fire')),
      equal('its handler ran as the user', userRec?.uid, '1000'),
      equal('in the user\'s handler cgroup', userRec?.cgroup, guestHandlerCgroup('1000')),
      equal('told that systemd-oomd kills', userRec?.GS_KILLER, 'systemd-oomd'),
      check('the module logged killer=systemd-oomd', userStart?.fields.killer === 'systemd-oomd', JSON.stringify(userStart)),
      // gs-kit-killer, as the systemd and earlyoom hooks run it.
      check('a process in a child cgroup was registered', answerOk(fact(r, 'oomd_register')), fact(r, 'oomd_register')),
      equal('gs-kit-killer oomd answered systemd-oomd\'s Notify with an empty reply', fact(r, 'oomd_reply'), '{"parameters":{}}|'),
      equal('and exited 0 at the end of the connection', fact(r, 'oomd_rc'), '0'),
      equal('the handler of the process below the named cgroup ran before the reply', oomdRec?.GS_PID, oomdVictim ?? ''),
      equal('told that systemd-oomd kills', oomdRec?.GS_KILLER, 'systemd-oomd'),
      check('its log names the one handler run and the one unregistered process',
        oomdLog.includes(`1 handler(s) run (pid ${oomdVictim})`) && oomdLog.includes('1 process(es) not registered'), oomdLog),
      equal('a cgroup path that climbs out of the hierarchy is refused', fact(r, 'oomd_climb'),
        '{"error":"org.varlink.service.InvalidParameter","parameters":{"parameter":"cgroup"}}|'),
      check('a registered process was accepted for earlyoom', answerOk(fact(r, 'early_register')), fact(r, 'early_register')),
      equal('gs-kit-killer earlyoom-serve answered ok once its handler ran', fact(r, 'early_serve'), 'ok'),
      equal('told that earlyoom kills', earlyRec?.GS_KILLER, 'earlyoom'),
      equal('a second request for it: the registration is gone', fact(r, 'early_again'), 'err ENOENT'),
      equal('a request that is not a pid is refused', fact(r, 'early_bad'), 'err EINVAL'),
      // Two at once, for one user's two registrations.
      check('two requests at once, for one user\'s two registrations, were both answered',
        answerOk(fact(r, 'pair_a')) && answerOk(fact(r, 'pair_b')), `${fact(r, 'pair_a')}; ${fact(r, 'pair_b')}`),
      check('both handlers ran to their end (status 0): neither run\'s end killed the other\'s handler in their shared cgroup',
        pairRuns.every((p) => p.exit?.fields.status === '0'), JSON.stringify(pairRuns.map((p) => p.exit))),
      check('one run at a time: the second started after the first had ended',
        !!pairRuns[0]?.exit && !!pairRuns[1]?.start && pairRuns[1].start.time >= pairRuns[0].exit.time,
        JSON.stringify(pairRuns.map((p) => [p.start?.time, p.exit?.time]))),
      // A registration's own waiter, named by a request as a killer of its whole cgroup names it.
      equal('a waiter registered "+<pid>" for its own parent', wOk, 'ok'),
      equal('a request for the waiter itself is passed over (ENOENT): it is the handler, not a victim', fact(r, 'fire_waiter'), 'err ENOENT'),
      check('the request for the workload runs the handler, in the waiter', answerOk(fact(r, 'fire_workload')) && waiterStart?.fields.spawn === 'waiter',
        `${fact(r, 'fire_workload')} ${JSON.stringify(waiterStart)}`),
      equal('its handler was told of the workload, not of the waiter', waiterRec?.GS_PID, wParent ?? ''),
    ];
  },
};

export const KILLER_SCENARIOS: readonly Scenario[] = [killers];
