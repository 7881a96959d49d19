import test from 'ava';
import { BENCH_LATENCY, BENCH_REGISTRY, type BenchResults } from '../src/lib/bench.js';
import {
  cpuModel, killDelayResult, latencyResult, meminfoKb, registryResult, saveCells, saveHoldMs, saveKernelLines, saveTrials,
  trialLogs, tscAppend,
} from '../src/lib/bench-parse.js';
import { fmt, renderResults, textTable } from '../src/lib/bench-render.js';
import { median, percentile, ratio, summarize } from '../src/lib/stats.js';
import { parseGuestOutput } from '../src/lib/guest-protocol.js';

test('median of odd and even counts, ignoring non-finite values', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.is(median([1, NaN, 3]), 2);
  t.true(Number.isNaN(median([])));
});

test('p95 by nearest rank', (t) => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  t.is(percentile(values, 95), 95);
  t.is(percentile(values, 100), 100);
  t.is(percentile([5], 95), 5);
  t.is(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], 95), 19);
  t.true(Number.isNaN(percentile([], 95)));
});

test('summarize gives n, median, p95, min and max', (t) => {
  t.deepEqual(summarize([10, 30, 20]), { n: 3, median: 20, p95: 30, min: 10, max: 30 });
  t.is(summarize([]).n, 0);
});

test('ratio refuses missing values and a zero divisor', (t) => {
  t.is(ratio(6, 3), 2);
  t.is(ratio(1, 0), null);
  t.is(ratio(null, 3), null);
  t.is(ratio(NaN, 3), null);
});

test('host facts from /proc/cpuinfo and /proc/meminfo', (t) => {
  const cpuinfo = 'processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\ncpu MHz\t\t: 2599.998\nflags\t\t: fpu tsc constant_tsc nonstop_tsc\n';
  t.is(cpuModel(cpuinfo), 'Intel(R) Xeon(R) Processor');
  t.is(meminfoKb('MemTotal:       24683520 kB\nMemAvailable:   1000 kB\n', 'MemAvailable'), 1000);
  t.deepEqual(tscAppend(cpuinfo), { append: 'tsc_early_khz=2599998 tsc=reliable', khz: 2599998 });
  t.deepEqual(tscAppend('cpu MHz : 1000\nflags : fpu tsc\n'), { append: '', khz: null });
});

const LATENCY_CONSOLE = [
  '@gs trials 2',
  '@gs clocksource tsc (available: tsc refined-jiffies jiffies )',
  '@gs k_stock 0 [    3.100000] oom_condition_c invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
  '@gs k_stock 0 [    3.101000] Memory cgroup out of memory: Killed process 52 (oom_condition_c) total-vm:17432kB',
  '@gs lat_stock 0 52 none none',
  '@gs k_stock 1 [    3.800000] oom_condition_c invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
  '@gs k_stock 1 [    3.803000] Memory cgroup out of memory: Killed process 60 (oom_condition_c) total-vm:17432kB',
  '@gs lat_stock 1 60 none none',
  '@gs k_gs 0 [    4.000000] graceful_shutdown: event=start victim=78 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
  '@gs k_gs 0 [    4.010000] graceful_shutdown: event=exit victim=78 handler=/gs/gs_handler_record helper=83 status=0 duration_ms=10',
  '@gs k_gs 0 [    4.010500] oom_condition_c invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0',
  '@gs k_gs 0 [    4.012000] Memory cgroup out of memory: Killed process 78 (oom_condition_c) total-vm:17432kB',
  '@gs lat_gs 0 78 1002000000 1000000000',
  '@gs k_gs 1 [    5.000000] graceful_shutdown: event=start victim=91 comm=oom_condition_c handler=/gs/gs_handler_record uid=0 constraint=memcg reserve_kb=0',
  '@gs k_gs 1 [    5.020000] graceful_shutdown: event=exit victim=91 handler=/gs/gs_handler_record helper=96 status=0 duration_ms=20',
  '@gs k_gs 1 [    5.024000] Memory cgroup out of memory: Killed process 91 (oom_condition_c) total-vm:17432kB',
  '@gs lat_gs 1 91 2004000000 2000000000',
  '@gs lat_waiter 0 95 3000500000 3000000000',
  '@gs lat_waiter 1 99 4000700000 4000000000',
  '@gs fe 0 1000000',
  '@gs fe 1 2000000',
  '@gs alive yes',
  '@gs-dmesg-begin',
  '@gs-dmesg-end',
  '@gs-done',
].join('\n');

test('trial logs take the first invoked/start/exit/kill line of each trial', (t) => {
  const logs = trialLogs(parseGuestOutput(LATENCY_CONSOLE), 'gs');
  t.is(logs.length, 2);
  t.deepEqual({ ...logs[0]! }, { trial: 0, invoked: 4.0105, start: 4, exit: 4.01, killed: 4.012, splats: [] });
  t.is(logs[1]!.invoked, undefined);
});

test('handler start latency against fork+exec, in µs, with their ratio', (t) => {
  const l = latencyResult(parseGuestOutput(LATENCY_CONSOLE));
  t.is(l.trials, 2);
  t.is(l.handlerStartUs.median, 3000);
  t.is(l.handlerStartUs.p95, 4000);
  t.is(l.forkExecUs.median, 1500);
  t.is(l.ratioMedian, 2);
  t.is(l.ratioP95, 2);
  t.is(l.waiterStartUs!.median, 600);
  t.is(l.waiterRatioMedian, 0.4);
  t.true(l.clocksource!.startsWith('tsc'));
});

test('kill delay: chosen to killed, minus the handler\'s run, against no module', (t) => {
  const k = killDelayResult(parseGuestOutput(LATENCY_CONSOLE));
  t.deepEqual(k.gsChosenToKilledMs.n, 2);
  t.is(Math.round(k.gsChosenToKilledMs.median), 18); // 12 and 24 ms
  t.is(Math.round(k.gsHandlerRunMs.median), 15); // 10 and 20 ms
  t.is(Math.round(k.gsResidualMs.median * 10) / 10, 3); // 2 and 4 ms
  t.is(Math.round(k.stockChosenToKilledMs.median), 2); // 1 and 3 ms
  t.is(Math.round(k.addedMs! * 10) / 10, 1);
  t.is(Math.round(k.ratio! * 10) / 10, 1.5);
  t.deepEqual(k.splats, []);
});

test('the latency scenario checks every trial reported and no splat', (t) => {
  const ok = BENCH_LATENCY.checks(parseGuestOutput(LATENCY_CONSOLE));
  t.true(ok.every((c) => c.ok), JSON.stringify(ok));
  const bad = BENCH_LATENCY.checks(parseGuestOutput(`${LATENCY_CONSOLE.replace('@gs fe 1 2000000\n', '')}\n@gs k_gs 1 [ 5.1] WARNING: CPU: 0 PID: 1 at mm/oom_kill.c`));
  t.deepEqual(bad.filter((c) => !c.ok).map((c) => c.name), [
    'every trial reported: a fork+exec sample per trial',
    'no BUG, WARNING or Oops during the trials',
  ]);
});

const REGISTRY_CONSOLE = [
  '@gs reg 1 entries 1',
  '@gs reg 1 add 20000 30000 10000',
  '@gs reg 1 replace 20000 20000 20000',
  '@gs reg 1 remove 10000 10000 10000',
  '@gs reg 1 read 30000 30000 30000',
  '@gs reg 64 entries 64',
  '@gs reg 64 add 40000 40000 40000',
  '@gs reg 64 replace 40000 40000 40000',
  '@gs reg 64 remove 20000 20000 20000',
  '@gs reg 64 read 90000 90000 90000',
  '@gs reg 1 add_reading 20000 20000 30000',
  '@gs reg 64 add_reading 20000 30000 30000',
].join('\n');

test('registry rows by size, in µs, and the scaling from the smallest to the largest', (t) => {
  const r = registryResult(parseGuestOutput(REGISTRY_CONSOLE));
  t.deepEqual(r.rows.map((row) => row.entries), [1, 64]);
  t.is(r.rows[0]!.ops.add.median, 20);
  t.is(r.rows[0]!.ops.add.n, 3);
  t.is(r.rows[1]!.readBack, 64);
  t.deepEqual(r.scaling, { add: 2, replace: 2, remove: 2, read: 3, add_reading: 1.5 });
  t.is(r.rows[1]!.ops.add_reading.median, 30);
  t.true(BENCH_REGISTRY.checks(parseGuestOutput(REGISTRY_CONSOLE)).every((c) => c.ok));
  const short = BENCH_REGISTRY.checks(parseGuestOutput(REGISTRY_CONSOLE.replace('entries 64', 'entries 63')));
  t.false(short.every((c) => c.ok));
});

const SAVE_CONSOLE = [
  '@gs save contender=gs-memcg rate=10 trial=0 saved=1 status=137 left_kb=0 signal=USR1 alloc_kb=61440 go_ns=1000000000 signal_ns=7000000000 saved_ns=7002000000 handler_saved=1 handler_waited_ns=3000000',
  '@gs save contender=gs-memcg rate=10 trial=1 saved=0 status=137 left_kb=4 signal= alloc_kb= go_ns=1000000000 signal_ns= saved_ns= handler_saved=0 handler_waited_ns=3000000000',
  '@gs save contender=earlyoom rate=0 trial=0 saved=1 status=0 left_kb=20480 signal=TERM alloc_kb=40960 go_ns=1000000000 signal_ns=1500000000 saved_ns=1501000000 handler_saved= handler_waited_ns=',
  '@gs save contender=earlyoom rate=10 trial=0 saved=1 status=0 left_kb=30720 signal=TERM alloc_kb=40960 go_ns=1000000000 signal_ns=5000000000 saved_ns=5001000000 handler_saved= handler_waited_ns=',
  '@gs save contender=stock rate=10 trial=0 saved=0 status=137 left_kb=na signal= alloc_kb= go_ns=1000000000 signal_ns= saved_ns= handler_saved= handler_waited_ns=',
].join('\n');

test('save trials parse key=value lines, with "na" and empty values as null', (t) => {
  const trials = saveTrials(parseGuestOutput(SAVE_CONSOLE));
  t.is(trials.length, 5);
  t.deepEqual(trials[0], {
    contender: 'gs-memcg', rate: 10, trial: 0, saved: true, status: 137, leftKb: 0, allocKb: 61440,
    goToSignalMs: 6000, signalToSavedMs: 2,
  });
  t.is(trials[1]!.allocKb, null);
  t.is(trials[4]!.leftKb, null);
});

test('save cells: fraction saved per contender and rate, gs-kit first, unlimited last', (t) => {
  const cells = saveCells(saveTrials(parseGuestOutput(SAVE_CONSOLE)));
  t.deepEqual(cells.map((c) => `${c.contender}@${c.rate}`), ['gs-memcg@10', 'earlyoom@10', 'earlyoom@0', 'stock@10']);
  t.is(cells[0]!.fraction, 0.5);
  t.is(cells[0]!.leftKbMedian, 2);
  t.is(cells[0]!.achievedMbSMedian, 10);
  t.is(cells[3]!.leftKbMedian, null);
  t.is(cells[3]!.fraction, 0);
});

test('text tables align columns and right-align numbers', (t) => {
  t.is(textTable([['name', 'µs'], ['a', '1.5'], ['longer', '10.0']]), [
    'name    µs',
    '------  ----',
    'a        1.5',
    'longer  10.0',
  ].join('\n'));
  t.is(fmt(null), '—');
  t.is(fmt(1.234, 2), '1.23');
});

test('the rendered results show hardware, every part, ratios and what was not done', (t) => {
  const report = parseGuestOutput(`${LATENCY_CONSOLE}\n${REGISTRY_CONSOLE}\n${SAVE_CONSOLE}`);
  const results: BenchResults = {
    schema: 1,
    generatedAt: '2025-01-01T00:00:00.000Z',
    host: { nproc: 2, cpuModel: 'Test CPU', memTotalKb: 24 * 1024 * 1024, kernelRelease: '6.1.0-test', tscKhz: null },
    guest: { series: '6.1', kernelRelease: '6.1.192-gs', accel: 'tcg', smp: 1, clocksource: 'tsc' },
    latency: latencyResult(report),
    killDelay: killDelayResult(report),
    registry: registryResult(report),
    save: { cells: saveCells(saveTrials(report)), trials: saveTrials(report), memcgMax: '64M', handlerWaitMs: 3000, tools: {} },
    stock: {
      kernelRelease: '6.1.0-57-amd64',
      latency: latencyResult(report),
      killDelay: null,
      save: {
        cells: saveCells(saveTrials(report)), trials: saveTrials(report), memcgMax: '64M', handlerWaitMs: 3000, tools: {},
        holdMs: saveHoldMs(parseGuestOutput(HOLD_CONSOLE)),
      },
    },
    build: { coldQemuBuildS: 300, plainTinyconfigBuildS: 150, moduleRebuildS: 15, suiteWallS: 450, suiteScenarios: 9, jobs: 2 },
    notDone: [{ part: 'nothing', why: 'a test' }],
    notes: ['a note'],
  };
  const text = renderResults(results);
  t.regex(text, /host: 2 CPU\(s\), Test CPU, 24\.0 GiB RAM, Linux 6\.1\.0-test/);
  t.regex(text, /guest: Linux 6\.1\.192-gs/);
  t.regex(text, /ratio gs-kit \/ fork\+exec\s+2\.00x\s+2\.00x/);
  t.regex(text, /gs-memcg\s+10 MB\/s\s+1\/2\s+50 %/);
  t.regex(text, /earlyoom\s+unlimited/);
  t.regex(text, /ratio 64 \/ 1\s+2\.00x\s+2\.00x\s+2\.00x\s+3\.00x/);
  t.regex(text, /cold gs-kit qemu-profile kernel \+ module\s+300\.0\s+2\.00x/);
  t.regex(text, /6\. Stock mode: Debian's own 6\.1\.0-57-amd64, unmodified/);
  t.regex(text, /stock mode\s+2\s+\S+\s+\S+\s+2\.00x/);
  t.regex(text, /gs-global\s+2\s+15\.0\s+20\.0\s+20\.0/);
  t.regex(text, /ratio 64 \/ 1\s+2\.00x\s+2\.00x\s+2\.00x\s+3\.00x\s+1\.50x/);
  t.regex(text, /add_reading: a registration on one vCPU/);
  t.regex(text, /- nothing: a test/);
  t.regex(text, /- a note/);
});

const HOLD_CONSOLE = [
  '@gs k_save gs-global 200 0 [    9.100000] graceful_shutdown: event=start victim=9 comm=stateful_worklo',
  '@gs k_save gs-global 200 0 [    9.105000] graceful_shutdown: event=exit victim=9 helper=20 status=0',
  '@gs k_save gs-global 200 0 [    9.110000] Out of memory: Killed process 9 (stateful_worklo)',
  '@gs k_save gs-global 0 1 [   12.000000] graceful_shutdown: event=start victim=31 comm=stateful_worklo',
  '@gs k_save gs-global 0 1 [   12.020000] Out of memory: Killed process 31 (stateful_worklo)',
  // A kill of another process (the ballast) is not this OOM's end.
  '@gs k_save gs-memcg 10 0 [   14.000000] Memory cgroup out of memory: Killed process 40 (stress-ng)',
  '@gs k_save gs-memcg 10 0 [   14.100000] graceful_shutdown: event=start victim=41 comm=stateful_worklo',
  '@gs k_save earlyoom 0 1 [    9.300000] Out of memory: Killed process 12 (stateful_worklo)',
].join('\n');

test('hold time per gs-kit contender: from the module start line to its victim\'s kill', (t) => {
  const holds = saveHoldMs(parseGuestOutput(HOLD_CONSOLE));
  t.deepEqual(Object.keys(holds), ['gs-global']);
  t.is(holds['gs-global']!.n, 2);
  t.is(Math.round(holds['gs-global']!.median), 15);
  t.is(Math.round(holds['gs-global']!.max), 20);
});

test('kernel log lines of each save trial, keyed by contender, rate and trial', (t) => {
  const lines = saveKernelLines(parseGuestOutput([
    '@gs k_save gs-global 200 0 [ 9.1] graceful_shutdown: event=start victim=9 comm=stateful_worklo',
    '@gs k_save gs-global 200 0 [ 9.2] Out of memory: Killed process 9 (stateful_worklo)',
    '@gs k_save earlyoom 0 1 [ 9.3] Out of memory: Killed process 12 (stateful_worklo)',
  ].join('\n')));
  t.deepEqual(Object.keys(lines), ['gs-global 200 0', 'earlyoom 0 1']);
  t.is(lines['gs-global 200 0']!.length, 2);
});
