/**
 * Protecting a container with no change to its image: what gs-kit's OCI
 * hook does to a container's spec (config.json), and how it reads a
 * runtime's command line. A container opts in with an annotation naming
 * its handler; the hook bind-mounts gs-init (oci/gs-init.c) into it and
 * puts it in front of the container's command, so that the container's
 * own init registers the command with a waiter, and the handler runs
 * inside the container with all of its confinement. The cgroup split is
 * oci-cgroup.ts's, what configure installs oci-install.ts's. Pure: no I/O
 * (adapters/oci.ts reads and writes).
 */
import { posix } from 'node:path';
import { MiB, parseSize } from './cgroups.js';
import { GsError } from './errors.js';

/** The annotation a container opts in with: its handler's command line, as the container sees it. */
export const HANDLER_ANNOTATION = 'io.gs-kit.handler';
/** How much memory the container gets beyond its limit for its handler (a size, e.g. 32M). */
export const RESERVE_ANNOTATION = 'io.gs-kit.reserve';
export const DEFAULT_RESERVE_BYTES = 16 * MiB;

/** Where gs-init appears inside a protected container (read-only, bind-mounted). */
export const INIT_IN_CONTAINER = '/.gs-kit/gs-init';

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** The parts of an OCI runtime spec the hook reads or changes; the rest passes through untouched. */
export interface OciSpec {
  process?: { args?: string[]; [k: string]: unknown };
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  hooks?: Record<string, OciHook[] | undefined>;
  [k: string]: unknown;
}

/** The container's state as a runtime hands it to a hook on stdin. */
export interface OciState {
  id?: string;
  pid?: number;
  bundle?: string;
  annotations?: Record<string, string>;
}

/** What the hook needs to know of the host's install. */
export interface OciInstall {
  /** gs-init on the host. */
  init: string;
  /** The hook program on the host. */
  hook: string;
}

/** What a CRI runtime (containerd, CRI-O) says of a container: its kind and its name in the pod. */
const CRI_CONTAINER_TYPE = ['io.kubernetes.cri.container-type', 'io.kubernetes.cri-o.ContainerType'];
const CRI_CONTAINER_NAME = ['io.kubernetes.cri.container-name', 'io.kubernetes.cri-o.ContainerName'];

/**
 * The handler command line a container's annotations ask for, or undefined
 * when they do not. In a pod, `io.gs-kit.handler.NAME` is for the
 * container named NAME and comes first; `io.gs-kit.handler` is for every
 * container of the pod, never for its sandbox (the pause process). Split
 * on white space, as the proc file splits one; the path is the
 * container's, so it must be absolute.
 */
export function handlerOf(annotations: Record<string, string> | undefined): string[] | undefined {
  if (!annotations) return undefined;
  if (CRI_CONTAINER_TYPE.some((k) => annotations[k] === 'sandbox')) return undefined;
  const name = CRI_CONTAINER_NAME.map((k) => annotations[k]).find((v) => v !== undefined);
  const key = name !== undefined && annotations[`${HANDLER_ANNOTATION}.${name}`] !== undefined ? `${HANDLER_ANNOTATION}.${name}` : HANDLER_ANNOTATION;
  const value = annotations[key];
  if (value === undefined) return undefined;
  const argv = value.trim().split(/\s+/).filter(Boolean);
  if (argv.length === 0 || !posix.isAbsolute(argv[0]!)) {
    throw new GsError(`The annotation ${key}="${value}" does not name a handler by its absolute path in the container.`,
      `Write e.g. ${HANDLER_ANNOTATION}=/app/save-state (arguments may follow).`, 'usage');
  }
  return argv;
}

/** The memory the container gets for its handler beyond its own limit. */
export function reserveOf(annotations: Record<string, string> | undefined): number {
  const value = annotations?.[RESERVE_ANNOTATION];
  if (value === undefined) return DEFAULT_RESERVE_BYTES;
  const bytes = parseSize(value, undefined, `annotation ${RESERVE_ANNOTATION}`);
  if (bytes < MiB) {
    throw new GsError(`The annotation ${RESERVE_ANNOTATION}="${value}" leaves a handler less than 1 MiB.`, 'Give at least 1M (the default is 16M).', 'usage');
  }
  return bytes;
}

/** Whether @spec already has gs-init in front of its command (the hook ran before). */
export function isProtected(spec: OciSpec): boolean {
  return spec.process?.args?.[0] === INIT_IN_CONTAINER;
}

/**
 * @spec with gs-init in front of its command, mounted read-only from the
 * host, the createRuntime hook that splits its cgroup and the poststart
 * hook that moves its waiter into the handler's side; @spec itself
 * when it does not ask for a handler or already has one. A spec that asks
 * and cannot have one (no command) is an error: starting it unprotected
 * would break the promise its annotation makes.
 */
export function protectSpec(spec: OciSpec, install: OciInstall): OciSpec {
  const handler = handlerOf(spec.annotations);
  if (!handler || isProtected(spec)) return spec;
  reserveOf(spec.annotations);
  const args = spec.process?.args ?? [];
  if (args.length === 0) {
    throw new GsError(`The container asks for a handler (${HANDLER_ANNOTATION}) but its spec has no command.`,
      'Give the container a command or an entrypoint.', 'usage');
  }
  const hooks = { ...(spec.hooks ?? {}) };
  const own = (h: OciHook) => h.path === install.hook;
  for (const [stage, arg] of [['createRuntime', 'create-runtime'], ['poststart', 'poststart']] as const) {
    hooks[stage] = [...(hooks[stage] ?? []).filter((h) => !own(h)), { path: install.hook, args: [posix.basename(install.hook), arg] }];
  }
  return {
    ...spec,
    process: { ...spec.process, args: [INIT_IN_CONTAINER, ...handler, '--', ...args] },
    mounts: [
      ...(spec.mounts ?? []).filter((m) => m.destination !== INIT_IN_CONTAINER),
      { destination: INIT_IN_CONTAINER, type: 'bind', source: install.init, options: ['bind', 'ro', 'nosuid', 'nodev'] },
    ],
    hooks,
  };
}

/** runc's (and crun's) global options and create options that take a value. */
const VALUE_OPTIONS = new Set(['root', 'log', 'log-format', 'criu', 'rootless', 'bundle', 'b', 'console-socket', 'pid-file', 'preserve-fds']);

/** What the runtime wrapper sees of a runc command line (`runc [global options] COMMAND [options] ARGS`). */
export interface RuntimeCommand {
  command: string;
  /** The global options, before the command. */
  globals: string[];
  /** The arguments after the command, options removed. */
  args: string[];
  /** --bundle/-b, when given. */
  bundle: string | undefined;
}

/** Parse a runc command line; undefined when it names no command. */
export function runtimeCommand(argv: readonly string[]): RuntimeCommand | undefined {
  let command: string | undefined;
  const globals: string[] = [];
  const args: string[] = [];
  let bundle: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const opt = /^--?([^=]+)(=(.*))?$/.exec(a);
    if (opt) {
      const name = opt[1]!;
      const takesValue = opt[2] === undefined && VALUE_OPTIONS.has(name);
      const value = opt[2] !== undefined ? opt[3]! : (takesValue ? argv[++i] : undefined);
      if (!command) globals.push(a, ...(takesValue && value !== undefined ? [value] : []));
      else if (name === 'bundle' || name === 'b') bundle = value;
      continue;
    }
    if (!command) command = a;
    else args.push(a);
  }
  return command ? { command, globals, args, bundle } : undefined;
}

/**
 * The bundle a runtime command line creates a container from (`runc
 * [global options] create|run [options] ID`), or undefined for any other
 * command. A relative bundle is relative to @cwd, runc's default.
 */
export function createdBundle(argv: readonly string[], cwd: string): string | undefined {
  const c = runtimeCommand(argv);
  if (c?.command !== 'create' && c?.command !== 'run') return undefined;
  return posix.resolve(cwd, c.bundle ?? '.');
}

/**
 * Where runc was told to log (`--log FILE`, `--log-format json|text`):
 * containerd and Docker read a failed create's reason from there, not from
 * stderr, so the wrapper's own refusal goes there too.
 */
export function runtimeLog(argv: readonly string[]): { path: string; json: boolean } | undefined {
  const globals = runtimeCommand(argv)?.globals ?? [];
  const value = (name: string) => {
    const i = globals.findIndex((g) => g === `--${name}` || g.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return globals[i]!.includes('=') ? globals[i]!.slice(globals[i]!.indexOf('=') + 1) : globals[i + 1];
  };
  const path = value('log');
  return path ? { path, json: value('log-format') === 'json' } : undefined;
}

/** One line of runc's log, as runc writes an error (what containerd shows the user). */
export function runtimeLogLine(message: string, json: boolean, time: Date): string {
  return json ? `${JSON.stringify({ level: 'error', msg: message, time: time.toISOString() })}\n` : `${time.toISOString()} error: ${message}\n`;
}

/** The container a runtime command line starts (`runc [global options] start ID`), with the global options to ask runc about it. */
export function startedContainer(argv: readonly string[]): { id: string; globals: string[] } | undefined {
  const c = runtimeCommand(argv);
  return c?.command === 'start' && c.args[0] ? { id: c.args[0], globals: c.globals } : undefined;
}
