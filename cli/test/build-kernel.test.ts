import test from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildKernel } from '../src/commands/build-kernel.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { recordingEnv } from './helpers/env.js';

test('build-kernel --dry-run says what it would build, through the host, and builds nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-build-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tarball = join(dir, 'linux-6.1.tar.xz');
  await writeFile(tarball, 'not read in a dry run');
  const env = recordingEnv();
  const code = await buildKernel.run(parseArgs(['--source', tarball, '--profile', 'host', '--jobs', '3', '--dry-run'], buildKernel.spec), env);
  t.is(code, 0);
  t.is(env.ui.out, `would build ${tarball} for profile host with make -j3 under ~/.cache/gs-kit/builds, then proc_create_module against it`);
  t.deepEqual(env.ui.events.filter((e) => e.kind === 'task'), []);
});

test('build-kernel refuses a source that is not there before anything else (exit 4)', async (t) => {
  const err = await t.throwsAsync(buildKernel.run(parseArgs(['--source', '/nonexistent/linux.tar.xz', '--dry-run'], buildKernel.spec), recordingEnv()));
  t.regex(err!.message, /does not exist/);
  t.is((err as { exitCode?: number }).exitCode, 4);
});
