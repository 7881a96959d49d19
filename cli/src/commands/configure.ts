import { changesLine } from '../adapters/host.js';
import { parseSizeSpec, type Size } from '../lib/cgroups.js';
import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';
import { hostChangeOptions } from '../lib/common-options.js';
import { GRUB_DROPIN } from '../lib/grub.js';
import { configurePlan } from '../services/configure.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'configure',
  summary: 'Set up the host for gs-kit: a memory-limited workload cgroup (a systemd slice, or the cgroup itself) that leaves a reserve for OOM handlers, the handler cgroup the module runs handlers in (gs-handlers.slice, or gs-handlers) and the module option naming it, a GRUB drop-in that boots with the chosen cgroup hierarchy, the container hook where Podman, Docker or containerd is installed, and the pre-kill hooks of systemd-oomd (260+) and earlyoom where they are installed, so that their kills run a registration\'s handler too. Idempotent: a second run makes 0 changes.',
  usage: 'gs-kit configure [--cgroup v2|v1|auto] [--reserve SIZE | --memory-max SIZE] [--no-grub] [--no-containers] [--no-killers] [--dry-run] [--root DIR]',
  options: [
    { name: 'cgroup', type: 'string', value: 'VERSION', description: 'The cgroup hierarchy to boot with and configure; auto keeps the one mounted now.', choices: ['auto', 'v2', 'v1'], default: 'auto' },
    { name: 'reserve', type: 'string', value: 'SIZE', description: 'Memory kept outside the workload for OOM handlers (e.g. 512M, 10%). Default: 256M or 10%, whichever is larger.' },
    { name: 'memory-max', type: 'string', value: 'SIZE', description: 'The workload limit itself (e.g. 6G, 80%), instead of --reserve.' },
    { name: 'grub', type: 'boolean', description: `Write ${GRUB_DROPIN} and regenerate grub.cfg (--no-grub: leave the boot setup alone).`, default: true },
    { name: 'containers', type: 'boolean', description: 'Install the container hook (gs-init, Podman\'s hooks.d entry, the runc wrapper Docker and containerd use) where an engine is installed (--no-containers: leave them alone).', default: true },
    { name: 'killers', type: 'boolean', description: 'Make systemd-oomd (260+) and earlyoom, where installed, run a registration\'s handler before they kill (gs-kit-killer: oomd\'s pre-kill hook, earlyoom\'s -P) (--no-killers: leave them alone).', default: true },
    ...hostChangeOptions,
  ],
  examples: [
    'sudo gs-kit configure',
    'sudo gs-kit configure --cgroup v2 --reserve 512M',
    'gs-kit configure --dry-run',
    'gs-kit configure --root /srv/image --memory-max 2G --no-grub',
  ],
};

function sizeOption(options: ParsedArgs['options'], name: string): Size | undefined {
  const v = options[name];
  return typeof v === 'string' ? parseSizeSpec(v, `--${name} value`) : undefined;
}

export const configure: Command = {
  spec,
  async run({ options }, { ui, host: open }) {
    const dryRun = Boolean(options['dry-run']);
    const host = open(String(options.root ?? '/'), dryRun);
    const plan = await configurePlan(host, {
      reserve: sizeOption(options, 'reserve'),
      memoryMax: sizeOption(options, 'memory-max'),
      cgroup: options.cgroup === 'v1' || options.cgroup === 'v2' ? options.cgroup : 'auto',
      grub: options.grub !== false,
      containers: options.containers !== false,
      killers: options.killers !== false,
    }, ui);
    const n = await host.apply(plan);
    ui.note(changesLine(n, dryRun), 'ok');
    return 0;
  },
};
