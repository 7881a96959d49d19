import { readRegistry } from '../adapters/procfile.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { parseListing, registrationLine } from '../lib/registry.js';
import { procOption } from '../lib/common-options.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'list',
  summary: 'List the registered processes you may see (root sees all), one "<pid> <handler> [args]" per line ("+<pid>" when its descendants are covered too).',
  usage: 'gs-kit list [--json]',
  options: [procOption, { name: 'json', type: 'boolean', description: 'Print JSON.' }],
  examples: ['gs-kit list', 'gs-kit list --json'],
};

export const list: Command = {
  spec,
  async run({ options }, { ui }) {
    const entries = parseListing(await readRegistry(String(options.proc)));
    if (options.json) ui.print(JSON.stringify(entries));
    else for (const e of entries) ui.print(registrationLine(e));
    return 0;
  },
};
