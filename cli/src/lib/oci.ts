/**
 * Protecting a container with no change to its image: what gs-kit's OCI
 * hook does to a container's spec (config.json) and to its cgroup. A
 * container opts in with an annotation naming its handler; the hook
 * bind-mounts gs-init (oci/gs-init.c) into it and puts it in front of the
 * container's command, so that the container's own init registers the
 * command with a waiter, and the handler runs inside the container with
 * all of its confinement. Pure: no I/O (adapters/oci.ts reads and writes).
 */
import { posix } from 'node:path';
import { MiB, parseSize } from './cgroups.js';
import { GsError } from './errors.js';
import type { Plan } from './host-plan.js';

/** The annotation a container opts in with: its handler's command line, as the container sees it. */
export const HANDLER_ANNOTATION = 'io.gs-kit.handler';
/** How much memory the container gets beyond its limit for its handler (a size, e.g. 32M). */
export const RESERVE_ANNOTATION = 'io.gs-kit.reserve';
export const DEFAULT_RESERVE_BYTES = 16 * MiB;

/** Where gs-init appears inside a protected container (read-only, bind-mounted). */
export const INIT_IN_CONTAINER = '/.gs-kit/gs-init';
/** The two cgroups the hook splits a protected container's cgroup into. */
export const WORKLOAD_CGROUP = 'gs-workload';
export const HANDLER_CGROUP = 'gs-handler';
/** The container's init once it has exec'd gs-init (its comm). */
export const INIT_NAME = 'gs-init';
/** The name gs-init gives its waiter, for the poststart stage to find it among its children (oci/gs-init.c). */
export const WAITER_NAME = 'gs-waiter';

/** Where `gs-kit configure` installs the pieces runtimes call. */
export const OCI_DIR = '/usr/local/lib/gs-kit';
export const OCI_INIT = `${OCI_DIR}/gs-init`;
/** `gs-kit oci-hook` for runtimes, which need one executable path. */
export const OCI_HOOK = `${OCI_DIR}/gs-kit-oci`;
/** runc with a protected container's spec completed first (Docker, containerd, Kubernetes). */
export const OCI_RUNTIME = `${OCI_DIR}/gs-kit-runc`;
/** Podman's (and CRI-O's) hooks directory: the one they read by default (containers.conf hooks_dir). */
export const PODMAN_HOOK = '/usr/share/containers/oci/hooks.d/gs-kit.json';
export const DOCKER_DAEMON_JSON = '/etc/docker/daemon.json';
/** containerd's configuration, which gets the Kubernetes runtime (CRI) "gs-kit". */
export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
const CONTAINERD_BEGIN = '# BEGIN gs-kit: the CRI runtime gs-kit (gs-kit configure writes this block)';
const CONTAINERD_END = '# END gs-kit';
/** The CRI runtime handler name, which a Kubernetes RuntimeClass names. */
export const CRI_RUNTIME_NAME = 'gs-kit';
/** The runtime name Docker is told of: `docker run --runtime gs-kit`. */
export const DOCKER_RUNTIME_NAME = 'gs-kit';

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

/** The container's cgroup v2 path from its init's /proc/PID/cgroup, or undefined (cgroup v1 only). */
export function unifiedCgroup(procCgroup: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3).trim() : undefined;
}

/** What the reserve reads of the container's cgroup C after the split. */
export interface ContainerCgroup {
  /** C's memory.max ("max" or bytes), undefined without the memory controller. */
  memoryMax: string | undefined;
  /** C's memory.swap.max, undefined where there is none. */
  swapMax: string | undefined;
  /** C/gs-workload's memory.max, undefined where there is none. */
  workloadMax: string | undefined;
}

/** One step of the split: make a directory or write a control file, relative to the container's cgroup. */
export type CgroupStep = { kind: 'mkdir'; path: string } | { kind: 'write'; path: string; content: string };

/**
 * The split of a protected container's cgroup C, made by the createRuntime
 * hook while the container's init waits to exec, alone in C: the init (and
 * so the workload it starts) goes to C/gs-workload, and C/gs-handler waits
 * for the waiter, which the poststart stage moves there (waiterOf); the
 * memory controller is enabled for both. Everything stays under C, so that
 * the container's other cgroup rules (its device program, its pids limit)
 * hold for the handler too.
 */
export function cgroupSplit(controllers: string, initPid: number): CgroupStep[] {
  const steps: CgroupStep[] = [
    { kind: 'mkdir', path: WORKLOAD_CGROUP },
    { kind: 'mkdir', path: HANDLER_CGROUP },
    // C may hold no process once its controllers are enabled for its children.
    { kind: 'write', path: `${WORKLOAD_CGROUP}/cgroup.procs`, content: String(initPid) },
  ];
  if (controllers.split(/\s+/).includes('memory')) steps.push({ kind: 'write', path: 'cgroup.subtree_control', content: '+memory' });
  return steps;
}

/**
 * The reserve, set by the poststart stage, once the runtime has applied
 * the container's own limit to C (runc and crun do so after the
 * createRuntime hooks): gs-workload takes C's limit, and C's grows by
 * @reserveBytes, so that when the workload runs out of memory what is left
 * in C is the handler's. Whatever the order the runtime wrote C's limit in,
 * the result is the same: gs-workload at the container's limit L, C at
 * L + reserve; nothing to do when that holds already, or without a limit.
 */
export function reserveSteps(cg: ContainerCgroup, reserveBytes: number): CgroupStep[] {
  const c = cg.memoryMax?.trim();
  const w = cg.workloadMax?.trim();
  if (!c || w === undefined || (c === 'max' && (w === 'max' || w === ''))) return [];
  for (const v of [c, w]) {
    if (v !== 'max' && !/^\d+$/.test(v)) {
      throw new GsError(`The container's memory.max reads "${v}".`, 'Report it: a cgroup v2 memory.max is "max" or a number.', 'failure');
    }
  }
  const steps: CgroupStep[] = [];
  let limit: bigint;
  if (w === 'max') {
    limit = BigInt(c);
    steps.push({ kind: 'write', path: `${WORKLOAD_CGROUP}/memory.max`, content: String(limit) });
    const swap = cg.swapMax?.trim();
    if (swap) steps.push({ kind: 'write', path: `${WORKLOAD_CGROUP}/memory.swap.max`, content: swap });
  } else {
    limit = BigInt(w);
  }
  const want = limit + BigInt(reserveBytes);
  if (c === 'max' || BigInt(c) < want) steps.push({ kind: 'write', path: 'memory.max', content: String(want) });
  return steps;
}

/** A process as /proc/PID/stat gives it: its parent and its name. */
export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
}

/** /proc/PID/stat's pid, comm and ppid (comm may hold spaces and parentheses: it ends at the last ")"). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const pid = Number(text.slice(0, open).trim());
  const ppid = Number(rest[1]);
  return Number.isInteger(pid) && Number.isInteger(ppid) ? { pid, ppid, comm: text.slice(open + 1, close) } : undefined;
}

/**
 * The waiter to move: the child of the container's init that gs-init
 * named for it. Only init's own children count: a process elsewhere in
 * the container that took the name gains nothing.
 */
export function waiterOf(procs: readonly ProcStat[], initPid: number): number | undefined {
  return procs.find((p) => p.ppid === initPid && p.comm === WAITER_NAME)?.pid;
}

/** The container's cgroup C from its init's, which the split put in C/gs-workload. */
export function splitRoot(initCgroup: string): string | undefined {
  return posix.basename(initCgroup) === WORKLOAD_CGROUP ? posix.dirname(initCgroup) : undefined;
}

/** Podman's hooks.d entry: the precreate stage for every container that has the annotation. */
export function renderPodmanHook(hook: string): string {
  return `${JSON.stringify({
    version: '1.0.0',
    hook: { path: hook, args: [posix.basename(hook), 'precreate'] },
    when: { annotations: { [`^${HANDLER_ANNOTATION.replace(/\./g, '\\.')}(\\..+)?$`]: '.*' } },
    stages: ['precreate'],
  }, null, 2)}\n`;
}

/**
 * The runtime wrapper: a shell script, so that only `create`, `run` and
 * `start` pay for node; everything else is runc itself (exec keeps its
 * descriptors and signals). After `start` it finishes the split, as a
 * poststart hook would: runc before 1.2 runs poststart hooks at create,
 * before the container's init has started anything.
 */
export function renderRuntimeWrapper(node: string, cli: string, runc: string): string {
  return [
    '#!/bin/sh',
    '# Written by gs-kit configure: runc, with a container that has the',
    `# ${HANDLER_ANNOTATION} annotation protected first (gs-init in front of its`,
    '# command). Docker: --runtime gs-kit; containerd: the runtime\'s BinaryName.',
    'for a in "$@"; do',
    '\tcase $a in',
    `\tcreate | run) '${node}' '${cli}' oci-hook prepare-bundle -- "$@" || exit ;;`,
    `\tstart) '${runc}' "$@" || exit; exec '${node}' '${cli}' oci-hook started --runc '${runc}' -- "$@" ;;`,
    '\tesac',
    'done',
    `exec '${runc}' "$@"`,
    '',
  ].join('\n');
}

/** The hook program runtimes run: `gs-kit oci-hook STAGE`. */
export function renderHookLauncher(node: string, cli: string): string {
  return [
    '#!/bin/sh',
    '# Written by gs-kit configure: gs-kit\'s OCI hook (precreate, createRuntime).',
    `exec '${node}' '${cli}' oci-hook "$@"`,
    '',
  ].join('\n');
}

/**
 * Docker's daemon.json with gs-kit's runtime added, every other setting as
 * it was; @current undefined when there is none. A file that is not a JSON
 * object is an error, not something to overwrite.
 */
export function dockerDaemonJson(current: string | undefined, runtime: string): string {
  let config: Record<string, unknown> = {};
  if (current !== undefined && current.trim() !== '') {
    try {
      config = JSON.parse(current) as Record<string, unknown>;
    } catch (err) {
      throw new GsError(`${DOCKER_DAEMON_JSON} is not valid JSON (${(err as Error).message}).`, `Mend it, then run gs-kit configure again.`, 'failure');
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new GsError(`${DOCKER_DAEMON_JSON} is not a JSON object.`, 'Mend it, then run gs-kit configure again.', 'failure');
    }
  }
  const runtimes = (typeof config.runtimes === 'object' && config.runtimes !== null ? config.runtimes : {}) as Record<string, unknown>;
  return `${JSON.stringify({ ...config, runtimes: { ...runtimes, [DOCKER_RUNTIME_NAME]: { path: runtime } } }, null, 2)}\n`;
}

/** The container engines a host has, as configure looks for them. */
export interface Engines {
  podman: boolean;
  docker: boolean;
  containerd: boolean;
}

/** What the container part of configure installs, given what the host has. */
export interface OciPlanInput {
  engines: Engines;
  /** gs-init, built. */
  init: Uint8Array;
  /** node and the CLI's entry point, which the launchers run. */
  node: string;
  cli: string;
  /** The real runc the wrapper runs; undefined when there is none. */
  runc: string | undefined;
  /** Docker's daemon.json now, undefined when absent. */
  dockerDaemon: string | undefined;
  /** containerd's config.toml now, undefined when absent. */
  containerdConfig?: string | undefined;
  /** Whether systemd is the init (runc then puts containers in systemd scopes, as the kubelet expects). */
  systemd?: boolean;
}

/**
 * containerd's config.toml with the CRI runtime "gs-kit" (a Kubernetes
 * RuntimeClass handler): runc through the wrapper, passing the io.gs-kit.*
 * annotations of a pod and its containers into the container's spec. A
 * block of its own at the end of the file, replaced on every run, rather
 * than a drop-in: containerd before 2.0 lets an imported file's plugin
 * section replace the whole of the main file's (seen: the CRI plugin then
 * lost its default runtime and did not load), and before 2.2 it imports
 * nothing unless told. Tables by the file's config version (2, or 3 for
 * containerd 2); a file with no version is version 1, whose plugin names
 * differ, and is refused rather than guessed at.
 */
export function containerdConfigWithRuntime(current: string | undefined, runtime: string, systemd: boolean): string {
  const before = current ?? '';
  const start = before.indexOf(CONTAINERD_BEGIN);
  const end = start < 0 ? -1 : before.indexOf(CONTAINERD_END, start);
  const text = start < 0 || end < 0 ? before : before.slice(0, start) + before.slice(end + CONTAINERD_END.length);
  const version = /^version\s*=\s*(\d+)/m.exec(text)?.[1];
  if (text.trim() !== '' && version !== '2' && version !== '3') {
    throw new GsError(`${CONTAINERD_CONFIG} is of config version ${version ?? '1 (it says none)'}, whose runtime tables gs-kit does not write.`,
      `Migrate it (containerd config migrate > config.toml.new, then put it in place), or add the runtime yourself: ${CRI_RUNTIME_NAME}, BinaryName ${runtime}, pod_annotations ["io.gs-kit.*"].`, 'failure');
  }
  const table = version === '3'
    ? `plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.${CRI_RUNTIME_NAME}`
    : `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${CRI_RUNTIME_NAME}`;
  const block = [
    CONTAINERD_BEGIN,
    `[${table}]`,
    '  runtime_type = "io.containerd.runc.v2"',
    '  pod_annotations = ["io.gs-kit.*"]',
    '  container_annotations = ["io.gs-kit.*"]',
    `[${table}.options]`,
    `  BinaryName = "${runtime}"`,
    `  SystemdCgroup = ${systemd}`,
    CONTAINERD_END,
    '',
  ].join('\n');
  const body = text.trim() === '' ? 'version = 2\n' : `${text.replace(/\n*$/, '')}\n`;
  return `${body}\n${block}`;
}

/** Whether containerd's config.toml has the CRI runtime gs-kit. */
export function containerdHasRuntime(current: string | undefined): boolean {
  return current?.includes(CONTAINERD_BEGIN) ?? false;
}

/**
 * The hook for every engine the host has: gs-init and the hook program
 * for all; Podman's hooks.d entry (it runs precreate hooks by annotation,
 * no flag needed); for Docker and containerd the runc wrapper, and
 * Docker told of it as the runtime "gs-kit" (reloaded, not restarted:
 * running containers stay up).
 */
export function ociPlan(input: OciPlanInput): Plan {
  const { engines } = input;
  if (!engines.podman && !engines.docker && !engines.containerd) return [];
  const plan: Plan = [
    { kind: 'dir', path: OCI_DIR },
    { kind: 'file', path: OCI_INIT, content: input.init, mode: 0o755 },
    { kind: 'file', path: OCI_HOOK, content: renderHookLauncher(input.node, input.cli), mode: 0o755 },
  ];
  if (engines.podman) {
    plan.push({ kind: 'dir', path: posix.dirname(PODMAN_HOOK) }, { kind: 'file', path: PODMAN_HOOK, content: renderPodmanHook(OCI_HOOK), mode: 0o644 });
  }
  if ((engines.docker || engines.containerd) && input.runc) {
    plan.push({ kind: 'file', path: OCI_RUNTIME, content: renderRuntimeWrapper(input.node, input.cli, input.runc), mode: 0o755 });
  }
  if (engines.containerd && input.runc) {
    plan.push(
      { kind: 'dir', path: posix.dirname(CONTAINERD_CONFIG) },
      { kind: 'file', path: CONTAINERD_CONFIG, content: containerdConfigWithRuntime(input.containerdConfig, OCI_RUNTIME, input.systemd ?? true), mode: 0o644 },
      // A restart: containerd reads its config only at start; running containers (their shims) stay up.
      { kind: 'command', argv: ['systemctl', 'try-restart', 'containerd.service'], why: 'containerd reads the gs-kit runtime (running containers stay up)', after: [CONTAINERD_CONFIG] },
    );
  }
  if (engines.docker && input.runc) {
    plan.push(
      { kind: 'dir', path: posix.dirname(DOCKER_DAEMON_JSON) },
      { kind: 'file', path: DOCKER_DAEMON_JSON, content: dockerDaemonJson(input.dockerDaemon, OCI_RUNTIME), mode: 0o644 },
      { kind: 'command', argv: ['systemctl', 'try-reload-or-restart', 'docker.service'], why: 'Docker reads its runtimes again (a reload: running containers stay up)', after: [DOCKER_DAEMON_JSON] },
    );
  }
  return plan;
}
