import { resolve } from 'node:path';
import { countOption, listOption, type CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import type { Profile } from '../lib/kconfig.js';
import { SERIES_NAMES } from '../lib/kernels.js';
import { SOAK_DEFAULT_COUNT, SOAK_PARTS } from '../lib/soak.js';
import { GLOBAL_DEFAULT_RUNS } from '../lib/soak-global.js';
import type { Ui } from '../lib/reporter.js';
import { runSoak } from '../services/soak.js';
import { passFail } from '../ui/render.js';
import type { Command } from './types.js';
import { passed } from '../lib/checks.js';

const spec: CommandSpec = {
  name: 'soak',
  summary: 'Prove the module cannot hurt the machine: N memcg and global OOM trials in one QEMU boot (several registered victims each, handlers that return, sleep, hang, crash or are deleted, registrations racing), then rmmod/insmod under OOMs and a recycled-pid test, then the global OOM with 4 and with 8 registered allocators booted many times (every handler must finish before its kill); prints a summary and writes it as JSON.',
  usage: 'gs-kit soak [--count N] [--global-runs N] [--parts trials,lifecycle,global] [--series 5.4|6.1|6.12] [--profile qemu|debug] [--out FILE]',
  options: [
    { name: 'count', type: 'string', value: 'N', description: 'OOM trials in the soak boot (about 2 s each under TCG).', default: String(SOAK_DEFAULT_COUNT) },
    { name: 'global-runs', type: 'string', value: 'N', description: 'Boots of each of global4 and global8 (about 40 s each under TCG).', default: String(GLOBAL_DEFAULT_RUNS) },
    { name: 'parts', type: 'string', value: 'LIST', description: 'Which parts to run: trials (the soak boot), lifecycle (rmmod/insmod, recycled pid), global (global4/global8 boots).', default: SOAK_PARTS.join(',') },
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series (5.4: see gs-kit vm test).', choices: [...SERIES_NAMES], default: '6.1' },
    { name: 'profile', type: 'string', value: 'PROFILE', description: 'Kernel build profile.', choices: ['qemu', 'debug'], default: 'qemu' },
    { name: 'out', type: 'string', value: 'FILE', description: 'Where to write the summary JSON.', default: 'soak-results.json' },
  ],
  examples: ['gs-kit soak', 'gs-kit soak --count 20 --series 6.12 --out /tmp/soak.json', 'gs-kit soak --parts global --global-runs 20 --series 5.4'],
};

function printTable(ui: Ui, rows: [string, string][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) ui.print(`  ${ui.style.bold(k.padEnd(width))}  ${v}`);
}

export const soak: Command = {
  spec,
  async run({ options }, { ui, host }) {
    const count = countOption(options.count, 'count', 1);
    const globalRuns = countOption(options['global-runs'], 'global-runs', 1);
    const parts = listOption(options.parts, 'parts', SOAK_PARTS);
    const out = resolve(String(options.out));
    const { runs, rows, summary } = await runSoak({
      series: String(options.series), profile: options.profile as Profile, parts, count, globalRuns,
    }, ui);

    const { bold, dim } = ui.style;
    ui.print(`\n${bold('Summary')} ${dim(`(${runs.length} boot(s), ${(runs.reduce((a, r) => a + r.boot.durationMs, 0) / 60_000).toFixed(1)} min)`)}`);
    if (rows.length) printTable(ui, rows);
    const { ok } = summary;
    await host('/', false).writeFile(out, `${JSON.stringify(summary, null, 2)}\n`);
    ui.print(`\n${passFail(ui.style, ok)} ${ok ? 'the module held up' : 'see the failed checks above'}; summary written to ${out}`);
    if (!ok) {
      if (options.debug) for (const r of runs.filter((x) => !passed(x))) ui.print(dim(r.boot.console));
      throw new GsError('The soak found a problem.', 'Rerun with --debug to see the guest consoles.', 'vm');
    }
    return 0;
  },
};
