import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupVm } from '../src/commands/setup-vm.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { DEBIAN_PACKAGES } from '../src/lib/deps.js';
import { GsError } from '../src/lib/errors.js';
import { RecordingUi, StubHost, type Expected } from './helpers/env.js';

const DEBIAN = { '/etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n' };
const DPKG_QUERY = ['dpkg-query', '-W', '-f', '${Package} ${Status}\n'];
/** Everything of the build and vm groups installed but qemu-system-x86. */
const ALL_BUT_QEMU = [...DEBIAN_PACKAGES.build, ...DEBIAN_PACKAGES.vm].filter((p) => p !== 'qemu-system-x86')
  .map((p) => `${p} install ok installed`).join('\n');

interface Run { code: number; ui: RecordingUi; host: StubHost }

/** setup-vm with a local tarball (no download) against a stub host expecting @expected, in order. */
async function setup(t: { teardown(fn: () => Promise<void>): void }, argv: string[], expected: Expected[],
  opts: { root?: string; interactive?: boolean; answer?: boolean } = {}): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'gs-setup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tarball = join(dir, 'linux-6.1.tar.xz');
  await writeFile(tarball, 'not really a tarball');
  const ui = new RecordingUi(opts.interactive ?? false, opts.answer ?? true);
  let host: StubHost | undefined;
  const env = {
    ui,
    host: (root: string, dryRun: boolean) => (host = new StubHost(root, dryRun, ui, DEBIAN, expected)),
  };
  const code = await setupVm.run(parseArgs(['--source', tarball, ...argv, ...(opts.root ? ['--root', opts.root] : [])], setupVm.spec), env);
  return { code, ui, host: host! };
}

test('with a package missing, --yes runs apt-get update and installs exactly it, as writes', async (t) => {
  const r = await setup(t, ['--yes'], [
    { argv: DPKG_QUERY, result: { stdout: ALL_BUT_QEMU } },
    { argv: ['apt-get', 'update'], write: true },
    { argv: ['apt-get', 'install', '-y', '--no-install-recommends', 'qemu-system-x86'], write: true },
  ]);
  t.is(r.code, 0);
  t.true(r.host.done);
  t.regex(r.ui.out, /^Missing packages: qemu-system-x86$/m);
  t.deepEqual(r.ui.events.filter((e) => e.kind === 'task').map((e) => e.kind === 'task' && e.title), ['apt install qemu-system-x86']);
});

test('--dry-run reads what is installed and says each install command, running none', async (t) => {
  const r = await setup(t, ['--dry-run'], [{ argv: DPKG_QUERY, result: { stdout: ALL_BUT_QEMU } }]);
  t.is(r.code, 0);
  t.true(r.host.done);
  t.deepEqual(r.host.ran.map((c) => c.argv[0]), ['dpkg-query']);
  t.regex(r.ui.out, /^would run: apt-get update$/m);
  t.regex(r.ui.out, /^would run: apt-get install -y --no-install-recommends qemu-system-x86$/m);
});

test('a sysroot\'s packages are read from its dpkg database and listed, never installed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'gs-sysroot-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const r = await setup(t, ['--yes'], [
    { argv: ['dpkg-query', `--admindir=${root}/var/lib/dpkg`, '-W', '-f', '${Package} ${Status}\n'], result: { stdout: ALL_BUT_QEMU } },
  ], { root });
  t.is(r.code, 0);
  t.true(r.host.done);
  t.regex(r.ui.out, /^not run \(sysroot: install them in it yourself\): apt-get install -y --no-install-recommends qemu-system-x86$/m);
});

test('with nothing missing nothing is installed, and the source is named with what to run next', async (t) => {
  const everything = [...DEBIAN_PACKAGES.build, ...DEBIAN_PACKAGES.vm].map((p) => `${p} install ok installed`).join('\n');
  const r = await setup(t, [], [{ argv: DPKG_QUERY, result: { stdout: everything } }]);
  t.true(r.host.done);
  t.regex(r.ui.out, /^✓ The build, vm packages are installed\.$/m);
  t.regex(r.ui.out, /^✓ Kernel source: .*linux-6\.1\.tar\.xz$/m);
  t.regex(r.ui.out, /^Next: gs-kit build-kernel --source /m);
});

test('--no-hints leaves out the line for a person at the prompt (make runs setup-vm so)', async (t) => {
  const everything = [...DEBIAN_PACKAGES.build, ...DEBIAN_PACKAGES.vm].map((p) => `${p} install ok installed`).join('\n');
  const r = await setup(t, ['--no-hints'], [{ argv: DPKG_QUERY, result: { stdout: everything } }]);
  t.regex(r.ui.out, /Kernel source:/);
  t.notRegex(r.ui.out, /Next:/);
});

test('--system asks for the system test\'s image tools too', async (t) => {
  const r = await setup(t, ['--system', '--yes'], [
    { argv: DPKG_QUERY, result: { stdout: `${ALL_BUT_QEMU}\nqemu-system-x86 install ok installed` } },
    { argv: ['apt-get', 'update'], write: true },
    { argv: ['apt-get', 'install', '-y', '--no-install-recommends', 'e2fsprogs'], write: true },
  ]);
  t.true(r.host.done);
});

test('on a terminal setup-vm asks before installing; a no installs nothing (exit 3)', async (t) => {
  const err = await t.throwsAsync(setup(t, [], [{ argv: DPKG_QUERY, result: { stdout: ALL_BUT_QEMU } }], { interactive: true, answer: false }));
  t.true(err instanceof GsError);
  t.is((err as GsError).exitCode, 3);
  t.regex(err!.message, /Nothing was installed/);
});
