import { constants } from 'node:os';
import { GsError } from './errors.js';

/**
 * The split of "run-with-gs <handler> [args...] -- <program> [args...]"
 * and the shell wrapper that puts the program in its cgroup and holds it
 * until it is registered, so it cannot allocate before it is protected.
 */
export function splitInvocation(positional: string[], rest: string[]): { handler: string; handlerArgs: string[]; program: string; programArgs: string[] } {
  const [handler, ...handlerArgs] = positional;
  const [program, ...programArgs] = rest;
  if (!handler || !program) {
    throw new GsError('run-with-gs needs a handler and, after "--", a program.',
      'Usage: gs-kit run-with-gs [--memory-max SIZE] <handler> [args...] -- <program> [args...]', 'usage');
  }
  return { handler, handlerArgs, program, programArgs };
}

/** Runs as: sh -c WRAPPER gs-kit-run CGROUP_DIR|"" PROGRAM ARGS..., with the go line on fd 3. */
export const WRAPPER_SCRIPT = [
  '[ -z "$1" ] || echo $$ > "$1/cgroup.procs" || exit 126',
  'read -r go <&3 || exit 125',
  'exec 3<&-',
  'shift',
  'exec "$@"',
].join('\n');

export function wrapperArgv(cgroupDir: string | undefined, program: string, args: string[]): string[] {
  return ['sh', '-c', WRAPPER_SCRIPT, 'gs-kit-run', cgroupDir ?? '', program, ...args];
}

/** The exit status a shell would report for a child that ended so. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? constants.signals[signal] : undefined;
  return n ? 128 + n : 1;
}

/** Signals passed on to the program; terminal-generated ones reach it directly on a TTY. */
export function forwardedSignals(stdinIsTty: boolean): NodeJS.Signals[] {
  const always: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  return stdinIsTty ? always : [...always, 'SIGINT', 'SIGQUIT'];
}
