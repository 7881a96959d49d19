import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import inquirer from 'inquirer';
import { detectPackageManager, installPackages, installedPackages } from '../adapters/apt.js';
import { downloadFile, fetchKernelSource } from '../adapters/download.js';
import { distroTarball } from '../adapters/kernel-build.js';
import { sha256File } from '../adapters/kernel-tree.js';
import { cacheRoot, handCacheBack } from '../adapters/paths.js';
import { color, isInteractive, taskList } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { installCommands, packagesFor, type DepGroup } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import { DEFAULT_KERNEL_VERSION, formatVersion, kernelOrgUrls, parseKernelVersion, seriesFor } from '../lib/kernels.js';
import { formatProgress } from '../lib/sums.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'setup-vm',
  summary: `Prepare a build host: check and install the build and QEMU dependencies (apt on Debian/Ubuntu, dnf on Fedora-likes; listed and confirmed on a TTY), then fetch the kernel source: Linux ${DEFAULT_KERNEL_VERSION} from kernel.org by default, resumable and verified against the published sha256 sums.`,
  usage: 'gs-kit setup-vm [--kernel X.Y.Z|distro] [--source PATH|URL] [--mirror URL] [--package deb] [--bench] [--yes] [--dry-run] [--root DIR]',
  options: [
    { name: 'kernel', type: 'string', value: 'X.Y.Z|distro', description: 'Kernel to fetch: a kernel.org release, or the distribution\'s linux-source packages.', default: DEFAULT_KERNEL_VERSION },
    { name: 'source', type: 'string', value: 'PATH|URL', description: 'Use this tarball (a file, or a URL to download) instead.' },
    { name: 'mirror', type: 'string', value: 'URL', description: 'A kernel.org mirror (holding v5.x/ and the like).', default: 'https://cdn.kernel.org/pub/linux/kernel' },
    { name: 'package', type: 'string', value: 'deb', description: 'Also install what `build-kernel --package deb` and `install-kernel --deb` need to make .deb packages: dpkg-dev, rsync and debhelper.', choices: ['deb'] },
    { name: 'bench', type: 'boolean', description: 'Also install what `gs-kit bench` runs in the guest: earlyoom, nohang, stress-ng. On a systemd host their packages may enable the daemons there too: disable them if you do not want them.' },
    { name: 'yes', type: 'boolean', description: 'Install without asking.' },
    { name: 'dry-run', type: 'boolean', description: 'Print what would be installed and fetched; change nothing.' },
    { name: 'root', type: 'string', value: 'DIR', description: 'Check a sysroot\'s packages (installing into it is left to you).', default: '/' },
  ],
  examples: [
    'sudo gs-kit setup-vm',
    'sudo gs-kit setup-vm --kernel distro --yes',
    'gs-kit setup-vm --kernel 5.4.1 --mirror https://mirrors.edge.kernel.org/pub/linux/kernel',
    'gs-kit setup-vm --source ~/Downloads/linux-5.4.1.tar.xz',
  ],
};

/** Install what is missing; returns how many packages were installed. */
async function ensurePackages(groups: DepGroup[], root: string, options: Record<string, unknown>): Promise<number> {
  const pm = await detectPackageManager(root);
  const wanted = packagesFor(pm, groups);
  const installed = await installedPackages(pm, root, wanted);
  const missing = wanted.filter((p) => !installed.has(p));
  if (missing.length === 0) {
    console.log(`${color.green('✓')} The ${groups.join(', ')} packages are installed.`);
    return 0;
  }
  console.log(`Missing packages: ${missing.join(' ')}`);
  if (options['dry-run'] || root !== '/') {
    for (const argv of installCommands(pm, missing)) {
      console.log(`${root !== '/' ? 'not run (sysroot: install them in it yourself)' : 'would run'}: ${argv.join(' ')}`);
    }
    return 0;
  }
  if (isInteractive() && !options.yes) {
    const { go } = await inquirer.prompt([{ type: 'confirm', name: 'go', message: `Install ${missing.length} package(s) with ${pm}?`, default: true }]);
    if (!go) throw new GsError('Nothing was installed.', 'Install the packages listed above yourself, or rerun with --yes.', 'dependency');
  }
  await taskList([{
    title: `${pm} install ${missing.join(' ')}`,
    task: async (_ctx, task) => { await installPackages(pm, missing, (l) => { task.output = l; }); },
  }]).run();
  return missing.length;
}

/** Download or locate the kernel source; returns the tarball path. */
async function fetchSource(options: Record<string, unknown>): Promise<string | undefined> {
  const downloads = join(cacheRoot(), 'downloads');
  const source = options.source as string | undefined;
  if (source && /^https?:\/\//.test(source)) {
    const dest = join(downloads, basename(new URL(source).pathname));
    if (options['dry-run']) {
      console.log(`would download ${source} to ${dest}`);
      return undefined;
    }
    await taskList([{
      title: `Download ${source}`,
      task: async (_c, task) => { await downloadFile(source, dest, { onProgress: (r, t) => { task.output = formatProgress(r, t); } }); },
    }]).run();
    console.log(`${dest}\nsha256 ${await sha256File(dest)} (no published sums for a --source URL: check it yourself)`);
    return dest;
  }
  if (source) {
    if (!existsSync(source)) throw new GsError(`${source} does not exist.`, 'Give the path of a Linux source tarball.', 'source');
    return source;
  }
  if (options.kernel === 'distro') return options['dry-run'] ? undefined : distroTarball(undefined);
  const version = parseKernelVersion(String(options.kernel));
  seriesFor(version); // refuse an unsupported series before downloading 150 MB
  if (options['dry-run']) {
    const urls = kernelOrgUrls(version, String(options.mirror));
    console.log(`would download ${urls.tarball}, verify it against ${urls.sums}, and keep it in ${downloads}`);
    return undefined;
  }
  const ctx: { tarball?: string } = {};
  await taskList<typeof ctx>([{
    title: `Fetch Linux ${formatVersion(version)}`,
    task: async (c, task) => {
      c.tarball = await fetchKernelSource({
        version, mirror: String(options.mirror), cacheDir: downloads,
        onPhase: (p) => { task.output = { cached: 'verifying the cached tarball', sums: 'fetching sha256sums.asc', download: 'downloading', verify: 'verifying' }[p]; },
        onProgress: (r, t) => { task.output = formatProgress(r, t); },
      });
      task.title = `Linux ${formatVersion(version)} downloaded and verified`;
    },
  }]).run(ctx);
  return ctx.tarball;
}

export const setupVm: Command = {
  spec,
  async run({ options }) {
    const root = String(options.root);
    const groups: DepGroup[] = [
      'build', 'vm',
      ...(options.kernel === 'distro' && !options.source ? ['distroSource' as const] : []),
      ...(options.package === 'deb' ? ['package' as const] : []),
      ...(options.bench ? ['bench' as const] : []),
    ];
    await ensurePackages(groups, root, options);
    const tarball = await fetchSource(options);
    await handCacheBack();
    if (tarball) {
      console.log(`${color.green('✓')} Kernel source: ${tarball}`);
      console.log(`Next: gs-kit build-kernel --source ${tarball}`);
    }
    return 0;
  },
};
