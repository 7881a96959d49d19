import test from 'ava';
import { BENCH_PARTS, benchFiles, partResults, type BenchPart, type BenchResults } from '../src/lib/bench.js';

const RESULTS: BenchResults = {
  schema: 1,
  generatedAt: '2026-12-03T00:00:00.000Z',
  host: { nproc: 2, cpuModel: 'Test CPU', memTotalKb: 1024, kernelRelease: '6.1.0-test', tscKhz: null },
  guest: { series: '6.1', kernelRelease: '6.1.192-gs', accel: 'tcg', smp: 1, clocksource: 'tsc' },
  latency: { trials: 1 } as never,
  killDelay: { trials: 1 } as never,
  registry: { rows: [] } as never,
  save: { cells: [], trials: [], memcgMax: '64M', handlerWaitMs: 3000, tools: {} },
  savesize: { sizesMb: [4, 8], cells: [], trials: [] },
  stock: { kernelRelease: '6.1.0-57-amd64', latency: null, killDelay: null, save: null },
  build: { coldQemuBuildS: 300, plainTinyconfigBuildS: 150, moduleRebuildS: 2, suiteWallS: 450, suiteScenarios: 16, jobs: 2 },
  notDone: [
    { part: 'graceful save: nohang', why: 'not installed', of: 'save' },
    { part: 'registry', why: 'the guest run was not clean', of: 'registry' },
  ],
  notes: ['a note'],
};

const names = (series: string, parts: readonly BenchPart[]) => benchFiles(series, new Set(parts)).map((f) => f.name);

test('make bench runs every part, so it writes every file the docs quote: results.json and the per-part ones', (t) => {
  t.deepEqual(names('6.1', BENCH_PARTS),
    ['results.json', 'save-6.1.json', 'registry-6.1.json', 'latency-6.1.json', 'savesize-6.1.json']);
});

test('a run of some parts writes the files those parts fill, and never a partial results.json', (t) => {
  t.deepEqual(names('6.1', ['registry']), ['registry-6.1.json']);
  t.deepEqual(names('6.12', ['latency', 'save', 'stock']), ['save-6.12.json', 'latency-6.12.json']);
  t.deepEqual(names('6.12', ['latency']), ['latency-6.12.json']);
  t.deepEqual(names('6.12', ['savesize']), ['savesize-6.12.json']);
  t.deepEqual(names('6.1', ['latency', 'save']), ['latency-6.1.json']);
  t.deepEqual(names('6.1', ['build', 'suite']), []);
});

test('a file holds the run\'s host, guest and notes, its parts\' figures and what they could not do, the rest null', (t) => {
  const save = partResults(RESULTS, ['latency', 'save', 'stock']);
  t.like(save, { host: RESULTS.host, guest: RESULTS.guest, notes: ['a note'], registry: null, savesize: null, build: null });
  t.is(save.latency, RESULTS.latency);
  t.is(save.save, RESULTS.save);
  t.is(save.stock, RESULTS.stock);
  t.deepEqual(save.notDone, [RESULTS.notDone[0]]);
  t.deepEqual(partResults(RESULTS, BENCH_PARTS), RESULTS, 'every part: the results as they are');
});

test('build and suite timings share one object; a file of one holds the other as null', (t) => {
  t.deepEqual(partResults(RESULTS, ['build']).build,
    { coldQemuBuildS: 300, plainTinyconfigBuildS: 150, moduleRebuildS: 2, suiteWallS: null, suiteScenarios: null, jobs: 2 });
  t.deepEqual(partResults(RESULTS, ['suite']).build,
    { coldQemuBuildS: null, plainTinyconfigBuildS: null, moduleRebuildS: null, suiteWallS: 450, suiteScenarios: 16, jobs: 2 });
  t.is(partResults(RESULTS, ['registry']).build, null);
});
