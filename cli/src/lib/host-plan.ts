/**
 * Host change plans: what a host-changing command (configure, install-kernel)
 * wants a system to look like, as data. No I/O here: adapters/host.ts reads
 * the current state, asks pendingChanges() what is still to do, and does it.
 * Running a plan twice changes nothing the second time.
 */
import { isAbsolute, join, normalize, posix, relative, resolve } from 'node:path';
import { GsError } from './errors.js';

export type Content = string | Uint8Array;

export interface FileChange {
  kind: 'file';
  /** Absolute, as on the target system (e.g. /etc/default/grub.d/gs-kit.cfg). */
  path: string;
  content: Content;
  /** Permission bits (e.g. 0o644); compared when given. */
  mode?: number;
  /**
   * A kernel control file (cgroupfs, procfs): written in place, never created
   * with a mode. "+name" is done when the file already lists name (as in
   * cgroup.subtree_control); any other content when it reads back equal,
   * ignoring surrounding whitespace.
   */
  control?: boolean;
}

export interface DirChange {
  kind: 'dir';
  path: string;
}

/** A symbolic link, as `systemctl enable` makes them. */
export interface SymlinkChange {
  kind: 'symlink';
  path: string;
  /** What the link points to, as written. */
  target: string;
}

export interface CommandChange {
  kind: 'command';
  argv: string[];
  /** One line on why the command runs, shown with it. */
  why: string;
  /** A name other commands can list in their `after`. */
  id?: string;
  /** Run only when one of these (planned paths or command ids) changes in this run. */
  after?: string[];
  /** Done already when any of these paths exists on the target. */
  unless?: string[];
}

export type Change = FileChange | DirChange | SymlinkChange | CommandChange;
export type Plan = Change[];

/** What the target holds now, for the paths a plan names. */
export interface HostState {
  /** Current bytes (or text) of each planned file; undefined when absent. */
  files: ReadonlyMap<string, Content | undefined>;
  /** Permission bits of the planned files that exist. */
  modes?: ReadonlyMap<string, number>;
  /** Which planned directories and `unless` paths exist. */
  existing?: ReadonlySet<string>;
  /** What each planned symlink points to now; undefined when it is no link. */
  links?: ReadonlyMap<string, string | undefined>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(c: Content): Uint8Array {
  return typeof c === 'string' ? encoder.encode(c) : c;
}

function sameBytes(a: Content, b: Content): boolean {
  const x = bytes(a);
  const y = bytes(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** Whether a control file's current text already says what @want writes. */
export function controlSatisfied(want: string, current: Content | undefined): boolean {
  if (current === undefined) return false;
  const text = typeof current === 'string' ? current : decoder.decode(current);
  const w = want.trim();
  if (/^\+\S+$/.test(w)) {
    return text.split(/\s+/).map((t) => t.replace(/^\+/, '')).includes(w.slice(1));
  }
  return text.trim() === w;
}

/** Whether a planned file is already as planned. */
export function fileSatisfied(change: FileChange, state: HostState): boolean {
  const current = state.files.get(change.path);
  if (change.control) return controlSatisfied(typeof change.content === 'string' ? change.content : decoder.decode(change.content), current);
  if (current === undefined || !sameBytes(current, change.content)) return false;
  if (change.mode === undefined) return true;
  const mode = state.modes?.get(change.path);
  return mode !== undefined && (mode & 0o7777) === change.mode;
}

/** Whether only the mode of an existing, otherwise correct file differs. */
export function onlyModeDiffers(change: FileChange, state: HostState): boolean {
  if (change.control || change.mode === undefined) return false;
  const current = state.files.get(change.path);
  return current !== undefined && sameBytes(current, change.content) && !fileSatisfied(change, state);
}

/**
 * The changes of @plan still needed on a host in @state, in plan order. A
 * file whose content (and mode, when planned) match is skipped; a directory
 * that exists is skipped; a command is skipped when one of its `unless` paths
 * exists, or when it has `after` and none of those paths or ids changes.
 */
export function pendingChanges(plan: readonly Change[], state: HostState): Change[] {
  const changed = new Set<string>();
  const out: Change[] = [];
  for (const c of plan) {
    let needed: boolean;
    // Two parts of a plan may ask for the same write (cgroup.subtree_control): once is enough.
    if (c.kind === 'file') {
      needed = !fileSatisfied(c, state)
        && !out.some((o) => o.kind === 'file' && o.path === c.path && sameBytes(o.content, c.content));
    }
    else if (c.kind === 'dir') needed = !state.existing?.has(c.path) && !out.some((o) => o.kind === 'dir' && o.path === c.path);
    else if (c.kind === 'symlink') needed = state.links?.get(c.path) !== c.target;
    else {
      needed = !(c.unless ?? []).some((p) => state.existing?.has(p))
        && (c.after === undefined || c.after.some((p) => changed.has(p)));
    }
    if (!needed) continue;
    out.push(c);
    changed.add(c.kind === 'command' ? (c.id ?? c.argv.join(' ')) : c.path);
  }
  // A command asked for again later (systemctl daemon-reload after each unit) runs once, at its last place.
  const argv = (c: Change) => (c.kind === 'command' ? c.argv.join('\0') : undefined);
  return out.filter((c, i) => c.kind !== 'command' || !out.slice(i + 1).some((later) => argv(later) === argv(c)));
}

/** Every path a plan needs to know about (planned files, links and dirs, `unless` paths). */
export function plannedPaths(plan: readonly Change[]): { files: string[]; links: string[]; others: string[] } {
  const files: string[] = [];
  const links: string[] = [];
  const others: string[] = [];
  for (const c of plan) {
    if (c.kind === 'file') files.push(c.path);
    else if (c.kind === 'symlink') links.push(c.path);
    else if (c.kind === 'dir') others.push(c.path);
    else others.push(...(c.unless ?? []));
  }
  return { files: [...new Set(files)], links: [...new Set(links)], others: [...new Set(others)] };
}

/** Programs that act on the running system, not on files under a root. */
export const LIVE_SYSTEM_COMMANDS: readonly string[] = [
  'update-grub', 'grub-mkconfig', 'grub2-mkconfig', 'systemctl', 'systemd-tmpfiles', 'systemd-sysusers', 'depmod', 'modprobe', 'dkms', 'update-initramfs', 'dpkg',
];

export type CommandDecision =
  | { action: 'run'; argv: string[] }
  | { action: 'skip'; reason: string };

function program(argv: readonly string[]): string {
  return posix.basename(argv[0] ?? '');
}

/**
 * Whether a command runs for a given root. On "/" everything runs. Under a
 * sysroot, commands that act on the live system are skipped, except those
 * that take a root option: depmod runs with "-b ROOT" (added when absent).
 */
export function decideCommand(argv: readonly string[], root: string): CommandDecision {
  if (root === '/' || !LIVE_SYSTEM_COMMANDS.includes(program(argv))) return { action: 'run', argv: [...argv] };
  if (program(argv) === 'depmod') {
    const b = argv.findIndex((a) => a === '-b' || a === '--basedir');
    if (b < 0) return { action: 'run', argv: [argv[0]!, '-b', root, ...argv.slice(1)] };
    if (argv[b + 1] === root) return { action: 'run', argv: [...argv] };
    return { action: 'skip', reason: `its base directory ${argv[b + 1]} is not the root ${root}` };
  }
  return { action: 'skip', reason: `it acts on the running system, not on the sysroot ${root}; run it on the target once booted` };
}

/**
 * The host path of a target path under @root. Refuses relative paths and
 * paths that leave the root ("/../etc").
 */
export function resolveUnder(root: string, path: string): string {
  if (!isAbsolute(path)) {
    throw new GsError(`The path "${path}" is not absolute.`, 'Plans name paths as on the target system, starting with "/".', 'failure');
  }
  const base = resolve(root);
  const full = normalize(join(base, path));
  const rel = relative(base, full);
  if (rel === '..' || rel.startsWith('../') || isAbsolute(rel)) {
    throw new GsError(`The path "${path}" leaves the root ${root}.`, 'Name paths inside the target system only.', 'failure');
  }
  return full;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function sizeOf(content: Content): string {
  if (typeof content === 'string' && !content.includes('\0')) {
    const lines = content.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return plural(lines.length, 'line');
  }
  const n = bytes(content).length;
  if (n < 1024) return plural(n, 'byte');
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** One line for a change: "write /etc/x (12 lines)", "run update-grub", ... */
export function formatChange(c: Change, root = '/', state?: HostState): string {
  if (c.kind === 'dir') return `mkdir ${c.path}`;
  if (c.kind === 'symlink') return `link ${c.path} -> ${c.target}`;
  if (c.kind === 'file') {
    if (c.control) return `set ${c.path} to ${String(typeof c.content === 'string' ? c.content : decoder.decode(c.content)).trim()}`;
    const mode = c.mode !== undefined ? `, mode ${c.mode.toString(8).padStart(4, '0')}` : '';
    if (state && onlyModeDiffers(c, state)) return `chmod ${c.mode!.toString(8).padStart(4, '0')} ${c.path}`;
    return `write ${c.path} (${sizeOf(c.content)}${mode})`;
  }
  const d = decideCommand(c.argv, root);
  if (d.action === 'skip') return `skip ${c.argv.join(' ')}: ${d.reason}`;
  return `run ${d.argv.join(' ')}  # ${c.why}`;
}

/** The plan as printed by --dry-run, one line per change. */
export function formatPlan(plan: readonly Change[], root = '/', state?: HostState): string {
  return plan.map((c) => formatChange(c, root, state)).join('\n');
}

/** How many of @pending are changes (skipped commands are not). */
export function countChanges(pending: readonly Change[], root: string): number {
  return pending.filter((c) => c.kind !== 'command' || decideCommand(c.argv, root).action === 'run').length;
}
