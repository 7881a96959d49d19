import { MODULE_NAME, PROC_FILE } from './module.js';
import { HANDLER_ANNOTATION } from './oci.js';
import { type Engines } from './oci-install.js';
import { stockRange } from './support.js';
import { killersLine, type KillersSnapshot } from './killers.js';

/** A cgroup directory as status found it. */
export interface CgroupSnapshot {
  path: string;
  /** It has cgroup.procs: a cgroup, not a plain directory. */
  isCgroup: boolean;
  memoryMax: string | undefined;
  memoryMin: string | undefined;
  /** How many processes are in it now. */
  procs: number | undefined;
}

/**
 * Where status runs, as its own process sees it: a container, or a
 * confinement the kernel cannot carry to a handler it starts (the module
 * refuses a handler path from such a registrant with EXDEV; a waiter runs
 * the handler instead).
 */
export interface VantageSnapshot {
  /** What a container engine left behind: "podman", "docker", "a Kubernetes pod", init's $container. */
  engine: string | undefined;
  /**
   * This process and pid 1 share a mount namespace ("unknown": pid 1's
   * cannot be read, as from a container that sees the host's pids). An
   * engine's mark counts only with another one: a root shared with a
   * machine that is no container (a guest booted on a container's root
   * directory) keeps its marks.
   */
  initMountNamespace: 'same' | 'other' | 'unknown';
  /** Podman's /run/.containerenv says rootless=1. */
  rootless: boolean;
  /** A user namespace other than the initial one (uid_map is not the identity). */
  userNamespace: boolean;
  /** A pid namespace other than the initial one (no kthreadd at pid 2, where pids are not hidden). */
  pidNamespace: boolean;
  /** A seccomp filter (Seccomp: 2 in /proc/self/status). */
  seccomp: boolean;
}

/** What `gs-kit status` looked at, gathered by adapters/host-snapshot.ts. */
export interface HostSnapshot {
  kernelRelease: string;
  /** The patch's symbol is in /proc/kallsyms; undefined when kallsyms cannot be read. */
  kernelPatched: boolean | undefined;
  moduleLoaded: boolean;
  moduleParams: Record<string, string>;
  procFile: boolean;
  cgroupVersion: 1 | 2 | undefined;
  memoryController: boolean;
  /** The workload cgroup configure made (slice or plain), if there. */
  workloadCgroup: CgroupSnapshot | undefined;
  /**
   * configure's gs-workload.slice unit exists: systemd makes the slice's
   * cgroup only once a unit runs in it, so its absence is no problem then.
   */
  workloadSliceUnit?: boolean;
  /** The handler cgroup the module is given (its parameter, else /etc/modprobe.d). */
  handlerCgroupConfigured: string | undefined;
  handlerCgroup: CgroupSnapshot | undefined;
  grubDropIn: boolean;
  /** Registered entries visible to the caller; undefined when unreadable. */
  entries: string[] | undefined;
  /** vm.panic_on_oom and vm.oom_kill_allocating_task; undefined when unreadable. */
  panicOnOom: string | undefined;
  oomKillAllocatingTask: string | undefined;
  /** Where status itself runs. */
  vantage: VantageSnapshot;
  /** The container engines here and which of gs-kit's hooks configure installed for them. */
  containers?: ContainerHookSnapshot;
  /** systemd-oomd and earlyoom here, and whether configure hooked them. */
  killers?: KillersSnapshot;
}

export interface ContainerHookSnapshot {
  engines: Engines;
  /** gs-init is installed. */
  init: boolean;
  /** Podman's hooks.d entry. */
  podmanHook: boolean;
  /** Docker's daemon.json names the gs-kit runtime. */
  dockerRuntime: boolean;
  /** containerd's config.toml has the CRI runtime gs-kit. */
  criRuntime: boolean;
}

/** Which engines here protect a container by its annotation, and which do not yet; undefined with no engine. */
export function containerHookLine(c: ContainerHookSnapshot | undefined): { ok: boolean; value: string } | undefined {
  if (!c || (!c.engines.podman && !c.engines.docker && !c.engines.containerd)) return undefined;
  const covered: string[] = [];
  const missing: string[] = [];
  const say = (present: boolean, ok: boolean, yes: string, no: string) => {
    if (present) (ok && c.init ? covered : missing).push(ok && c.init ? yes : no);
  };
  say(c.engines.podman, c.podmanHook, 'Podman (hooks.d)', 'Podman');
  say(c.engines.docker, c.dockerRuntime, 'Docker (--runtime gs-kit)', 'Docker');
  say(c.engines.containerd, c.criRuntime, 'containerd (ctr --runc-binary, RuntimeClass gs-kit)', 'containerd');
  return {
    ok: missing.length === 0,
    value: `${covered.length ? `annotation ${HANDLER_ANNOTATION} protects a container on ${covered.join(', ')}` : ''}` +
      `${covered.length && missing.length ? '; ' : ''}${missing.length ? `no hook yet for ${missing.join(', ')}` : ''}`,
  };
}

export interface StatusLine {
  label: string;
  ok: boolean;
  value: string;
  /** The command that fixes it, when not ok. */
  fix?: string;
}

/**
 * The handler runs only when the OOM killer chooses a victim in
 * select_bad_process(). Two sysctls skip that choice: panic_on_oom (1: a
 * global OOM panics, memcg OOMs still choose; 2: every OOM panics) and
 * oom_kill_allocating_task (a global OOM kills whoever allocated).
 */
export function oomPolicy(panicOnOom: string | undefined, killAllocating: string | undefined, stock = false): { ok: boolean; value: string } {
  if (panicOnOom === undefined || killAllocating === undefined) {
    return { ok: false, value: 'cannot read vm.panic_on_oom or vm.oom_kill_allocating_task' };
  }
  const skipped: string[] = [];
  if (panicOnOom === '2') skipped.push('vm.panic_on_oom=2: every OOM panics the machine, no handler ever runs');
  else if (panicOnOom !== '0') skipped.push(`vm.panic_on_oom=${panicOnOom}: a global OOM panics the machine, handlers run for memcg OOMs only`);
  // Stock mode hooks oom_kill_process(), which that path calls too.
  if (killAllocating !== '0' && !stock) {
    skipped.push(`vm.oom_kill_allocating_task=${killAllocating}: a global OOM kills the allocating task without choosing a victim, so no handler runs for it`);
  }
  return skipped.length
    ? { ok: false, value: skipped.join('; ') }
    : killAllocating !== '0'
      ? { ok: true, value: `vm.panic_on_oom=0, vm.oom_kill_allocating_task=${killAllocating}: in stock mode the allocating task's handler runs before it is killed` }
      : { ok: true, value: 'vm.panic_on_oom=0, vm.oom_kill_allocating_task=0: the OOM killer chooses its victim, so handlers run' };
}

/** Bytes as a cgroup file holds them, in MiB; "max" stays. */
function memory(v: string | undefined): string {
  return v === undefined ? '?' : /^\d+$/.test(v) ? `${Math.round(Number(v) / 1048576)} MiB` : v;
}

/**
 * The handler cgroup: handlers run only there, so without it the module
 * refuses registrations (EOPNOTSUPP).
 */
export function handlerCgroupLine(s: HostSnapshot): { ok: boolean; value: string } {
  const h = s.handlerCgroup;
  const where = s.moduleParams.handler_cgroup !== undefined ? 'the module\'s handler_cgroup' : '/etc/modprobe.d/gs-kit.conf';
  if (!s.handlerCgroupConfigured) {
    return { ok: false, value: 'none configured: the module runs no handler and refuses registrations' };
  }
  if (!h?.isCgroup) {
    return { ok: false, value: `${s.handlerCgroupConfigured} (named by ${where}) does not exist: the module refuses registrations` };
  }
  const userKb = s.moduleParams.user_handler_memory_kb;
  const userCap = userKb && /^\d+$/.test(userKb) ? `${Math.round(Number(userKb) / 1024)} MiB` : 'user_handler_memory_kb';
  return {
    ok: true,
    value: `${h.path}: memory.min ${memory(h.memoryMin)}, each user's handlers at most ${userCap}, one handler cgroup per registrant in it (named by ${where})`,
  };
}

/** How the loaded module hears of victims (its read-only "hook" parameter). */
export function hookLine(s: HostSnapshot): { ok: boolean; value: string; fix: string } {
  const fix = s.moduleLoaded ? 'sudo gs-kit install-module (a module older than this gs-kit is loaded)' : `sudo modprobe ${MODULE_NAME}`;
  if (!s.moduleLoaded) return { ok: false, value: `none: ${MODULE_NAME} is not loaded`, fix };
  switch (s.moduleParams.hook) {
    case 'patched':
      return { ok: true, value: 'patched: the gs-kit patch calls the module when select_bad_process() has chosen a victim', fix };
    case 'stock':
      return { ok: true, value: 'stock: an ftrace direct call at the entry of oom_kill_process() (no kernel rebuild; the out-of-tree module taints the kernel)', fix };
    default:
      return { ok: false, value: 'unknown: the loaded module does not say (older than this gs-kit)', fix };
  }
}

/** A status line; the fix is kept only for a line that is not ok. */
function line(label: string, ok: boolean, value: string, fix?: string): StatusLine {
  return ok || fix === undefined ? { label, ok, value } : { label, ok, value, fix };
}

/** Status runs in a container: the host's setup is not to be seen, or fixed, from here. */
export function inContainer(v: VantageSnapshot): boolean {
  return v.userNamespace || v.pidNamespace || (v.engine !== undefined && v.initMountNamespace !== 'same');
}

/** Why the kernel cannot start a handler path registered from here; empty if it can. */
export function uncarried(v: VantageSnapshot): string[] {
  return [
    ...(inContainer(v) ? ['a root directory and namespaces of a container'] : []),
    ...(v.userNamespace && !inContainer(v) ? ['a user namespace'] : []),
    ...(v.seccomp ? ['a seccomp filter'] : []),
  ];
}

/** The line that says how a process registered from here is heard. */
export function handlersHereLine(v: VantageSnapshot): { label: string; value: string } {
  const why = uncarried(v);
  if (why.length === 0) return { label: 'handlers', value: 'the kernel starts a handler path registered from here' };
  const engine = v.engine ? `${v.engine}${v.rootless ? ' (rootless)' : ''}` : 'a container';
  return {
    label: inContainer(v) ? 'container' : 'handlers',
    value: `${inContainer(v) ? `${engine}: ` : ''}the kernel cannot start a handler path from here (${why.join(', ')}: EXDEV); ` +
      'a waiter of this confinement runs it instead: gs-kit run-with-gs HANDLER -- PROGRAM starts one (or "PID @wait", README: In a container)',
  };
}

/** In a container: what can be seen from it, and the host's part told as the host's. */
function containerLines(s: HostSnapshot, policy: { ok: boolean; value: string }, kernelState: string): StatusLine[] {
  const onHost = (cmd: string) => `on the host, not in the container: ${cmd}`;
  const hook = hookLine(s);
  const here = handlersHereLine(s.vantage);
  const handlerCgroup = s.moduleParams.handler_cgroup;
  return [
    line(here.label, true, here.value),
    line('kernel', s.kernelPatched === true || (s.moduleLoaded && s.moduleParams.hook === 'stock'), `${s.kernelRelease}: ${kernelState}`,
      onHost('sudo gs-kit install-module (stock mode), or a patched kernel (README: Install)')),
    line('module', s.moduleLoaded,
      s.moduleLoaded ? `${MODULE_NAME} loaded on the host (${Object.entries(s.moduleParams).filter(([k]) => k !== 'hook').map(([k, v]) => `${k}=${v}`).join(', ')})`
        : `${MODULE_NAME} not seen (not loaded on the host, or /sys not mounted here)`,
      onHost(`sudo modprobe ${MODULE_NAME}`)),
    line('hook', hook.ok, hook.value, onHost(hook.fix)),
    line('proc file', s.procFile,
      s.procFile ? `${PROC_FILE} present: this container can register its own processes`
        : `${PROC_FILE} missing: the host has not loaded the module (the container needs nothing more: /proc is the kernel's)`,
      onHost(`sudo modprobe ${MODULE_NAME}`)),
    line('host setup', true,
      `workload and handler cgroups, GRUB: the host's, not visible from a container (gs-kit status on the host)${handlerCgroup ? `; the module runs handlers under ${handlerCgroup}` : ''}`),
    line('oom policy', policy.ok, policy.value, onHost('sudo sysctl -w vm.panic_on_oom=0 vm.oom_kill_allocating_task=0')),
    line('registry', s.entries !== undefined,
      s.entries === undefined ? 'unreadable' : `${s.entries.length} registered by this container${s.entries.length ? `: ${s.entries.join('; ')}` : ''}`,
      onHost(`sudo modprobe ${MODULE_NAME}`)),
  ];
}

export function statusLines(s: HostSnapshot): StatusLine[] {
  const policy = oomPolicy(s.panicOnOom, s.oomKillAllocatingTask, s.moduleLoaded && s.moduleParams.hook === 'stock');
  const kernelState = s.kernelPatched === undefined
    ? 'cannot tell whether it carries the gs-kit patch (kallsyms unreadable; run as root)'
    : s.kernelPatched ? 'patched (register_oom_victim_notifier present)'
      : s.moduleParams.hook === 'stock' ? 'not patched, which stock mode does not need' : 'not patched';
  if (inContainer(s.vantage)) return containerLines(s, policy, kernelState);
  const here = handlersHereLine(s.vantage);
  return [
    line('kernel', s.kernelPatched === true || (s.moduleLoaded && s.moduleParams.hook === 'stock'), `${s.kernelRelease}: ${kernelState}`,
      `sudo gs-kit install-module (stock mode: Debian/Ubuntu kernels ${stockRange()}, no reboot), or a patched kernel: gs-kit build-kernel --profile host && sudo gs-kit install-kernel --build latest, then reboot into it`),
    line('module', s.moduleLoaded,
      s.moduleLoaded ? `${MODULE_NAME} loaded (${Object.entries(s.moduleParams).filter(([k]) => k !== 'hook').map(([k, v]) => `${k}=${v}`).join(', ')})` : `${MODULE_NAME} not loaded`,
      `sudo modprobe ${MODULE_NAME}`),
    (() => {
      const h = hookLine(s);
      return line('hook', h.ok, h.value, h.fix);
    })(),
    line('proc file', s.procFile, s.procFile ? `${PROC_FILE} present` : `${PROC_FILE} missing`, `sudo modprobe ${MODULE_NAME}`),
    line('cgroup', s.cgroupVersion === 2 && s.memoryController,
      s.cgroupVersion === undefined ? 'no cgroup hierarchy mounted' : `cgroup v${s.cgroupVersion}, memory controller ${s.memoryController ? 'available' : 'missing'}`,
      'sudo gs-kit configure'),
    line('workload cgroup', s.workloadCgroup !== undefined || s.workloadSliceUnit === true,
      s.workloadCgroup ? `${s.workloadCgroup.path}: memory.max ${memory(s.workloadCgroup.memoryMax)}`
        : s.workloadSliceUnit ? 'gs-workload.slice configured (systemd makes its cgroup when the first unit runs in it)' : 'gs-workload missing',
      'sudo gs-kit configure'),
    (() => {
      const h = handlerCgroupLine(s);
      return line('handler cgroup', h.ok, h.value, 'sudo gs-kit configure');
    })(),
    line('grub', s.grubDropIn, s.grubDropIn ? '/etc/default/grub.d/gs-kit.cfg present' : 'no gs-kit GRUB drop-in', 'sudo gs-kit configure'),
    line('oom policy', policy.ok, policy.value,
      'sudo sysctl -w vm.panic_on_oom=0 vm.oom_kill_allocating_task=0 (and the same in /etc/sysctl.d/ to keep it)'),
    line('registry', s.entries !== undefined,
      s.entries === undefined ? 'unreadable' : `${s.entries.length} registered${s.entries.length ? `: ${s.entries.join('; ')}` : ''}`,
      `sudo modprobe ${MODULE_NAME}`),
    ...(() => {
      const c = containerHookLine(s.containers);
      return c ? [line('containers', c.ok, c.value, 'sudo gs-kit configure')] : [];
    })(),
    ...(() => {
      if (!s.killers) return [];
      const k = killersLine(s.killers, s.moduleLoaded ? s.moduleParams.hook : undefined);
      return [line('killers', k.ok, k.value, 'sudo gs-kit configure')];
    })(),
    // Said only when it is not the plain case (a sandboxed shell).
    ...(uncarried(s.vantage).length ? [line(here.label, true, here.value)] : []),
  ];
}
