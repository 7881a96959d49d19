/**
 * What `gs-kit status` looks at, read from a system root (the live one, or
 * a sysroot) through its Host: procfs, sysfs, cgroupfs and a few files
 * under /etc. Reads only; lib/status.ts decides what it means.
 */
import { readlink } from 'node:fs/promises';
import {
  CGROUP_NAME, HANDLER_CGROUP_NAME, HANDLER_SLICE_NAME, SLICE_NAME, SLICE_PATH,
} from '../lib/cgroups.js';
import { MODULE_PARAMS, MODULE_SYSFS, PROC_FILE } from '../lib/module.js';
import { CONTAINERD_CONFIG, containerdHasRuntime, DOCKER_DAEMON_JSON, OCI_INIT, OCI_RUNTIME, PODMAN_HOOK } from '../lib/oci-install.js';
import type { CgroupSnapshot, HostSnapshot, VantageSnapshot } from '../lib/status.js';
import type { Host } from './host.js';
import { killersSnapshot } from './killers.js';

/** A file's text; undefined when it cannot be read (absent, or not readable by this user). */
async function text(host: Host, path: string): Promise<string | undefined> {
  try {
    return await host.readFile(path);
  } catch {
    return undefined;
  }
}

/** Whether a path is there; false for one that leads out of a sysroot too. */
async function has(host: Host, path: string): Promise<boolean> {
  return host.exists(path).catch(() => false);
}

/** A cgroup directory (as the target names it), if it is there. */
async function cgroupAt(host: Host, dir: string): Promise<CgroupSnapshot | undefined> {
  if (!(await has(host, dir))) return undefined;
  const value = async (f: string) => (await text(host, `${dir}/${f}`))?.trim();
  return {
    path: dir,
    isCgroup: await has(host, `${dir}/cgroup.procs`),
    memoryMax: await value('memory.max'),
    memoryMin: await value('memory.min'),
    procs: (await text(host, `${dir}/cgroup.procs`))?.split('\n').filter(Boolean).length,
  };
}

/** Whether this process shares pid 1's mount namespace (the live system only). */
async function initMountNamespace(host: Host): Promise<'same' | 'other' | 'unknown'> {
  if (host.root !== '/') return 'same';
  try {
    const [self, init] = await Promise.all([readlink('/proc/self/ns/mnt'), readlink('/proc/1/ns/mnt')]);
    return self === init ? 'same' : 'other';
  } catch {
    // Another user's init, or one with capabilities this process lacks.
    return 'unknown';
  }
}

/**
 * Where this process runs: a container engine's marks (Podman's
 * /run/.containerenv, Docker's /.dockerenv, a pod's service account,
 * init's $container), and its own namespaces and seccomp mode. Under a
 * sysroot, the sysroot's (its /proc/self is a file like any other).
 */
async function vantageSnapshot(host: Host): Promise<VantageSnapshot> {
  const containerenv = await text(host, '/run/.containerenv');
  const initEnv = (await text(host, '/proc/1/environ'))?.split('\0').find((e) => e.startsWith('container='))?.slice('container='.length);
  const engine = containerenv !== undefined ? 'podman'
    : await has(host, '/.dockerenv') ? 'docker'
      : await has(host, '/var/run/secrets/kubernetes.io/serviceaccount') ? 'a Kubernetes pod'
        : initEnv || undefined;
  const uidMap = (await text(host, '/proc/self/uid_map'))?.trim().split(/\s+/).join(' ');
  const procOptions = /^\S+ \/proc proc (\S+)/m.exec((await text(host, '/proc/mounts')) ?? '')?.[1] ?? '';
  const kthreadd = (await text(host, '/proc/2/comm'))?.trim();
  const selfStatus = (await text(host, '/proc/self/status')) ?? '';
  return {
    engine,
    initMountNamespace: await initMountNamespace(host),
    rootless: /^rootless=1$/m.test(containerenv ?? ''),
    userNamespace: uidMap !== undefined && uidMap !== '0 0 4294967295',
    // kthreadd is pid 2 of the initial namespace; hidepid hides it from others.
    pidNamespace: selfStatus !== '' && kthreadd !== 'kthreadd' && !/\bhidepid=/.test(procOptions),
    seccomp: /^Seccomp:\s*2$/m.test(selfStatus),
  };
}

export async function hostSnapshot(host: Host): Promise<HostSnapshot> {
  const kallsyms = await text(host, '/proc/kallsyms');
  // Without privilege kallsyms lists every address as 0 but still names symbols.
  const kernelPatched = kallsyms === undefined ? undefined : /\bregister_oom_victim_notifier\b/.test(kallsyms);
  const moduleParams: Record<string, string> = {};
  for (const p of ((await host.list(MODULE_PARAMS).catch(() => undefined)) ?? []).sort()) {
    moduleParams[p] = (await text(host, `${MODULE_PARAMS}/${p}`))?.trim() ?? '?';
  }
  const mounts = (await text(host, '/proc/mounts')) ?? '';
  const cgroupVersion = /\scgroup2\s/.test(mounts) ? 2 : /\scgroup\s/.test(mounts) ? 1 : undefined;
  const controllers = (await text(host, '/sys/fs/cgroup/cgroup.controllers')) ?? '';
  const listing = await text(host, PROC_FILE);
  // configure makes a systemd slice, or the cgroup itself without systemd.
  const workload = await cgroupAt(host, `/sys/fs/cgroup/${SLICE_NAME}`) ?? await cgroupAt(host, `/sys/fs/cgroup/${CGROUP_NAME}`)
    ?? await cgroupAt(host, `/sys/fs/cgroup/memory/${CGROUP_NAME}`);
  const configured = moduleParams.handler_cgroup
    ?? /handler_cgroup=(\S+)/.exec((await text(host, '/etc/modprobe.d/gs-kit.conf')) ?? '')?.[1];
  const handler = configured
    ? await cgroupAt(host, configured)
    : await cgroupAt(host, `/sys/fs/cgroup/${HANDLER_SLICE_NAME}`) ?? await cgroupAt(host, `/sys/fs/cgroup/${HANDLER_CGROUP_NAME}`);
  return {
    kernelRelease: host.root === '/' ? (await host.run(['uname', '-r'])).stdout.trim() : ((await text(host, '/proc/sys/kernel/osrelease'))?.trim() ?? 'unknown'),
    kernelPatched,
    moduleLoaded: await has(host, MODULE_SYSFS),
    moduleParams,
    procFile: listing !== undefined,
    cgroupVersion,
    memoryController: cgroupVersion === 2 ? controllers.split(/\s+/).includes('memory') : /\scgroup\s.*memory/.test(mounts),
    workloadCgroup: workload,
    workloadSliceUnit: await has(host, SLICE_PATH),
    handlerCgroupConfigured: configured,
    handlerCgroup: handler,
    grubDropIn: await has(host, '/etc/default/grub.d/gs-kit.cfg'),
    entries: listing?.split('\n').filter(Boolean),
    panicOnOom: (await text(host, '/proc/sys/vm/panic_on_oom'))?.trim(),
    oomKillAllocatingTask: (await text(host, '/proc/sys/vm/oom_kill_allocating_task'))?.trim(),
    vantage: await vantageSnapshot(host),
    killers: await killersSnapshot(host),
    containers: {
      engines: { podman: await host.hasProgram('podman'), docker: await host.hasProgram('dockerd'), containerd: await host.hasProgram('containerd') },
      init: await has(host, OCI_INIT),
      podmanHook: await has(host, PODMAN_HOOK),
      dockerRuntime: ((await text(host, DOCKER_DAEMON_JSON)) ?? '').includes(OCI_RUNTIME),
      criRuntime: containerdHasRuntime(await text(host, CONTAINERD_CONFIG)),
    },
  };
}
