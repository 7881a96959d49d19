import test from 'ava';
import { parseGuestOutput, type GuestReport } from '../src/lib/guest-protocol.js';
import { FUZZ_CLASSES, FUZZ_MIN_WRITES, FUZZ_SCENARIO, fuzzChecks, fuzzClasses } from '../src/lib/fuzz.js';
import type { Check } from '../src/lib/scenarios.js';

const CLASSES = [
  'OK 2044', 'EINVAL 2935', 'ESRCH 256', 'ENOENT 834', 'EACCES 241', 'EPERM 128',
  'ENAMETOOLONG 373', 'EILSEQ 915', 'E2BIG 265', 'ENOSPC 1898', 'ENOTDIR 152', 'OTHER 0',
];

interface Fuzz {
  writes?: string;
  batches?: string;
  mismatches?: string;
  errnoMismatches?: string;
  status?: string;
  classes?: readonly string[];
  details?: readonly string[];
}

/** A serial console as the fuzz scenario prints it. */
function report(f: Fuzz = {}): GuestReport {
  const lines = [
    'SeaBIOS (version 1.16.2)',
    '@gs kernel 6.1.192-gs',
    '@gs scenario fuzz',
    '@gs insmod ok',
    '@gs fuzz_seed 20250101',
    '@gs fuzz_writers 4',
    ...(f.writes === undefined ? [] : [`@gs fuzz_writes ${f.writes}`]),
    `@gs fuzz_batches ${f.batches ?? '746'}`,
    ...(f.mismatches === undefined ? [] : [`@gs fuzz_mismatches ${f.mismatches}`]),
    ...(f.errnoMismatches === undefined ? [] : [`@gs fuzz_errno_mismatches ${f.errnoMismatches}`]),
    ...(f.classes ?? CLASSES).map((c) => `@gs fuzz_class ${c}`),
    '@gs fuzz_ms 10092',
    ...(f.details ?? []).map((d) => `@gs fuzz_mismatch ${d}`),
    `@gs fuzz_status ${f.status ?? '0'}`,
    '@gs alive yes',
    '@gs-dmesg-begin',
    '[    1.000000] graceful_shutdown: loaded: timeout_ms=5000 max_entries=64 reserve_kb=4096',
    '@gs-dmesg-end',
    '@gs-done',
  ];
  return parseGuestOutput(lines.join('\r\n') + '\r\n');
}

const GOOD: Fuzz = { writes: '10041', mismatches: '0', errnoMismatches: '0' };

function failing(checks: Check[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => c.name);
}

test('the fuzz scenario is named, sized and given time for 10,000 writes under TCG', (t) => {
  t.is(FUZZ_SCENARIO.name, 'fuzz');
  t.is(FUZZ_SCENARIO.memoryMb, 256);
  t.true((FUZZ_SCENARIO.timeoutMs ?? 0) >= 300_000);
  t.is(FUZZ_MIN_WRITES, 10_000);
});

test('a clean run of 10,000+ writes passes every check', (t) => {
  const checks = FUZZ_SCENARIO.checks(report(GOOD));
  t.deepEqual(failing(checks), []);
  t.true(checks.length >= 5);
});

test('too few writes fail, and the detail says how many were made', (t) => {
  const checks = FUZZ_SCENARIO.checks(report({ ...GOOD, writes: '9999' }));
  t.deepEqual(failing(checks), ['the fuzzer made at least 10,000 writes']);
  t.regex(checks.find((c) => !c.ok)!.detail!, /made 9999 writes/);
});

test('a missing write count fails rather than passing by default', (t) => {
  const { writes: _writes, ...rest } = GOOD;
  t.deepEqual(failing(FUZZ_SCENARIO.checks(report(rest))), ['the fuzzer made at least 10,000 writes']);
});

test('a smaller minimum can be asked for a quick run', (t) => {
  t.deepEqual(failing(fuzzChecks(report({ ...GOOD, writes: '300' }), 300)), []);
});

test('a registry mismatch fails and carries the guest\'s description', (t) => {
  const detail = 'writer=0 batch=2 registry after batch: 6 entries, model 5; first difference: model 87_/tmp/fz/h_ok registry 77_/tmp/fz/link_ok';
  const checks = FUZZ_SCENARIO.checks(report({ ...GOOD, mismatches: '1', details: [detail] }));
  t.deepEqual(failing(checks), ['the registry always equalled the model']);
  t.true(checks.find((c) => !c.ok)!.detail!.includes(detail));
});

test('an errno mismatch fails on its own check', (t) => {
  const detail = 'writer=0 batch=89 write of 569 bytes: model OK, module E2BIG: 49\\x09__/tmp/fz/h_700_...';
  const checks = FUZZ_SCENARIO.checks(report({ ...GOOD, errnoMismatches: '58', details: [detail] }));
  t.deepEqual(failing(checks), ['every write succeeded or failed with the errno the model predicted']);
  t.regex(checks.find((c) => !c.ok)!.detail!, /^58 errno mismatches\n.*model OK, module E2BIG/);
});

test('missing mismatch counts fail both model checks', (t) => {
  const checks = FUZZ_SCENARIO.checks(report({ writes: '10041' }));
  t.deepEqual(failing(checks), [
    'the registry always equalled the model',
    'every write succeeded or failed with the errno the model predicted',
  ]);
});

test('a fuzzer that did not finish fails', (t) => {
  t.deepEqual(failing(FUZZ_SCENARIO.checks(report({ ...GOOD, status: '1' }))), ['the fuzzer ran to the end']);
});

test('no batch read back fails', (t) => {
  t.deepEqual(failing(FUZZ_SCENARIO.checks(report({ ...GOOD, batches: '0' }))),
    ['the registry was read back after every batch']);
});

test('an errno class never exercised fails and is named', (t) => {
  const classes = CLASSES.map((c) => (c.startsWith('ENOSPC ') ? 'ENOSPC 0' : c));
  const checks = FUZZ_SCENARIO.checks(report({ ...GOOD, classes }));
  t.deepEqual(failing(checks), ['success and every documented errno were exercised']);
  t.is(checks.find((c) => !c.ok)!.detail, 'never seen: ENOSPC');
});

test('fuzz_class lines are read into counts', (t) => {
  const classes = fuzzClasses(report(GOOD));
  t.is(classes.get('EILSEQ'), 915);
  t.is(classes.get('OTHER'), 0);
  t.true(FUZZ_CLASSES.every((c) => classes.has(c)));
});
