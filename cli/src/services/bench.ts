/**
 * `gs-kit bench`'s runs: the guests each part boots, the timed builds, and
 * the results they add up to. Parsing and judging are lib/bench*.ts; the
 * command prints and writes what this returns.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { haveCommand, run } from '../adapters/exec.js';
import type { Host } from '../adapters/host.js';
import { freshDir, removeDir } from '../adapters/kernel-build.js';
import { locateSource } from '../adapters/kernel-source.js';
import { extractTarball } from '../adapters/kernel-tree.js';
import {
  BENCH_LATENCY, BENCH_PARTS, BENCH_REGISTRY, BENCH_SAVE, BENCH_SAVESIZE, SAVE_NOTE, SAVE_TOOLS, SAVESIZE_NOTE, STOCK_NOTE,
  clockNote, saveSizeResult,
  type BenchPart, type BenchPlan, type BenchResults, type BuildTiming, type PartNotDone,
} from '../lib/bench.js';
import {
  cpuModel, killDelayResult, latencyResult, meminfoKb, registryResult, saveCells, saveHoldMs, saveKernelLines, saveTools, saveTrials, tscAppend,
} from '../lib/bench-parse.js';
import { GsError } from '../lib/errors.js';
import { fact, said } from '../lib/guest-protocol.js';
import type { Scenario } from '../lib/scenario.js';
import { SUITE } from '../lib/catalogue.js';
import { SILENT, type Reporter } from '../lib/reporter.js';
import { passed } from '../lib/checks.js';
import { ensureBuild, resolveKernel } from './build.js';
import { prepareGuest, prepareStockGuest, runScenario, type Guest, type ScenarioRun } from './guests.js';

type BenchGuest = (scenario: Scenario, append: string) => Promise<ScenarioRun>;
type BuildTimes = Omit<BuildTiming, 'suiteWallS' | 'suiteScenarios'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** prepareGuest, waiting while another gs-kit holds the build lock. */
async function prepareGuestWaiting(series: string, reporter: Reporter) {
  for (let waited = 0; ; waited += 5) {
    try {
      return await prepareGuest(series, 'qemu', reporter);
    } catch (err) {
      if (!(err instanceof GsError && /Another gs-kit/.test(err.message)) || waited > 1800) throw err;
      if (waited === 0) reporter.note('another gs-kit is building this kernel; waiting for it', 'dim');
      await sleep(5000);
    }
  }
}

/** Wait until no kernel build ("make -jN") runs on this machine: timings need it alone. */
async function waitForQuietMachine(reporter: Reporter): Promise<void> {
  for (let shown = false; ; shown = true) {
    const r = await run(['pgrep', '-f', 'make -j']);
    const others = r.stdout.split('\n').map(Number).filter((pid) => pid && pid !== process.pid);
    if (others.length === 0) return;
    if (!shown) reporter.note(`waiting for other kernel builds to finish (pids ${others.join(', ')})`, 'dim');
    await sleep(10_000);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

/** Cold qemu-profile build, module-only rebuild and a plain tinyconfig build, in @scratch. */
async function buildTiming(series: string, scratch: string, jobs: number, reporter: Reporter): Promise<BuildTimes> {
  const tarball = locateSource({ from: 'distro', series });
  const say = (line: string) => reporter.note(line);
  const cache = join(scratch, 'cache');
  const plain = join(scratch, 'plain');
  // Resolved inside each timed build, as a build from the command line resolves it.
  const build = async () => ensureBuild(await resolveKernel(tarball, 'qemu', 'patched', SILENT), SILENT, { jobs, cacheDir: cache });
  await freshDir(scratch);
  try {
    await waitForQuietMachine(reporter);
    say(`timing a cold qemu-profile build of ${tarball} in ${cache}`);
    const cold = await timed(build);
    say(`  ${cold.seconds.toFixed(1)} s; now the module-only rebuild`);
    const again = await timed(build);
    await removeDir(cache);

    await waitForQuietMachine(reporter);
    say(`timing a plain tinyconfig build of the same tree in ${plain}`);
    const plainBuild = await timed(async () => {
      await extractTarball(tarball, plain);
      for (const argv of [['make', 'tinyconfig'], ['make', `-j${jobs}`]]) {
        const r = await run(argv, { cwd: plain, logFile: join(scratch, 'plain.log') });
        if (r.exitCode !== 0) throw new GsError(`"${argv.join(' ')}" failed in ${plain}.`, `Read ${join(scratch, 'plain.log')}.`, 'build');
      }
    });
    say(`  ${plainBuild.seconds.toFixed(1)} s`);
    return { coldQemuBuildS: cold.seconds, moduleRebuildS: again.seconds, plainTinyconfigBuildS: plainBuild.seconds, jobs };
  } finally {
    await removeDir(scratch);
  }
}

/** The whole guest suite on one kernel, one boot a scenario: wall time and failures. */
async function suiteTiming(guest: Guest): Promise<{ seconds: number; failed: number }> {
  const suite = await timed(async () => {
    let failed = 0;
    for (const scenario of SUITE) {
      const r = await runScenario(scenario, guest);
      if (!passed(r)) failed++;
    }
    return failed;
  });
  return { seconds: suite.seconds, failed: suite.value };
}

/** Notes @part as not done when its guest run failed a check, naming the checks. */
function noteUnclean(notDone: PartNotDone[], of: BenchPart, part: string, r: ScenarioRun): void {
  if (passed(r)) return;
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
  notDone.push({ part, why: `the guest run was not clean: ${failed}`, of });
}

/** The graceful-save guest's results for @contenders; pushes what was not done. */
async function saveResults(
  guest: BenchGuest, of: BenchPart, label: string, contenders: readonly string[], plan: BenchPlan, notDone: PartNotDone[],
): Promise<BenchResults['save']> {
  const save = await guest(BENCH_SAVE, `gs.rates=${plan.rates.join(',')} gs.save_trials=${plan.saveTrials} gs.contenders=${contenders.join(',')}`);
  noteUnclean(notDone, of, label, save);
  const trialsRun = saveTrials(save.report);
  if (!trialsRun.length) return null;
  const kernelLines = saveKernelLines(save.report);
  const failedTrialKernelLog = Object.fromEntries(trialsRun.filter((t) => !t.saved)
    .map((t) => `${t.contender} ${t.rate} ${t.trial}`).map((k) => [k, kernelLines[k] ?? []]));
  return {
    failedTrialKernelLog,
    cells: saveCells(trialsRun), trials: trialsRun, memcgMax: '64M', handlerWaitMs: 3000,
    holdMs: saveHoldMs(save.report),
    tools: saveTools(save.report),
  };
}

/** This host, and the kernel command-line words that pin a guest's TSC to it. */
async function benchHost(system: Host): Promise<{ host: BenchResults['host']; tscAppend: string }> {
  const [cpuinfo = '', meminfo = '', uname] = await Promise.all([
    system.readFile('/proc/cpuinfo'), system.readFile('/proc/meminfo'), system.run(['uname', '-r']),
  ]);
  const tsc = tscAppend(cpuinfo);
  return {
    host: {
      nproc: cpus().length, cpuModel: cpuModel(cpuinfo), memTotalKb: meminfoKb(meminfo, 'MemTotal'),
      kernelRelease: uname.stdout.trim(), tscKhz: tsc.khz,
    },
    tscAppend: tsc.append,
  };
}

/** Runs the parts of @plan, saying what it starts; what a part could not do is in the results' notDone. */
export async function runBench(plan: BenchPlan, system: Host, reporter: Reporter): Promise<BenchResults> {
  const say = (line: string) => reporter.note(line);
  const { series, parts, trials, rates } = plan;
  const notDone: PartNotDone[] = BENCH_PARTS.filter((part) => !parts.has(part)).map((part) => ({ part, why: 'not asked for (--parts)', of: part }));
  const { host, tscAppend: pinTsc } = await benchHost(system);
  const notes = [clockNote(pinTsc)];
  const results: BenchResults = {
    schema: 1,
    generatedAt: new Date().toISOString(),
    host,
    guest: { series, kernelRelease: '?', accel: 'tcg', smp: 1, clocksource: null },
    latency: null, killDelay: null, registry: null, save: null, savesize: null, stock: null, build: null, notDone, notes,
  };

  const patched = await prepareGuestWaiting(series, reporter);
  results.guest.kernelRelease = patched.release;
  const guestOn = (g: Guest): BenchGuest => (scenario, append) =>
    runScenario(scenario, g, { append: `${append} ${pinTsc}`.trim() });
  const guest = guestOn(patched);

  if (parts.has('latency')) {
    say(`1-2. ${trials} memcg OOM trials without and with the module, and ${trials} fork+exec trials`);
    const lat = await guest(BENCH_LATENCY, `gs.trials=${trials}`);
    results.guest.clocksource = fact(lat.report, 'clocksource') ?? null;
    if (said(lat.report, 'lat_gs')) {
      results.latency = latencyResult(lat.report);
      results.killDelay = killDelayResult(lat.report);
      if (results.killDelay.stockChosenToKilledMs.n < trials) {
        notes.push(`Kill delay without the module is timed from the OOM report's first line, which the kernel rate-limits (10 reports per 5 s): ${results.killDelay.stockChosenToKilledMs.n} of ${trials} trials had one.`);
      }
    }
    noteUnclean(notDone, 'latency', 'latency and kill delay', lat);
  }

  if (parts.has('registry')) {
    say(`4. registry cost with 1, 64, 1024 and 4096 entries, ${plan.repeats} repeats (2 vCPUs)`);
    const reg = await guest(BENCH_REGISTRY, `gs.reg_sizes=1,64,1024,4096 gs.reg_repeats=${plan.repeats}`);
    if (said(reg.report, 'reg')) results.registry = registryResult(reg.report);
    noteUnclean(notDone, 'registry', 'registry', reg);
  }

  // The other contenders, and the global runs' ballast, are the host's Debian packages, run in the guest over 9p.
  const installed = new Set<string>();
  if (parts.has('save') || parts.has('stock')) {
    for (const tool of SAVE_TOOLS) {
      if (await haveCommand(tool)) installed.add(tool);
      else {
        notDone.push({ part: `graceful save: ${tool}`, why: `${tool} is not installed on the host (Debian package "${tool}": apt-get install ${tool}).`,
          of: parts.has('save') ? 'save' : 'stock' });
      }
    }
  }
  const globalContender = installed.has('stress-ng') ? ['gs-global'] : [];
  if (parts.has('save')) {
    const contenders = ['stock', 'gs-memcg', ...['earlyoom', 'nohang'].filter((t) => installed.has(t)), ...globalContender];
    say(`3. graceful save at ${rates.join(', ')} MB/s (0 = no limit), ${plan.saveTrials} trials per contender and rate`);
    results.save = await saveResults(guest, 'save', 'graceful save', contenders, plan, notDone);
    if (results.save) notes.push(SAVE_NOTE);
  }

  if (parts.has('savesize')) {
    say('7. the largest checkpoint a handler saves before its kill: tmpfs and ext4 on a disk, memcg and global OOMs');
    const size = await guest(BENCH_SAVESIZE, '');
    if (said(size.report, 'savesize')) {
      results.savesize = saveSizeResult(size.report);
      notes.push(SAVESIZE_NOTE);
    }
    noteUnclean(notDone, 'savesize', 'save size', size);
  }

  if (parts.has('stock')) {
    // The same latency and save guests on the distribution's own kernel, the module in stock mode.
    const sg = await prepareStockGuest(series, reporter, plan.flavour);
    const stockGuest = guestOn(sg);
    say(`6. stock mode on Debian's ${sg.release}: ${trials} memcg OOM trials, graceful save at ${rates.join(', ')} MB/s`);
    const lat = await stockGuest(BENCH_LATENCY, `gs.trials=${trials}`);
    noteUnclean(notDone, 'stock', 'stock-mode latency', lat);
    const save = await saveResults(stockGuest, 'stock', 'stock-mode graceful save', ['gs-memcg', ...globalContender], plan, notDone);
    const measured = said(lat.report, 'lat_gs');
    results.stock = {
      kernelRelease: sg.release,
      latency: measured ? latencyResult(lat.report) : null,
      killDelay: measured ? killDelayResult(lat.report) : null,
      save,
    };
    notes.push(STOCK_NOTE);
  }

  const jobs = cpus().length;
  const timing = parts.has('build') ? await buildTiming(series, plan.scratch, jobs, reporter) : null;
  let suite: { seconds: number; failed: number } | null = null;
  if (parts.has('suite')) {
    say(`5. the guest suite: ${SUITE.length} scenarios, one boot each`);
    suite = await suiteTiming(patched);
    if (suite.failed) notes.push(`${suite.failed} suite scenario(s) failed during the timed suite run (timing kept).`);
  }
  if (timing || suite) {
    results.build = {
      coldQemuBuildS: timing?.coldQemuBuildS ?? null,
      plainTinyconfigBuildS: timing?.plainTinyconfigBuildS ?? null,
      moduleRebuildS: timing?.moduleRebuildS ?? null,
      suiteWallS: suite?.seconds ?? null,
      suiteScenarios: suite ? SUITE.length : null,
      jobs,
    };
  }
  return results;
}
