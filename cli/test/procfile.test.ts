import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRegistry, writeRegistry } from '../src/adapters/procfile.js';
import { ExitCode, GsError } from '../src/lib/errors.js';

test('a registration is written to the --proc file in one piece', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gs-proc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'registry');
  await writeRegistry(file, '42 /usr/bin/save\n7 /bin/true\n', { pid: 42 });
  t.is(await readFile(file, 'utf8'), '42 /usr/bin/save\n7 /bin/true\n');
  t.is(await readRegistry(file), '42 /usr/bin/save\n7 /bin/true\n');
});

test('a --proc file that does not exist is named in the error, with what to do', async (t) => {
  const err = await t.throwsAsync(writeRegistry('/nonexistent/gs-registry', '1 /bin/true\n', { pid: 1 }), { instanceOf: GsError });
  t.regex(err!.message, /^\/nonexistent\/gs-registry does not exist: the proc_create_module module is not loaded\.$/);
  t.is(err!.exitCode, ExitCode.registry);
  const read = await t.throwsAsync(readRegistry('/nonexistent/gs-registry'), { instanceOf: GsError });
  t.regex(read!.message, /^\/nonexistent\/gs-registry does not exist/);
});

test('a failed write is reported with its own errno, not hidden by close()', async (t) => {
  // /dev/full fails every write with ENOSPC, as a full registry does.
  const err = await t.throwsAsync(writeRegistry('/dev/full', '1 /bin/true\n', { pid: 1 }), { instanceOf: GsError });
  t.regex(err!.message, /^The registry is full/);
  t.is(err!.exitCode, ExitCode.registry);
});
