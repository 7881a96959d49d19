import { changesLine, openHost, type Host, type Log } from '../adapters/host.js';
import { color } from '../adapters/ui.js';
import {
  cgroupPlan, detectCgroup, formatBytes, handlerCgroupDir, handlerLimits, handlerPlan, HANDLER_CGROUP_PARAM, parseMeminfo,
  parseSizeSpec, workloadLimit, type CgroupVersion, type Limit, type Size,
} from '../lib/cgroups.js';
import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';
import { hostChangeOptions } from '../lib/common-options.js';
import { GsError } from '../lib/errors.js';
import { GRUB_DEFAULTS, GRUB_DROPIN, grubPlan } from '../lib/grub.js';
import type { Plan } from '../lib/host-plan.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'configure',
  summary: 'Set up the host for gs-kit: a memory-limited workload cgroup (a systemd slice, or the cgroup itself) that leaves a reserve for OOM handlers, the handler cgroup the module runs handlers in (gs-handlers.slice, or gs-handlers) and the module option naming it, and a GRUB drop-in that boots with the chosen cgroup hierarchy. Idempotent: a second run makes 0 changes.',
  usage: 'gs-kit configure [--cgroup v2|v1|auto] [--reserve SIZE | --memory-max SIZE] [--no-grub] [--dry-run] [--root DIR]',
  options: [
    { name: 'cgroup', type: 'string', value: 'VERSION', description: 'The cgroup hierarchy to boot with and configure; auto keeps the one mounted now.', choices: ['auto', 'v2', 'v1'], default: 'auto' },
    { name: 'reserve', type: 'string', value: 'SIZE', description: 'Memory kept outside the workload for OOM handlers (e.g. 512M, 10%). Default: 256M or 10%, whichever is larger.' },
    { name: 'memory-max', type: 'string', value: 'SIZE', description: 'The workload limit itself (e.g. 6G, 80%), instead of --reserve.' },
    { name: 'grub', type: 'boolean', description: `Write ${GRUB_DROPIN} and regenerate grub.cfg (--no-grub: leave the boot setup alone).`, default: true },
    ...hostChangeOptions,
  ],
  examples: [
    'sudo gs-kit configure',
    'sudo gs-kit configure --cgroup v2 --reserve 512M',
    'gs-kit configure --dry-run',
    'gs-kit configure --root /srv/image --memory-max 2G --no-grub',
  ],
};

function sizeOption(options: ParsedArgs['options'], name: string): Size | undefined {
  const v = options[name];
  return typeof v === 'string' ? parseSizeSpec(v, `--${name} value`) : undefined;
}

/** Build the cgroup + GRUB plan for the system under @host, telling @log what it decided. */
export async function configurePlan(host: Host, options: ParsedArgs['options'], log: Log): Promise<Plan> {
  const reserve = sizeOption(options, 'reserve');
  const memoryMax = sizeOption(options, 'memory-max');

  const mounts = await host.readFile('/proc/mounts');
  const detected = detectCgroup(mounts ?? '');
  const wanted = String(options.cgroup ?? 'auto');
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
    limit = workloadLimit({ totalBytes: parseMeminfo(meminfo), ...(reserve ? { reserve } : {}), ...(memoryMax ? { memoryMax } : {}) });
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
    log(color.yellow(`note: cgroup ${version} is not mounted now, so the gs-workload cgroup cannot be made yet; reboot (with the GRUB setting) and run gs-kit configure again.`));
  }
  // Handlers run in a cgroup of their own, which only a v2 hierarchy gives the module.
  if (version === 'v2' && (systemd || detected?.version === 'v2')) {
    const reserve = limit.reserveBytes || limit.limitBytes;
    plan.push(...handlerPlan({
      systemd, reserveBytes: reserve, ...(detected?.path ? { mountPoint: detected.path } : {}),
      moduleLoaded: await host.exists(HANDLER_CGROUP_PARAM),
    }));
    log(`handler cgroup ${handlerCgroupDir(systemd, detected?.path)}: memory.max ${formatBytes(handlerLimits(reserve).maxBytes)}, memory.min ${formatBytes(handlerLimits(reserve).minBytes)}`);
  } else {
    log(color.yellow('note: handlers run only in a cgroup v2 handler cgroup, and there is no v2 hierarchy here: the module will refuse registrations. Boot with --cgroup v2 (the default) and run gs-kit configure again.'));
  }

  if (options.grub === false) {
    log(`--no-grub: ${GRUB_DROPIN} left alone.`);
  } else if (!(await host.exists(GRUB_DEFAULTS))) {
    log(color.yellow(`note: no ${GRUB_DEFAULTS} under ${host.root}: GRUB is not set up here, so the boot setting is not written (--no-grub silences this).`));
  } else {
    plan.push(...grubPlan(version, {
      updateGrub: await host.hasProgram('update-grub'),
      grubMkconfig: await host.hasProgram('grub-mkconfig'),
      grub2Mkconfig: await host.hasProgram('grub2-mkconfig'),
    }));
  }
  return plan;
}

export const configure: Command = {
  spec,
  async run({ options }) {
    const log: Log = (line) => console.log(line);
    const dryRun = Boolean(options['dry-run']);
    const host = openHost(String(options.root ?? '/'), dryRun, log);
    const plan = await configurePlan(host, options, log);
    const n = await host.apply(plan);
    log(`${color.green('✓')} ${changesLine(n, dryRun)}`);
    return 0;
  },
};
