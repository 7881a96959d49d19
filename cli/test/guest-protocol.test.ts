import test from 'ava';
import { fact, findSplats, moduleEvents, oomKills, parseGuestOutput, parseRecord } from '../src/lib/guest-protocol.js';

const CONSOLE = [
  'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
  'Booting from ROM...',
  '[    0.000000] Linux version 5.4.1 (gs@build) #1 SMP',
  '@gs kernel 5.4.1',
  '[    1.201000] random: crng init done',
  '@gs scenario memcg',
  '@gs victim 37',
  'some shell noise @gs victim 99',
  '@gs register ok 33',
  '@gs listing 37 /gs/gs_handler_record /tmp/rec|',
  '@gsnot a fact',
  '@gs rec GS_PID=37',
  '@gs rec victim_alive=1',
  '@gs listing_after ',
  '@gs flag',
  '@gs victim 38',
  '@gs alive yes',
  '@gs-dmesg-begin',
  '[    0.000000] Linux version 5.4.1 (gs@build) #1 SMP',
  '[    2.124104] graceful_shutdown: event=start victim=37 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
  '@gs victim 1000',
  '',
  '[    2.144106] Memory cgroup out of memory: Killed process 37 (oom_condition_c) total-vm:39260kB',
  '@gs-dmesg-end',
  '@gs-done',
  '[    3.000000] reboot: Power down',
].join('\r\n');

test('facts are collected from "@gs KEY VALUE" lines among boot noise, CRLF line endings and all', (t) => {
  const r = parseGuestOutput(CONSOLE);
  t.deepEqual(r.facts.get('kernel'), ['5.4.1']);
  t.deepEqual(r.facts.get('scenario'), ['memcg']);
  t.deepEqual(r.facts.get('register'), ['ok 33']);
  t.deepEqual(r.facts.get('rec'), ['GS_PID=37', 'victim_alive=1']);
  for (const values of r.facts.values()) for (const v of values) t.false(v.includes('\r'));
});

test('every value printed for a key is kept in order', (t) => {
  t.deepEqual(parseGuestOutput(CONSOLE).facts.get('victim'), ['37', '38']);
});

test('fact() gives the last value printed for a key', (t) => {
  const r = parseGuestOutput(CONSOLE);
  t.is(fact(r, 'victim'), '38');
  t.is(fact(r, 'alive'), 'yes');
  t.is(fact(r, 'nothing_like_this'), undefined);
});

test('a value keeps its inner spaces and trailing characters', (t) => {
  t.is(fact(parseGuestOutput(CONSOLE), 'listing'), '37 /gs/gs_handler_record /tmp/rec|');
});

test('a key printed with an empty value, with or without a trailing space, has the empty string', (t) => {
  const r = parseGuestOutput(CONSOLE);
  t.is(fact(r, 'listing_after'), '');
  t.is(fact(r, 'flag'), '');
});

test('"@gs" not at the start of a line, or not followed by a space, is not a fact', (t) => {
  const r = parseGuestOutput(CONSOLE);
  t.false(r.facts.get('victim')!.includes('99'));
  t.false(r.facts.has('not'));
  t.false([...r.facts.keys()].some((k) => k.startsWith('@')));
});

test('the kernel log between the dmesg markers is kept, and "@gs" lines inside it are not facts', (t) => {
  const r = parseGuestOutput(CONSOLE);
  t.is(r.dmesg, [
    '[    0.000000] Linux version 5.4.1 (gs@build) #1 SMP',
    '[    2.124104] graceful_shutdown: event=start victim=37 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
    '@gs victim 1000',
    '',
    '[    2.144106] Memory cgroup out of memory: Killed process 37 (oom_condition_c) total-vm:39260kB',
  ].join('\n'));
  t.false(r.facts.get('victim')!.includes('1000'));
});

test('the run counts as finished only when "@gs-done" was printed', (t) => {
  t.true(parseGuestOutput(CONSOLE).done);
  t.false(parseGuestOutput(CONSOLE.replace('@gs-done', '')).done);
  t.false(parseGuestOutput('@gs alive yes\n@gs-done-ish\n').done);
});

test('a run whose kernel log never reaches @gs-dmesg-end keeps the partial log and is not done', (t) => {
  const r = parseGuestOutput('@gs victim 1\n@gs-dmesg-begin\n[    1.0] BUG: oops\n@gs-done\n');
  t.false(r.done);
  t.is(r.dmesg, '[    1.0] BUG: oops\n@gs-done\n');
});

test('empty console output has no facts, no log and is not done', (t) => {
  const r = parseGuestOutput('');
  t.is(r.facts.size, 0);
  t.is(r.dmesg, '');
  t.false(r.done);
});

const SPLATS = [
  '[    3.100000] BUG: kernel NULL pointer dereference, address: 0000000000000008',
  '[    3.100001] WARNING: CPU: 0 PID: 1 at mm/oom_kill.c:1234 out_of_memory+0x1f/0x400',
  '[  123.000000] INFO: task x:1 blocked for more than 120 seconds.',
  '[    4.000000] WARNING: possible circular locking dependency detected',
  'possible circular locking dependency detected',
  '[    5.000000] Oops: 0002 [#1] SMP NOPTI',
  '[    5.000000] Kernel panic - not syncing: Fatal exception',
  '[    5.000000] BUG: sleeping function called from invalid context at mm/slab.h:565',
  '[    5.000000] WARNING: suspicious RCU usage',
  '[    5.000000] general protection fault: 0000 [#1] SMP',
  '[    5.000000] BUG: KASAN: use-after-free in gs_run+0x10/0x20',
  '[    5.000000] kmemleak: 1 new suspected memory leaks (see /sys/kernel/debug/kmemleak)',
  '[    5.000000] WARNING: possible recursive locking detected',
  '[    5.000000] WARNING: inconsistent lock state',
];

const ORDINARY = [
  '[    2.124104] graceful_shutdown: event=start victim=37 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
  '[    2.140105] graceful_shutdown: event=exit victim=37 handler=/gs/gs_handler_record helper=42 status=0 duration_ms=16',
  '[    2.144106] Out of memory: Killed process 37 (oom_condition_c) total-vm:39260kB, anon-rss:30000kB',
  '[    2.144106] Memory cgroup out of memory: Killed process 37 (oom_condition_c) total-vm:39260kB',
  '[    2.130000] oom_condition_c invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
  '[    2.130001] CPU: 0 PID: 37 Comm: oom_condition_c Not tainted 5.4.1 #1',
  '[    2.130002] Call Trace:',
  '[    0.500000] DEBUG_BUGVERBOSE is set',
  '[    0.600000] graceful_shutdown: loaded: timeout_ms=5000 max_entries=1024 reserve_kb=0',
  '',
];

test('every kind of kernel splat is found in the log', (t) => {
  const dmesg = [...ORDINARY, ...SPLATS].join('\n');
  const found = findSplats(dmesg);
  t.deepEqual(found, SPLATS);
});

test('the lines of an OOM kill and the module\'s own log are not splats', (t) => {
  t.deepEqual(findSplats(ORDINARY.join('\n')), []);
});

test('the exact splats named in the checks are each caught on their own', (t) => {
  for (const line of [
    'BUG: kernel NULL pointer dereference, address: 0000000000000000',
    'WARNING: CPU: 0 PID: 1 at kernel/fork.c:1 copy_process+0x1/0x2',
    'INFO: task x:1 blocked for more than 120 seconds.',
    'possible circular locking dependency detected',
  ]) t.deepEqual(findSplats(`[    1.000000] ok\n[    2.000000] ${line}\n`), [`[    2.000000] ${line}`], line);
});

test('"Out of memory: Killed process 37" alone is not a splat', (t) => {
  t.deepEqual(findSplats('Out of memory: Killed process 37'), []);
  t.deepEqual(findSplats('graceful_shutdown: event=start victim=37'), []);
});

test('module events carry their printk time, event name and k=v fields', (t) => {
  const events = moduleEvents(ORDINARY.join('\n'));
  t.is(events.length, 2);
  t.deepEqual(events[0], {
    time: 2.124104,
    event: 'start',
    fields: {
      victim: '37', comm: 'oom_condition_c', handler: '/gs/gs_handler_record', uid: '0', constraint: 'memcg', reserve_kb: '0',
    },
  });
  t.deepEqual(events[1], {
    time: 2.140105,
    event: 'exit',
    fields: { victim: '37', handler: '/gs/gs_handler_record', helper: '42', status: '0', duration_ms: '16' },
  });
});

test('a module line without a printk timestamp has time NaN but is still an event', (t) => {
  const [e] = moduleEvents('graceful_shutdown: event=timeout victim=5 handler=/gs/gs_handler_hang helper=9 timeout_ms=2000');
  t.true(Number.isNaN(e!.time));
  t.is(e!.event, 'timeout');
  t.is(e!.fields.timeout_ms, '2000');
});

test('module lines that are not events, and words without "=", give no events or fields', (t) => {
  t.deepEqual(moduleEvents('[    0.6] graceful_shutdown: loaded: timeout_ms=5000\n[    0.7] graceful_shutdown: unloaded'), []);
  const [e] = moduleEvents('[   10.500000] graceful_shutdown: event=error victim=3 stray =x reason=nomem');
  t.deepEqual(e!.fields, { victim: '3', reason: 'nomem' });
  t.is(e!.time, 10.5);
});

test('a field value may itself contain "="', (t) => {
  const [e] = moduleEvents('[    1.000000] graceful_shutdown: event=start victim=1 handler=/gs/h=1');
  t.is(e!.fields.handler, '/gs/h=1');
});

test('OOM kills are read from both the global and the memcg kill line', (t) => {
  t.deepEqual(oomKills(ORDINARY.join('\n')), [
    { time: 2.144106, pid: 37, comm: 'oom_condition_c' },
    { time: 2.144106, pid: 37, comm: 'oom_condition_c' },
  ]);
});

test('a kill with a comm containing spaces and no timestamp is still read', (t) => {
  const [k] = oomKills('Killed process 812 (my prog) total-vm:1kB');
  t.is(k!.pid, 812);
  t.is(k!.comm, 'my prog');
  t.true(Number.isNaN(k!.time));
});

test('no kill lines means no kills', (t) => {
  t.deepEqual(oomKills('[    1.000000] nothing\n'), []);
});

test('a handler record is read as key=value lines; the first "=" splits', (t) => {
  t.deepEqual(parseRecord('started_ns=123\nuid=0\nGS_CGROUP=/work\nGS_ARGS=a=b\nnonsense\n=novalue\nempty=\n'), {
    started_ns: '123', uid: '0', GS_CGROUP: '/work', GS_ARGS: 'a=b', empty: '',
  });
});

test('a later line in a record overrides an earlier one', (t) => {
  t.is(parseRecord('uid=0\nuid=1000').uid, '1000');
});

test('a value the module escaped reads back as written: a comm with a space and a newline stays one field', (t) => {
  const [e] = moduleEvents('[    1.000000] graceful_shutdown: event=start victim=7 comm=a\\x20b\\x0ac handler=/gs/h uid=0');
  t.is(e?.fields.comm, 'a b\nc');
  t.is(e?.fields.handler, '/gs/h');
  t.is(e?.fields.uid, '0');
});

test('5.4\'s boot-time workqueue note about a CPU-less NUMA node is not a splat; a real WARNING still is', (t) => {
  t.deepEqual(findSplats('[    0.501568] WARNING: workqueue cpumask: online intersect > possible intersect'), []);
  t.deepEqual(findSplats('[    1.0] WARNING: CPU: 0 PID: 1 at mm/oom_kill.c:100 f+0x1/0x2'), ['[    1.0] WARNING: CPU: 0 PID: 1 at mm/oom_kill.c:100 f+0x1/0x2']);
});
