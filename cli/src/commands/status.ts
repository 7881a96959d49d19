import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostSnapshot } from '../adapters/host-snapshot.js';
import { color } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { statusLines } from '../lib/status.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'status',
  summary: 'One screen on the host: kernel patched or not, module and its parameters, proc file, cgroups (workload and handler), GRUB drop-in, OOM sysctls that bypass handlers, registered entries; each problem with the command that fixes it.',
  usage: 'gs-kit status [--json] [--root DIR]',
  options: [
    { name: 'json', type: 'boolean', description: 'Print JSON.' },
    { name: 'root', type: 'string', value: 'DIR', description: 'Inspect a sysroot instead of this system.', default: '/' },
  ],
  examples: ['gs-kit status', 'gs-kit status --json'],
};

export const status: Command = {
  spec,
  async run({ options }) {
    const root = String(options.root);
    if (!existsSync(join(root, 'proc'))) {
      throw new GsError(`${root} has no proc directory: it is not a system root.`, 'Give the root of a (booted or mounted) system.', 'usage');
    }
    const lines = statusLines(await hostSnapshot(root));
    if (options.json) {
      console.log(JSON.stringify(lines, null, 2));
    } else {
      const width = Math.max(...lines.map((l) => l.label.length)) + 2;
      for (const l of lines) {
        console.log(`${l.ok ? color.green('✓') : color.yellow('!')} ${l.label.padEnd(width)}${l.value}`);
        if (!l.ok && l.fix) console.log(`  ${' '.repeat(width)}${color.dim(`fix: ${l.fix}`)}`);
      }
    }
    return 0;
  },
};
