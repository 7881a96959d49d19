import { CGROUP_NAME, parseSize, SLICE_NAME } from '../lib/cgroups.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { procOption } from '../lib/common-options.js';
import { registrationLine } from '../lib/registry.js';
import { splitInvocation } from '../lib/run-with-gs.js';
import { planLaunch, runLaunched, type RunWithGsRequest } from '../services/run-with-gs.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'run-with-gs',
  summary: 'Run a program in the workload cgroup, registered with a graceful-shutdown handler (for it and every process it starts) before it can allocate; pass signals on and exit with its status.',
  usage: 'gs-kit run-with-gs [--memory-max SIZE] [--cgroup DIR] [--waiter] <handler> [handler-args...] -- <program> [args...]',
  options: [
    { name: 'memory-max', type: 'string', value: 'SIZE', description: 'Run in a cgroup of its own under the workload cgroup with this memory.max (e.g. 512M).' },
    { name: 'cgroup', type: 'string', value: 'DIR', description: `A cgroup (v2) directory to run under, by hand [default: under systemd, a scope in ${SLICE_NAME} (root) or in your user manager; without systemd, /sys/fs/cgroup/${CGROUP_NAME}].` },
    { name: 'waiter', type: 'boolean', description: 'Run the handler from a waiter this command starts (in its own namespaces, root directory and confinement) rather than one the kernel starts; the default where the kernel cannot (in a container).' },
    procOption,
  ],
  examples: [
    'gs-kit run-with-gs /usr/local/bin/save-model /data/ckpt -- python3 train.py',
    'gs-kit run-with-gs --memory-max 256M /opt/sensor/flush -- /opt/sensor/logger',
    'gs-kit run-with-gs --waiter /app/save-state -- /app/server   # in a container',
  ],
};

export const runWithGs: Command = {
  spec,
  async run({ positional, rest, options }, { ui, host }) {
    const inv = splitInvocation(positional, rest);
    const req: RunWithGsRequest = {
      ...inv,
      memoryMax: typeof options['memory-max'] === 'string' ? parseSize(options['memory-max']) : undefined,
      cgroup: typeof options.cgroup === 'string' ? options.cgroup : undefined,
      proc: String(options.proc),
      waiter: Boolean(options.waiter),
    };
    // Check the registration line before starting anything.
    registrationLine({ pid: 1, handler: inv.handler, args: inv.handlerArgs });
    const launch = await planLaunch(req, host('/', false));
    // On stderr: stdout is the program's.
    if (launch.note) ui.printError(ui.style.yellow(`warning: ${launch.note}.`));
    return runLaunched(req, launch, Boolean(process.stdin.isTTY),
      (text) => { ui.printError(ui.style.yellow(`note: ${text}.`)); });
  },
};
