import { runScenario } from '../adapters/guest.js';
import { color, passFail } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { fact } from '../lib/guest-protocol.js';
import { scenarioNamed } from '../lib/scenarios.js';
import { formatTimeline, victimTimeline } from '../lib/timeline.js';
import { prepareGuest } from '../services/guests.js';
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
  async run({ options }) {
    const series = String(options.series);
    const { artifacts, initrd } = await prepareGuest(series, 'qemu');
    console.log(`\nBooting Linux ${artifacts.release} in QEMU: a process in a cgroup limited to 32 MiB allocates until the OOM killer picks it.`);
    const run = await runScenario(scenarioNamed('memcg')!, artifacts.bzImage, initrd);
    const ok = passed(run);
    console.log(`\nVictim pid ${fact(run.report, 'victim')}, registered with: ${fact(run.report, 'listing')?.replace(/\|$/, '')}\n`);
    console.log(color.bold('Timeline (guest clock):'));
    console.log(formatTimeline(victimTimeline(run.report)));
    console.log(`\n${passFail(ok)} handler ran before the kill: ${run.checks.filter((c) => c.ok).length}/${run.checks.length} checks hold`);
    if (!ok) {
      for (const c of run.checks.filter((x) => !x.ok)) console.log(`  ${color.red('✗')} ${c.name}${c.detail ? ` — ${c.detail}` : ''}`);
      throw new GsError('The demo did not show a graceful shutdown.', 'Run "gs-kit vm test --debug" to see the guest console.', 'vm');
    }
    return 0;
  },
};
