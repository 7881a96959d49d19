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

/**
 * The waiter run-with-gs starts where the kernel cannot start the handler
 * (a container): it reads the registry descriptor it is given on fd 3,
 * which blocks until the program is the OOM killer's victim, takes the
 * victim's description ("NAME=value" lines) as its environment and execs
 * the handler with fd 3 still open, so that the handler's exit ends the
 * run. If the registration ends first (the program exited), it exits 0.
 * Runs as: sh -c WAITER gs-kit-wait HANDLER ARGS...
 */
export const WAITER_SCRIPT = [
  'while IFS= read -r line <&3; do export "$line" || exit 125; done',
  '[ -n "${GS_PID:-}" ] || exit 0',
  'exec "$@"',
].join('\n');

export function waiterArgv(handler: string, args: string[]): string[] {
  return ['sh', '-c', WAITER_SCRIPT, 'gs-kit-wait', handler, ...args];
}

/** Where run-with-gs runs a program, as the host decides it. */
export interface LaunchContext {
  /** systemd manages the host's cgroups (/run/systemd/system exists). */
  systemd: boolean;
  /** gs-kit runs as root. */
  root: boolean;
  /** Without systemd: the workload cgroup directory, if there is one (or --cgroup). */
  workloadCgroup?: string | undefined;
  /** The workload slice (under systemd), if configure made it. */
  workloadSlice?: string | undefined;
  /** --memory-max in bytes. */
  memoryMax?: number | undefined;
  /** Names this run's own cgroup (run-PID). */
  pid: number;
}

export interface Launch {
  argv: string[];
  /** Without systemd: the cgroup to make for this run (and remove after). */
  runCgroup?: string;
  /** A note for the user about where the program runs, if not where they may expect. */
  note?: string;
}

/**
 * How to start the program. Under systemd, systemd owns the cgroup tree:
 * a transient scope (systemd-run --scope) in the workload slice for root,
 * in the user's own manager for a user (which cannot start units in system
 * slices), with --memory-max as the scope's MemoryMax. Without systemd, a
 * cgroup of the run's own under the workload cgroup. Either way the wrapper
 * holds the program until it is registered.
 */
export function launchPlan(ctx: LaunchContext, program: string, args: string[]): Launch {
  const limits = ctx.memoryMax !== undefined ? ['-p', `MemoryMax=${ctx.memoryMax}`, '-p', 'MemorySwapMax=0'] : [];
  if (ctx.systemd) {
    const where = ctx.root
      ? (ctx.workloadSlice ? [`--slice=${ctx.workloadSlice}`] : [])
      : ['--user'];
    const note = ctx.root && !ctx.workloadSlice
      ? 'there is no workload slice (run gs-kit configure); running in a scope of its own'
      : undefined;
    return {
      argv: ['systemd-run', ...where, '--scope', '--quiet', '--collect', ...limits, '--', ...wrapperArgv(undefined, program, args)],
      ...(note ? { note } : {}),
    };
  }
  if (!ctx.workloadCgroup) {
    return {
      argv: wrapperArgv(undefined, program, args),
      note: 'there is no workload cgroup; running outside one (run gs-kit configure, or give --memory-max)',
    };
  }
  const runCgroup = `${ctx.workloadCgroup}/run-${ctx.pid}`;
  return { argv: wrapperArgv(runCgroup, program, args), runCgroup };
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
