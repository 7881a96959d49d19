import { writeRegistry } from '../adapters/procfile.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { parsePid, removalLine } from '../lib/registry.js';
import { procOption } from '../lib/common-options.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'unregister',
  summary: 'Remove the graceful-shutdown registration of a process.',
  usage: 'gs-kit unregister <pid>',
  options: [procOption],
  examples: ['gs-kit unregister 4242'],
};

export const unregister: Command = {
  spec,
  async run({ positional, options }, { ui }) {
    if (positional.length !== 1) throw new GsError('unregister needs exactly one pid.', `Usage: ${spec.usage}`, 'usage');
    const pid = parsePid(positional[0]!);
    await writeRegistry(String(options.proc), `${removalLine(pid)}\n`, { pid, removing: true });
    ui.print(`unregistered ${pid}`);
    return 0;
  },
};
