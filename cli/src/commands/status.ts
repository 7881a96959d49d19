import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../adapters/exec.js';
import { color } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { statusLines, type HostSnapshot } from '../lib/status.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'status',
  summary: 'One screen on the host: kernel patched or not, module and its parameters, proc file, cgroups, GRUB drop-in, OOM sysctls that bypass handlers, registered entries; each problem with the command that fixes it.',
  usage: 'gs-kit status [--json] [--root DIR]',
  options: [
    { name: 'json', type: 'boolean', description: 'Print JSON.' },
    { name: 'root', type: 'string', value: 'DIR', description: 'Inspect a sysroot instead of this system.', default: '/' },
  ],
  examples: ['gs-kit status', 'gs-kit status --json'],
};

async function text(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function snapshot(root: string): Promise<HostSnapshot> {
  const at = (p: string) => join(root, p);
  const kallsyms = await text(at('/proc/kallsyms'));
  // Without privilege kallsyms lists every address as 0 but still names symbols.
  const kernelPatched = kallsyms === undefined ? undefined : /\bregister_oom_victim_notifier\b/.test(kallsyms);
  const paramsDir = at('/sys/module/proc_create_module/parameters');
  const moduleParams: Record<string, string> = {};
  if (existsSync(paramsDir)) {
    for (const p of (await readdir(paramsDir)).sort()) moduleParams[p] = (await text(join(paramsDir, p)))?.trim() ?? '?';
  }
  const mounts = (await text(at('/proc/mounts'))) ?? '';
  const cgroupVersion = /\scgroup2\s/.test(mounts) ? 2 : /\scgroup\s/.test(mounts) ? 1 : undefined;
  const controllers = (await text(at('/sys/fs/cgroup/cgroup.controllers'))) ?? '';
  const listing = await text(at('/proc/graceful_shutdown'));
  return {
    kernelRelease: root === '/' ? (await run(['uname', '-r'])).stdout.trim() : ((await text(at('/proc/sys/kernel/osrelease')))?.trim() ?? 'unknown'),
    kernelPatched,
    moduleLoaded: existsSync(at('/sys/module/proc_create_module')),
    moduleParams,
    procFile: listing !== undefined,
    cgroupVersion,
    memoryController: cgroupVersion === 2 ? controllers.split(/\s+/).includes('memory') : /\scgroup\s.*memory/.test(mounts),
    workloadCgroup: existsSync(at('/sys/fs/cgroup/gs-workload')) || existsSync(at('/sys/fs/cgroup/memory/gs-workload')),
    grubDropIn: existsSync(at('/etc/default/grub.d/gs-kit.cfg')),
    entries: listing?.split('\n').filter(Boolean),
    panicOnOom: (await text(at('/proc/sys/vm/panic_on_oom')))?.trim(),
    oomKillAllocatingTask: (await text(at('/proc/sys/vm/oom_kill_allocating_task')))?.trim(),
  };
}

export const status: Command = {
  spec,
  async run({ options }) {
    const root = String(options.root);
    if (!existsSync(join(root, 'proc'))) {
      throw new GsError(`${root} has no proc directory: it is not a system root.`, 'Give the root of a (booted or mounted) system.', 'usage');
    }
    const lines = statusLines(await snapshot(root));
    if (options.json) {
      console.log(JSON.stringify(lines, null, 2));
    } else {
      const width = Math.max(...lines.map((l) => l.label.length)) + 2;
      for (const l of lines) {
        console.log(`${l.ok ? color.green('✓') : color.yellow('!')} ${l.label.padEnd(width)}${l.value}`);
        if (!l.ok && l.fix) console.log(`  ${' '.repeat(width)}${color.dim(`fix: ${l.fix}`)}`);
      }
    }
    return 0;
  },
};
