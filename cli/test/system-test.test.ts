import test from 'ava';
import type { GuestReport } from '../src/lib/guest-protocol.js';
import { stage1Checks, SYSTEM_RELEASES, systemRelease } from '../src/lib/system-test.js';

function report(facts: Record<string, string>): GuestReport {
  return { facts: new Map(Object.entries(facts).map(([k, v]) => [k, [v]])), dmesg: '', console: '', done: true };
}

const booted = (system: string) => stage1Checks(report({ system, init: 'systemd', kernel: '6.12.57+deb13-amd64' }), '6.12.0-gs')[0]!;

test('the system test runs on Debian 13, the current stable, unless Debian 12 is asked for', (t) => {
  t.is(SYSTEM_RELEASES[0]!.number, '13');
  t.is(systemRelease('13')?.suite, 'trixie');
  t.is(systemRelease('12')?.suite, 'bookworm');
  t.is(systemRelease('11'), undefined);
  t.is(systemRelease('13')?.kernelSeries, '6.12', 'the stock flow runs on the image\'s own kernel');
});

test('stage 1 holds the image to the release it was asked for', (t) => {
  t.true(booted('Debian GNU/Linux 13 (trixie), systemd 257 (257.9-1~deb13u1)').ok);
  t.false(booted('Debian GNU/Linux 12 (bookworm), systemd 252 (252.39-1~deb12u1)').ok, 'a Debian 12 image is not the Debian 13 asked for');
  const twelve = stage1Checks(report({ system: 'Debian GNU/Linux 12 (bookworm), systemd 252', init: 'systemd', kernel: '6.1.0-40-amd64' }),
    '6.1.0-gs', 'deb', systemRelease('12'))[0]!;
  t.true(twelve.ok);
  t.regex(twelve.name, /Debian 12/);
});
