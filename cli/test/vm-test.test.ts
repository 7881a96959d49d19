import test from 'ava';
import { CLI_SCENARIO, SCENARIOS } from '../src/lib/scenarios.js';
import { runnableOn, type Guest } from '../src/services/guests.js';

const guest = (hostRoot: boolean): Guest => ({ kernel: 'k', initrd: 'i', release: '6.12.117+deb13-cloud-amd64', moduleWarnings: [], hook: 'stock', hostRoot });

test('on a kernel without 9p the scenarios that need the host\'s root are not run, and the user is told which and why', (t) => {
  const all = [...SCENARIOS, CLI_SCENARIO];
  const cloud = runnableOn(guest(false), all);
  t.false(cloud.run.includes(CLI_SCENARIO));
  t.is(cloud.run.length, all.length - 1);
  t.regex(cloud.note ?? '', /^not run on 6\.12\.117\+deb13-cloud-amd64: cli \(its kernel has no 9p/);
  const generic = runnableOn(guest(true), all);
  t.is(generic.run.length, all.length);
  t.is(generic.note, undefined);
});
