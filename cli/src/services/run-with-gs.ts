/**
 * `gs-kit run-with-gs`: where the program runs (a systemd scope, or a
 * cgroup of its own under the workload cgroup), started held, registered
 * with its handler for it and everything it starts, then let go; signals
 * passed on; its exit status returned. Where the kernel cannot start the
 * handler (a container: EXDEV), or with --waiter, a waiter of its own
 * runs the handler instead, in this process's confinement.
 */
import { makeRunCgroup, removeRunCgroup } from '../adapters/cgroupfs.js';
import { spawnHeld, spawnWaiter, type WaiterChild } from '../adapters/exec.js';
import type { Host } from '../adapters/host.js';
import { openWaiter, writeRegistryCode } from '../adapters/procfile.js';
import { CGROUP_NAME, SLICE_NAME, SLICE_PATH } from '../lib/cgroups.js';
import { explainWriteError, registrationLine, waiterLine } from '../lib/registry.js';
import { exitStatus, forwardedSignals, launchPlan, waiterArgv, type Launch } from '../lib/run-with-gs.js';

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
  /** --waiter: run the handler from a waiter of this run's own, never a kernel-started one. */
  waiter?: boolean | undefined;
}

/**
 * Register @pid and everything it starts: the kernel starts the handler,
 * or (with --waiter, or where the kernel cannot: EXDEV) a waiter of this
 * run's own, which is returned. @note tells the user of the fallback.
 */
async function protect(req: RunWithGsRequest, pid: number, note: (text: string) => void): Promise<WaiterChild | undefined> {
  const ctx = { pid, handler: req.handler };
  if (!req.waiter) {
    const code = await writeRegistryCode(req.proc, `${registrationLine({ pid, handler: req.handler, args: req.handlerArgs, tree: true })}\n`);
    if (code === undefined) return undefined;
    if (code !== 'EXDEV') throw explainWriteError(code, ctx);
    note('the kernel cannot start a handler here (a container, or other namespaces); a waiter of this run will run it, inside');
  }
  const handle = await openWaiter(req.proc, waiterLine(pid, true), ctx);
  try {
    return spawnWaiter(waiterArgv(req.handler, req.handlerArgs), handle.fd, exitStatus);
  } finally {
    // The waiter has its own copy; the registration lives as long as it.
    await handle.close();
  }
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
export async function runLaunched(req: RunWithGsRequest, launch: Launch, stdinIsTty: boolean,
  note: (text: string) => void): Promise<number> {
  if (launch.runCgroup) await makeRunCgroup(launch.runCgroup, req.memoryMax);
  const cgroupDir = launch.runCgroup;
  const child = spawnHeld(launch.argv, exitStatus);
  let waiter: WaiterChild | undefined;
  try {
    // The program and everything it starts: a worker it forks may be what the OOM killer picks.
    waiter = await protect(req, child.pid, note);
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
  // A waiter that was never woken waits for nothing now. One that was
  // ends with its handler's run: the module kills it then.
  if (waiter) {
    waiter.kill('SIGTERM');
    await waiter.exited.catch(() => 0);
  }
  // The kernel drops the entry when the process exits (it holds a pid
  // reference), so nothing is written back: "-<pid>" now could hit a
  // recycled pid registered by someone else.
  if (cgroupDir) await removeRunCgroup(cgroupDir);
  return status;
}
