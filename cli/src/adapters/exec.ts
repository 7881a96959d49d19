import { constants, createWriteStream, type WriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { $ } from 'zx';

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
