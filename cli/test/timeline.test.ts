import test from 'ava';
import { parseGuestOutput } from '../src/lib/guest-protocol.js';
import { formatTimeline, victimTimeline } from '../src/lib/timeline.js';

const CONSOLE = [
  '@gs victim 37',
  '@gs victim_status 137',
  '@gs rec started_ns=2126104000',
  '@gs rec uid=0',
  '@gs rec victim_alive=1',
  '@gs rec GS_PID=37',
  '@gs rec GS_CHOSEN_NS=2124104000',
  '@gs alive yes',
  '@gs-dmesg-begin',
  '[    2.144106] Memory cgroup out of memory: Killed process 37 (oom_condition_c) total-vm:39260kB',
  '[    2.124104] graceful_shutdown: event=start victim=37 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
  '[    2.140104] graceful_shutdown: event=exit victim=37 handler=/gs/gs_handler_record helper=42 status=0 duration_ms=16',
  '[    2.150000] graceful_shutdown: event=start victim=99 comm=other handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
  '[    2.150000] Memory cgroup out of memory: Killed process 99 (other) total-vm:1kB',
  '@gs-dmesg-end',
  '@gs-done',
].join('\n');

test('the victim\'s timeline runs from being chosen, through the handler, to the kill', (t) => {
  const entries = victimTimeline(parseGuestOutput(CONSOLE));
  t.deepEqual(entries.map((e) => e.what), [
    'OOM killer chooses pid 37 (oom_condition_c), memcg OOM; module starts /gs/gs_handler_record',
    'handler runs as uid 0; victim still alive: yes; state saved',
    'handler exits with status 0',
    'OOM killer kills pid 37',
  ]);
});

test('timeline times are seconds after the victim was chosen', (t) => {
  const at = victimTimeline(parseGuestOutput(CONSOLE)).map((e) => e.at);
  t.is(at[0], 0);
  t.true(Math.abs(at[1]! - 0.002) < 1e-9);
  t.true(Math.abs(at[2]! - 0.016) < 1e-6);
  t.true(Math.abs(at[3]! - 0.020002) < 1e-6);
  for (let i = 1; i < at.length; i++) t.true(at[i]! >= at[i - 1]!);
});

test('events for other pids stay out of the victim\'s timeline', (t) => {
  const whats = victimTimeline(parseGuestOutput(CONSOLE)).map((e) => e.what).join('\n');
  t.false(whats.includes('99'));
  t.false(whats.includes('other'));
});

test('a timeout, a signal exit and an error are described', (t) => {
  const r = parseGuestOutput([
    '@gs victim 5',
    '@gs-dmesg-begin',
    '[   10.000000] graceful_shutdown: event=start victim=5 comm=c handler=/gs/h uid=0 constraint=global reserve_kb=0',
    '[   12.000000] graceful_shutdown: event=timeout victim=5 handler=/gs/h helper=6 timeout_ms=2000',
    '[   12.001000] graceful_shutdown: event=exit victim=5 handler=/gs/h helper=6 signal=9 duration_ms=2001',
    '[   12.002000] graceful_shutdown: event=error victim=5 handler=/gs/h reason=nomem',
    '[   12.003000] graceful_shutdown: event=error victim=5 handler=/gs/h errno=2 duration_ms=0',
    '@gs-dmesg-end',
  ].join('\n'));
  t.deepEqual(victimTimeline(r).map((e) => e.what), [
    'OOM killer chooses pid 5 (c), global OOM; module starts /gs/h',
    'handler still running after 2000 ms: killed',
    'handler exits on signal 9',
    'handler could not run (nomem)',
    'handler could not run (errno 2)',
  ]);
});

test('a run where the module never started a handler has an empty timeline', (t) => {
  t.deepEqual(victimTimeline(parseGuestOutput('@gs victim 5\n@gs-dmesg-begin\n[    1.000000] Killed process 5 (c)\n@gs-dmesg-end\n')), []);
});

test('without the handler\'s timestamps the handler-run entry is left out', (t) => {
  const r = parseGuestOutput(CONSOLE.replace('@gs rec GS_CHOSEN_NS=2124104000\n', ''));
  const whats = victimTimeline(r).map((e) => e.what);
  t.is(whats.length, 3);
  t.false(whats.some((w) => w.startsWith('handler runs')));
});

test('a handler that found the victim dead says so', (t) => {
  const r = parseGuestOutput(CONSOLE.replace('victim_alive=1', 'victim_alive=0'));
  t.true(victimTimeline(r).some((e) => e.what === 'handler runs as uid 0; victim still alive: no; state saved'));
});

test('a timeline is formatted as one line per entry with milliseconds right-aligned', (t) => {
  t.is(formatTimeline([
    { at: 0, what: 'chosen' },
    { at: 0.016, what: 'handler exits with status 0' },
    { at: 2.0204, what: 'killed' },
  ]), [
    '  +    0.0 ms  chosen',
    '  +   16.0 ms  handler exits with status 0',
    '  + 2020.4 ms  killed',
  ].join('\n'));
});

test('an empty timeline formats as an empty string', (t) => {
  t.is(formatTimeline([]), '');
});

test('the memcg timeline formats end to end', (t) => {
  const text = formatTimeline(victimTimeline(parseGuestOutput(CONSOLE)));
  t.is(text.split('\n').length, 4);
  t.is(text.split('\n')[2], '  +   16.0 ms  handler exits with status 0');
  t.is(text.split('\n')[3], '  +   20.0 ms  OOM killer kills pid 37');
});
