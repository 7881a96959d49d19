import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { makeRunCgroup, removeRunCgroup } from '../adapters/cgroupfs.js';
import { writeRegistry } from '../adapters/procfile.js';
import { color } from '../adapters/ui.js';
import { CGROUP_NAME, parseSize, SLICE_NAME, SLICE_PATH } from '../lib/cgroups.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { registrationLine } from '../lib/registry.js';
import { exitStatus, forwardedSignals, launchPlan, splitInvocation } from '../lib/run-with-gs.js';
import { procOption } from '../lib/common-options.js';
import type { Command } from './types.js';

/** Where gs-kit configure puts the workload cgroup without systemd. */
const PLAIN_WORKLOAD_CGROUPS = [`/sys/fs/cgroup/${CGROUP_NAME}`];

const spec: CommandSpec = {
  name: 'run-with-gs',
  summary: 'Run a program in the workload cgroup, registered with a graceful-shutdown handler (for it and every process it starts) before it can allocate; pass signals on and exit with its status.',
  usage: 'gs-kit run-with-gs [--memory-max SIZE] [--cgroup DIR] <handler> [handler-args...] -- <program> [args...]',
  options: [
    { name: 'memory-max', type: 'string', value: 'SIZE', description: 'Run in a cgroup of its own under the workload cgroup with this memory.max (e.g. 512M).' },
    { name: 'cgroup', type: 'string', value: 'DIR', description: `A cgroup (v2) directory to run under, by hand [default: under systemd, a scope in ${SLICE_NAME} (root) or in your user manager; without systemd, /sys/fs/cgroup/${CGROUP_NAME}].` },
    procOption,
  ],
  examples: [
    'gs-kit run-with-gs /usr/local/bin/save-model /data/ckpt -- python3 train.py',
    'gs-kit run-with-gs --memory-max 256M /opt/sensor/flush -- /opt/sensor/logger',
  ],
};

export const runWithGs: Command = {
  spec,
  async run({ positional, rest, options }) {
    const inv = splitInvocation(positional, rest);
    const memoryMax = typeof options['memory-max'] === 'string' ? parseSize(options['memory-max']) : undefined;
    // Check the registration line before starting anything.
    registrationLine({ pid: 1, handler: inv.handler, args: inv.handlerArgs });
    const systemd = typeof options.cgroup !== 'string' && existsSync('/run/systemd/system');
    const launch = launchPlan({
      systemd,
      root: process.getuid?.() === 0,
      workloadCgroup: typeof options.cgroup === 'string'
        ? options.cgroup
        : PLAIN_WORKLOAD_CGROUPS.find((d) => existsSync(d)) ?? (memoryMax !== undefined ? PLAIN_WORKLOAD_CGROUPS[0] : undefined),
      workloadSlice: existsSync(`/sys/fs/cgroup/${SLICE_NAME}`) || existsSync(SLICE_PATH) ? SLICE_NAME : undefined,
      memoryMax,
      pid: process.pid,
    }, inv.program, inv.programArgs);
    if (launch.note) console.error(color.yellow(`warning: ${launch.note}.`));
    if (launch.runCgroup) await makeRunCgroup(launch.runCgroup, memoryMax);
    const cgroupDir = launch.runCgroup;
    const ownCgroup = cgroupDir !== undefined;

    const child = spawn(launch.argv[0]!, launch.argv.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(exitStatus(code, signal)));
    });
    const pid = child.pid!;
    try {
      // The program and everything it starts: a worker it forks may be what the OOM killer picks.
      const line = registrationLine({ pid, handler: inv.handler, args: inv.handlerArgs, tree: true });
      await writeRegistry(String(options.proc), `${line}\n`, { pid, handler: inv.handler });
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => 0);
      if (ownCgroup && cgroupDir) await removeRunCgroup(cgroupDir);
      throw err;
    }
    const signals = forwardedSignals(Boolean(process.stdin.isTTY));
    const forward = (sig: NodeJS.Signals) => { child.kill(sig); };
    for (const sig of signals) process.on(sig, forward);
    // Registered: let the program start.
    (child.stdio[3] as Writable).end('go\n');
    const status = await exited;
    for (const sig of signals) process.off(sig, forward);
    // The kernel drops the entry when the process exits (it holds a pid
    // reference), so nothing is written back: "-<pid>" now could hit a
    // recycled pid registered by someone else.
    if (ownCgroup && cgroupDir) await removeRunCgroup(cgroupDir);
    return status;
  },
};
