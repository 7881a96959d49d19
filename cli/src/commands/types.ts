import type { Host } from '../adapters/host.js';
import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';
import type { Ui } from '../lib/reporter.js';

/** What bin hands every command: where it talks to the user, and the system it acts on. */
export interface CommandEnv {
  /** The user's terminal (or log): the reporter services emit to, the command's output, questions. */
  ui: Ui;
  /**
   * The system under @root ("/": this one), which must be a directory:
   * reads run; changes are said through the ui and, with @dryRun, skipped.
   */
  host(root: string, dryRun: boolean): Host;
}

export interface Command {
  spec: CommandSpec;
  /** Returns the process exit code. */
  run(args: ParsedArgs, env: CommandEnv): Promise<number>;
}
