/**
 * What installing gs-kit changes on a system, as plans (lib/host-plan.ts):
 * a cached kernel build (install-kernel --build), the packages build-kernel
 * --package deb made (install-kernel --deb), or the module alone for a
 * kernel already installed (install-module: stock mode). Pure.
 */
import { join } from 'node:path';
import { MODULE_NAME } from './module.js';
import { GsError } from './errors.js';
import { grubUpdateCommand, type GrubTools } from './grub.js';
import type { Change, Content, Plan } from './host-plan.js';
import { stockHooksSeries, stockRange, SUPPORT } from './support.js';

export { MODULE_NAME };
export const DKMS_VERSION = '0.1.0';
export const MODULES_LOAD = '/etc/modules-load.d/gs-kit.conf';
/** A kernel release as uname -r prints it, safe in a path (6.1.0-57-amd64, 6.12.117-gs). */
export const RELEASE_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._+~-]*$/;
/**
 * The files of lkm/ the module builds from (DKMS copies them; build caches
 * hash them): read by pattern, so that a file added to the module is never
 * left out of a DKMS install.
 */
export const MODULE_SOURCE_PATTERN = /^(Kbuild|Makefile|dkms\.conf|kernels\.json|.*\.[ch])$/;

/** What install-kernel takes from a build directory. */
export interface InstallSource {
  buildDir: string;
  release: string;
  /** The kernel tree (make -C here). */
  src: string;
  bzImage: Content;
  systemMap: Content;
  config: Content;
  module: Content;
}

export interface InstallTarget {
  /** The root the plan is for (INSTALL_MOD_PATH, depmod -b). */
  root: string;
  /** dkms on PATH (only used when root is "/"). */
  dkms: boolean;
  /** The lkm/ files to copy for DKMS, by name. */
  dkmsSources?: ReadonlyMap<string, Content>;
  /** The DKMS tree already holds the module at DKMS_VERSION. */
  dkmsAdded?: boolean;
  grub: GrubTools;
}

/** /etc/modules-load.d/gs-kit.conf: load the module at boot. */
function modulesLoadFile(by: string): Change {
  return { kind: 'file', path: MODULES_LOAD, content: `# Written by gs-kit ${by}: load ${MODULE_NAME} at boot.\n${MODULE_NAME}\n`, mode: 0o644 };
}

/**
 * The module's source under /usr/src, added to DKMS, built and installed
 * for @release; rebuilt when the source or one of @after changed in this
 * run. DKMS then rebuilds it for each later kernel whose headers come.
 */
export function dkmsSteps(release: string, sources: ReadonlyMap<string, Content>, added: boolean, after: readonly string[]): Plan {
  const dir = `/usr/src/${MODULE_NAME}-${DKMS_VERSION}`;
  const names = [...sources.keys()].sort();
  const files = names.map((n) => `${dir}/${n}`);
  const mv = ['-m', MODULE_NAME, '-v', DKMS_VERSION];
  const plan: Plan = names.map((n) => ({ kind: 'file', path: `${dir}/${n}`, content: sources.get(n)!, mode: 0o644 }));
  if (!added) plan.push({ kind: 'command', argv: ['dkms', 'add', ...mv], why: 'register the module source with DKMS' });
  plan.push(
    { kind: 'command', argv: ['dkms', 'build', ...mv, '-k', release, '--force'], why: `build the module for ${release} against its headers`, after: [...files, ...after] },
    { kind: 'command', argv: ['dkms', 'install', ...mv, '-k', release, '--force'], why: `install it for ${release} and rebuild it for later kernels`, after: [...files, ...after] },
  );
  return plan;
}

/** The install plan, pure: boot files, modules, the module and its autoload, depmod, DKMS, grub.cfg. */
export function installKernelPlan(s: InstallSource, t: InstallTarget): Plan {
  const r = s.release;
  const modDir = `/lib/modules/${r}`;
  const extra = `${modDir}/extra/${MODULE_NAME}.ko`;
  const vmlinuz = `/boot/vmlinuz-${r}`;
  const plan: Plan = [
    { kind: 'file', path: vmlinuz, content: s.bzImage, mode: 0o644 },
    { kind: 'file', path: `/boot/System.map-${r}`, content: s.systemMap, mode: 0o644 },
    { kind: 'file', path: `/boot/config-${r}`, content: s.config, mode: 0o644 },
    {
      kind: 'command', id: 'modules_install', argv: ['make', '-C', s.src, `INSTALL_MOD_PATH=${t.root}`, 'modules_install'],
      why: `install the modules of ${r}`, unless: [`${modDir}/modules.order`, `${modDir}/kernel`],
    },
    { kind: 'file', path: extra, content: s.module, mode: 0o644 },
    modulesLoadFile('install-kernel'),
    { kind: 'command', argv: ['depmod', '-b', t.root, r], why: `index the modules of ${r}`, after: ['modules_install', extra] },
  ];
  if (t.dkms && t.root === '/' && t.dkmsSources) plan.push(...dkmsSteps(r, t.dkmsSources, Boolean(t.dkmsAdded), [vmlinuz]));
  const update = grubUpdateCommand(t.grub);
  if (update) plan.push({ kind: 'command', argv: update, why: `add ${r} to the boot menu`, after: [vmlinuz] });
  return plan;
}

/** The kernel packages of one release, as build-kernel --package deb names them. */
export interface KernelDebs {
  release: string;
  /** File paths as the target sees them. */
  image: string;
  headers: string;
}

/**
 * linux-image-<release>_<version>_<arch>.deb and the matching
 * linux-headers one among @files (debug packages aside).
 */
export function findKernelDebs(dir: string, files: readonly string[]): KernelDebs {
  const images = files.filter((f) => /^linux-image-(?!.*-dbg_).+_.+\.deb$/.test(f));
  const hint = 'Give the directory holding the packages from "gs-kit build-kernel --package deb" (linux-image-* and linux-headers-*).';
  if (images.length !== 1) {
    throw new GsError(images.length ? `${dir} holds more than one kernel image package: ${images.join(', ')}.` : `${dir} holds no linux-image-*.deb.`,
      images.length ? 'Keep the packages of one build in it.' : hint, 'usage');
  }
  const release = /^linux-image-(.+?)_/.exec(images[0]!)![1]!;
  const headers = files.find((f) => f.startsWith(`linux-headers-${release}_`) && f.endsWith('.deb'));
  if (!headers) {
    throw new GsError(`${dir} has no linux-headers-${release} package, which DKMS needs to build the module.`, hint, 'usage');
  }
  return { release, image: join(dir, images[0]!), headers: join(dir, headers) };
}

/**
 * Installing from packages: the headers, then the image (whose hooks make
 * the initramfs and run DKMS for modules already added), the module source
 * added to DKMS and built against those headers, its autoload, grub.cfg.
 */
export function debInstallPlan(d: KernelDebs, t: Omit<InstallTarget, 'root' | 'dkms'> & { dkmsSources: ReadonlyMap<string, Content> }): Plan {
  const r = d.release;
  const plan: Plan = [
    {
      kind: 'command', id: 'headers', argv: ['dpkg', '-i', d.headers], why: `install the headers of ${r}, for DKMS`,
      unless: [`/var/lib/dpkg/info/linux-headers-${r}.list`],
    },
    {
      kind: 'command', id: 'image', argv: ['dpkg', '-i', d.image], why: `install kernel ${r}`,
      unless: [`/var/lib/dpkg/info/linux-image-${r}.list`],
    },
    ...dkmsSteps(r, t.dkmsSources, Boolean(t.dkmsAdded), ['headers', 'image']),
    modulesLoadFile('install-kernel'),
  ];
  const update = grubUpdateCommand(t.grub);
  if (update) plan.push({ kind: 'command', argv: update, why: `add ${r} to the boot menu`, after: ['image'] });
  return plan;
}

/** What install-module needs to know of the target. */
export interface ModuleTarget {
  /** The kernel to build for: the running one unless named. */
  release: string;
  dkmsSources: ReadonlyMap<string, Content>;
  dkmsAdded: boolean;
  /** Load it now (the running kernel, on the live system) when it is not loaded yet. */
  loadNow: boolean;
}

/**
 * The module alone, for a kernel that is already installed (a distribution
 * kernel in stock mode, or a patched kernel): built by DKMS against that
 * kernel's headers, loaded at boot, and loaded now: no reboot.
 */
export function moduleInstallPlan(t: ModuleTarget): Plan {
  const plan: Plan = [...dkmsSteps(t.release, t.dkmsSources, t.dkmsAdded, []), modulesLoadFile('install-module')];
  if (t.loadNow) plan.push({ kind: 'command', argv: ['modprobe', MODULE_NAME], why: 'load the module now (no reboot)' });
  return plan;
}

/**
 * Secure Boot from the SecureBoot EFI variable's bytes (4 bytes of
 * attributes, then 1 when enabled); undefined when the machine does not say.
 */
export function secureBootEnabled(efiVar: Uint8Array | undefined): boolean | undefined {
  return efiVar && efiVar.length >= 5 ? efiVar[4] === 1 : undefined;
}

/**
 * Programs an out-of-tree module build needs beyond the compiler, from the
 * headers' .config: with CONFIG_DEBUG_INFO_BTF_MODULES and the headers'
 * vmlinux (Debian ships one from 6.12 on), kbuild runs pahole on the
 * module, and a missing pahole fails the build at its last step.
 */
export function moduleBuildPrograms(config: string | undefined, headersHaveVmlinux: boolean): { program: string; debian: string; fedora: string }[] {
  return headersHaveVmlinux && config !== undefined && /^CONFIG_DEBUG_INFO_BTF_MODULES=y$/m.test(config)
    ? [{ program: 'pahole', debian: 'dwarves', fedora: 'dwarves' }]
    : [];
}

/** The series stock mode is verified on (the module's Kbuild says the same). */

/**
 * How the module will hear of victims on kernel @release, from its headers:
 * the gs-kit patch's notifier when include/linux/oom.h declares it, else
 * stock mode where it is verified (lkm/kernels.json: x86-64, its series,
 * ftrace direct calls); otherwise why not, as the module itself would refuse to load.
 */
export function hookModeFor(release: string, config: string | undefined, oomHeader: string | undefined):
  { mode: 'patched' | 'stock' } | { mode: 'none'; reason: string } {
  if (oomHeader?.includes('register_oom_victim_notifier')) return { mode: 'patched' };
  if (!stockHooksSeries(release)) {
    return { mode: 'none', reason: `${release} has no gs-kit patch, and stock mode is verified on Linux ${stockRange()} only` };
  }
  if (config === undefined) return { mode: 'none', reason: `the configuration of ${release} cannot be read (/boot/config-${release})` };
  const missing = SUPPORT.stockNeeds.filter((o) => !new RegExp(`^${o}=y$`, 'm').test(config));
  return missing.length
    ? { mode: 'none', reason: `${release} has no gs-kit patch, and stock mode needs ${missing.join(' and ')}=y` }
    : { mode: 'stock' };
}
