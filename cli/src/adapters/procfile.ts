import { open, readFile, type FileHandle } from 'node:fs/promises';
import { explainOpenError, explainWriteError, type ErrnoContext } from '../lib/registry.js';

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

/**
 * Write @text to the registry in a single write(2), as the module expects:
 * undefined, or the errno code (e.g. "EXDEV") it refused the write with.
 * A file that cannot be opened throws.
 */
export async function writeRegistryCode(procFile: string, text: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(procFile, 'w');
  } catch (err) {
    throw explainOpenError(codeOf(err), procFile);
  }
  let failure: unknown;
  try {
    await handle.write(Buffer.from(text));
  } catch (err) {
    failure = err;
  }
  // A failed close must not hide why the write failed.
  await handle.close().catch((err: unknown) => { failure ??= err; });
  return failure === undefined ? undefined : codeOf(failure);
}

/** Write @text to the registry in a single write(2); a refusal throws, explained. */
export async function writeRegistry(procFile: string, text: string, ctx: ErrnoContext): Promise<void> {
  const code = await writeRegistryCode(procFile, text);
  if (code !== undefined) throw explainWriteError(code, ctx);
}

/**
 * Register a waiter: write @line ("<pid> @wait") on a descriptor open for
 * reading and writing, and return it, for the waiter to read.
 */
export async function openWaiter(procFile: string, line: string, ctx: ErrnoContext): Promise<FileHandle> {
  let handle;
  try {
    handle = await open(procFile, 'r+');
  } catch (err) {
    throw explainOpenError(codeOf(err), procFile);
  }
  try {
    await handle.write(Buffer.from(`${line}\n`));
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw explainWriteError(codeOf(err), ctx);
  }
  return handle;
}

export async function readRegistry(procFile: string): Promise<string> {
  try {
    return await readFile(procFile, 'utf8');
  } catch (err) {
    throw explainOpenError(codeOf(err), procFile);
  }
}
