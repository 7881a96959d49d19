import { join } from 'node:path';
import { runScenario, type ScenarioRun } from '../adapters/guest.js';
import { buildInitramfs } from '../adapters/initramfs.js';
import { seriesSource } from '../adapters/kernel-build.js';
import { color, passFail } from '../adapters/ui.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import type { Profile } from '../lib/kconfig.js';
import { SERIES_NAMES, sourceEnvVar } from '../lib/kernels.js';
import { ALL_SCENARIOS, scenarioNamed } from '../lib/scenarios.js';
import { buildWithProgress } from './build-kernel.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'vm',
  summary: 'Boot the patched kernel in QEMU (TCG) with a busybox initramfs holding the module and test programs, run the OOM scenarios, and print each verdict.',
  usage: 'gs-kit vm test [--series 5.4|6.1|6.12|all] [--scenario NAME[,NAME...]] [--profile qemu|debug]',
  options: [
    { name: 'series', type: 'string', value: 'SERIES', description: `Kernel series to test (5.4: the ${'$'}{sourceEnvVar('5.4')} tarball, or Linux 5.4.1 from gs-kit setup-vm --kernel 5.4.1).`, choices: [...SERIES_NAMES, 'all'], default: 'all' },
    { name: 'scenario', type: 'string', value: 'NAMES', description: `Scenarios to run (${ALL_SCENARIOS.map((s) => s.name).join(', ')}).` },
    { name: 'profile', type: 'string', value: 'PROFILE', description: 'Kernel build profile.', choices: ['qemu', 'debug'], default: 'qemu' },
    { name: 'timeout', type: 'string', value: 'SECONDS', description: 'Hard limit for each guest boot [default: 120, 600 for the CLI scenario; three times that on the debug profile].' },
  ],
  examples: ['gs-kit vm test', 'gs-kit vm test --series 6.12 --scenario memcg,hang'],
};

/** Build what the guests need for one series: kernel, module, initramfs. */
export async function prepareGuest(series: string, profile: Profile) {
  const artifacts = await buildWithProgress(seriesSource(series), profile);
  const initrd = await buildInitramfs(artifacts.module, join(artifacts.buildDir, 'initramfs.cpio.gz'));
  return { artifacts, initrd };
}

export function printRun(run: ScenarioRun, series: string): void {
  const ok = run.checks.every((c) => c.ok);
  console.log(`${passFail(ok)} ${color.bold(`[${series}] ${run.scenario.name}`)}: ${run.scenario.title} ${color.dim(`(${(run.boot.durationMs / 1000).toFixed(1)} s)`)}`);
  for (const c of run.checks) {
    console.log(`    ${c.ok ? color.green('✓') : color.red('✗')} ${c.name}${c.ok || !c.detail ? '' : color.dim(` — ${c.detail}`)}`);
  }
}

export const vm: Command = {
  spec,
  async run({ positional, options }) {
    if (positional[0] !== 'test') {
      throw new GsError(`Unknown vm action "${positional[0] ?? ''}".`, 'Run "gs-kit vm test".', 'usage');
    }
    const names = typeof options.scenario === 'string' ? options.scenario.split(',') : ALL_SCENARIOS.map((s) => s.name);
    const scenarios = names.map((n) => {
      const s = scenarioNamed(n);
      if (!s) throw new GsError(`There is no scenario "${n}".`, `Choose from ${ALL_SCENARIOS.map((x) => x.name).join(', ')}.`, 'usage');
      return s;
    });
    const seriesList = options.series === 'all' ? [...SERIES_NAMES] : [String(options.series)];
    const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
    if (timeout !== undefined && !(timeout > 0)) throw new GsError(`--timeout must be a number of seconds, not "${options.timeout}".`, 'Write e.g. --timeout 300.', 'usage');
    const runOptions = timeout ? { timeoutMs: timeout * 1000 } : { slowdown: options.profile === 'debug' ? 3 : 1 };
    let failed = 0;
    for (const series of seriesList) {
      const { artifacts, initrd } = await prepareGuest(series, options.profile as Profile);
      for (const scenario of scenarios) {
        const run = await runScenario(scenario, artifacts.bzImage, initrd, runOptions);
        printRun(run, series);
        if (!run.checks.every((c) => c.ok)) {
          failed++;
          if (options.debug) console.log(color.dim(run.boot.console));
        }
      }
    }
    if (failed) {
      throw new GsError(`${failed} scenario run(s) failed.`, 'Rerun with --debug to see the guest console.', 'vm');
    }
    return 0;
  },
};
