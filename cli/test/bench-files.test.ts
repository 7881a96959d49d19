import test from 'ava';
import { BENCH_PARTS, benchFile, partResults, type BenchResults } from '../src/lib/bench.js';

const RESULTS: BenchResults = {
  schema: 1,
  generatedAt: '2026-12-03T00:00:00.000Z',
  host: { nproc: 2, cpuModel: 'Test CPU', memTotalKb: 1024, kernelRelease: '6.1.0-test', tscKhz: null },
  guest: { series: '6.1', kernelRelease: '6.1.192-gs', accel: 'tcg', smp: 1, clocksource: 'tsc' },
  latency: { trials: 1 } as never,
  killDelay: { trials: 1 } as never,
  registry: { rows: [] } as never,
  save: { cells: [], trials: [], memcgMax: '64M', handlerWaitMs: 3000, tools: {} },
  stock: { kernelRelease: '6.1.0-57-amd64', latency: null, killDelay: null, save: null },
  build: { coldQemuBuildS: 300, plainTinyconfigBuildS: 150, moduleRebuildS: 2, suiteWallS: 450, suiteScenarios: 16, jobs: 2 },
  notDone: [
    { part: 'graceful save: nohang', why: 'not installed', of: 'save' },
    { part: 'registry', why: 'the guest run was not clean', of: 'registry' },
  ],
  notes: ['a note'],
};

test('each part of the bench has a file of its own per series, all named in one place', (t) => {
  t.deepEqual(BENCH_PARTS.map((p) => benchFile(p, '6.1')),
    ['latency-6.1.json', 'registry-6.1.json', 'save-6.1.json', 'stock-6.1.json', 'build-6.1.json', 'suite-6.1.json']);
});

test('a part\'s file holds the run\'s host, guest and notes, its own figures and what it could not do, the rest null', (t) => {
  const save = partResults(RESULTS, 'save');
  t.like(save, { host: RESULTS.host, guest: RESULTS.guest, notes: ['a note'], latency: null, killDelay: null, registry: null, stock: null, build: null });
  t.is(save.save, RESULTS.save);
  t.deepEqual(save.notDone, [RESULTS.notDone[0]]);
  const latency = partResults(RESULTS, 'latency');
  t.is(latency.latency, RESULTS.latency);
  t.is(latency.killDelay, RESULTS.killDelay);
  t.deepEqual(latency.notDone, []);
});

test('build and suite timings share a shape but go to their own files', (t) => {
  t.deepEqual(partResults(RESULTS, 'build').build,
    { coldQemuBuildS: 300, plainTinyconfigBuildS: 150, moduleRebuildS: 2, suiteWallS: null, suiteScenarios: null, jobs: 2 });
  t.deepEqual(partResults(RESULTS, 'suite').build,
    { coldQemuBuildS: null, plainTinyconfigBuildS: null, moduleRebuildS: null, suiteWallS: 450, suiteScenarios: 16, jobs: 2 });
  t.is(partResults({ ...RESULTS, build: null }, 'suite').build, null);
});
