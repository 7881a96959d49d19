import { writeRegistry } from '../adapters/procfile.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { procOption } from '../lib/common-options.js';
import { GsError } from '../lib/errors.js';
import { parsePid, registrationLine } from '../lib/registry.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'register',
  summary: 'Register a handler to run when the OOM killer chooses a process (replaces an earlier registration of that process).',
  usage: 'gs-kit register [--tree] <pid> <handler> [args...]',
  options: [
    procOption,
    { name: 'tree', type: 'boolean', description: 'Also run the handler when the OOM killer chooses a process descended from pid (its workers, a respawned child).' },
  ],
  examples: ['gs-kit register 4242 /usr/local/bin/save-model --fast', 'sudo gs-kit register "$(pidof sensord)" /usr/local/bin/flush-sensor'],
};

export const register: Command = {
  spec,
  async run({ positional, rest, options }, { ui }) {
    const [pidText, handler, ...args] = [...positional, ...rest];
    if (!pidText || !handler) throw new GsError('register needs a pid and a handler.', `Usage: ${spec.usage}`, 'usage');
    const pid = parsePid(pidText);
    const line = registrationLine({ pid, handler, args, tree: Boolean(options.tree) });
    await writeRegistry(String(options.proc), `${line}\n`, { pid, handler });
    ui.print(`registered ${line}`);
    return 0;
  },
};
