import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runScenario, type ScenarioRun } from '../adapters/guest.js';
import { color, passFail } from '../adapters/ui.js';
import { countOption, listOption, type CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import type { Profile } from '../lib/kconfig.js';
import {
  LIFECYCLE_DEFAULT_CYCLES, LIFECYCLE_STRESS_SCENARIO, SOAK_DEFAULT_COUNT, SOAK_SCENARIO, SOAK_TIMEOUT_MS,
  lifecycleSummary, soakBootTimeoutMs, soakSummary,
} from '../lib/soak.js';
import { factFields } from '../lib/soak-parse.js';
import { lifecycleRows, soakRows } from '../lib/soak-render.js';
import {
  GLOBAL_DEFAULT_RUNS, GLOBAL_SOAK_SCENARIOS, globalManyRow, globalManySummary, type GlobalManySummary,
} from '../lib/soak-global.js';
import { SERIES_NAMES } from '../lib/kernels.js';
import { scenarioNamed } from '../lib/scenarios.js';
import type { Command } from './types.js';
import { prepareGuest, printRun } from '../services/guests.js';

const PARTS = ['trials', 'lifecycle', 'global'] as const;

const spec: CommandSpec = {
  name: 'soak',
  summary: 'Prove the module cannot hurt the machine: N memcg and global OOM trials in one QEMU boot (several registered victims each, handlers that return, sleep, hang, crash or are deleted, registrations racing), then rmmod/insmod under OOMs and a recycled-pid test, then the global OOM with 4 and with 8 registered allocators booted many times (every handler must finish before its kill); prints a summary and writes it as JSON.',
  usage: 'gs-kit soak [--count N] [--global-runs N] [--parts trials,lifecycle,global] [--series 5.4|6.1|6.12] [--profile qemu|debug] [--out FILE]',
  options: [
    { name: 'count', type: 'string', value: 'N', description: 'OOM trials in the soak boot (about 2 s each under TCG).', default: String(SOAK_DEFAULT_COUNT) },
    { name: 'global-runs', type: 'string', value: 'N', description: 'Boots of each of global4 and global8 (about 40 s each under TCG).', default: String(GLOBAL_DEFAULT_RUNS) },
    { name: 'parts', type: 'string', value: 'LIST', description: 'Which parts to run: trials (the soak boot), lifecycle (rmmod/insmod, recycled pid), global (global4/global8 boots).', default: PARTS.join(',') },
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series (5.4: see gs-kit vm test).', choices: [...SERIES_NAMES], default: '6.1' },
    { name: 'profile', type: 'string', value: 'PROFILE', description: 'Kernel build profile.', choices: ['qemu', 'debug'], default: 'qemu' },
    { name: 'out', type: 'string', value: 'FILE', description: 'Where to write the summary JSON.', default: 'soak-results.json' },
  ],
  examples: ['gs-kit soak', 'gs-kit soak --count 20 --series 6.12 --out /tmp/soak.json', 'gs-kit soak --parts global --global-runs 20 --series 5.4'],
};

function printTable(rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) console.log(`  ${color.bold(k.padEnd(width))}  ${v}`);
}

function checksJson(run: ScenarioRun) {
  return run.checks.map((c) => ({ name: c.name, ok: c.ok, ...(c.detail ? { detail: c.detail } : {}) }));
}

export const soak: Command = {
  spec,
  async run({ options }) {
    const count = countOption(options.count, 'count', 1);
    const globalRuns = countOption(options['global-runs'], 'global-runs', 1);
    const parts = listOption(options.parts, 'parts', PARTS);
    const series = String(options.series);
    const profile = String(options.profile);
    const out = resolve(String(options.out));
    const { artifacts, initrd } = await prepareGuest(series, options.profile as Profile);
    // KASAN's shadow and the lock and leak trackers take a good part of a small guest's RAM.
    const debugMemory = (mb: number) => (profile === 'debug' ? { memoryMb: mb * 2 } : {});
    const rows: [string, string][] = [];
    const runs: ScenarioRun[] = [];
    const result: Record<string, unknown> = { series, release: artifacts.release, profile, parts: [...parts] };

    let soakRun: ScenarioRun | undefined;
    let lcRun: ScenarioRun | undefined;
    if (parts.has('trials')) {
      console.log(`\nSoak: ${count} OOM trials in one boot of Linux ${artifacts.release} (QEMU TCG, about ${Math.ceil((count * 2) / 60)} min on the qemu profile, longer on debug)…`);
      soakRun = await runScenario(SOAK_SCENARIO, artifacts.bzImage, initrd,
        { timeoutMs: soakBootTimeoutMs(count, profile), append: `gs.count=${count}`, ...debugMemory(SOAK_SCENARIO.memoryMb) });
      printRun(soakRun, series);
      runs.push(soakRun);
    }
    if (parts.has('lifecycle')) {
      console.log(`\nLifecycle: ${LIFECYCLE_DEFAULT_CYCLES} rmmod/insmod cycles under OOMs, and a recycled pid…`);
      lcRun = await runScenario(LIFECYCLE_STRESS_SCENARIO, artifacts.bzImage, initrd, {
        append: `gs.cycles=${LIFECYCLE_DEFAULT_CYCLES}`,
        timeoutMs: (LIFECYCLE_STRESS_SCENARIO.timeoutMs ?? 300_000) * (profile === 'debug' ? 4 : 1),
        ...debugMemory(LIFECYCLE_STRESS_SCENARIO.memoryMb),
      });
      printRun(lcRun, series);
      runs.push(lcRun);
    }
    if (soakRun) {
      const timeoutMs = Number(factFields(soakRun.report, 'soak_config').timeout_ms) || SOAK_TIMEOUT_MS;
      const summary = soakSummary(soakRun.report, timeoutMs);
      rows.push(...soakRows(summary));
      result.count = count;
      result.soak = { ...summary, bootMs: soakRun.boot.durationMs, checks: checksJson(soakRun) };
    }
    if (lcRun) {
      const lifecycle = lifecycleSummary(lcRun.report);
      rows.push(...lifecycleRows(lifecycle));
      result.lifecycle = { ...lifecycle, bootMs: lcRun.boot.durationMs, checks: checksJson(lcRun) };
    }

    if (parts.has('global')) {
      const globals: GlobalManySummary[] = [];
      for (const name of GLOBAL_SOAK_SCENARIOS) {
        const scenario = scenarioNamed(name)!;
        console.log(`\n${name}: ${globalRuns} boots, ${scenario.title}…`);
        const these: ScenarioRun[] = [];
        for (let i = 0; i < globalRuns; i++) {
          const run = await runScenario(scenario, artifacts.bzImage, initrd, debugMemory(scenario.memoryMb));
          printRun(run, `${series} ${i + 1}/${globalRuns}`);
          these.push(run);
        }
        runs.push(...these);
        const summary = globalManySummary(name, these);
        globals.push(summary);
        rows.push(globalManyRow(summary));
      }
      result.globalRuns = globalRuns;
      result.global = globals;
    }

    console.log(`\n${color.bold('Summary')} ${color.dim(`(${runs.length} boot(s), ${(runs.reduce((a, r) => a + r.boot.durationMs, 0) / 60_000).toFixed(1)} min)`)}`);
    if (rows.length) printTable(rows);
    const ok = runs.every((r) => r.checks.every((c) => c.ok));
    result.ok = ok;
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n${passFail(ok)} ${ok ? 'the module held up' : 'see the failed checks above'}; summary written to ${out}`);
    if (!ok) {
      if (options.debug) for (const r of runs.filter((x) => !x.checks.every((c) => c.ok))) console.log(color.dim(r.boot.console));
      throw new GsError('The soak found a problem.', 'Rerun with --debug to see the guest consoles.', 'vm');
    }
    return 0;
  },
};
