import { open, readFile } from 'node:fs/promises';
import { explainOpenError, explainWriteError, type ErrnoContext } from '../lib/registry.js';

function codeOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? 'EIO';
}

/** Write @text to the registry in a single write(2), as the module expects. */
export async function writeRegistry(procFile: string, text: string, ctx: ErrnoContext): Promise<void> {
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
  if (failure !== undefined) throw explainWriteError(codeOf(failure), ctx);
}

export async function readRegistry(procFile: string): Promise<string> {
  try {
    return await readFile(procFile, 'utf8');
  } catch (err) {
    throw explainOpenError(codeOf(err), procFile);
  }
}
