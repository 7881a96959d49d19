/**
 * What `gs-kit status` looks at, read from a system root (the live one, or
 * a sysroot): procfs, sysfs, cgroupfs and a few files under /etc. Reads
 * only; lib/status.ts decides what it means.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CGROUP_NAME, HANDLER_CGROUP_NAME, HANDLER_SLICE_NAME, SLICE_NAME, SLICE_PATH,
} from '../lib/cgroups.js';
import { MODULE_PARAMS, MODULE_SYSFS, PROC_FILE } from '../lib/module.js';
import type { CgroupSnapshot, HostSnapshot } from '../lib/status.js';
import { run } from './exec.js';

async function text(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A cgroup directory (as the target names it), if it is there. */
async function cgroupAt(at: (p: string) => string, dir: string): Promise<CgroupSnapshot | undefined> {
  if (!existsSync(at(dir))) return undefined;
  const value = async (f: string) => (await text(at(`${dir}/${f}`)))?.trim();
  return {
    path: dir,
    isCgroup: existsSync(at(`${dir}/cgroup.procs`)),
    memoryMax: await value('memory.max'),
    memoryMin: await value('memory.min'),
    procs: (await text(at(`${dir}/cgroup.procs`)))?.split('\n').filter(Boolean).length,
  };
}

export async function hostSnapshot(root: string): Promise<HostSnapshot> {
  const at = (p: string) => join(root, p);
  const kallsyms = await text(at('/proc/kallsyms'));
  // Without privilege kallsyms lists every address as 0 but still names symbols.
  const kernelPatched = kallsyms === undefined ? undefined : /\bregister_oom_victim_notifier\b/.test(kallsyms);
  const paramsDir = at(MODULE_PARAMS);
  const moduleParams: Record<string, string> = {};
  if (existsSync(paramsDir)) {
    for (const p of (await readdir(paramsDir)).sort()) moduleParams[p] = (await text(join(paramsDir, p)))?.trim() ?? '?';
  }
  const mounts = (await text(at('/proc/mounts'))) ?? '';
  const cgroupVersion = /\scgroup2\s/.test(mounts) ? 2 : /\scgroup\s/.test(mounts) ? 1 : undefined;
  const controllers = (await text(at('/sys/fs/cgroup/cgroup.controllers'))) ?? '';
  const listing = await text(at(PROC_FILE));
  // configure makes a systemd slice, or the cgroup itself without systemd.
  const workload = await cgroupAt(at, `/sys/fs/cgroup/${SLICE_NAME}`) ?? await cgroupAt(at, `/sys/fs/cgroup/${CGROUP_NAME}`)
    ?? await cgroupAt(at, `/sys/fs/cgroup/memory/${CGROUP_NAME}`);
  const configured = moduleParams.handler_cgroup
    ?? /handler_cgroup=(\S+)/.exec((await text(at('/etc/modprobe.d/gs-kit.conf'))) ?? '')?.[1];
  const handler = configured
    ? await cgroupAt(at, configured)
    : await cgroupAt(at, `/sys/fs/cgroup/${HANDLER_SLICE_NAME}`) ?? await cgroupAt(at, `/sys/fs/cgroup/${HANDLER_CGROUP_NAME}`);
  return {
    kernelRelease: root === '/' ? (await run(['uname', '-r'])).stdout.trim() : ((await text(at('/proc/sys/kernel/osrelease')))?.trim() ?? 'unknown'),
    kernelPatched,
    moduleLoaded: existsSync(at(MODULE_SYSFS)),
    moduleParams,
    procFile: listing !== undefined,
    cgroupVersion,
    memoryController: cgroupVersion === 2 ? controllers.split(/\s+/).includes('memory') : /\scgroup\s.*memory/.test(mounts),
    workloadCgroup: workload,
    workloadSliceUnit: existsSync(at(SLICE_PATH)),
    handlerCgroupConfigured: configured,
    handlerCgroup: handler,
    grubDropIn: existsSync(at('/etc/default/grub.d/gs-kit.cfg')),
    entries: listing?.split('\n').filter(Boolean),
    panicOnOom: (await text(at('/proc/sys/vm/panic_on_oom')))?.trim(),
    oomKillAllocatingTask: (await text(at('/proc/sys/vm/oom_kill_allocating_task')))?.trim(),
  };
}
