/**
 * The GRUB drop-in that boots with the cgroup hierarchy gs-kit wants. gs-kit
 * writes /etc/default/grub.d/gs-kit.cfg (sourced by grub-mkconfig after
 * /etc/default/grub) and never touches /etc/default/grub. No I/O.
 */
import type { CgroupVersion } from './cgroups.js';
import type { Plan } from './host-plan.js';

export const GRUB_DROPIN = '/etc/default/grub.d/gs-kit.cfg';
export const GRUB_DEFAULTS = '/etc/default/grub';

/** Kernel command-line words for each hierarchy. */
export const CMDLINE: Record<CgroupVersion, string> = {
  // One hierarchy with every controller, memory included.
  v2: 'systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all',
  // systemd's hybrid/legacy layout with the memory controller on v1.
  v1: 'systemd.unified_cgroup_hierarchy=0 cgroup_enable=memory',
};

/** Which GRUB tools exist on the target (on PATH, or under the sysroot). */
export interface GrubTools {
  updateGrub: boolean;
  grubMkconfig: boolean;
  grub2Mkconfig?: boolean;
}

/** The command that regenerates grub.cfg: update-grub, else grub-mkconfig (or grub2-mkconfig). */
export function grubUpdateCommand(tools: GrubTools): string[] | undefined {
  if (tools.updateGrub) return ['update-grub'];
  if (tools.grubMkconfig) return ['grub-mkconfig', '-o', '/boot/grub/grub.cfg'];
  if (tools.grub2Mkconfig) return ['grub2-mkconfig', '-o', '/boot/grub2/grub.cfg'];
  return undefined;
}

export function renderGrubDropIn(version: CgroupVersion, update: readonly string[] = ['update-grub']): string {
  return [
    `# Written by gs-kit configure: boot with cgroup ${version} so the gs-workload`,
    '# memory cgroup can limit workloads and leave memory for OOM handlers.',
    `# To remove: rm ${GRUB_DROPIN} && ${update.join(' ')}`,
    `GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT ${CMDLINE[version]}"`,
    '',
  ].join('\n');
}

/**
 * The drop-in, then regenerating grub.cfg only when the drop-in changes.
 * Without a GRUB tool the drop-in is still written (it is read on the next
 * grub-mkconfig).
 */
export function grubPlan(version: CgroupVersion, tools: GrubTools): Plan {
  const update = grubUpdateCommand(tools);
  return [
    { kind: 'file', path: GRUB_DROPIN, content: renderGrubDropIn(version, update ?? ['update-grub']), mode: 0o644 },
    ...(update ? [{ kind: 'command' as const, argv: update, why: `regenerate grub.cfg with ${GRUB_DROPIN}`, after: [GRUB_DROPIN] }] : []),
  ];
}
