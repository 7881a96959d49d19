import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { changesLine, openHost, type Log } from '../adapters/host.js';
import { cacheRoot, repoRoot } from '../adapters/paths.js';
import { color } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { grubUpdateCommand, type GrubTools } from '../lib/grub.js';
import type { Content, Plan } from '../lib/host-plan.js';
import type { Command } from './types.js';

export const MODULE_NAME = 'proc_create_module';
export const DKMS_VERSION = '0.1.0';
export const MODULES_LOAD = '/etc/modules-load.d/gs-kit.conf';
/** The files of lkm/ that DKMS builds from. */
export const DKMS_FILES = ['Kbuild', 'Makefile', 'dkms.conf', 'gs.h', 'gs_hook.c', 'gs_main.c'] as const;

const spec: CommandSpec = {
  name: 'install-kernel',
  summary: 'Install a cached gs-kit build on this system (or a sysroot): the kernel, System.map and config in /boot, its modules, proc_create_module (loaded at boot), depmod, and a DKMS copy of the module where dkms exists. Idempotent: a second run makes 0 changes.',
  usage: 'gs-kit install-kernel --build KEY|latest | --deb DIR [--dry-run] [--root DIR]',
  options: [
    { name: 'build', type: 'string', value: 'KEY', description: 'The build under ~/.cache/gs-kit/builds to install: its key (or a unique prefix), or latest.' },
    { name: 'deb', type: 'string', value: 'DIR', description: 'Instead, install the packages build-kernel --package deb made (linux-image and linux-headers, copied to DIR) with dpkg, and build the module with DKMS against those headers.' },
    { name: 'dry-run', type: 'boolean', description: 'Print each change; change nothing.' },
    { name: 'root', type: 'string', value: 'DIR', description: 'Install into the system under DIR (a sysroot) instead of this one.', default: '/' },
  ],
  examples: [
    'sudo gs-kit install-kernel --build latest',
    'gs-kit install-kernel --build latest --dry-run',
    'gs-kit install-kernel --build 690232ccb2dad834 --root /srv/image',
    'sudo gs-kit install-kernel --deb ./gs-kit-debs',
  ],
};

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
  /** The DKMS tree already holds proc_create_module/0.1.0. */
  dkmsAdded?: boolean;
  grub: GrubTools;
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
    { kind: 'file', path: MODULES_LOAD, content: `# Written by gs-kit install-kernel: load ${MODULE_NAME} at boot.\n${MODULE_NAME}\n`, mode: 0o644 },
    { kind: 'command', argv: ['depmod', '-b', t.root, r], why: `index the modules of ${r}`, after: ['modules_install', extra] },
  ];
  if (t.dkms && t.root === '/' && t.dkmsSources) {
    const dir = `/usr/src/${MODULE_NAME}-${DKMS_VERSION}`;
    const files = [...t.dkmsSources.keys()].sort().map((name) => `${dir}/${name}`);
    for (const name of [...t.dkmsSources.keys()].sort()) {
      plan.push({ kind: 'file', path: `${dir}/${name}`, content: t.dkmsSources.get(name)!, mode: 0o644 });
    }
    const mv = ['-m', MODULE_NAME, '-v', DKMS_VERSION];
    if (!t.dkmsAdded) plan.push({ kind: 'command', argv: ['dkms', 'add', ...mv], why: 'register the module source with DKMS' });
    plan.push(
      { kind: 'command', argv: ['dkms', 'build', ...mv, '-k', r, '--force'], why: `build the module for ${r} with DKMS`, after: [...files, vmlinuz] },
      { kind: 'command', argv: ['dkms', 'install', ...mv, '-k', r, '--force'], why: `install it for ${r} and rebuild it for later kernels`, after: [...files, vmlinuz] },
    );
  }
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
  const dir = `/usr/src/${MODULE_NAME}-${DKMS_VERSION}`;
  const names = [...t.dkmsSources.keys()].sort();
  const mv = ['-m', MODULE_NAME, '-v', DKMS_VERSION];
  const plan: Plan = [
    {
      kind: 'command', id: 'headers', argv: ['dpkg', '-i', d.headers], why: `install the headers of ${r}, for DKMS`,
      unless: [`/var/lib/dpkg/info/linux-headers-${r}.list`],
    },
    {
      kind: 'command', id: 'image', argv: ['dpkg', '-i', d.image], why: `install kernel ${r}`,
      unless: [`/var/lib/dpkg/info/linux-image-${r}.list`],
    },
    ...names.map((name) => ({ kind: 'file' as const, path: `${dir}/${name}`, content: t.dkmsSources.get(name)!, mode: 0o644 })),
  ];
  if (!t.dkmsAdded) plan.push({ kind: 'command', argv: ['dkms', 'add', ...mv], why: 'register the module source with DKMS' });
  plan.push(
    { kind: 'command', argv: ['dkms', 'build', ...mv, '-k', r, '--force'], why: `build the module for ${r} against its headers`, after: [...names.map((n) => `${dir}/${n}`), 'headers', 'image'] },
    { kind: 'command', argv: ['dkms', 'install', ...mv, '-k', r, '--force'], why: `install it for ${r} and rebuild it for later kernels`, after: [...names.map((n) => `${dir}/${n}`), 'headers', 'image'] },
    { kind: 'file', path: MODULES_LOAD, content: `# Written by gs-kit install-kernel: load ${MODULE_NAME} at boot.\n${MODULE_NAME}\n`, mode: 0o644 },
  );
  const update = grubUpdateCommand(t.grub);
  if (update) plan.push({ kind: 'command', argv: update, why: `add ${r} to the boot menu`, after: ['image'] });
  return plan;
}

/** The build directory for --build KEY (or a unique prefix) or latest. */
export async function findBuild(buildsDir: string, which: string): Promise<string> {
  const keys = existsSync(buildsDir)
    ? (await readdir(buildsDir)).filter((k) => existsSync(join(buildsDir, k, 'kernel.json')))
    : [];
  const hint = 'Build one with "gs-kit build-kernel", or list the builds with ls ~/.cache/gs-kit/builds.';
  if (keys.length === 0) throw new GsError(`There is no finished build in ${buildsDir}.`, hint, 'usage');
  if (which === 'latest') {
    const times = await Promise.all(keys.map(async (k) => ({ k, t: (await stat(join(buildsDir, k, 'kernel.json'))).mtimeMs })));
    return join(buildsDir, times.sort((a, b) => b.t - a.t || a.k.localeCompare(b.k))[0]!.k);
  }
  if (!/^[0-9A-Za-z_-]+$/.test(which)) throw new GsError(`"${which}" is not a build key.`, hint, 'usage');
  const matches = keys.includes(which) ? [which] : keys.filter((k) => k.startsWith(which));
  if (matches.length === 1) return join(buildsDir, matches[0]!);
  if (matches.length > 1) throw new GsError(`The build prefix "${which}" matches ${matches.join(', ')}.`, 'Give more of the key.', 'usage');
  throw new GsError(`There is no finished build "${which}" in ${buildsDir} (there are: ${keys.join(', ')}).`, hint, 'usage');
}

async function newestModule(buildDir: string): Promise<string | undefined> {
  let best: { path: string; t: number } | undefined;
  for (const d of (await readdir(buildDir)).filter((n) => n.startsWith('lkm-'))) {
    const path = join(buildDir, d, `${MODULE_NAME}.ko`);
    if (!existsSync(path)) continue;
    const t = (await stat(path)).mtimeMs;
    if (!best || t > best.t) best = { path, t };
  }
  return best?.path;
}

async function mustRead(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new GsError(`The build has no ${what} (${path}).`, 'Rebuild it with "gs-kit build-kernel".', 'usage');
  }
}

/** Read what a build directory holds for installing. */
export async function loadBuild(buildDir: string): Promise<InstallSource & { paths: Record<string, string> }> {
  let kernel: { release?: unknown; bzImage?: unknown };
  try {
    kernel = JSON.parse(await readFile(join(buildDir, 'kernel.json'), 'utf8'));
  } catch (err) {
    throw new GsError(`${join(buildDir, 'kernel.json')} cannot be read: ${(err as Error).message}.`, 'Rebuild it with "gs-kit build-kernel".', 'usage');
  }
  const release = typeof kernel.release === 'string' ? kernel.release : '';
  if (!/^[0-9A-Za-z][0-9A-Za-z._+~-]*$/.test(release)) {
    throw new GsError(`The build's kernel.json has no usable release ("${String(kernel.release)}").`, 'Rebuild it with "gs-kit build-kernel".', 'usage');
  }
  const src = join(buildDir, 'src');
  const bzImage = typeof kernel.bzImage === 'string' && existsSync(kernel.bzImage) ? kernel.bzImage : join(src, 'arch/x86/boot/bzImage');
  const module = await newestModule(buildDir);
  if (!module) throw new GsError(`The build ${buildDir} has no ${MODULE_NAME}.ko.`, 'Run "gs-kit build-kernel" again to build the module.', 'usage');
  const paths = { bzImage, systemMap: join(src, 'System.map'), config: join(src, '.config'), module };
  return {
    buildDir, release, src, paths,
    bzImage: await mustRead(bzImage, 'kernel image'),
    systemMap: await mustRead(paths.systemMap, 'System.map'),
    config: await mustRead(paths.config, '.config'),
    module: await mustRead(module, 'module'),
  };
}

export const installKernel: Command = {
  spec,
  async run({ options }) {
    const log: Log = (line) => console.log(line);
    if ((typeof options.build === 'string') === (typeof options.deb === 'string')) {
      throw new GsError('install-kernel needs one of --build or --deb.', 'Write --build latest (a build in ~/.cache/gs-kit/builds), or --deb DIR (packages from build-kernel --package deb).', 'usage');
    }
    const dryRun = Boolean(options['dry-run']);
    const host = openHost(String(options.root ?? '/'), dryRun, log);
    const grub: GrubTools = {
      updateGrub: await host.hasProgram('update-grub'),
      grubMkconfig: await host.hasProgram('grub-mkconfig'),
      grub2Mkconfig: await host.hasProgram('grub2-mkconfig'),
    };
    const dkmsSources = new Map<string, Content>();
    for (const f of DKMS_FILES) dkmsSources.set(f, await readFile(join(repoRoot(), 'lkm', f)));
    const dkmsAdded = await host.exists(`/var/lib/dkms/${MODULE_NAME}/${DKMS_VERSION}`);
    if (typeof options.deb === 'string') {
      const dir = resolve(options.deb);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        throw new GsError(`${dir} cannot be read.`, 'Give the directory holding the .deb packages.', 'usage');
      }
      const debs = findKernelDebs(dir, names);
      if (!(await host.hasProgram('dkms')) || !(await host.hasProgram('dpkg'))) {
        throw new GsError('Installing packages needs dpkg and dkms on the target.', 'Install them: sudo apt-get install dkms build-essential.', 'dependency');
      }
      log(`Kernel ${debs.release} from ${debs.image} and ${debs.headers} into ${host.root} (module built with DKMS)`);
      const n = await host.apply(debInstallPlan(debs, { grub, dkmsSources, dkmsAdded }));
      log(`${color.green('✓')} ${changesLine(n, dryRun)}`);
      return 0;
    }
    if (typeof options.build !== 'string') return 2;
    const source = await loadBuild(await findBuild(join(cacheRoot(), 'builds'), options.build));
    const dkms = host.root === '/' && await host.hasProgram('dkms');
    const plan = installKernelPlan(source, {
      root: host.root,
      dkms,
      ...(dkms ? { dkmsSources } : {}),
      dkmsAdded: dkms && dkmsAdded,
      grub,
    });
    log(`Kernel ${source.release} from ${source.buildDir} into ${host.root}${dkms ? ' (with DKMS)' : ''}`);
    const n = await host.apply(plan);
    log(`${color.green('✓')} ${changesLine(n, dryRun)}`);
    return 0;
  },
};
