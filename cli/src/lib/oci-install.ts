/**
 * What `gs-kit configure` installs for the container engines a host has:
 * gs-init, the hook program, Podman's hooks.d entry, the runc wrapper,
 * Docker's runtime and containerd's CRI runtime. Pure: the plan is data
 * (host-plan.ts), adapters/host.ts applies it.
 */
import { posix } from 'node:path';
import { GsError } from './errors.js';
import type { Plan } from './host-plan.js';
import { HANDLER_ANNOTATION } from './oci.js';

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
  const runtimes = version === '3'
    ? "plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes"
    : 'plugins."io.containerd.grpc.v1.cri".containerd.runtimes';
  const table = `${runtimes}.${CRI_RUNTIME_NAME}`;
  // A runtimes table in the file replaces the plugin's default one (seen on
  // containerd 1.7: the CRI plugin then had no "runc", its default, and did
  // not load): runc is written too, as the plugin would have it, unless the
  // file has its own.
  const runc = text.includes(`${runtimes}.runc]`) ? [] : [`[${runtimes}.runc]`, '  runtime_type = "io.containerd.runc.v2"'];
  const block = [
    CONTAINERD_BEGIN,
    ...runc,
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
