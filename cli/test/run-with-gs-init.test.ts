import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// gs-kit as a container's entrypoint: PID 1 of a pid namespace of its own,
// made by unshare(1) (a user namespace too when not root), with the real
// launcher, node and sh. The registry is a plain file here: what is under
// test is the init's work (reaping, signals, stdin, exit status), not the
// module's.
const launcher = fileURLToPath(new URL('../../bin/gs-kit', import.meta.url));
const cli = fileURLToPath(new URL('../../dist/cli/src/bin.js', import.meta.url));
const asUser = process.getuid?.() !== 0 ? ['-U', '-r'] : [];

// The program: reads a line of stdin, leaves an orphan (a process whose
// parent exits at once, so that it is given to PID 1) and reports whether
// PID 1 reaped it once it ended; then signals PID 1 with SIGTERM, as
// `docker stop` does, and exits 9 when the signal reaches it.
const PROGRAM = [
  'read -r line; echo "stdin=$line"',
  '(sh -c \'echo $$ > "$DIR/orphan"\' &)',
  'while [ ! -s "$DIR/orphan" ]; do sleep 0.05; done; o=$(cat "$DIR/orphan")',
  // Gone, or still a zombie after 3 s (Z in /proc/PID/stat).
  'i=0; while [ -e /proc/$o ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done',
  'if [ -e /proc/$o ]; then echo "orphan=$(cut -d" " -f3 /proc/$o/stat)"; else echo orphan=reaped; fi',
  'trap \'echo term; exit 9\' TERM',
  'kill -TERM 1',
  'while :; do sleep 0.05; done',
].join('\n');

async function asInit(t: import('ava').ExecutionContext, init: string[]): Promise<{ status: number | null; stdout: string; stderr: string; registry: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-init-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const proc = join(dir, 'registry');
  await writeFile(proc, '');
  // A host's systemd is not the container's: hidden, so that the program runs where it is.
  const hideSystemd = ['sh', '-c', '[ ! -d /run/systemd ] || mount -t tmpfs tmpfs /run/systemd || exit 99; exec "$@"', 'sh'];
  const r = spawnSync('unshare', [...asUser, '-p', '-f', '-m', '--mount-proc', ...hideSystemd, ...init,
    'run-with-gs', '--proc', proc, '/app/save-state', '--', 'sh', '-c', PROGRAM],
  { input: 'hello\n', encoding: 'utf8', timeout: 30_000, env: { ...process.env, DIR: dir, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, registry: await readFile(proc, 'utf8') };
}

test('as PID 1 gs-kit reaps orphans, passes SIGTERM on, gives the program its stdin and exits with its status', async (t) => {
  const r = await asInit(t, [launcher]);
  t.is(r.stdout, 'stdin=hello\norphan=reaped\nterm\n', r.stderr);
  t.is(r.status, 9, r.stderr);
  t.regex(r.registry, /^\+\d+ \/app\/save-state\n$/, 'the program was registered, with what it starts');
});

test('node itself as PID 1 would leave the orphan a zombie: why the launcher is a shell', async (t) => {
  const r = await asInit(t, [process.execPath, cli]);
  t.regex(r.stdout, /^stdin=hello\norphan=Z\n/, r.stderr);
});
