import test from 'ava';
import {
  explainOpenError, explainWriteError, parseListing, parsePid, registrationLine, removalLine,
} from '../src/lib/registry.js';
import { ExitCode, GsError } from '../src/lib/errors.js';

test('a registration line is the pid, the absolute handler and its arguments, one blank apart', (t) => {
  t.is(registrationLine({ pid: 42, handler: '/usr/bin/save', args: ['--fast', '/data'] }), '42 /usr/bin/save --fast /data');
  t.is(removalLine(42), '-42');
});

test('a relative handler, or a word with blanks or control characters, is refused before the kernel sees it', (t) => {
  for (const [handler, args] of [['save', []], ['/usr/bin/save', ['two words']], ['/usr/bin/save', ['']], ['/usr/bin/sa\tve', []], ['/x', ['a\nb']]] as const) {
    const err = t.throws(() => registrationLine({ pid: 1, handler, args: [...args] }), { instanceOf: GsError });
    t.is(err?.exitCode, ExitCode.usage);
  }
});

test('pids are positive decimal numbers up to the kernel\'s limit', (t) => {
  t.is(parsePid('4242'), 4242);
  for (const bad of ['0', '-1', '12a', ' 3', '4194305', '', '0x10']) t.throws(() => parsePid(bad), { instanceOf: GsError }, bad);
});

test('a listing reads back into registrations, blank lines and spacing aside', (t) => {
  t.deepEqual(parseListing('42 /usr/bin/save --fast\n\n7   /bin/true\n'), [
    { pid: 42, handler: '/usr/bin/save', args: ['--fast'] },
    { pid: 7, handler: '/bin/true', args: [] },
  ]);
});

test('each errno the module returns becomes a sentence and an exit code of its class', (t) => {
  const cases: [string, RegExp, number][] = [
    ['EINVAL', /as malformed/, ExitCode.usage],
    ['ESRCH', /^No such process: 42\.$/, ExitCode.registry],
    ['ENOENT', /handler \/h does not exist/, ExitCode.usage],
    ['ENOTDIR', /is not a directory/, ExitCode.usage],
    ['EACCES', /not an executable regular file/, ExitCode.permission],
    ['EPERM', /is not allowed/, ExitCode.permission],
    ['ENAMETOOLONG', /too long/, ExitCode.usage],
    ['EILSEQ', /NUL byte/, ExitCode.usage],
    ['E2BIG', /Too many handler arguments/, ExitCode.usage],
    ['ENOSPC', /registry is full/, ExitCode.registry],
    ['EDQUOT', /as many registrations as a user may/, ExitCode.registry],
    ['EOPNOTSUPP', /no handler cgroup/, ExitCode.registry],
    ['ENOTSUP', /no handler cgroup/, ExitCode.registry], // node's name for EOPNOTSUPP on Linux
    ['EXDEV', /confined in a way a handler the kernel starts cannot carry/, ExitCode.permission],
  ];
  for (const [code, message, exit] of cases) {
    const err = explainWriteError(code, { pid: 42, handler: '/h' });
    t.regex(err.message, message, code);
    t.is(err.exitCode, exit, code);
    t.true(err.hint.length > 0, code);
  }
  t.regex(explainWriteError('EPERM', { pid: 42, handler: '/h' }).hint, /every directory above it/);
  t.regex(explainWriteError('EOPNOTSUPP', { pid: 42 }).hint, /sudo gs-kit configure/);
});

test('removing gets its own sentences for ENOENT and EPERM; an unknown errno says where to look', (t) => {
  t.is(explainWriteError('ENOENT', { pid: 9, removing: true }).message, 'Process 9 is not registered.');
  t.regex(explainWriteError('EPERM', { pid: 9, removing: true }).message, /may not change the registration of process 9/);
  t.regex(explainWriteError('EWHATEVER', { pid: 9 }).message, /failed \(EWHATEVER\)/);
});

test('an unopenable registry names the file it tried', (t) => {
  t.regex(explainOpenError('ENOENT', '/tmp/other').message, /^\/tmp\/other does not exist/);
  t.regex(explainOpenError('EACCES').message, /^\/proc\/graceful_shutdown cannot be opened \(EACCES\)/);
});

test('"+<pid>" registers a process and its descendants, and reads back as such', (t) => {
  t.is(registrationLine({ pid: 42, handler: '/usr/bin/save', args: [], tree: true }), '+42 /usr/bin/save');
  t.deepEqual(parseListing('+42 /usr/bin/save\n7 /bin/true a\n'), [
    { pid: 42, handler: '/usr/bin/save', args: [], tree: true },
    { pid: 7, handler: '/bin/true', args: ['a'] },
  ]);
});

test('a listing root reads names the registrant of a user\'s entry, and writes back as that user\'s', (t) => {
  const listing = '1000:+4242 /usr/local/bin/save --fast\n77 /sbin/flush\n';
  const entries = parseListing(listing);
  t.deepEqual(entries, [
    { pid: 4242, handler: '/usr/local/bin/save', args: ['--fast'], tree: true, registrant: 1000 },
    { pid: 77, handler: '/sbin/flush', args: [] },
  ]);
  t.is(entries.map(registrationLine).join('\n') + '\n', listing);
});

test('naming another registrant is explained as root-only, for that user\'s own process', (t) => {
  const err = explainWriteError('EPERM', { pid: 4242, handler: '/h', registrant: 1000 });
  t.regex(err.message, /uid 1000/);
  t.regex(err.hint, /Only root/);
});
