import { join, resolve } from 'node:path';
import { findBuild, listDebDir, loadBuild } from '../adapters/build-cache.js';
import { changesLine } from '../adapters/host.js';
import { cacheRoot, dkmsSources as readDkmsSources } from '../adapters/paths.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { hostChangeOptions } from '../lib/common-options.js';
import { GsError } from '../lib/errors.js';
import { debInstallPlan, DKMS_VERSION, findKernelDebs, installKernelPlan, MODULE_NAME } from '../lib/install-plans.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'install-kernel',
  summary: `Install a cached gs-kit build on this system (or a sysroot): the kernel, System.map and config in /boot, its modules, ${MODULE_NAME} (loaded at boot), depmod, and a DKMS copy of the module where dkms exists. Idempotent: a second run makes 0 changes.`,
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

export const installKernel: Command = {
  spec,
  async run({ options }, { ui, host: open }) {
    const log = (line: string) => ui.note(line);
    if ((typeof options.build === 'string') === (typeof options.deb === 'string')) {
      throw new GsError('install-kernel needs one of --build or --deb.', 'Write --build latest (a build in ~/.cache/gs-kit/builds), or --deb DIR (packages from build-kernel --package deb).', 'usage');
    }
    const dryRun = Boolean(options['dry-run']);
    const host = open(String(options.root ?? '/'), dryRun);
    const grub = await host.grubTools();
    const dkmsSources = await readDkmsSources();
    const dkmsAdded = await host.exists(`/var/lib/dkms/${MODULE_NAME}/${DKMS_VERSION}`);
    if (typeof options.deb === 'string') {
      const dir = resolve(options.deb);
      const debs = findKernelDebs(dir, await listDebDir(dir));
      if (!(await host.hasProgram('dkms')) || !(await host.hasProgram('dpkg'))) {
        throw new GsError('Installing packages needs dpkg and dkms on the target.', 'Install them: sudo apt-get install dkms build-essential.', 'dependency');
      }
      log(`Kernel ${debs.release} from ${debs.image} and ${debs.headers} into ${host.root} (module built with DKMS)`);
      const n = await host.apply(debInstallPlan(debs, { grub, dkmsSources, dkmsAdded }));
      ui.note(changesLine(n, dryRun), 'ok');
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
    ui.note(changesLine(n, dryRun), 'ok');
    return 0;
  },
};
