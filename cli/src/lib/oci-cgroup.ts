/**
 * The hook's split of a protected container's cgroup, as data: what the
 * createRuntime stage makes, the reserve the poststart stage sets, and how
 * the waiter to move is found. Pure: adapters/oci.ts reads /proc and the
 * cgroup files and writes the steps.
 */
import { posix } from 'node:path';
import { GsError } from './errors.js';

/** The two cgroups the hook splits a protected container's cgroup into. */
export const WORKLOAD_CGROUP = 'gs-workload';
export const HANDLER_CGROUP = 'gs-handler';
/** The container's init once it has exec'd gs-init (its comm). */
export const INIT_NAME = 'gs-init';
/** The name gs-init gives its waiter, for the poststart stage to find it among its children (oci/gs-init.c). */
export const WAITER_NAME = 'gs-waiter';

/** The container's cgroup v2 path from its init's /proc/PID/cgroup, or undefined (cgroup v1 only). */
export function unifiedCgroup(procCgroup: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3).trim() : undefined;
}

/** What the reserve reads of the container's cgroup C after the split. */
export interface ContainerCgroup {
  /** C's memory.max ("max" or bytes), undefined without the memory controller. */
  memoryMax: string | undefined;
  /** C's memory.swap.max, undefined where there is none. */
  swapMax: string | undefined;
  /** C/gs-workload's memory.max, undefined where there is none. */
  workloadMax: string | undefined;
}

/** One step of the split: make a directory or write a control file, relative to the container's cgroup. */
export type CgroupStep = { kind: 'mkdir'; path: string } | { kind: 'write'; path: string; content: string };

/**
 * The split of a protected container's cgroup C, made by the createRuntime
 * hook while the container's init waits to exec, alone in C: the init (and
 * so the workload it starts) goes to C/gs-workload, and C/gs-handler waits
 * for the waiter, which the poststart stage moves there (waiterOf); the
 * memory controller is enabled for both. Everything stays under C, so that
 * the container's other cgroup rules (its device program, its pids limit)
 * hold for the handler too.
 */
export function cgroupSplit(controllers: string, initPid: number): CgroupStep[] {
  const steps: CgroupStep[] = [
    { kind: 'mkdir', path: WORKLOAD_CGROUP },
    { kind: 'mkdir', path: HANDLER_CGROUP },
    // C may hold no process once its controllers are enabled for its children.
    { kind: 'write', path: `${WORKLOAD_CGROUP}/cgroup.procs`, content: String(initPid) },
  ];
  if (controllers.split(/\s+/).includes('memory')) steps.push({ kind: 'write', path: 'cgroup.subtree_control', content: '+memory' });
  return steps;
}

/**
 * The reserve, set by the poststart stage, once the runtime has applied
 * the container's own limit to C (runc and crun do so after the
 * createRuntime hooks): gs-workload takes C's limit, and C's grows by
 * @reserveBytes, so that when the workload runs out of memory what is left
 * in C is the handler's. Whatever the order the runtime wrote C's limit in,
 * the result is the same: gs-workload at the container's limit L, C at
 * L + reserve; nothing to do when that holds already, or without a limit.
 */
export function reserveSteps(cg: ContainerCgroup, reserveBytes: number): CgroupStep[] {
  const c = cg.memoryMax?.trim();
  const w = cg.workloadMax?.trim();
  if (!c || w === undefined || (c === 'max' && (w === 'max' || w === ''))) return [];
  for (const v of [c, w]) {
    if (v !== 'max' && !/^\d+$/.test(v)) {
      throw new GsError(`The container's memory.max reads "${v}".`, 'Report it: a cgroup v2 memory.max is "max" or a number.', 'failure');
    }
  }
  const steps: CgroupStep[] = [];
  let limit: bigint;
  if (w === 'max') {
    limit = BigInt(c);
    steps.push({ kind: 'write', path: `${WORKLOAD_CGROUP}/memory.max`, content: String(limit) });
    const swap = cg.swapMax?.trim();
    if (swap) steps.push({ kind: 'write', path: `${WORKLOAD_CGROUP}/memory.swap.max`, content: swap });
  } else {
    limit = BigInt(w);
  }
  const want = limit + BigInt(reserveBytes);
  if (c === 'max' || BigInt(c) < want) steps.push({ kind: 'write', path: 'memory.max', content: String(want) });
  return steps;
}

/** A process as /proc/PID/stat gives it: its parent and its name. */
export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
}

/** /proc/PID/stat's pid, comm and ppid (comm may hold spaces and parentheses: it ends at the last ")"). */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  const pid = Number(text.slice(0, open).trim());
  const ppid = Number(rest[1]);
  return Number.isInteger(pid) && Number.isInteger(ppid) ? { pid, ppid, comm: text.slice(open + 1, close) } : undefined;
}

/**
 * The waiter to move: the child of the container's init that gs-init
 * named for it. Only init's own children count: a process elsewhere in
 * the container that took the name gains nothing.
 */
export function waiterOf(procs: readonly ProcStat[], initPid: number): number | undefined {
  return procs.find((p) => p.ppid === initPid && p.comm === WAITER_NAME)?.pid;
}

/** The container's cgroup C from its init's, which the split put in C/gs-workload. */
export function splitRoot(initCgroup: string): string | undefined {
  return posix.basename(initCgroup) === WORKLOAD_CGROUP ? posix.dirname(initCgroup) : undefined;
}

/**
 * Whether the reserve must be made in the parent of the container's cgroup
 * too, and to what: a runtime that nests the container's cgroup in one of
 * its own (crun under systemd: libpod-ID.scope/container) may put the
 * container's limit on that parent, which would then cap the handler. Only
 * a parent that holds nothing but the container's cgroup is the
 * container's; a pod's or a slice's is shared, and left alone (a
 * Kubernetes RuntimeClass overhead makes the pod's room).
 */
export function parentReserve(parent: { memoryMax: string | undefined; children: readonly string[] }, child: string, want: bigint): string | undefined {
  const max = parent.memoryMax?.trim();
  if (parent.children.length !== 1 || parent.children[0] !== child || !max || !/^\d+$/.test(max)) return undefined;
  return BigInt(max) < want ? String(want) : undefined;
}
