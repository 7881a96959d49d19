import inquirer from 'inquirer';
import { aptCommands, aptInstall, installedPackages } from '../adapters/apt.js';
import { color, isInteractive, taskList } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { missingPackages, type DepGroup } from '../lib/deps.js';
import { GsError } from '../lib/errors.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'setup-vm',
  summary: 'Check and install what gs-kit needs to build kernels and run QEMU guests (Debian/Ubuntu, apt), and the kernel source.',
  usage: 'gs-kit setup-vm [--kernel distro] [--yes] [--dry-run]',
  options: [
    { name: 'kernel', type: 'string', value: 'distro', description: 'Which kernel source to fetch.', choices: ['distro'], default: 'distro' },
    { name: 'yes', type: 'boolean', description: 'Install without asking.' },
    { name: 'dry-run', type: 'boolean', description: 'Print the commands that would run; change nothing.' },
  ],
  examples: ['sudo gs-kit setup-vm --kernel distro', 'gs-kit setup-vm --dry-run'],
};

export const setupVm: Command = {
  spec,
  async run({ options }) {
    const groups: DepGroup[] = ['build', 'vm', 'distroSource'];
    const missing = missingPackages(groups, await installedPackages());
    if (missing.length === 0) {
      console.log(`${color.green('✓')} All build, QEMU and kernel source packages are installed (0 changes).`);
      return 0;
    }
    console.log(`Missing packages: ${missing.join(' ')}`);
    if (options['dry-run']) {
      for (const argv of aptCommands(missing)) console.log(`would run: ${argv.join(' ')}`);
      return 0;
    }
    if (isInteractive() && !options.yes) {
      const { go } = await inquirer.prompt([{ type: 'confirm', name: 'go', message: `Install ${missing.length} package(s) with apt-get?`, default: true }]);
      if (!go) throw new GsError('Nothing was installed.', 'Install the packages listed above yourself, or rerun with --yes.', 'dependency');
    }
    await taskList([{
      title: `apt-get install ${missing.join(' ')}`,
      task: async (_ctx, task) => { await aptInstall(missing, (l) => { task.output = l; }); },
    }]).run();
    return 0;
  },
};
