import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { changesLine, openHost, type Log } from '../adapters/host.js';
import { cacheRoot, dkmsSources as readDkmsSources } from '../adapters/paths.js';
import { color } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { hostChangeOptions } from '../lib/common-options.js';
import { GsError } from '../lib/errors.js';
import type { GrubTools } from '../lib/grub.js';
import {
  debInstallPlan, DKMS_VERSION, findKernelDebs, installKernelPlan, MODULE_NAME, RELEASE_PATTERN, type InstallSource,
} from '../lib/install-plans.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'install-kernel',
  summary: 'Install a cached gs-kit build on this system (or a sysroot): the kernel, System.map and config in /boot, its modules, proc_create_module (loaded at boot), depmod, and a DKMS copy of the module where dkms exists. Idempotent: a second run makes 0 changes.',
  usage: 'gs-kit install-kernel --build KEY|latest | --deb DIR [--dry-run] [--root DIR]',
  options: [
    { name: 'build', type: 'string', value: 'KEY', description: 'The build under ~/.cache/gs-kit/builds to install: its key (or a unique prefix), or latest.' },
    { name: 'deb', type: 'string', value: 'DIR', description: 'Instead, install the packages build-kernel --package deb made (linux-image and linux-headers, copied to DIR) with dpkg, and build the module with DKMS against those headers.' },
    ...hostChangeOptions,
  ],
  examples: [
    'sudo gs-kit install-kernel --build latest',
    'gs-kit install-kernel --build latest --dry-run',
    'gs-kit install-kernel --build 690232ccb2dad834 --root /srv/image',
    'sudo gs-kit install-kernel --deb ./gs-kit-debs',
  ],
};

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
  if (!RELEASE_PATTERN.test(release)) {
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
    const dkmsSources = await readDkmsSources();
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
