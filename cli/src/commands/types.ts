import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';

export interface Command {
  spec: CommandSpec;
  /** Returns the process exit code. */
  run(args: ParsedArgs): Promise<number>;
}
