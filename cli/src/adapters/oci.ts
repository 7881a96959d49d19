/**
 * The OCI hook's reach into the world: a bundle's config.json, a
 * container's cgroup, and gs-init built from oci/gs-init.c. What to change
 * is decided in lib/oci.ts.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { basename, dirname, join } from 'node:path';
import { GsError } from '../lib/errors.js';
import { handlerOf, runtimeLog, runtimeLogLine, type OciState, type OciInstall, type OciSpec, protectSpec, reserveOf } from '../lib/oci.js';
import { cgroupSplit, HANDLER_CGROUP, INIT_NAME, parentReserve, parseProcStat, reserveSteps, type CgroupStep, type ProcStat, splitRoot, unifiedCgroup, waiterOf, WORKLOAD_CGROUP } from '../lib/oci-cgroup.js';
import { run } from './exec.js';
import { buildStatic } from './static-program.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Parse a spec (or state) a runtime handed over. */
export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new GsError(`${what} is not JSON (${(err as Error).message}).`, 'The runtime that ran this hook handed it something else; report it.', 'usage');
  }
}

/** Protect the container of the bundle at @bundle in place (its config.json), if it asks; true when changed. */
export async function protectBundle(bundle: string, install: OciInstall): Promise<boolean> {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GsError(`Cannot read ${file}: ${(err as Error).message}.`, 'The runtime was given a bundle without a spec; run it without gs-kit to see why.', 'failure');
  }
  const spec = parseJson<OciSpec>(text, file);
  const protectedSpec = protectSpec(spec, install);
  if (protectedSpec === spec) return false;
  // Written whole or not at all: runc must never read half a spec.
  const tmp = `${file}.gs-kit.tmp`;
  await writeFile(tmp, JSON.stringify(protectedSpec));
  await rename(tmp, file);
  return true;
}

/** Read a cgroup file, undefined when it is not there. */
async function readControl(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The container's cgroup directory from its init @pid's /proc/PID/cgroup; @inSplit: the init is in C/gs-workload. */
async function containerCgroupDir(pid: number, inSplit: boolean): Promise<string | undefined> {
  const own = unifiedCgroup(await readControl(`/proc/${pid}/cgroup`) ?? '');
  if (own === undefined) {
    throw new GsError(`The container's init (pid ${pid}) is in no cgroup v2 hierarchy.`, 'gs-kit protects containers on cgroup v2 only: boot with systemd.unified_cgroup_hierarchy=1 (gs-kit configure --cgroup v2).', 'failure');
  }
  const root = inSplit ? splitRoot(own) : own;
  return root === undefined ? undefined : join(CGROUP_ROOT, root);
}

/**
 * The createRuntime stage: split the cgroup of the container whose init is
 * @pid (it waits to exec, alone there). Anything else already in it moves
 * with the init, or the controllers could not be enabled.
 */
export async function splitContainerCgroup(pid: number): Promise<CgroupStep[]> {
  const dir = (await containerCgroupDir(pid, false))!;
  const steps = cgroupSplit(await readControl(join(dir, 'cgroup.controllers')) ?? '', pid);
  const others = (await readControl(join(dir, 'cgroup.procs')) ?? '').split('\n').map((l) => l.trim()).filter((l) => l && l !== String(pid));
  const all = steps.flatMap((s) => (s.kind === 'write' && s.path.endsWith('/cgroup.procs')
    ? [s, ...others.map((p) => ({ ...s, content: p }))] : [s]));
  await applySteps(dir, all);
  return all;
}

async function applySteps(dir: string, steps: readonly CgroupStep[]): Promise<void> {
  for (const step of steps) {
    const path = join(dir, step.path);
    try {
      if (step.kind === 'mkdir') await mkdir(path, { recursive: true });
      else await writeFile(path, step.content);
    } catch (err) {
      throw new GsError(`Cannot ${step.kind === 'mkdir' ? 'make' : `write ${step.content} to`} ${path}: ${(err as Error).message}.`,
        'The container\'s cgroup must be delegated to its runtime (systemd\'s Delegate=yes, as runc and crun ask for).', 'permission');
    }
  }
}

/** The container's own parents (parentReserve) get @want as their memory.max too, up to the first that is not its own. */
async function raiseParents(dir: string, want: bigint): Promise<void> {
  for (let child = dir, parent = dirname(dir); parent.startsWith(`${CGROUP_ROOT}/`); child = parent, parent = dirname(parent)) {
    const children = (await readdir(parent, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    const to = parentReserve({ memoryMax: await readControl(join(parent, 'memory.max')), children }, basename(child), want);
    if (to === undefined) return;
    await applySteps(parent, [{ kind: 'write', path: 'memory.max', content: to }]);
  }
}

/** Every process's /proc/PID/stat that can be read now. */
async function processes(): Promise<ProcStat[]> {
  const out: ProcStat[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = parseProcStat(await readControl(`/proc/${name}/stat`) ?? '');
    if (stat) out.push(stat);
  }
  return out;
}

const WAITER_WAIT_MS = 3000;

/**
 * The poststart stage, for the container whose init is @pid: the reserve
 * (reserveSteps: the runtime has applied the container's limit by now),
 * then gs-init's waiter, a child of the init, moved into the handler's side
 * of the split. gs-init starts it at once; it is looked for a bounded
 * while, and a container whose init did not start one (registration
 * refused: gs-init said why) is left with the reserve unused. The pid
 * moved, or undefined.
 */
export async function finishSplit(pid: number, annotations: Record<string, string> | undefined): Promise<number | undefined> {
  // runc before 1.2 runs poststart hooks before the init execs gs-init: the wrapper's "started" comes later.
  if ((await readControl(`/proc/${pid}/comm`))?.trim() !== INIT_NAME) return undefined;
  const dir = await containerCgroupDir(pid, true);
  if (dir === undefined) return undefined;
  const steps = reserveSteps({
    memoryMax: await readControl(join(dir, 'memory.max')),
    swapMax: await readControl(join(dir, 'memory.swap.max')),
    workloadMax: await readControl(join(dir, WORKLOAD_CGROUP, 'memory.max')),
  }, reserveOf(annotations));
  const raised = steps.find((st) => st.kind === 'write' && st.path === 'memory.max');
  if (raised?.kind === 'write') await raiseParents(dir, BigInt(raised.content));
  await applySteps(dir, steps);
  const deadline = Date.now() + WAITER_WAIT_MS;
  for (;;) {
    const waiter = waiterOf(await processes(), pid);
    if (waiter !== undefined) {
      await applySteps(dir, [{ kind: 'write', path: `${HANDLER_CGROUP}/cgroup.procs`, content: String(waiter) }]);
      return waiter;
    }
    if (Date.now() > deadline) return undefined;
    await sleep(20);
  }
}

/** gs-init, built static from oci/gs-init.c into the cache, or the cached one. */
export async function buildInit(): Promise<string> {
  return buildStatic({ dir: 'oci', name: 'gs-init', sources: ['oci/gs-init.c', 'oci/gs_wake.h', 'oci/Makefile', 'lkm/graceful_shutdown.h'] });
}

/** gs-init's bytes, built if need be (what configure installs). */
export async function initBytes(): Promise<Uint8Array> {
  return readFile(await buildInit());
}

/** What a runtime handed the hook on stdin: a spec, or a container's state. */
export function readStdin(): string {
  return readFileSync(0, 'utf8');
}

/** node and the CLI entry point this process runs, as the launchers configure writes must name them. */
export function runningCli(): { node: string; cli: string } {
  return { node: process.execPath, cli: realpathSync(process.argv[1]!) };
}

/**
 * After `runc [globals] start ID` (the runtime wrapper): the container's
 * state from runc, and the split finished if it is protected. Never fails
 * the start, which has happened: a problem is said on stderr.
 */
export async function finishStarted(runc: string, id: string, globals: readonly string[]): Promise<string | undefined> {
  const r = await run([runc, ...globals, 'state', id]);
  if (r.exitCode !== 0) return `runc state ${id}: ${r.stderr.trim()}`;
  try {
    const state = JSON.parse(r.stdout) as OciState;
    if (!handlerOf(state.annotations) || !Number.isInteger(state.pid)) return undefined;
    await finishSplit(state.pid!, state.annotations);
    return undefined;
  } catch (err) {
    return err instanceof GsError ? `${err.message} ${err.hint}` : String(err);
  }
}

/** Append @message to the log runc was told to write (runtimeLog), where containerd and Docker look for a create's failure. */
export async function logRuntimeError(argv: readonly string[], message: string): Promise<void> {
  const log = runtimeLog(argv);
  if (log) await appendFile(log.path, runtimeLogLine(message, log.json, new Date())).catch(() => undefined);
}
