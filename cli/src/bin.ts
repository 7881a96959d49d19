#!/usr/bin/env node
import { bench } from './commands/bench.js';
import { buildKernel } from './commands/build-kernel.js';
import { configure } from './commands/configure.js';
import { demo } from './commands/demo.js';
import { installKernel } from './commands/install-kernel.js';
import { installModule } from './commands/install-module.js';
import { list } from './commands/list.js';
import { register } from './commands/register.js';
import { runWithGs } from './commands/run-with-gs.js';
import { setupVm } from './commands/setup-vm.js';
import { soak } from './commands/soak.js';
import { status } from './commands/status.js';
import type { Command } from './commands/types.js';
import { unregister } from './commands/unregister.js';
import { vm } from './commands/vm.js';
import { color } from './adapters/ui.js';
import { formatHelp, parseArgs } from './lib/cli-args.js';
import { ExitCode, GsError } from './lib/errors.js';

const COMMANDS: readonly Command[] = [
  setupVm, buildKernel, installKernel, installModule, configure, register, unregister, list, runWithGs, status, vm, demo, soak, bench,
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length)) + 2;
  return [
    'gs-kit: run a graceful-shutdown handler before the Linux OOM killer kills a process.',
    '',
    'Usage: gs-kit <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary.split('. ')[0]!.replace(/\.$/, '')}.`),
    '',
    'Run "gs-kit <command> --help" for a command\'s options and examples.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version') {
    console.log('0.1.0');
    return ExitCode.ok;
  }
  const ALIASES: Record<string, string> = { doctor: 'status' };
  const command = COMMANDS.find((c) => c.spec.name === (ALIASES[name] ?? name));
  if (!command) throw new GsError(`Unknown command "${name}".`, 'Run "gs-kit --help" for the list of commands.', 'usage');
  const args = parseArgs(rest, command.spec);
  if (args.options.help) {
    console.log(formatHelp(command.spec));
    return ExitCode.ok;
  }
  return command.run(args);
}

const debug = process.argv.includes('--debug');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof GsError) {
      console.error(`${color.red('error:')} ${err.message}\n${color.yellow('fix:')}   ${err.hint}`);
      if (debug) console.error(err.stack);
      process.exitCode = err.exitCode;
    } else {
      console.error(`${color.red('error:')} ${err instanceof Error ? err.message : String(err)}`);
      console.error(debug && err instanceof Error ? err.stack : 'Rerun with --debug for details, and report it if it persists.');
      process.exitCode = ExitCode.failure;
    }
  },
);
