/** What `gs-kit status` looked at, gathered by the adapter. */
export interface HostSnapshot {
  kernelRelease: string;
  /** The patch's symbol is in /proc/kallsyms; undefined when kallsyms cannot be read. */
  kernelPatched: boolean | undefined;
  moduleLoaded: boolean;
  moduleParams: Record<string, string>;
  procFile: boolean;
  cgroupVersion: 1 | 2 | undefined;
  memoryController: boolean;
  workloadCgroup: boolean;
  grubDropIn: boolean;
  /** Registered entries visible to the caller; undefined when unreadable. */
  entries: string[] | undefined;
}

export interface StatusLine {
  label: string;
  ok: boolean;
  value: string;
  /** The command that fixes it, when not ok. */
  fix?: string;
}

export function statusLines(s: HostSnapshot): StatusLine[] {
  const line = (label: string, ok: boolean, value: string, fix?: string): StatusLine =>
    ok || fix === undefined ? { label, ok, value } : { label, ok, value, fix };
  return [
    line('kernel', s.kernelPatched === true,
      `${s.kernelRelease}: ${s.kernelPatched === undefined ? 'cannot tell whether it carries the gs-kit patch (kallsyms unreadable; run as root)' : s.kernelPatched ? 'patched (register_oom_victim_notifier present)' : 'not patched'}`,
      'gs-kit build-kernel --profile host && sudo gs-kit install-kernel --build latest, then reboot into it'),
    line('module', s.moduleLoaded,
      s.moduleLoaded ? `proc_create_module loaded (${Object.entries(s.moduleParams).map(([k, v]) => `${k}=${v}`).join(', ')})` : 'proc_create_module not loaded',
      'sudo modprobe proc_create_module'),
    line('proc file', s.procFile, s.procFile ? '/proc/graceful_shutdown present' : '/proc/graceful_shutdown missing', 'sudo modprobe proc_create_module'),
    line('cgroup', s.cgroupVersion === 2 && s.memoryController,
      s.cgroupVersion === undefined ? 'no cgroup hierarchy mounted' : `cgroup v${s.cgroupVersion}, memory controller ${s.memoryController ? 'available' : 'missing'}`,
      'sudo gs-kit configure'),
    line('workload cgroup', s.workloadCgroup, s.workloadCgroup ? 'gs-workload present' : 'gs-workload missing', 'sudo gs-kit configure'),
    line('grub', s.grubDropIn, s.grubDropIn ? '/etc/default/grub.d/gs-kit.cfg present' : 'no gs-kit GRUB drop-in', 'sudo gs-kit configure'),
    line('registry', s.entries !== undefined,
      s.entries === undefined ? 'unreadable' : `${s.entries.length} registered${s.entries.length ? `: ${s.entries.join('; ')}` : ''}`,
      'sudo modprobe proc_create_module'),
  ];
}
