import { readRegistry } from '../adapters/procfile.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { parseListing } from '../lib/registry.js';
import { procOption } from './register.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'list',
  summary: 'List the registered processes you may see (root sees all), one "<pid> <handler> [args]" per line.',
  usage: 'gs-kit list [--json]',
  options: [procOption, { name: 'json', type: 'boolean', description: 'Print JSON.' }],
  examples: ['gs-kit list', 'gs-kit list --json'],
};

export const list: Command = {
  spec,
  async run({ options }) {
    const entries = parseListing(await readRegistry(String(options.proc)));
    if (options.json) console.log(JSON.stringify(entries));
    else for (const e of entries) console.log([e.pid, e.handler, ...e.args].join(' '));
    return 0;
  },
};
