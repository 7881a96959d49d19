import { handCacheBack } from '../adapters/paths.js';
import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';
import { installCommands, type DepGroup } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import { DEFAULT_KERNEL_VERSION } from '../lib/kernels.js';
import { fetchSource, fetchSuiteSources, installMissing, missingPackages, type FetchRequest } from '../services/setup.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'setup-vm',
  summary: `Prepare a build host: check and install the build and QEMU dependencies (apt on Debian/Ubuntu, dnf on Fedora-likes; listed and confirmed on a TTY), then fetch the kernel source: Linux ${DEFAULT_KERNEL_VERSION} from kernel.org by default, resumable and verified against the published sha256 sums.`,
  usage: 'gs-kit setup-vm [--kernel X.Y.Z|distro] [--source PATH|URL] [--mirror URL] [--package deb] [--bench] [--system] [--suite] [--yes] [--no-hints] [--dry-run] [--root DIR]',
  options: [
    { name: 'kernel', type: 'string', value: 'X.Y.Z|distro', description: 'Kernel to fetch: a kernel.org release, or the distribution\'s linux-source packages.', default: DEFAULT_KERNEL_VERSION },
    { name: 'source', type: 'string', value: 'PATH|URL', description: 'Use this tarball (a file, or a URL to download) instead.' },
    { name: 'mirror', type: 'string', value: 'URL', description: 'A kernel.org mirror (holding v5.x/ and the like).', default: 'https://cdn.kernel.org/pub/linux/kernel' },
    { name: 'package', type: 'string', value: 'deb', description: 'Also install what `build-kernel --package deb` and `install-kernel --deb` need to make .deb packages: dpkg-dev, rsync and debhelper.', choices: ['deb'] },
    { name: 'bench', type: 'boolean', description: 'Also install what `gs-kit bench` runs in the guest: earlyoom, nohang, stress-ng. On a systemd host their packages may enable the daemons there too: disable them if you do not want them.' },
    { name: 'system', type: 'boolean', description: 'Also install what `gs-kit vm system` needs for its Debian 12 image: mmdebstrap and e2fsprogs.' },
    { name: 'suite', type: 'boolean', description: 'Also fetch the sources the guest suite builds for the series it tests on a kernel.org release (Linux 5.4.1), unless they are here already (GS_SOURCE_5_4, ../shared next to the checkout, an earlier download).' },
    { name: 'yes', type: 'boolean', description: 'Install without asking.' },
    { name: 'dry-run', type: 'boolean', description: 'Print what would be installed and fetched; change nothing.' },
    { name: 'root', type: 'string', value: 'DIR', description: 'Check a sysroot\'s packages (installing into it is left to you).', default: '/' },
    { name: 'hints', type: 'boolean', description: 'End with the command to run next (--no-hints: not, for make and scripts).', default: true },
  ],
  examples: [
    'sudo gs-kit setup-vm',
    'sudo gs-kit setup-vm --kernel distro --yes',
    'gs-kit setup-vm --kernel 5.4.1 --mirror https://mirrors.edge.kernel.org/pub/linux/kernel',
    'gs-kit setup-vm --source ~/Downloads/linux-5.4.1.tar.xz',
  ],
};

/** What --source, --kernel and --mirror ask to fetch. */
function fetchRequest(options: ParsedArgs['options']): FetchRequest {
  const source = typeof options.source === 'string' ? options.source : undefined;
  if (source && /^https?:\/\//.test(source)) return { from: 'url', url: source };
  if (source) return { from: 'file', path: source };
  if (options.kernel === 'distro') return { from: 'distro' };
  return { from: 'kernel.org', version: String(options.kernel), mirror: String(options.mirror) };
}

export const setupVm: Command = {
  spec,
  async run({ options }, { ui, host: open }) {
    const root = String(options.root);
    const host = open(root, Boolean(options['dry-run']));
    const groups: DepGroup[] = [
      'build', 'vm',
      ...(options.kernel === 'distro' && !options.source ? ['distroSource' as const] : []),
      ...(options.package === 'deb' ? ['package' as const] : []),
      ...(options.bench ? ['bench' as const] : []),
      ...(options.system ? ['system' as const] : []),
    ];
    const { pm, missing } = await missingPackages(host, groups);
    if (missing.length === 0) {
      ui.note(`The ${groups.join(', ')} packages are installed.`, 'ok');
    } else {
      ui.print(`Missing packages: ${missing.join(' ')}`);
      if (host.root !== '/') {
        for (const argv of installCommands(pm, missing)) ui.print(`not run (sysroot: install them in it yourself): ${argv.join(' ')}`);
      } else {
        // Asked before the task list starts: listr redraws over a prompt.
        if (!host.dryRun && ui.interactive && !options.yes && !(await ui.confirm(`Install ${missing.length} package(s) with ${pm}?`, true))) {
          throw new GsError('Nothing was installed.', 'Install the packages listed above yourself, or rerun with --yes.', 'dependency');
        }
        await installMissing(host, pm, missing, ui);
      }
    }
    const tarball = await fetchSource(fetchRequest(options), host, ui);
    const suite = options.suite ? await fetchSuiteSources(String(options.mirror), host, ui) : [];
    await handCacheBack();
    for (const t of suite) ui.note(`Guest suite source: ${t}`, 'ok');
    if (tarball) {
      ui.note(`Kernel source: ${tarball}`, 'ok');
      if (options.hints !== false) ui.print(`Next: gs-kit build-kernel --source ${tarball}`);
    }
    return 0;
  },
};
