import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { writeRegistry } from '../adapters/procfile.js';
import { color } from '../adapters/ui.js';
import { parseSize } from '../lib/cgroups.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { registrationLine } from '../lib/registry.js';
import { exitStatus, forwardedSignals, splitInvocation, wrapperArgv } from '../lib/run-with-gs.js';
import { procOption } from './register.js';
import type { Command } from './types.js';

/** Where gs-kit configure puts the workload cgroup: as a systemd slice, or by hand. */
export const WORKLOAD_CGROUPS = ['/sys/fs/cgroup/gs-workload.slice', '/sys/fs/cgroup/gs-workload'];

const spec: CommandSpec = {
  name: 'run-with-gs',
  summary: 'Run a program in the workload cgroup, registered with a graceful-shutdown handler before it can allocate; pass signals on and exit with its status.',
  usage: 'gs-kit run-with-gs [--memory-max SIZE] [--cgroup DIR] <handler> [handler-args...] -- <program> [args...]',
  options: [
    { name: 'memory-max', type: 'string', value: 'SIZE', description: 'Run in a cgroup of its own under the workload cgroup with this memory.max (e.g. 512M).' },
    { name: 'cgroup', type: 'string', value: 'DIR', description: `The workload cgroup (v2) to run under [default: ${WORKLOAD_CGROUPS.join(' or ')}, whichever exists].` },
    procOption,
  ],
  examples: [
    'gs-kit run-with-gs /usr/local/bin/save-model /data/ckpt -- python3 train.py',
    'gs-kit run-with-gs --memory-max 256M /opt/sensor/flush -- /opt/sensor/logger',
  ],
};

/**
 * Make this run's own cgroup under the workload cgroup (creating that when
 * missing), with the memory controller enabled above it and memory.max set
 * when asked. A cgroup of its own, because a v2 cgroup that passes on
 * controllers to children may not hold processes itself.
 */
async function makeRunCgroup(base: string, memoryMax: number | undefined): Promise<string> {
  const dir = join(base, `run-${process.pid}`);
  try {
    if (!existsSync(base)) {
      await enableMemory(dirname(base));
      await mkdir(base);
    }
    await enableMemory(base);
    await mkdir(dir);
    if (memoryMax !== undefined) await writeFile(join(dir, 'memory.max'), String(memoryMax));
    return dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GsError(`Cannot create the cgroup ${dir} (${code}).`,
      code === 'EACCES' || code === 'EPERM' ? 'Run as root, or run gs-kit configure once as root first.' : 'Check that cgroup v2 is mounted at /sys/fs/cgroup (gs-kit status).',
      code === 'EACCES' || code === 'EPERM' ? 'permission' : 'failure');
  }
}

async function enableMemory(cgroup: string): Promise<void> {
  const control = join(cgroup, 'cgroup.subtree_control');
  if (!(await readFile(control, 'utf8')).split(/\s+/).includes('memory')) await writeFile(control, '+memory');
}

export const runWithGs: Command = {
  spec,
  async run({ positional, rest, options }) {
    const inv = splitInvocation(positional, rest);
    const memoryMax = typeof options['memory-max'] === 'string' ? parseSize(options['memory-max']) : undefined;
    const base = typeof options.cgroup === 'string'
      ? options.cgroup
      : WORKLOAD_CGROUPS.find((d) => existsSync(d)) ?? (memoryMax !== undefined ? WORKLOAD_CGROUPS.at(-1) : undefined);
    let cgroupDir: string | undefined;
    if (base) {
      cgroupDir = await makeRunCgroup(base, memoryMax);
    } else {
      console.error(color.yellow('warning: there is no workload cgroup; running outside one (run gs-kit configure, or give --memory-max).'));
    }
    const ownCgroup = cgroupDir !== undefined;
    // Check the registration line before starting anything.
    registrationLine({ pid: 1, handler: inv.handler, args: inv.handlerArgs });

    const child = spawn(wrapperArgv(cgroupDir, inv.program, inv.programArgs)[0]!,
      wrapperArgv(cgroupDir, inv.program, inv.programArgs).slice(1),
      { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
    const exited = new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code, signal) => resolve(exitStatus(code, signal)));
    });
    const pid = child.pid!;
    try {
      const line = registrationLine({ pid, handler: inv.handler, args: inv.handlerArgs });
      await writeRegistry(String(options.proc), `${line}\n`, { pid, handler: inv.handler });
    } catch (err) {
      child.kill('SIGKILL');
      await exited.catch(() => 0);
      if (ownCgroup && cgroupDir) await rmdir(cgroupDir).catch(() => undefined);
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
    if (ownCgroup && cgroupDir) await rmdir(cgroupDir).catch(() => undefined);
    return status;
  },
};
