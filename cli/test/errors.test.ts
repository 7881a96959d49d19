import test from 'ava';
import { ExitCode, GsError } from '../src/lib/errors.js';

test('a GsError carries its message, its hint and the exit code of its class', (t) => {
  const err = new GsError('The kernel did not build.', 'See build.log.', 'build');
  t.true(err instanceof Error);
  t.is(err.name, 'GsError');
  t.is(err.message, 'The kernel did not build.');
  t.is(err.hint, 'See build.log.');
  t.is(err.exitCode, 7);
});

test('a GsError without a class ends with the generic failure code 1', (t) => {
  t.is(new GsError('x', 'y').exitCode, 1);
});

test('each class of failure has its own exit code, and success is 0', (t) => {
  t.is(ExitCode.ok, 0);
  t.deepEqual(
    { usage: ExitCode.usage, dependency: ExitCode.dependency, source: ExitCode.source, checksum: ExitCode.checksum,
      patch: ExitCode.patch, build: ExitCode.build, vm: ExitCode.vm, permission: ExitCode.permission,
      registry: ExitCode.registry, network: ExitCode.network },
    { usage: 2, dependency: 3, source: 4, checksum: 5, patch: 6, build: 7, vm: 8, permission: 9, registry: 10, network: 11 },
  );
  const codes = Object.values(ExitCode);
  t.is(new Set(codes).size, codes.length);
});
