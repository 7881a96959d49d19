/**
 * `gs-kit run-with-gs`: where the program runs (a systemd scope, or a
 * cgroup of its own under the workload cgroup), started held, registered
 * with its handler for it and everything it starts, then let go; signals
 * passed on; its exit status returned.
 */
import { makeRunCgroup, removeRunCgroup } from '../adapters/cgroupfs.js';
import { spawnHeld } from '../adapters/exec.js';
import type { Host } from '../adapters/host.js';
import { writeRegistry } from '../adapters/procfile.js';
import { CGROUP_NAME, SLICE_NAME, SLICE_PATH } from '../lib/cgroups.js';
import { registrationLine } from '../lib/registry.js';
import { exitStatus, forwardedSignals, launchPlan, type Launch } from '../lib/run-with-gs.js';

/** Where gs-kit configure puts the workload cgroup without systemd. */
const PLAIN_WORKLOAD_CGROUP = `/sys/fs/cgroup/${CGROUP_NAME}`;

export interface RunWithGsRequest {
  handler: string;
  handlerArgs: string[];
  program: string;
  programArgs: string[];
  /** --memory-max in bytes. */
  memoryMax?: number | undefined;
  /** --cgroup: a cgroup (v2) directory to run under, by hand. */
  cgroup?: string | undefined;
  /** The registry file. */
  proc: string;
}

/** How to start @req's program on the live system under @host. */
export async function planLaunch(req: RunWithGsRequest, host: Host): Promise<Launch> {
  const systemd = req.cgroup === undefined && await host.exists('/run/systemd/system');
  const plain = await host.exists(PLAIN_WORKLOAD_CGROUP);
  return launchPlan({
    systemd,
    root: process.getuid?.() === 0,
    workloadCgroup: req.cgroup ?? (plain || req.memoryMax !== undefined ? PLAIN_WORKLOAD_CGROUP : undefined),
    workloadSlice: await host.exists(`/sys/fs/cgroup/${SLICE_NAME}`) || await host.exists(SLICE_PATH) ? SLICE_NAME : undefined,
    memoryMax: req.memoryMax,
    pid: process.pid,
  }, req.program, req.programArgs);
}

/** Run @launch: the program held until registered, then let go; its exit status. */
export async function runLaunched(req: RunWithGsRequest, launch: Launch, stdinIsTty: boolean): Promise<number> {
  if (launch.runCgroup) await makeRunCgroup(launch.runCgroup, req.memoryMax);
  const cgroupDir = launch.runCgroup;
  const child = spawnHeld(launch.argv, exitStatus);
  try {
    // The program and everything it starts: a worker it forks may be what the OOM killer picks.
    const line = registrationLine({ pid: child.pid, handler: req.handler, args: req.handlerArgs, tree: true });
    await writeRegistry(req.proc, `${line}\n`, { pid: child.pid, handler: req.handler });
  } catch (err) {
    child.kill('SIGKILL');
    await child.exited.catch(() => 0);
    if (cgroupDir) await removeRunCgroup(cgroupDir);
    throw err;
  }
  const signals = forwardedSignals(stdinIsTty);
  const forward = (sig: NodeJS.Signals) => { child.kill(sig); };
  for (const sig of signals) process.on(sig, forward);
  // Registered: let the program start.
  child.release();
  const status = await child.exited;
  for (const sig of signals) process.off(sig, forward);
  // The kernel drops the entry when the process exits (it holds a pid
  // reference), so nothing is written back: "-<pid>" now could hit a
  // recycled pid registered by someone else.
  if (cgroupDir) await removeRunCgroup(cgroupDir);
  return status;
}
