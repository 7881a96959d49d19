/**
 * The workload memory cgroup, as files: sizes, the limit that leaves a
 * reserve for OOM handlers, and what to write for systemd, plain cgroup v2
 * and the cgroup v1 fallback. No I/O.
 */
import { GsError } from './errors.js';
import type { Plan } from './host-plan.js';
import { MODULE_NAME, MODULE_PARAMS } from './module.js';

export type CgroupVersion = 'v1' | 'v2';

export type Size = { kind: 'bytes'; bytes: number } | { kind: 'percent'; percent: number };

export const MiB = 1024 * 1024;
export const PAGE = 4096;
export const SLICE_NAME = 'gs-workload.slice';
export const SLICE_PATH = `/etc/systemd/system/${SLICE_NAME}`;
export const CGROUP_NAME = 'gs-workload';
/** The cgroup handlers run in (the module's handler_cgroup), next to the workload's. */
export const HANDLER_SLICE_NAME = 'gs-handlers.slice';
export const HANDLER_SLICE_PATH = `/etc/systemd/system/${HANDLER_SLICE_NAME}`;
export const HANDLER_CGROUP_NAME = 'gs-handlers';
/** Makes the handler slice's cgroup at every boot (systemd-tmpfiles). */
export const HANDLER_TMPFILES = '/etc/tmpfiles.d/gs-kit.conf';

/**
 * systemd realizes a slice's cgroup only once a unit runs in it (seen on
 * Debian 12, systemd 252: gs-handlers.slice active, no cgroup), and the
 * module needs it before any handler does: tmpfiles makes it at boot, with
 * the slice's limits.
 */
export function renderHandlerTmpfiles(dir: string, minBytes: number): string {
  return [
    `# Written by gs-kit configure: the handler cgroup ${MODULE_NAME} makes`,
    '# each registrant\'s handler cgroup in, made at boot (systemd makes a',
    '# slice\'s cgroup only once a unit runs in it), with gs-handlers.slice\'s',
    '# protection.',
    `d ${dir} 0755 root root -`,
    `w ${dir}/memory.min - - - - ${minBytes}`,
    '',
  ].join('\n');
}

/** What `systemctl enable gs-handlers.slice` makes: slices.target pulls it in at boot. */
export const HANDLER_SLICE_WANTS = `/etc/systemd/system/slices.target.wants/${HANDLER_SLICE_NAME}`;
/** Where the module's options are kept, so that it finds the handler cgroup at every load. */
export const MODPROBE_CONF = '/etc/modprobe.d/gs-kit.conf';
/** The running module's parameter, written when the module is loaded now. */
export const HANDLER_CGROUP_PARAM = `${MODULE_PARAMS}/handler_cgroup`;
/** Handlers' memory protected from reclaim: at most this much of the reserve. */
export const HANDLER_MIN_BYTES = 64 * MiB;
/** Bounds of one non-root user's handler cgroup (the module's user_handler_memory_kb). */
export const USER_HANDLER_MIN_BYTES = 16 * MiB;
export const USER_HANDLER_MAX_BYTES = 64 * MiB;
/** The default reserve: this many bytes or DEFAULT_RESERVE_PERCENT of memory, whichever is larger. */
export const DEFAULT_RESERVE_BYTES = 256 * MiB;
export const DEFAULT_RESERVE_PERCENT = 10;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: MiB, G: 1024 * MiB, T: 1024 * 1024 * MiB };

/**
 * "512M", "2G", "1.5G", "1048576" (bytes), "64KiB", "50%". Units are binary
 * (K = 1024), as systemd and the kernel read them. A percentage is kept as
 * such (of the total memory, resolved by sizeBytes()).
 */
export function parseSizeSpec(text: string, what = 'size'): Size {
  const s = text.trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct) {
    const percent = Number(pct[1]);
    if (percent <= 0 || percent >= 100) {
      throw new GsError(`The ${what} "${text}" must be a percentage above 0 and below 100.`, 'Write e.g. 10%.', 'usage');
    }
    return { kind: 'percent', percent };
  }
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(s);
  if (!m) {
    throw new GsError(`The ${what} "${text}" is not a size.`, 'Write bytes or a number with K, M, G or T (binary units), or a percentage: 1073741824, 512M, 2G, 50%.', 'usage');
  }
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  if (bytes <= 0 || !Number.isSafeInteger(bytes)) {
    throw new GsError(`The ${what} "${text}" must be more than 0 bytes.`, 'Write e.g. 512M.', 'usage');
  }
  return { kind: 'bytes', bytes };
}

/**
 * A size in bytes. A percentage is of @totalBytes, and is a usage error
 * where no total applies.
 */
export function parseSize(text: string, totalBytes?: number, what = 'size'): number {
  const size = parseSizeSpec(text, what);
  if (size.kind === 'percent' && totalBytes === undefined) {
    throw new GsError(`The ${what} "${text}" is a percentage, which means nothing here.`, 'Give a size in bytes or with K, M, G, e.g. 512M.', 'usage');
  }
  return sizeBytes(size, totalBytes ?? 0);
}

export function sizeBytes(size: Size, totalBytes: number): number {
  return size.kind === 'bytes' ? size.bytes : Math.floor(totalBytes * size.percent / 100);
}

export function formatBytes(n: number): string {
  if (n % (1024 * MiB) === 0) return `${n / 1024 / MiB} GiB`;
  if (n >= 1024 * MiB) return `${(n / 1024 / MiB).toFixed(1)} GiB`;
  return `${Math.round(n / MiB)} MiB`;
}

/** MemTotal of /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB\s*$/m.exec(text);
  if (!m) {
    throw new GsError('/proc/meminfo has no MemTotal line.', 'Give the limit yourself with --memory-max SIZE.', 'failure');
  }
  return Number(m[1]) * 1024;
}

export interface LimitRequest {
  totalBytes: number;
  /** What to leave outside the workload; default max(256 MiB, 10%). */
  reserve?: Size;
  /** The workload limit itself; excludes reserve. */
  memoryMax?: Size;
}

export interface Limit {
  /** The workload's memory limit, rounded down to a page. */
  limitBytes: number;
  /** What stays for the handlers and the rest of the system. */
  reserveBytes: number;
}

export function defaultReserve(totalBytes: number): number {
  return Math.max(DEFAULT_RESERVE_BYTES, Math.floor(totalBytes * DEFAULT_RESERVE_PERCENT / 100));
}

/** The workload limit: total memory less the handler reserve, or --memory-max. */
export function workloadLimit(req: LimitRequest): Limit {
  const total = req.totalBytes;
  if (req.reserve && req.memoryMax) {
    throw new GsError('Give either --reserve or --memory-max, not both.', 'The limit is the memory less the reserve: one decides the other.', 'usage');
  }
  let limit: number;
  if (req.memoryMax) {
    limit = sizeBytes(req.memoryMax, total);
    if (limit > total) {
      throw new GsError(`A memory limit of ${formatBytes(limit)} is more than this system's ${formatBytes(total)}.`,
        'Give a smaller --memory-max, or leave it out to keep a reserve for the handlers.', 'usage');
    }
  } else {
    const reserve = req.reserve ? sizeBytes(req.reserve, total) : defaultReserve(total);
    limit = total - reserve;
    if (limit < 16 * MiB) {
      throw new GsError(`A reserve of ${formatBytes(reserve)} leaves no room for a workload in ${formatBytes(total)} of memory.`,
        'Give a smaller --reserve (e.g. 10%).', 'usage');
    }
  }
  limit = Math.floor(limit / PAGE) * PAGE;
  return { limitBytes: limit, reserveBytes: total - limit };
}

/**
 * Which hierarchy holds the memory controller, from the text of /proc/mounts.
 * A memory controller on a v1 hierarchy wins (hybrid systems keep memory on v1).
 */
export type CgroupMount = { version: 'v2'; path: string } | { version: 'v1'; path: string };

export function detectCgroup(mounts: string): CgroupMount | undefined {
  let v2: string | undefined;
  for (const line of mounts.split('\n')) {
    const [, dir, type, opts] = line.trim().split(/\s+/);
    if (!dir || !type) continue;
    const path = dir.replace(/\\040/g, ' ');
    if (type === 'cgroup' && (opts ?? '').split(',').includes('memory')) return { version: 'v1', path };
    if (type === 'cgroup2' && (v2 === undefined || path === '/sys/fs/cgroup')) v2 = path;
  }
  return v2 === undefined ? undefined : { version: 'v2', path: v2 };
}

export function detectCgroupVersion(mounts: string): CgroupVersion | undefined {
  return detectCgroup(mounts)?.version;
}

/** The systemd slice that workloads run in (systemd-run --slice=gs-workload.slice ...). */
export function renderSlice(limit: Limit, version: CgroupVersion): string {
  return [
    '# Written by gs-kit configure. Remove with:',
    `#   rm ${SLICE_PATH} && systemctl daemon-reload`,
    `# Run a workload in it: systemd-run --slice=${SLICE_NAME} --scope COMMAND`,
    '[Unit]',
    `Description=gs-kit workload slice (memory limited, ${formatBytes(limit.reserveBytes)} left for OOM handlers)`,
    '',
    '[Slice]',
    'MemoryAccounting=yes',
    `MemoryMax=${limit.limitBytes}`,
    // Without swap the workload meets its limit as an OOM kill, not as thrashing. v1 has no per-cgroup swap limit in systemd.
    ...(version === 'v2' ? ['MemorySwapMax=0'] : []),
    '',
  ].join('\n');
}

/**
 * The handler cgroups' memory. The module makes one handler cgroup per
 * registrant under the handler cgroup: root's gets the protection from
 * reclaim (memory.min: a quarter of the reserve, up to 64 MiB), each other
 * user's a hard limit (the module's user_handler_memory_kb: an eighth of
 * the reserve, 16 to 64 MiB), which also holds whatever that user's
 * handlers leave charged (tmpfs, shm). The handler cgroup itself has no
 * memory.max: a limit shared by all would let one user's leftovers starve
 * root's handlers. A user's handler that reaches its limit while the OOM
 * killer waits meets oom_lock (docs/design.md): it is stopped and killed
 * at its timeout, never hangs.
 */
export function handlerLimits(reserveBytes: number): { minBytes: number; userBytes: number } {
  const reserve = Math.max(PAGE, Math.floor(reserveBytes / PAGE) * PAGE);
  const minBytes = Math.min(HANDLER_MIN_BYTES, Math.floor(reserve / 4 / PAGE) * PAGE);
  const userBytes = Math.min(USER_HANDLER_MAX_BYTES, Math.max(USER_HANDLER_MIN_BYTES, Math.floor(reserve / 8 / MiB) * MiB));
  return { minBytes, userBytes };
}

/** The handler cgroup's directory in a v2 hierarchy mounted at @mountPoint. */
export function handlerCgroupDir(systemd: boolean, mountPoint = '/sys/fs/cgroup'): string {
  return `${mountPoint}/${systemd ? HANDLER_SLICE_NAME : HANDLER_CGROUP_NAME}`;
}

/** The systemd slice handlers run in; enabled so that it exists from boot. */
export function renderHandlerSlice(reserveBytes: number): string {
  const { minBytes, userBytes } = handlerLimits(reserveBytes);
  return [
    `# Written by gs-kit configure: the cgroup ${MODULE_NAME} makes each`,
    '# registrant\'s handler cgroup in. Nothing else belongs here: everything in',
    '# a handler cgroup is killed when a handler\'s run ends.',
    '[Unit]',
    `Description=gs-kit OOM handlers (each user's at most ${formatBytes(userBytes)})`,
    '',
    '[Slice]',
    'MemoryAccounting=yes',
    `MemoryMin=${minBytes}`,
    'MemorySwapMax=0',
    '',
    '[Install]',
    'WantedBy=slices.target',
    '',
  ].join('\n');
}

export function renderModprobeConf(handlerDir: string, userHandlerBytes: number): string {
  return [
    `# Written by gs-kit configure: where ${MODULE_NAME} runs OOM handlers,`,
    '# and how much memory each non-root user\'s handlers may hold.',
    `options ${MODULE_NAME} handler_cgroup=${handlerDir} user_handler_memory_kb=${userHandlerBytes / 1024}`,
    '',
  ].join('\n');
}

export interface HandlerPlanRequest {
  systemd: boolean;
  reserveBytes: number;
  /** Mount point of the v2 hierarchy. */
  mountPoint?: string;
  /** The module is loaded now: give it the directory at once. */
  moduleLoaded: boolean;
}

/**
 * The handler cgroup (a slice under systemd, started now and at every
 * boot; otherwise the cgroup itself), and the module's option naming it.
 * cgroup v2 only: the module joins handlers to it through cgroup.procs.
 */
export function handlerPlan(req: HandlerPlanRequest): Plan {
  const mount = req.mountPoint ?? '/sys/fs/cgroup';
  const dir = handlerCgroupDir(req.systemd, mount);
  const { minBytes, userBytes } = handlerLimits(req.reserveBytes);
  const cgroup: Plan = req.systemd
    ? [
      { kind: 'file', path: HANDLER_SLICE_PATH, content: renderHandlerSlice(req.reserveBytes), mode: 0o644 },
      // Enabled as systemctl enable does it, so that it also works on a sysroot.
      { kind: 'symlink', path: HANDLER_SLICE_WANTS, target: HANDLER_SLICE_PATH },
      { kind: 'command', argv: ['systemctl', 'daemon-reload'], why: `load ${HANDLER_SLICE_NAME}`, after: [HANDLER_SLICE_PATH, HANDLER_SLICE_WANTS] },
      {
        kind: 'command', argv: ['systemctl', 'start', HANDLER_SLICE_NAME], why: `start it now (it starts at every boot)`,
        after: [HANDLER_SLICE_PATH, HANDLER_SLICE_WANTS],
      },
      { kind: 'file', path: HANDLER_TMPFILES, content: renderHandlerTmpfiles(dir, minBytes), mode: 0o644 },
      {
        kind: 'command', argv: ['systemd-tmpfiles', '--create', HANDLER_TMPFILES], why: `make ${dir} now (tmpfiles makes it at every boot)`,
        after: [HANDLER_TMPFILES, HANDLER_SLICE_PATH],
      },
    ]
    : [
      { kind: 'file', path: `${mount}/cgroup.subtree_control`, content: '+memory', control: true },
      { kind: 'dir', path: dir },
      { kind: 'file', path: `${dir}/memory.min`, content: String(minBytes), control: true },
    ];
  return [
    ...cgroup,
    { kind: 'file', path: MODPROBE_CONF, content: renderModprobeConf(dir, userBytes), mode: 0o644 },
    ...(req.moduleLoaded ? [{ kind: 'file' as const, path: HANDLER_CGROUP_PARAM, content: dir, control: true }] : []),
  ];
}

export interface CgroupPlanRequest {
  /** The hierarchy the plan is for. */
  version: CgroupVersion;
  limit: Limit;
  /** systemd runs the target (/run/systemd/system exists). */
  systemd: boolean;
  /** Mount point of the hierarchy (the v2 root, or the v1 memory hierarchy). */
  mountPoint?: string;
}

/** The limit in a slice file configure wrote (its MemoryMax=), if it has one. */
export function sliceLimit(text: string): number | undefined {
  const m = /^MemoryMax=(\d+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** How far MemTotal may move before configure recomputes a limit it wrote: 2%, at least 64 MiB. */
function limitSlack(totalBytes: number): number {
  return Math.max(64 * MiB, Math.floor(totalBytes * 0.02));
}

/**
 * The default limit, or the one already written when it is within
 * limitSlack of it: a new kernel reserves a few MiB more or less for
 * itself, and configure run again after booting it should change nothing.
 * The reserve (which sizes the handler cgroup) stays the computed one, for
 * the same reason.
 */
export function keepWrittenLimit(computed: Limit, written: number | undefined, totalBytes: number): Limit {
  if (written === undefined || written <= 0 || written > totalBytes) return computed;
  if (Math.abs(written - computed.limitBytes) > limitSlack(totalBytes)) return computed;
  return { limitBytes: written, reserveBytes: computed.reserveBytes };
}

/**
 * The plan for the workload cgroup: a slice unit under systemd (and a
 * daemon-reload when it changes); otherwise the cgroup itself in cgroupfs.
 */
export function cgroupPlan(req: CgroupPlanRequest): Plan {
  if (req.systemd) {
    return [
      { kind: 'file', path: SLICE_PATH, content: renderSlice(req.limit, req.version), mode: 0o644 },
      { kind: 'command', argv: ['systemctl', 'daemon-reload'], why: `load ${SLICE_NAME}`, after: [SLICE_PATH] },
    ];
  }
  if (req.version === 'v2') {
    const root = req.mountPoint ?? '/sys/fs/cgroup';
    const dir = `${root}/${CGROUP_NAME}`;
    return [
      { kind: 'file', path: `${root}/cgroup.subtree_control`, content: '+memory', control: true },
      { kind: 'dir', path: dir },
      { kind: 'file', path: `${dir}/memory.max`, content: String(req.limit.limitBytes), control: true },
    ];
  }
  const dir = `${req.mountPoint ?? '/sys/fs/cgroup/memory'}/${CGROUP_NAME}`;
  return [
    { kind: 'dir', path: dir },
    { kind: 'file', path: `${dir}/memory.limit_in_bytes`, content: String(req.limit.limitBytes), control: true },
  ];
}
