import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { runScenario, type ScenarioRun } from '../adapters/guest.js';
import { haveCommand, run } from '../adapters/exec.js';
import { distroTarball, ensureBuild } from '../adapters/kernel-build.js';
import { extractTarball } from '../adapters/kernel-tree.js';
import { cacheRoot } from '../adapters/paths.js';
import { color } from '../adapters/ui.js';
import { BENCH_LATENCY, BENCH_REGISTRY, BENCH_SAVE, type BenchResults, type BuildTiming, type PartNotDone } from '../lib/bench.js';
import {
  cpuModel, killDelayResult, latencyResult, meminfoKb, registryResult, saveCells, saveHoldMs, saveKernelLines, saveTrials, tscAppend,
} from '../lib/bench-parse.js';
import { renderResults } from '../lib/bench-render.js';
import { countOption, listOption, type CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { fact } from '../lib/guest-protocol.js';
import { ALL_SCENARIOS } from '../lib/scenarios.js';
import type { Command } from './types.js';
import { prepareGuest, prepareStockGuest } from '../services/guests.js';

const BENCH_PARTS = ['latency', 'registry', 'save', 'stock', 'build', 'suite'] as const;

const spec: CommandSpec = {
  name: 'bench',
  summary: 'Measure gs-kit in QEMU (TCG) guests: handler start latency against a plain fork+exec, the delay added to the kill, graceful-save success against allocation rate next to earlyoom, nohang and a stock kernel, registry cost by size, and build and test turnaround; print a table and write the results as JSON.',
  usage: 'gs-kit bench [--series 6.1|6.12] [--parts latency,registry,save,stock,build,suite] [--trials N] [--skip-build-timing] [--out bench/results.json]',
  options: [
    { name: 'parts', type: 'string', value: 'LIST', description: 'Which parts to run: latency (start latency, kill delay), registry, save (graceful save, hold time), stock (latency and save on the distribution\'s own kernel, stock mode), build (build timing), suite (guest suite timing).', default: BENCH_PARTS.join(',') },
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series (the distribution\'s source).', choices: ['6.1', '6.12'], default: '6.1' },
    { name: 'trials', type: 'string', value: 'N', description: 'memcg OOM trials and fork+exec trials for the latency part (at least 50 for the published numbers).', default: '50' },
    { name: 'save-trials', type: 'string', value: 'N', description: 'Trials per contender and allocation rate in the graceful-save part.', default: '5' },
    { name: 'rates', type: 'string', value: 'R,R,...', description: 'Allocation rates for the graceful-save part, MB/s (0: no limit).', default: '10,50,200,0' },
    { name: 'repeats', type: 'string', value: 'N', description: 'Repeats of each registry operation per size.', default: '51' },
    { name: 'skip-build-timing', type: 'boolean', description: 'Do not time the kernel builds (they take minutes and need the machine to themselves); the same as leaving build out of --parts.' },
    { name: 'skip-suite-timing', type: 'boolean', description: 'Do not time the guest suite; the same as leaving suite out of --parts.' },
    { name: 'scratch', type: 'string', value: 'DIR', description: 'Where the timed kernel builds go (never the build cache).', default: join(cacheRoot(), 'bench-builds') },
    { name: 'out', type: 'string', value: 'FILE', description: 'Where to write the results.', default: 'bench/results.json' },
  ],
  examples: ['gs-kit bench --skip-build-timing', 'gs-kit bench --series 6.12 --trials 100 --out /tmp/results.json', 'gs-kit bench --parts registry --out /tmp/registry.json'],
};

/** What the graceful-save figures mean, printed under them. */
const SAVE_NOTE = 'Graceful save: the workload pre-writes its 64 KiB state file, so saving it needs no new memory, and saves it from a thread of its own on SIGUSR1 (gs-kit handler) or SIGTERM (earlyoom, nohang); success = the state file says saved after the workload died. gs-memcg: 64 MiB memory.max; global contenders: 256 MiB guest with a stress-ng ballast leaving ~80 MiB. earlyoom and nohang both SIGTERM the process with the highest oom_score below 10 % MemAvailable and SIGKILL below 5 %. Stock: the patched kernel without the module, memcg OOM; nothing asks the workload to save.';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** prepareGuest, waiting while another gs-kit holds the build lock. */
async function prepareGuestWaiting(series: string) {
  for (let waited = 0; ; waited += 5) {
    try {
      return await prepareGuest(series, 'qemu');
    } catch (err) {
      if (!(err instanceof GsError && /Another gs-kit/.test(err.message)) || waited > 1800) throw err;
      if (waited === 0) console.log(color.dim('another gs-kit is building this kernel; waiting for it'));
      await sleep(5000);
    }
  }
}

/** Wait until no kernel build ("make -jN") runs on this machine: timings need it alone. */
async function waitForQuietMachine(): Promise<void> {
  for (let shown = false; ; shown = true) {
    const r = await run(['pgrep', '-f', 'make -j']);
    const others = r.stdout.split('\n').map(Number).filter((pid) => pid && pid !== process.pid);
    if (others.length === 0) return;
    if (!shown) console.log(color.dim(`waiting for other kernel builds to finish (pids ${others.join(', ')})`));
    await sleep(10_000);
  }
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, value };
}

const quietReporter = { step: () => {}, output: () => {}, note: () => {} };

/** Cold qemu-profile build, module-only rebuild and a plain tinyconfig build, in @scratch. */
async function buildTiming(series: string, scratch: string, jobs: number): Promise<Omit<BuildTiming, 'suiteWallS' | 'suiteScenarios'>> {
  const tarball = distroTarball(series);
  const cache = join(scratch, 'cache');
  const plain = join(scratch, 'plain');
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await waitForQuietMachine();
    console.log(`timing a cold qemu-profile build of ${tarball} in ${cache}`);
    const cold = await timed(() => ensureBuild({ tarball, profile: 'qemu', jobs, cacheDir: cache }, quietReporter));
    console.log(`  ${cold.seconds.toFixed(1)} s; now the module-only rebuild`);
    const again = await timed(() => ensureBuild({ tarball, profile: 'qemu', jobs, cacheDir: cache }, quietReporter));
    await rm(cache, { recursive: true, force: true });

    await waitForQuietMachine();
    console.log(`timing a plain tinyconfig build of the same tree in ${plain}`);
    const plainBuild = await timed(async () => {
      await extractTarball(tarball, plain);
      for (const argv of [['make', 'tinyconfig'], ['make', `-j${jobs}`]]) {
        const r = await run(argv, { cwd: plain, logFile: join(scratch, 'plain.log') });
        if (r.exitCode !== 0) throw new GsError(`"${argv.join(' ')}" failed in ${plain}.`, `Read ${join(scratch, 'plain.log')}.`, 'build');
      }
    });
    console.log(`  ${plainBuild.seconds.toFixed(1)} s`);
    return { coldQemuBuildS: cold.seconds, moduleRebuildS: again.seconds, plainTinyconfigBuildS: plainBuild.seconds, jobs };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Notes @part as not done when its guest run failed a check, naming the checks. */
function noteUnclean(notDone: PartNotDone[], part: string, r: ScenarioRun): void {
  if (r.checks.every((c) => c.ok)) return;
  const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
  notDone.push({ part, why: `the guest run was not clean: ${failed}` });
}

/** The graceful-save guest's results for @contenders; pushes what was not done. */
async function saveResults(
  guest: (scenario: typeof BENCH_SAVE, append: string) => Promise<ScenarioRun>,
  label: string, contenders: readonly string[], rates: readonly number[], trials: number, notDone: PartNotDone[],
): Promise<NonNullable<BenchResults['save']> | null> {
  const save = await guest(BENCH_SAVE, `gs.rates=${rates.join(',')} gs.save_trials=${trials} gs.contenders=${contenders.join(',')}`);
  noteUnclean(notDone, label, save);
  const trialsRun = saveTrials(save.report);
  if (!trialsRun.length) return null;
  const kernelLines = saveKernelLines(save.report);
  const failedTrialKernelLog = Object.fromEntries(trialsRun.filter((t) => !t.saved)
    .map((t) => `${t.contender} ${t.rate} ${t.trial}`).map((k) => [k, kernelLines[k] ?? []]));
  return {
    failedTrialKernelLog,
    cells: saveCells(trialsRun), trials: trialsRun, memcgMax: '64M', handlerWaitMs: 3000,
    holdMs: saveHoldMs(save.report),
    tools: {
      earlyoom: fact(save.report, 'earlyoom_version') ?? 'not run',
      nohang: fact(save.report, 'nohang_version') ?? 'not run',
      'stress-ng': 'ballast for the global runs (stress-ng --vm 1 --vm-hang 0), oom_score_adj -1000',
    },
  };
}

export const bench: Command = {
  spec,
  async run({ options }) {
    const series = String(options.series);
    const trials = countOption(options.trials, 'trials');
    const saveTrialCount = countOption(options['save-trials'], 'save-trials');
    const repeats = countOption(options.repeats, 'repeats');
    const parts = listOption(options.parts, 'parts', BENCH_PARTS);
    if (options['skip-build-timing']) parts.delete('build');
    if (options['skip-suite-timing']) parts.delete('suite');
    const rates = String(options.rates).split(',').map((r) => Number(r.trim()));
    if (rates.some((r) => !Number.isInteger(r) || r < 0)) {
      throw new GsError(`--rates must be whole MB/s values (0 for no limit), not "${String(options.rates)}".`, 'Give e.g. --rates 10,50,200,0.', 'usage');
    }
    const out = resolve(String(options.out));
    const notDone: PartNotDone[] = [];
    const notes: string[] = [];
    for (const part of BENCH_PARTS) if (!parts.has(part)) notDone.push({ part, why: 'not asked for (--parts)' });

    const [cpuinfo, meminfo, uname] = await Promise.all([
      readFile('/proc/cpuinfo', 'utf8'), readFile('/proc/meminfo', 'utf8'), run(['uname', '-r']),
    ]);
    const tsc = tscAppend(cpuinfo);
    const results: BenchResults = {
      schema: 1,
      generatedAt: new Date().toISOString(),
      host: {
        nproc: cpus().length, cpuModel: cpuModel(cpuinfo), memTotalKb: meminfoKb(meminfo, 'MemTotal'),
        kernelRelease: uname.stdout.trim(), tscKhz: tsc.khz,
      },
      guest: { series, kernelRelease: '?', accel: 'tcg', smp: 1, clocksource: null },
      latency: null, killDelay: null, registry: null, save: null, stock: null, build: null, notDone, notes,
    };
    if (tsc.append) {
      notes.push(`Guests boot with "${tsc.append}": under TCG the guest TSC is the host's, and without a given frequency the guest often fails to calibrate it under load and falls back to jiffies (4 ms steps).`);
    } else {
      notes.push('The host TSC is not constant: guests may fall back to a jiffies clock (4 ms steps).');
    }

    const { artifacts, initrd } = await prepareGuestWaiting(series);
    results.guest.kernelRelease = artifacts.release;
    const guestOn = (kernel: string, initramfs: string) => (scenario: typeof BENCH_LATENCY, append: string) =>
      runScenario(scenario, kernel, initramfs, { append: `${append} ${tsc.append}`.trim() });
    const guest = guestOn(artifacts.bzImage, initrd);

    if (parts.has('latency')) {
      console.log(`1-2. ${trials} memcg OOM trials without and with the module, and ${trials} fork+exec trials`);
      const lat = await guest(BENCH_LATENCY, `gs.trials=${trials}`);
      results.guest.clocksource = fact(lat.report, 'clocksource') ?? null;
      if (lat.report.facts.has('lat_gs')) {
        results.latency = latencyResult(lat.report);
        results.killDelay = killDelayResult(lat.report);
        if (results.killDelay.stockChosenToKilledMs.n < trials) {
          notes.push(`Kill delay without the module is timed from the OOM report's first line, which the kernel rate-limits (10 reports per 5 s): ${results.killDelay.stockChosenToKilledMs.n} of ${trials} trials had one.`);
        }
      }
      noteUnclean(notDone, 'latency and kill delay', lat);
    }

    if (parts.has('registry')) {
      console.log(`4. registry cost with 1, 64, 1024 and 4096 entries, ${repeats} repeats (2 vCPUs)`);
      const reg = await guest(BENCH_REGISTRY, `gs.reg_sizes=1,64,1024,4096 gs.reg_repeats=${repeats}`);
      if (reg.report.facts.has('reg')) results.registry = registryResult(reg.report);
      noteUnclean(notDone, 'registry', reg);
    }

    // The other contenders, and the global runs' ballast, are the host's Debian packages, run in the guest over 9p.
    const installed = new Set<string>();
    if (parts.has('save') || parts.has('stock')) {
      for (const tool of ['earlyoom', 'nohang', 'stress-ng']) {
        if (await haveCommand(tool)) installed.add(tool);
        else notDone.push({ part: `graceful save: ${tool}`, why: `${tool} is not installed on the host (Debian package "${tool}": apt-get install ${tool}).` });
      }
    }
    const globalContender = installed.has('stress-ng') ? ['gs-global'] : [];
    if (parts.has('save')) {
      const contenders = ['stock', 'gs-memcg', ...['earlyoom', 'nohang'].filter((t) => installed.has(t)), ...globalContender];
      console.log(`3. graceful save at ${rates.join(', ')} MB/s (0 = no limit), ${saveTrialCount} trials per contender and rate`);
      results.save = await saveResults(guest, 'graceful save', contenders, rates, saveTrialCount, notDone);
      if (results.save) notes.push(SAVE_NOTE);
    }

    if (parts.has('stock')) {
      // The same latency and save guests on the distribution's own kernel, the module in stock mode.
      const sg = await prepareStockGuest(series);
      const stockGuest = guestOn(sg.kernel, sg.initrd);
      console.log(`6. stock mode on Debian's ${sg.release}: ${trials} memcg OOM trials, graceful save at ${rates.join(', ')} MB/s`);
      const lat = await stockGuest(BENCH_LATENCY, `gs.trials=${trials}`);
      noteUnclean(notDone, 'stock-mode latency', lat);
      const save = await saveResults(stockGuest, 'stock-mode graceful save', ['gs-memcg', ...globalContender], rates, saveTrialCount, notDone);
      const measured = lat.report.facts.has('lat_gs');
      results.stock = {
        kernelRelease: sg.release,
        latency: measured ? latencyResult(lat.report) : null,
        killDelay: measured ? killDelayResult(lat.report) : null,
        save,
      };
      notes.push('Stock mode: Debian\'s unmodified kernel of the same series with the module\'s own hook (an ftrace direct call at oom_kill_process) and no gs-kit patch, so handlers of a global OOM have no access to the memory reserves (README, stock mode).');
    }

    let timing: Omit<BuildTiming, 'suiteWallS' | 'suiteScenarios'> | null = null;
    if (parts.has('build')) timing = await buildTiming(series, resolve(String(options.scratch)), cpus().length);
    let suiteWallS: number | null = null;
    let suiteScenarios: number | null = null;
    if (parts.has('suite')) {
      console.log(`5. the guest suite: ${ALL_SCENARIOS.length} scenarios, one boot each`);
      const suite = await timed(async () => {
        let failed = 0;
        for (const scenario of ALL_SCENARIOS) {
          const r = await runScenario(scenario, artifacts.bzImage, initrd);
          if (!r.checks.every((c) => c.ok)) failed++;
        }
        return failed;
      });
      suiteWallS = suite.seconds;
      suiteScenarios = ALL_SCENARIOS.length;
      if (suite.value) notes.push(`${suite.value} suite scenario(s) failed during the timed suite run (timing kept).`);
    }
    if (timing || suiteWallS !== null) {
      results.build = {
        coldQemuBuildS: timing?.coldQemuBuildS ?? null,
        plainTinyconfigBuildS: timing?.plainTinyconfigBuildS ?? null,
        moduleRebuildS: timing?.moduleRebuildS ?? null,
        suiteWallS, suiteScenarios, jobs: cpus().length,
      };
    }

    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${renderResults(results)}\n\nresults: ${out}`);
    return existsSync(out) ? 0 : 1;
  },
};
