import { MODULE_NAME, PROC_FILE } from './module.js';

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

export function statusLines(s: HostSnapshot): StatusLine[] {
  const line = (label: string, ok: boolean, value: string, fix?: string): StatusLine =>
    ok || fix === undefined ? { label, ok, value } : { label, ok, value, fix };
  const policy = oomPolicy(s.panicOnOom, s.oomKillAllocatingTask, s.moduleLoaded && s.moduleParams.hook === 'stock');
  const kernelState = s.kernelPatched === undefined
    ? 'cannot tell whether it carries the gs-kit patch (kallsyms unreadable; run as root)'
    : s.kernelPatched ? 'patched (register_oom_victim_notifier present)'
      : s.moduleParams.hook === 'stock' ? 'not patched, which stock mode does not need' : 'not patched';
  return [
    line('kernel', s.kernelPatched === true || (s.moduleLoaded && s.moduleParams.hook === 'stock'), `${s.kernelRelease}: ${kernelState}`,
      'sudo gs-kit install-module (stock mode: Debian/Ubuntu 6.1 to 6.12 kernels, no reboot), or a patched kernel: gs-kit build-kernel --profile host && sudo gs-kit install-kernel --build latest, then reboot into it'),
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
  ];
}
