import { spawn } from 'node:child_process';
import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Writable } from 'node:stream';

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Called with each line of stdout and stderr as it arrives. */
  onLine?: (line: string) => void;
  /** Append all output here. */
  logFile?: string;
  /** Kill the command after this long. */
  timeoutMs?: number;
  input?: string;
}

export interface RunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a command (argv, no shell parsing) and collect its output. */
export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  // Loaded here: the registry commands, which run no command, then start without zx (the guest suite runs them over 9p).
  const { $ } = await import('zx');
  const log: WriteStream | undefined = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  const proc = $({
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    quiet: true,
    nothrow: true,
    input: opts.input,
    timeout: opts.timeoutMs,
    timeoutSignal: 'SIGKILL',
  })`${argv}`;
  // Collected here rather than from zx's result, which a timeout kill can leave empty.
  const collected = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const lineSplitter = (into: Buffer[]) => {
    let pending = '';
    return (chunk: Buffer) => {
      into.push(chunk);
      log?.write(chunk);
      if (!opts.onLine) return;
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line);
    };
  };
  proc.stdout.on('data', lineSplitter(collected.stdout));
  proc.stderr.on('data', lineSplitter(collected.stderr));
  const out = await proc;
  if (log) await new Promise<void>((resolve) => log.end(resolve));
  return {
    exitCode: out.exitCode,
    stdout: Buffer.concat(collected.stdout).toString(),
    stderr: Buffer.concat(collected.stderr).toString(),
    timedOut: out.signal === 'SIGKILL' && opts.timeoutMs !== undefined,
  };
}

/** The absolute directories of PATH, in order. */
export function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(delimiter).filter((d) => d.startsWith('/'));
}

/** Whether @name is an executable on PATH (looked up here, never through a shell). */
export async function haveCommand(name: string): Promise<boolean> {
  if (!name || name.includes('/')) return false;
  for (const dir of pathDirs()) {
    try {
      await access(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}

/** A program started with this process's stdin, stdout and stderr, held until released. */
export interface HeldChild {
  pid: number;
  /** Its exit status as a shell reports it (128 + signal). */
  exited: Promise<number>;
  /** Let it go on: a line on its fd 3, which it waits for. */
  release(): void;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Start @argv with this process's stdio and a pipe on fd 3 that it reads a
 * line from before it goes on (run-with-gs's wrapper); @status turns how
 * it ended into an exit status.
 */
export function spawnHeld(argv: readonly string[], status: (code: number | null, signal: NodeJS.Signals | null) => number): HeldChild {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'] });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(status(code, signal)));
  });
  return {
    pid: child.pid!,
    exited,
    release: () => { (child.stdio[3] as Writable).end('go\n'); },
    kill: (signal) => { child.kill(signal); },
  };
}

/** A waiter started by spawnWaiter(). */
export interface WaiterChild {
  /** Its exit status as a shell reports it. */
  exited: Promise<number>;
  kill(signal: NodeJS.Signals): void;
}

/**
 * Start @argv with no stdin, this process's stdout and stderr, and the
 * descriptor @fd as its fd 3 (a waiter's registry descriptor).
 */
export function spawnWaiter(argv: readonly string[], fd: number, status: (code: number | null, signal: NodeJS.Signals | null) => number): WaiterChild {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit', fd] });
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(status(code, signal)));
  });
  return { exited, kill: (signal) => { child.kill(signal); } };
}
