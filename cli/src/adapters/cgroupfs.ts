/** The cgroup v2 tree, for the runs that make cgroups by hand (no systemd). */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GsError } from '../lib/errors.js';

async function enableMemory(cgroup: string): Promise<void> {
  const control = `${cgroup}/cgroup.subtree_control`;
  if (!(await readFile(control, 'utf8')).split(/\s+/).includes('memory')) await writeFile(control, '+memory');
}

/**
 * Make @dir, a run's own cgroup under the workload cgroup (made too when
 * missing), with the memory controller enabled above it and memory.max set
 * when asked. A cgroup of its own, because a v2 cgroup that passes on
 * controllers to children may not hold processes itself.
 */
export async function makeRunCgroup(dir: string, memoryMax: number | undefined): Promise<void> {
  const base = dirname(dir);
  try {
    if (!existsSync(base)) {
      await enableMemory(dirname(base));
      await mkdir(base);
    }
    await enableMemory(base);
    await mkdir(dir);
    if (memoryMax !== undefined) await writeFile(`${dir}/memory.max`, String(memoryMax));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const denied = code === 'EACCES' || code === 'EPERM';
    throw new GsError(`Cannot create the cgroup ${dir} (${code}).`,
      denied ? 'Run as root, or run gs-kit configure once as root first.' : 'Check that cgroup v2 is mounted at /sys/fs/cgroup (gs-kit status).',
      denied ? 'permission' : 'failure');
  }
}

/** Remove a run's own cgroup once its processes are gone; a cgroup still busy stays. */
export async function removeRunCgroup(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}
