#!/usr/bin/env node
import { openHost } from './adapters/host.js';
import type { Command, CommandEnv } from './commands/types.js';
import { formatHelp, parseArgs } from './lib/cli-args.js';
import { ExitCode, GsError } from './lib/errors.js';
import { consoleUi } from './ui/render.js';

/*
 * Each command's module is loaded only when it runs: the registry commands
 * then start without the build, QEMU and prompt libraries, which matters
 * where node reads its files slowly (the guest suite runs it over 9p).
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  'setup-vm': async () => (await import('./commands/setup-vm.js')).setupVm,
  'build-kernel': async () => (await import('./commands/build-kernel.js')).buildKernel,
  'install-kernel': async () => (await import('./commands/install-kernel.js')).installKernel,
  'install-module': async () => (await import('./commands/install-module.js')).installModule,
  configure: async () => (await import('./commands/configure.js')).configure,
  register: async () => (await import('./commands/register.js')).register,
  unregister: async () => (await import('./commands/unregister.js')).unregister,
  list: async () => (await import('./commands/list.js')).list,
  'run-with-gs': async () => (await import('./commands/run-with-gs.js')).runWithGs,
  'oci-hook': async () => (await import('./commands/oci-hook.js')).ociHook,
  status: async () => (await import('./commands/status.js')).status,
  vm: async () => (await import('./commands/vm.js')).vm,
  demo: async () => (await import('./commands/demo.js')).demo,
  soak: async () => (await import('./commands/soak.js')).soak,
  bench: async () => (await import('./commands/bench.js')).bench,
};

async function mainHelp(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 2;
  return [
    'gs-kit: run a graceful-shutdown handler before the Linux OOM killer kills a process.',
    '',
    'Usage: gs-kit <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.summary.split('. ')[0]!.replace(/\.$/, '')}.`),
    '',
    'Run "gs-kit <command> --help" for a command\'s options and examples.',
  ].join('\n');
}

const ui = consoleUi();
const env: CommandEnv = { ui, host: (root, dryRun) => openHost(root, dryRun, ui) };

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    ui.print(await mainHelp());
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version') {
    ui.print('0.1.0');
    return ExitCode.ok;
  }
  const ALIASES: Record<string, string> = { doctor: 'status' };
  const load = Object.hasOwn(COMMANDS, ALIASES[name] ?? name) ? COMMANDS[ALIASES[name] ?? name] : undefined;
  if (!load) throw new GsError(`Unknown command "${name}".`, 'Run "gs-kit --help" for the list of commands.', 'usage');
  const command = await load();
  const args = parseArgs(rest, command.spec);
  if (args.options.help) {
    ui.print(formatHelp(command.spec));
    return ExitCode.ok;
  }
  return command.run(args, env);
}

const debug = process.argv.includes('--debug');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    const { style } = ui;
    if (err instanceof GsError) {
      ui.printError(`${style.red('error:')} ${err.message}\n${style.yellow('fix:')}   ${err.hint}`);
      if (debug) ui.printError(String(err.stack));
      process.exitCode = err.exitCode;
    } else {
      ui.printError(`${style.red('error:')} ${err instanceof Error ? err.message : String(err)}`);
      ui.printError(String(debug && err instanceof Error ? err.stack : 'Rerun with --debug for details, and report it if it persists.'));
      process.exitCode = ExitCode.failure;
    }
  },
);
