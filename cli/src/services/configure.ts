/**
 * `gs-kit configure`'s decisions: what the system under a Host has (cgroup
 * hierarchy, systemd, memory, GRUB), and the plan of cgroup, handler-cgroup
 * and GRUB changes that follows from it and the user's settings.
 */
import type { Host } from '../adapters/host.js';
import { initBytes, runningCli } from '../adapters/oci.js';
import {
  cgroupPlan, detectCgroup, formatBytes, handlerCgroupDir, handlerLimits, handlerPlan, HANDLER_CGROUP_PARAM, keepWrittenLimit,
  parseMeminfo, SLICE_PATH, sliceLimit, workloadLimit, type CgroupVersion, type Limit, type Size,
} from '../lib/cgroups.js';
import { GsError } from '../lib/errors.js';
import { GRUB_DEFAULTS, GRUB_DROPIN, grubPlan } from '../lib/grub.js';
import type { Plan } from '../lib/host-plan.js';
import { HANDLER_ANNOTATION } from '../lib/oci.js';
import { CONTAINERD_CONFIG, CRI_RUNTIME_NAME, DOCKER_DAEMON_JSON, DOCKER_RUNTIME_NAME, OCI_RUNTIME, ociPlan, PODMAN_HOOK, type Engines } from '../lib/oci-install.js';
import type { Reporter } from '../lib/reporter.js';
import { findKillers } from '../adapters/killers.js';
import { killerBytes } from '../adapters/static-program.js';
import {
  EARLYOOM_DROPIN, EARLYOOM_PREKILL_MS, EARLYOOM_PREKILL_SINCE, EARLYOOM_PROGRAM, hookableKillers, killersPlan, OOMD_DROPIN,
  OOMD_PREKILL_SINCE, PREKILL_SOCKET, prekillTimeoutSec,
} from '../lib/killers.js';
import { MODULE_PARAMS, MODULE_TIMEOUT_MS, MODULE_USER_TIMEOUT_MS } from '../lib/module.js';

/** What the user asked of configure. */
export interface ConfigureSettings {
  /** Memory left outside the workload (--reserve). */
  reserve?: Size | undefined;
  /** The workload's limit (--memory-max). */
  memoryMax?: Size | undefined;
  cgroup: 'auto' | 'v1' | 'v2';
  /** Write the GRUB drop-in (false: --no-grub). */
  grub: boolean;
  /** Install the container hook for the engines the host has (false: --no-containers). */
  containers: boolean;
  /** Hook systemd-oomd and earlyoom where the host has them (false: --no-killers). */
  killers?: boolean;
}

/** Build the cgroup + GRUB plan for the system under @host, telling @reporter what it decided. */
export async function configurePlan(host: Host, settings: ConfigureSettings, reporter: Reporter): Promise<Plan> {
  const log = (line: string) => reporter.note(line);
  const warn = (line: string) => reporter.note(line, 'warn');
  const { reserve, memoryMax } = settings;

  const mounts = await host.readFile('/proc/mounts');
  const detected = detectCgroup(mounts ?? '');
  const wanted = settings.cgroup;
  const version: CgroupVersion = wanted === 'v1' || wanted === 'v2' ? wanted : (detected?.version ?? 'v2');
  const systemd = await host.exists('/run/systemd/system');

  const meminfo = await host.readFile('/proc/meminfo');
  let limit: Limit;
  if (meminfo === undefined) {
    if (memoryMax?.kind !== 'bytes') {
      throw new GsError(`Cannot read /proc/meminfo under ${host.root}, so the memory size is unknown.`,
        'Give the workload limit in bytes with --memory-max SIZE (e.g. 2G).', 'usage');
    }
    limit = { limitBytes: Math.floor(memoryMax.bytes / 4096) * 4096, reserveBytes: 0 };
  } else {
    const totalBytes = parseMeminfo(meminfo);
    limit = workloadLimit({ totalBytes, ...(reserve ? { reserve } : {}), ...(memoryMax ? { memoryMax } : {}) });
    // Only the default moves with the memory; a slice is the one setting that outlives a reboot.
    if (!reserve && !memoryMax && systemd) {
      const slice = await host.readFile(SLICE_PATH);
      limit = keepWrittenLimit(limit, slice === undefined ? undefined : sliceLimit(slice), totalBytes);
    }
  }

  const how = wanted === 'auto' ? (detected ? 'mounted now' : 'none mounted; the default') : `asked for; ${detected ? `${detected.version} is mounted now` : 'none mounted now'}`;
  log(`cgroup ${version} (${how}); systemd: ${systemd ? 'yes' : 'no'}`);
  log(`workload limit ${formatBytes(limit.limitBytes)} (${limit.limitBytes} bytes)${limit.reserveBytes ? `, ${formatBytes(limit.reserveBytes)} left for OOM handlers and the system` : ''}`);

  const plan: Plan = [];
  if (systemd) {
    plan.push(...cgroupPlan({ version, limit, systemd }));
  } else if (detected?.version === version) {
    plan.push(...cgroupPlan({ version, limit, systemd, mountPoint: detected.path }));
  } else {
    warn(`note: cgroup ${version} is not mounted now, so the gs-workload cgroup cannot be made yet; reboot (with the GRUB setting) and run gs-kit configure again.`);
  }
  // Handlers run in a cgroup of their own, which only a v2 hierarchy gives the module.
  if (version === 'v2' && (systemd || detected?.version === 'v2')) {
    const reserve = limit.reserveBytes || limit.limitBytes;
    plan.push(...handlerPlan({
      systemd, reserveBytes: reserve, ...(detected?.path ? { mountPoint: detected.path } : {}),
      moduleLoaded: await host.exists(HANDLER_CGROUP_PARAM),
    }));
    log(`handler cgroup ${handlerCgroupDir(systemd, detected?.path)}: memory.min ${formatBytes(handlerLimits(reserve).minBytes)}, each user's handlers at most ${formatBytes(handlerLimits(reserve).userBytes)}`);
  } else {
    warn('note: handlers run only in a cgroup v2 handler cgroup, and there is no v2 hierarchy here: the module will refuse registrations. Boot with --cgroup v2 (the default) and run gs-kit configure again.');
  }

  if (!settings.grub) {
    log(`--no-grub: ${GRUB_DROPIN} left alone.`);
  } else if (!(await host.exists(GRUB_DEFAULTS))) {
    warn(`note: no ${GRUB_DEFAULTS} under ${host.root}: GRUB is not set up here, so the boot setting is not written (--no-grub silences this).`);
  } else {
    plan.push(...grubPlan(version, await host.grubTools()));
  }
  if (settings.containers) plan.push(...await containerPlan(host, log, warn));
  if (settings.killers !== false) plan.push(...await userspaceKillersPlan(host, systemd, log, warn));
  return plan;
}

/**
 * The hooks for systemd-oomd and earlyoom (lib/killers.ts), where the host
 * has them; none otherwise. Sized by the module's timeouts as loaded (else
 * its defaults).
 */
async function userspaceKillersPlan(host: Host, systemd: boolean, log: (l: string) => void, warn: (l: string) => void): Promise<Plan> {
  const { oomd, earlyoom } = await findKillers(host);
  if (!oomd.present && !earlyoom.present) return [];
  const can = hookableKillers({ oomd, earlyoom });
  if (oomd.present && !can.oomd) {
    warn(`note: systemd-oomd ${oomd.version} has no pre-kill hook (systemd ${OOMD_PREKILL_SINCE}+): its kills run no handler.`);
  }
  if (earlyoom.present && !can.earlyoom) {
    warn(`note: earlyoom ${earlyoom.version} has no -P (earlyoom ${EARLYOOM_PREKILL_SINCE}+): its kills run no handler.`);
  }
  if (!can.oomd && !can.earlyoom) return [];
  // Running now, or (a sysroot) installed to run at boot.
  if (!systemd && !(await host.exists('/lib/systemd/systemd')) && !(await host.exists('/usr/lib/systemd/systemd'))) {
    warn('note: systemd-oomd or earlyoom found, but no systemd to run gs-kit\'s hooks for them: not hooked.');
    return [];
  }
  let killer: Uint8Array;
  try {
    killer = await killerBytes();
  } catch (err) {
    warn(`note: the hooks for systemd-oomd and earlyoom are not installed: ${err instanceof GsError ? `${err.message} ${err.hint}` : String(err)}`);
    return [];
  }
  const param = async (name: string, dflt: number) => {
    const v = Number.parseInt((await host.readFile(`${MODULE_PARAMS}/${name}`))?.trim() ?? '', 10);
    return Number.isFinite(v) ? v : dflt;
  };
  const timeoutMs = await param('timeout_ms', MODULE_TIMEOUT_MS);
  const userTimeoutMs = await param('user_timeout_ms', MODULE_USER_TIMEOUT_MS);
  const plan = killersPlan({ oomd, earlyoom, killer, timeoutMs, userTimeoutMs });
  if (can.oomd) {
    log(`systemd-oomd${oomd.version ? ` ${oomd.version}` : ''}: pre-kill hook ${PREKILL_SOCKET}, PrekillHookTimeoutSec=${prekillTimeoutSec(timeoutMs, userTimeoutMs)}s (${OOMD_DROPIN})`);
  }
  if (can.earlyoom) {
    log(`earlyoom${earlyoom.version ? ` ${earlyoom.version}` : ''}: -P ${EARLYOOM_PROGRAM} (${EARLYOOM_DROPIN}); it waits for it at most ${EARLYOOM_PREKILL_MS} ms, so a handler gets less than that`);
  }
  return plan;
}

const RUNC_PATHS = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'];

/** The container hook (lib/oci.ts) for the engines under @host; none when it has none. */
async function containerPlan(host: Host, log: (l: string) => void, warn: (l: string) => void): Promise<Plan> {
  const engines: Engines = {
    podman: await host.hasProgram('podman'), docker: await host.hasProgram('dockerd'), containerd: await host.hasProgram('containerd'),
  };
  const names = Object.entries(engines).filter(([, has]) => has).map(([name]) => name);
  if (names.length === 0) return [];
  let init: Uint8Array;
  try {
    init = await initBytes();
  } catch (err) {
    warn(`note: ${names.join(', ')} found, but the container hook is not installed: ${err instanceof GsError ? `${err.message} ${err.hint}` : String(err)}`);
    return [];
  }
  let runc: string | undefined;
  for (const p of RUNC_PATHS) if (!runc && await host.exists(p)) runc = p;
  if (!runc && (engines.docker || engines.containerd)) warn('note: no runc found, so Docker and containerd get no gs-kit runtime.');
  const plan = ociPlan({
    engines, init, runc, ...runningCli(),
    dockerDaemon: await host.readFile(DOCKER_DAEMON_JSON), containerdConfig: await host.readFile(CONTAINERD_CONFIG),
    systemd: await host.exists('/run/systemd/system'),
  });
  log(`container hook for ${names.join(', ')}: annotation ${HANDLER_ANNOTATION}${engines.podman ? `; Podman: ${PODMAN_HOOK}` : ''}` +
    `${runc && engines.docker ? `; Docker: --runtime ${DOCKER_RUNTIME_NAME}` : ''}${runc && engines.containerd ? `; containerd: ctr run --runc-binary ${OCI_RUNTIME}, Kubernetes RuntimeClass handler ${CRI_RUNTIME_NAME} (${CONTAINERD_CONFIG})` : ''}`);
  return plan;
}
