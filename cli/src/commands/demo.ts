import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { fact } from '../lib/guest-protocol.js';
import { scenarioNamed } from '../lib/catalogue.js';
import { formatTimeline, victimTimeline } from '../lib/timeline.js';
import { prepareGuest, runScenario } from '../services/guests.js';
import { passFail } from '../ui/render.js';
import type { Command } from './types.js';
import { passed } from '../lib/checks.js';

const spec: CommandSpec = {
  name: 'demo',
  summary: 'Build the patched kernel and module, boot them in QEMU, and show a process saved by its handler before the OOM kill, with a timeline.',
  usage: 'gs-kit demo [--series 6.1|6.12]',
  options: [
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series (the distribution\'s source).', choices: ['6.1', '6.12'], default: '6.12' },
  ],
  examples: ['gs-kit demo', 'gs-kit demo --series 6.1'],
};

export const demo: Command = {
  spec,
  async run({ options }, { ui }) {
    const series = String(options.series);
    const guest = await prepareGuest(series, 'qemu', ui);
    const { style } = ui;
    ui.print(`\nBooting Linux ${guest.release} in QEMU: a process in a cgroup limited to 32 MiB allocates until the OOM killer picks it.`);
    const run = await runScenario(scenarioNamed('memcg'), guest);
    const ok = passed(run);
    ui.print(`\nVictim pid ${fact(run.report, 'victim')}, registered with: ${fact(run.report, 'listing')?.replace(/\|$/, '')}\n`);
    ui.print(style.bold('Timeline (guest clock):'));
    ui.print(formatTimeline(victimTimeline(run.report)));
    ui.print(`\n${passFail(style, ok)} handler ran before the kill: ${run.checks.filter((c) => c.ok).length}/${run.checks.length} checks hold`);
    if (!ok) {
      for (const c of run.checks.filter((x) => !x.ok)) ui.print(`  ${style.red('✗')} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`);
      throw new GsError('The demo did not show a graceful shutdown.', 'Run "gs-kit vm test --debug" to see the guest console.', 'vm');
    }
    return 0;
  },
};
