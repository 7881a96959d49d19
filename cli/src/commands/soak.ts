import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { runScenario, type ScenarioRun } from '../adapters/guest.js';
import { color, passFail } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import type { Profile } from '../lib/kconfig.js';
import {
  LIFECYCLE_DEFAULT_CYCLES, LIFECYCLE_STRESS_SCENARIO, SOAK_DEFAULT_COUNT, SOAK_SCENARIO, SOAK_TIMEOUT_MS,
  lifecycleSummary, soakBootTimeoutMs, soakSummary,
} from '../lib/soak.js';
import { factFields } from '../lib/soak-parse.js';
import { summaryRows } from '../lib/soak-render.js';
import type { Command } from './types.js';
import { prepareGuest, printRun } from '../services/guests.js';

const spec: CommandSpec = {
  name: 'soak',
  summary: 'Prove the module cannot hurt the machine: N memcg and global OOM trials in one QEMU boot (several registered victims each, handlers that return, sleep, hang, crash or are deleted, registrations racing), then rmmod/insmod under OOMs and a recycled-pid test; prints a summary and writes it as JSON.',
  usage: 'gs-kit soak [--count N] [--series 6.1|6.12] [--profile qemu|debug] [--out FILE]',
  options: [
    { name: 'count', type: 'string', value: 'N', description: 'OOM trials in the soak boot (about 2 s each under TCG).', default: String(SOAK_DEFAULT_COUNT) },
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series (the distribution\'s source).', choices: ['6.1', '6.12'], default: '6.1' },
    { name: 'profile', type: 'string', value: 'PROFILE', description: 'Kernel build profile.', choices: ['qemu', 'debug'], default: 'qemu' },
    { name: 'out', type: 'string', value: 'FILE', description: 'Where to write the summary JSON.', default: 'soak-results.json' },
  ],
  examples: ['gs-kit soak', 'gs-kit soak --count 20 --series 6.12 --out /tmp/soak.json'],
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
    const count = Number(options.count);
    if (!Number.isInteger(count) || count < 1) {
      throw new GsError(`--count must be a positive whole number, not "${options.count}".`, 'Write e.g. --count 200.', 'usage');
    }
    const series = String(options.series);
    const out = resolve(String(options.out));
    const { artifacts, initrd } = await prepareGuest(series, options.profile as Profile);
    // KASAN's shadow and the lock and leak trackers take a good part of a small guest's RAM.
    const debugMemory = (mb: number) => (options.profile === 'debug' ? { memoryMb: mb * 2 } : {});

    console.log(`\nSoak: ${count} OOM trials in one boot of Linux ${artifacts.release} (QEMU TCG, about ${Math.ceil((count * 2) / 60)} min on the qemu profile, longer on debug)…`);
    const soakRun = await runScenario(SOAK_SCENARIO, artifacts.bzImage, initrd,
      { timeoutMs: soakBootTimeoutMs(count, String(options.profile)), append: `gs.count=${count}`, ...debugMemory(SOAK_SCENARIO.memoryMb) });
    printRun(soakRun, series);

    console.log(`\nLifecycle: ${LIFECYCLE_DEFAULT_CYCLES} rmmod/insmod cycles under OOMs, and a recycled pid…`);
    const lcRun = await runScenario(LIFECYCLE_STRESS_SCENARIO, artifacts.bzImage, initrd, {
      append: `gs.cycles=${LIFECYCLE_DEFAULT_CYCLES}`,
      timeoutMs: (LIFECYCLE_STRESS_SCENARIO.timeoutMs ?? 300_000) * (options.profile === 'debug' ? 4 : 1),
      ...debugMemory(LIFECYCLE_STRESS_SCENARIO.memoryMb),
    });
    printRun(lcRun, series);

    const timeoutMs = Number(factFields(soakRun.report, 'soak_config').timeout_ms) || SOAK_TIMEOUT_MS;
    const summary = soakSummary(soakRun.report, timeoutMs);
    const lifecycle = lifecycleSummary(lcRun.report);
    const ok = [...soakRun.checks, ...lcRun.checks].every((c) => c.ok);

    console.log(`\n${color.bold('Summary')} ${color.dim(`(soak boot ${(soakRun.boot.durationMs / 1000).toFixed(0)} s, lifecycle boot ${(lcRun.boot.durationMs / 1000).toFixed(0)} s)`)}`);
    printTable(summaryRows(summary, lifecycle));

    const result = {
      ok,
      series,
      release: artifacts.release,
      profile: options.profile,
      count,
      soak: { ...summary, bootMs: soakRun.boot.durationMs, checks: checksJson(soakRun) },
      lifecycle: { ...lifecycle, bootMs: lcRun.boot.durationMs, checks: checksJson(lcRun) },
    };
    await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\n${passFail(ok)} ${ok ? 'the module held up' : 'see the failed checks above'}; summary written to ${out}`);
    if (!ok) {
      if (options.debug) console.log(color.dim(soakRun.boot.console + lcRun.boot.console));
      throw new GsError('The soak found a problem.', 'Rerun with --debug to see the guest consoles.', 'vm');
    }
    return 0;
  },
};
