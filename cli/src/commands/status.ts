import { hostSnapshot } from '../adapters/host-snapshot.js';
import type { Host } from '../adapters/host.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { ExitCode, GsError } from '../lib/errors.js';
import { statusLines } from '../lib/status.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'status',
  summary: `One screen on the host: kernel patched or not, module and its parameters, proc file, cgroups (workload and handler), GRUB drop-in, OOM sysctls that bypass handlers, registered entries; each problem with the command that fixes it (in a container: what it can see, the host's part told as the host's). Exits ${ExitCode.attention} when something needs doing.`,
  usage: 'gs-kit status [--json] [--root DIR]',
  options: [
    { name: 'json', type: 'boolean', description: 'Print JSON.' },
    { name: 'root', type: 'string', value: 'DIR', description: 'Inspect a sysroot instead of this system.', default: '/' },
  ],
  examples: ['gs-kit status', 'gs-kit status --json'],
};

export const status: Command = {
  spec,
  async run({ options }, { ui, host: open }) {
    const root = String(options.root);
    let host: Host | undefined;
    try {
      host = open(root, false);
    } catch { /* said below */ }
    if (!host || !(await host.exists('/proc'))) {
      throw new GsError(`${root} has no proc directory: it is not a system root.`, 'Give the root of a (booted or mounted) system.', 'usage');
    }
    const lines = statusLines(await hostSnapshot(host));
    if (options.json) {
      ui.print(JSON.stringify(lines, null, 2));
    } else {
      const { style } = ui;
      const width = Math.max(...lines.map((l) => l.label.length)) + 2;
      for (const l of lines) {
        ui.print(`${l.ok ? style.green('✓') : style.yellow('!')} ${l.label.padEnd(width)}${l.value}`);
        if (!l.ok && l.fix) ui.print(`  ${' '.repeat(width)}${style.dim(`fix: ${l.fix}`)}`);
      }
    }
    return lines.every((l) => l.ok) ? ExitCode.ok : ExitCode.attention;
  },
};
