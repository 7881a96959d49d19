import { existsSync } from 'node:fs';
import { GsError } from '../lib/errors.js';
import type { BootOutcome } from '../lib/judge.js';
import { run } from './exec.js';

export const QEMU = 'qemu-system-x86_64';

/** A host directory shared with the guest over 9p (virtio). */
export interface Share {
  path: string;
  tag: string;
  readonly: boolean;
}

export interface BootRequest {
  kernel: string;
  /** The initramfs; none for a kernel that mounts its root itself. */
  initrd?: string;
  /** Extra kernel command line, after the console settings. */
  append: string;
  memoryMb: number;
  timeoutMs: number;
  /** Share the host's root read-only over 9p as mount tag "hostroot". */
  shareHostRoot?: boolean;
  /** More 9p shares. */
  shares?: readonly Share[];
  /** Raw disk images, as virtio disks (/dev/vda, /dev/vdb...). */
  drives?: readonly string[];
  smp?: number;
}

export type BootResult = BootOutcome;

export function qemuArgs(req: BootRequest): string[] {
  return [
    QEMU,
    '-accel', 'tcg',
    '-m', String(req.memoryMb),
    '-smp', String(req.smp ?? 1),
    '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
    '-serial', 'stdio', '-monitor', 'none',
    '-kernel', req.kernel,
    ...(req.initrd ? ['-initrd', req.initrd] : []),
    // acpi=noirq: PCI interrupts routed by the PIIX router, not by ACPI's
    // _PRT. Evaluating _PRT under TCG on a KASAN kernel stalled boot past
    // the soft-lockup threshold, and on 6.1 the virtio-9p device's
    // interrupts then never arrived. ACPI stays on for the HPET/TSC clock.
    '-append', `console=ttyS0 panic=-1 loglevel=1 acpi=noirq ${req.append}`.trim(),
    ...(req.shareHostRoot
      // multidevs=remap: the host root spans several filesystems; without
      // it their inode numbers may collide in the guest.
      ? ['-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap']
      : []),
    ...(req.shares ?? []).flatMap((s) => ['-virtfs', `local,path=${s.path},mount_tag=${s.tag},security_model=none${s.readonly ? ',readonly=on' : ''},multidevs=remap`]),
    ...(req.drives ?? []).flatMap((d) => ['-drive', `file=${d},format=raw,if=virtio,cache=unsafe`]),
  ];
}

/**
 * Boot a guest under TCG with a hard timeout and return its console. KVM is
 * not used: on these machines /dev/kvm exists but guests hang or abort.
 */
export async function boot(req: BootRequest): Promise<BootResult> {
  for (const f of [req.kernel, ...(req.initrd ? [req.initrd] : []), ...(req.drives ?? [])]) {
    if (!existsSync(f)) throw new GsError(`${f} does not exist.`, 'Run gs-kit build-kernel first.', 'vm');
  }
  const started = Date.now();
  // GS_CONSOLE_LOG=FILE: the console as it comes, for a person watching a long boot.
  const log = process.env.GS_CONSOLE_LOG;
  const r = await run(qemuArgs(req), { timeoutMs: req.timeoutMs, ...(log ? { logFile: log } : {}) });
  if (r.exitCode === 127 || /not found/.test(r.stderr) && r.exitCode !== 0 && !r.stdout) {
    throw new GsError(`${QEMU} is not installed.`, 'Install it with apt-get install qemu-system-x86.', 'dependency');
  }
  return { console: r.stdout, timedOut: r.timedOut, exitCode: r.exitCode, durationMs: Date.now() - started };
}
