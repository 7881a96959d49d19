import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** One path of a sysroot snapshot. */
export interface Entry { type: 'file' | 'dir' | 'link'; mode: number; mtimeMs: number; sha256?: string; link?: string }

/** Every path under @root with its type, mode, mtime and content hash. */
export async function snapshot(root: string): Promise<Record<string, Entry>> {
  const out: Record<string, Entry> = {};
  async function walk(dir: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const full = join(dir, name);
      const st = await lstat(full);
      const rel = full.slice(root.length);
      if (st.isSymbolicLink()) out[rel] = { type: 'link', mode: st.mode, mtimeMs: st.mtimeMs, link: await readlink(full) };
      else if (st.isDirectory()) {
        out[rel] = { type: 'dir', mode: st.mode, mtimeMs: st.mtimeMs };
        await walk(full);
      } else {
        out[rel] = { type: 'file', mode: st.mode, mtimeMs: st.mtimeMs, sha256: createHash('sha256').update(await readFile(full)).digest('hex') };
      }
    }
  }
  await walk(root);
  return out;
}

/** The regular files of a snapshot, sorted. */
export function files(snap: Record<string, Entry>): string[] {
  return Object.keys(snap).filter((p) => snap[p]!.type === 'file').sort();
}
