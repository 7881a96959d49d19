import test from 'ava';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { haveCommand, run } from '../src/adapters/exec.js';

test.serial('haveCommand finds executables on PATH only, and never runs its argument through a shell', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-path-'));
  const saved = process.env.PATH;
  t.teardown(async () => {
    process.env.PATH = saved;
    await rm(dir, { recursive: true, force: true });
  });
  await writeFile(join(dir, 'gs-tool'), '#!/bin/sh\n');
  await chmod(join(dir, 'gs-tool'), 0o755);
  await writeFile(join(dir, 'gs-plain'), 'not executable\n');
  const marker = join(dir, 'ran');
  process.env.PATH = `${dir}:${saved ?? ''}`;
  t.true(await haveCommand('gs-tool'));
  t.true(await haveCommand('sh'));
  t.false(await haveCommand('gs-plain'));
  t.false(await haveCommand('gs-no-such-tool'));
  t.false(await haveCommand(`sh; touch ${marker}`));
  t.false(await haveCommand(`$(touch ${marker})`));
  t.is((await run(['sh', '-c', `test -e ${marker}`])).exitCode, 1);
});
