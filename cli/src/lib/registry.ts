import { GsError } from './errors.js';
import { MODULE_NAME, PROC_FILE, WAIT_HANDLER } from './module.js';

export { PROC_FILE };

export interface Registration {
  pid: number;
  handler: string;
  args: string[];
  /** "+<pid>": the handler also runs when the victim is a process descended from pid. */
  tree?: boolean;
  /**
   * Who registered it, when that is not the reader ("<uid>:<pid> ..." in the
   * listing root reads): writing the line back keeps it that user's.
   */
  registrant?: number;
}

export function parsePid(text: string): number {
  if (!/^[1-9]\d*$/.test(text) || Number(text) > 4194304) {
    throw new GsError(`"${text}" is not a process id.`, 'Give the numeric pid of a running process.', 'usage');
  }
  return Number(text);
}

/**
 * The line that registers @r. The registry splits on blanks and has no
 * quoting, so a handler or argument with blanks or control characters is
 * refused here rather than silently split by the kernel.
 */
export function registrationLine(r: Registration): string {
  if (!r.handler.startsWith('/')) {
    throw new GsError(`The handler "${r.handler}" is not an absolute path.`,
      'Give the full path, e.g. /usr/local/bin/save-state.', 'usage');
  }
  for (const word of [r.handler, ...r.args]) {
    if (word === '' || /[\s\x00-\x1f\x7f]/.test(word)) {
      throw new GsError(`The handler word ${JSON.stringify(word)} is empty or has blanks or control characters.`,
        'The registry cannot quote; wrap the handler in a script that takes no such arguments.', 'usage');
    }
  }
  const owner = r.registrant === undefined ? '' : `${r.registrant}:`;
  return [`${owner}${r.tree ? '+' : ''}${r.pid}`, r.handler, ...r.args].join(' ');
}

/** A waiter's registration of @pid (and, with @tree, what it starts): its writer runs the handler. */
export function waiterLine(pid: number, tree: boolean): string {
  return `${tree ? '+' : ''}${pid} ${WAIT_HANDLER}`;
}

export function removalLine(pid: number): string {
  return `-${pid}`;
}

/**
 * The registry as read: one "[<uid>:][+]<pid> <handler> [args...]" line per
 * entry, the uid where the reader is not who registered it.
 */
export function parseListing(text: string): Registration[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((line) => {
    const [word = '', handler, ...args] = line.trim().split(/\s+/);
    const m = /^(?:(\d+):)?(\+?)(\d+)$/.exec(word);
    const registrant = m?.[1] === undefined ? {} : { registrant: Number(m[1]) };
    const tree = m?.[2] === '+';
    return { pid: Number(m?.[3] ?? NaN), handler: handler ?? '', args, ...(tree ? { tree } : {}), ...registrant };
  });
}

export interface ErrnoContext {
  pid: number;
  handler?: string;
  removing?: boolean;
  /** The line named another registrant ("<uid>:<pid> ..."). */
  registrant?: number;
}

/** What a failed write of the registry means, and what to do about it. */
export function explainWriteError(code: string, ctx: ErrnoContext): GsError {
  const h = ctx.handler ?? 'the handler';
  const table: Record<string, [string, string, 'usage' | 'registry' | 'permission']> = {
    EINVAL: [`The registry refused the line for pid ${ctx.pid} as malformed.`, 'Give "<pid> <absolute-handler-path> [args]"; see gs-kit register --help.', 'usage'],
    ESRCH: [`No such process: ${ctx.pid}.`, 'Check the pid with ps; it may have exited already.', 'registry'],
    ENOENT: ctx.removing
      ? [`Process ${ctx.pid} is not registered.`, 'Run gs-kit list to see what is registered.', 'registry']
      : [`The handler ${h} does not exist.`, 'Check the path; it must exist when you register.', 'usage'],
    ENOTDIR: [`A directory in the handler path ${h} is not a directory.`, 'Check the path.', 'usage'],
    EACCES: [`The handler ${h} is not an executable regular file you may run.`, `Make it executable: chmod 755 ${h}.`, 'permission'],
    EPERM: ctx.removing
      ? [`You may not change the registration of process ${ctx.pid}.`, 'Only root or the process\'s owner may; use sudo for other users\' processes.', 'permission']
      : ctx.registrant !== undefined
      ? [`Process ${ctx.pid} may not be registered for uid ${ctx.registrant}.`, 'Only root may name another registrant, and only for a process that user owns wholly (real, effective and saved uid).', 'permission']
      : [`Registering ${h} for process ${ctx.pid} is not allowed.`, `Register only your own processes (or use sudo), with a handler that only you or root can change: the file and every directory above it owned by you or root and not writable by group or others (chmod go-w; sudo registers only handlers under root-owned directories).`, 'permission'],
    ENAMETOOLONG: ['The registry line is too long (over 4096 bytes).', 'Use a shorter handler path or fewer arguments.', 'usage'],
    EILSEQ: ['The registry line contains a NUL byte.', 'Remove it.', 'usage'],
    E2BIG: ['Too many handler arguments (at most 64) or too large a write (64 KiB).', 'Pass fewer arguments; put the rest in a config file the handler reads.', 'usage'],
    ENOSPC: ['The registry is full, or its share for users (the module\'s max_entries and users_max_entries; the rest is root\'s).', 'Unregister processes you no longer need, or ask root to raise max_entries or users_max_entries.', 'registry'],
    EDQUOT: ['You hold as many registrations as a user may (the module\'s user_max_entries), counting those made from your own user namespaces.', 'Unregister processes you no longer need (gs-kit list), or ask root to raise user_max_entries.', 'registry'],
    EOPNOTSUPP: ['The module has no handler cgroup to run handlers in, so it accepts no registration.', 'Run "sudo gs-kit configure", which makes the handler cgroup and gives it to the module (gs-kit status shows it).', 'registry'],
    EXDEV: ['Your process is confined in a way a handler the kernel starts cannot carry: another root directory (a chroot or container), other namespaces (e.g. PrivateNetwork=, PrivateTmp=), a seccomp filter (SystemCallFilter=) or cgroup BPF programs (IPAddressDeny=). The handler would run wider than you.', 'Register from an unconfined process of yours on the host (gs-kit run-with-gs does), or drop that confinement.', 'permission'],
  };
  // Linux's EOPNOTSUPP and ENOTSUP are one number, which node names ENOTSUP.
  const entry = table[code === 'ENOTSUP' ? 'EOPNOTSUPP' : code];
  if (!entry) return new GsError(`Writing the registry failed (${code}).`, 'Check the kernel log (dmesg) for graceful_shutdown lines.', 'registry');
  return new GsError(entry[0], entry[1], entry[2]);
}

/** The proc file (--proc, default PROC_FILE) could not be opened at all. */
export function explainOpenError(code: string, procFile = PROC_FILE): GsError {
  if (code === 'ENOENT') {
    return new GsError(`${procFile} does not exist: the ${MODULE_NAME} module is not loaded.`,
      `Load it with "sudo modprobe ${MODULE_NAME}" (installed by gs-kit install-kernel), on a kernel built by gs-kit build-kernel.`, 'registry');
  }
  return new GsError(`${procFile} cannot be opened (${code}).`, 'Check gs-kit status.', 'permission');
}
