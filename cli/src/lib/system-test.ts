/**
 * `gs-kit vm system`: the host workflow on a real Debian 13 (or 12) system in QEMU.
 * What the image holds, how grub.cfg is read for the second boot, and what
 * each stage must show. Pure: no I/O.
 */
import { check, equal, type Check } from './checks.js';
import { fact, facts, moduleEvents, oomKills, parseRecord, type GuestReport } from './guest-protocol.js';
import { MODULE_FILE, MODULE_NAME } from './module.js';

/** A Debian release the image can be: its number, its suite and the series of its own kernel (linux-image-amd64). */
export interface SystemRelease {
  number: string;
  suite: string;
  /** The series of the release's own kernel, which the stock flow runs on. */
  kernelSeries: string;
}

/** Debian 13, the current stable, first (the default); Debian 12 is still an option. */
export const SYSTEM_RELEASES: readonly SystemRelease[] = [
  { number: '13', suite: 'trixie', kernelSeries: '6.12' },
  { number: '12', suite: 'bookworm', kernelSeries: '6.1' },
];

/** The release numbered @number ("13"), if the system test has it. */
export function systemRelease(number: string): SystemRelease | undefined {
  return SYSTEM_RELEASES.find((r) => r.number === number);
}

/**
 * The image: systemd as init, GRUB's tools (without installing a boot
 * loader to a disk: QEMU boots the kernel grub.cfg names), DKMS and a
 * compiler for the module, Debian's own kernel for the first boot,
 * stress-ng for the workload.
 */
export const SYSTEM_PACKAGES: readonly string[] = [
  'systemd', 'systemd-sysv', 'udev', 'dbus', 'libpam-systemd', 'dbus-user-session', 'kmod', 'procps', 'sudo', 'e2fsprogs',
  'dkms', 'build-essential', 'initramfs-tools', 'grub2-common', 'grub-pc-bin',
  'linux-image-amd64', 'linux-headers-amd64', 'stress-ng',
];

/**
 * How the run installs gs-kit: the packages of a patched kernel built on
 * the host (install-kernel --deb), or the module alone for Debian's own
 * kernel (install-module, stock mode).
 */
export type SystemMode = 'deb' | 'stock';

/** The normal user of the image. */
export const SYSTEM_USER = { name: 'user', uid: 1000 };

/** Where the system-test unit and stage runner go in the image (from vm/system/). */
export const SYSTEM_FILES: Readonly<Record<string, string>> = {
  'gs-system-stage': '/usr/local/sbin/gs-system-stage',
  'gs-system-test.service': '/etc/systemd/system/gs-system-test.service',
};

/** A boot entry as grub.cfg gives it. */
export interface GrubEntry {
  title: string;
  linux: string;
  initrd: string | undefined;
  cmdline: string;
}

/** The menu entries of a generated grub.cfg (submenus flattened), in order. */
export function grubEntries(cfg: string): GrubEntry[] {
  const entries: GrubEntry[] = [];
  let current: GrubEntry | undefined;
  for (const raw of cfg.split('\n')) {
    const line = raw.trim();
    const title = /^menuentry\s+'([^']*)'/.exec(line);
    if (title) {
      current = { title: title[1]!, linux: '', initrd: undefined, cmdline: '' };
      entries.push(current);
      continue;
    }
    if (!current) continue;
    const linux = /^linux\s+(\S+)\s*(.*)$/.exec(line);
    if (linux) {
      current.linux = linux[1]!;
      current.cmdline = linux[2]!.trim();
    }
    const initrd = /^initrd\s+(\S+)/.exec(line);
    if (initrd) current.initrd = initrd[1]!;
  }
  return entries.filter((e) => e.linux);
}

/** The first entry that boots kernel @release, as GRUB would offer it. */
export function grubEntryFor(cfg: string, release: string): GrubEntry | undefined {
  return grubEntries(cfg).find((e) => e.linux.endsWith(`/vmlinuz-${release}`) && !/recovery/.test(e.title));
}

/** Stage 1: on Debian's kernel, install-kernel --deb (or install-module) and configure. */
export function stage1Checks(r: GuestReport, release: string, mode: SystemMode = 'deb', debian = SYSTEM_RELEASES[0]!): Check[] {
  const configure = facts(r, 'configure').join('\n');
  const install = mode === 'stock' ? 'install-module' : 'install-kernel --deb';
  return [
    check(`Debian ${debian.number} booted with systemd as PID 1 on Debian's own kernel`,
      new RegExp(`Debian GNU/Linux ${debian.number}\\b`).test(fact(r, 'system') ?? '') && fact(r, 'init') === 'systemd' &&
        /-amd64$/.test(fact(r, 'kernel') ?? ''),
      `${fact(r, 'system')} init=${fact(r, 'init')} kernel=${fact(r, 'kernel')}`),
    equal(`gs-kit ${install} succeeded`, fact(r, 'install_rc'), '0'),
    ...(mode === 'stock' ? [equal('the module is loaded at once, in stock mode, without a reboot', fact(r, 'hook_now'), 'stock')] : []),
    check(`DKMS built and installed ${MODULE_NAME} for ${release}`,
      new RegExp(`${MODULE_NAME}/[^,]+, ${release.replace(/[.+]/g, '\\$&')}, x86_64: installed`).test(fact(r, 'dkms') ?? ''), fact(r, 'dkms')),
    check(`a second ${install} changes nothing`, fact(r, 'install_again_rc') === '0' &&
      facts(r, 'install_again').some((l) => /✓ 0 changes\./.test(l)), facts(r, 'install_again').join(' | ')),
    equal('gs-kit configure succeeded', fact(r, 'configure_rc'), '0'),
    check('configure wrote the workload and handler slices, the module option and the GRUB drop-in, and ran update-grub',
      ['gs-workload.slice', 'gs-handlers.slice', '/etc/modprobe.d/gs-kit.conf', '/etc/default/grub.d/gs-kit.cfg', 'update-grub']
        .every((w) => configure.includes(w)), configure),
    check('the module is told the handler cgroup', /handler_cgroup=\/sys\/fs\/cgroup\/gs-handlers\.slice/.test(fact(r, 'modprobe_conf') ?? ''),
      fact(r, 'modprobe_conf')),
    equal('the stage ran to its end', fact(r, 'stage_status'), '0'),
  ];
}

interface StatusLine { label: string; ok: boolean; value: string }

/** Stage 2: rebooted into grub.cfg's entry for the gs-kit kernel (or, stock mode, Debian's). */
export function stage2Checks(r: GuestReport, release: string, cmdline: string, mode: SystemMode = 'deb'): Check[] {
  let status: StatusLine[] = [];
  try {
    status = JSON.parse(fact(r, 'status') ?? '[]') as StatusLine[];
  } catch { /* judged below */ }
  const bad = status.filter((l) => !l.ok);
  const recs = facts(r, 'rec').map((l) => parseRecord(l.trim().split(/\s+/).join('\n')));
  const events = moduleEvents(r.dmesg);
  const kills = oomKills(r.dmesg);
  const saved = recs.find((rec) => rec.victim_alive === '1');
  const start = events.find((e) => e.event === 'start' && e.fields.victim === saved?.GS_PID);
  const exit = events.find((e) => e.event === 'exit' && e.fields.victim === saved?.GS_PID);
  const kill = kills.find((k) => String(k.pid) === saved?.GS_PID);
  const listed = facts(r, 'user_list').join('\n');
  return [
    equal(`the kernel grub.cfg names booted (${release})`, fact(r, 'kernel'), release),
    check('with grub.cfg\'s command line, the GRUB drop-in\'s cgroup setting in it',
      // QEMU's boot adds its console options in front.
      (fact(r, 'cmdline') ?? '').includes(cmdline) && /systemd\.unified_cgroup_hierarchy=1/.test(cmdline), fact(r, 'cmdline')),
    equal(`${MODULE_NAME} was loaded at boot`, fact(r, 'module'), '1'),
    check('it is the module DKMS built', (fact(r, 'module_path') ?? '').includes(`/updates/dkms/${MODULE_FILE}`), fact(r, 'module_path')),
    check('gs-kit status is all green', status.length > 0 && bad.length === 0,
      bad.map((l) => `${l.label}: ${l.value}`).join('; ') || fact(r, 'status')),
    check(`gs-kit status names the ${mode === 'stock' ? 'stock' : 'patched'} hook`,
      (status.find((l) => l.label === 'hook')?.value ?? '').startsWith(mode === 'stock' ? 'stock:' : 'patched:'),
      status.find((l) => l.label === 'hook')?.value),
    check('a normal user\'s run-with-gs handler wrote its record while the victim lived', saved !== undefined,
      facts(r, 'rwg').join(' | ')),
    equal('the handler ran as the user', saved?.uid, '1000'),
    check('the handler ran in the handler slice', /gs-handlers\.slice/.test(saved?.cgroup ?? ''), saved?.cgroup),
    equal('the handler saw a memcg OOM', saved?.GS_CONSTRAINT, 'memcg'),
    check('the handler started and exited before the OOM killer killed its victim',
      !!start && !!exit && !!kill && exit.fields.status === '0' && start.time <= kill.time && exit.time <= kill.time,
      `start ${start?.time} exit ${JSON.stringify(exit?.fields)} kill ${kill?.time}`),
    check('the user registers, lists and unregisters a process',
      fact(r, 'user_register_rc') === '0' && listed.includes(`${fact(r, 'sleeper')} /usr/local/bin/gs_handler_record`) &&
      fact(r, 'user_unregister_rc') === '0' && facts(r, 'user_list_after').every((l) => l.trim() === ''),
      `register ${fact(r, 'user_register_rc')} list ${listed} unregister ${fact(r, 'user_unregister_rc')}`),
    check('a second gs-kit configure changes nothing', fact(r, 'configure_again_rc') === '0' &&
      facts(r, 'configure_again').some((l) => /✓ 0 changes\./.test(l)), facts(r, 'configure_again').join(' | ')),
    equal('gs-handlers.slice is active and enabled after the reboot', fact(r, 'handler_slice'), 'active enabled'),
    equal('the stage ran to its end', fact(r, 'stage_status'), '0'),
  ];
}
