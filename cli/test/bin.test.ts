import test from 'ava';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The compiled CLI, as `npx gs-kit` runs it after `npm ci` ("prepare" builds it).
const bin = fileURLToPath(new URL('../../dist/cli/src/bin.js', import.meta.url));
const gsKit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

const COMMANDS = ['setup-vm', 'build-kernel', 'install-kernel', 'install-module', 'configure', 'register', 'unregister', 'list', 'run-with-gs', 'status', 'vm', 'demo', 'soak', 'bench'];

test('gs-kit --help lists every command and exits 0', (t) => {
  const r = gsKit('--help');
  t.is(r.status, 0);
  for (const c of COMMANDS) t.regex(r.stdout, new RegExp(`^  ${c} `, 'm'), c);
});

test('each command has --help with its usage, options and an example', (t) => {
  for (const c of COMMANDS) {
    const r = gsKit(c, '--help');
    t.is(r.status, 0, c);
    t.regex(r.stdout, new RegExp(`^Usage: gs-kit ${c}`), c);
    t.regex(r.stdout, /\nOptions:\n/, c);
    t.regex(r.stdout, /\nExamples:\n {2}(sudo )?gs-kit /, c);
  }
});

test('an unknown command is a usage error (exit 2) that says what to run', (t) => {
  const r = gsKit('frobnicate');
  t.is(r.status, 2);
  t.regex(r.stderr, /Unknown command "frobnicate"/);
  t.regex(r.stderr, /gs-kit --help/);
  t.notRegex(r.stderr, /\n\s+at /, 'no stack trace without --debug');
});

test('a bad option value is a usage error (exit 2) naming the choices', (t) => {
  const r = gsKit('build-kernel', '--profile', 'fast');
  t.is(r.status, 2);
  t.regex(r.stderr, /--profile must be one of qemu, host, debug/);
});

test('register refuses a relative handler before touching the registry (exit 2)', (t) => {
  const r = gsKit('register', '1', 'handler.sh');
  t.is(r.status, 2);
  t.regex(r.stderr, /not an absolute path/);
});

test('register against a missing registry file says the module is not loaded (exit 10)', (t) => {
  const r = gsKit('register', String(process.pid), '/bin/true', '--proc', '/nonexistent/graceful_shutdown');
  t.is(r.status, 10);
  t.regex(r.stderr, /module is not loaded/);
  t.regex(r.stderr, /modprobe proc_create_module/);
});

test('soak and bench refuse an unknown part or a bad count before building anything (exit 2)', (t) => {
  const soak = gsKit('soak', '--parts', 'trials,warp');
  t.is(soak.status, 2);
  t.regex(soak.stderr, /--parts takes a comma-separated list of trials, lifecycle, global, not "trials,warp"/);
  const runs = gsKit('soak', '--global-runs', '0');
  t.is(runs.status, 2);
  t.regex(runs.stderr, /--global-runs must be a whole number of at least 1, not "0"/);
  const bench = gsKit('bench', '--parts', 'registry,speed');
  t.is(bench.status, 2);
  t.regex(bench.stderr, /--parts takes a comma-separated list of latency, registry, save, savesize, stock, build, suite/);
});
