import { resolve } from 'node:path';
import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import type { Profile } from '../lib/kconfig.js';
import { distroSeries, SERIES_NAMES, sourceEnvVar } from '../lib/kernels.js';
import { FLAVOURS, STOCK_KERNELS, stockNames, stockSeriesNamed, type Flavour } from '../lib/stock.js';
import type { Ui } from '../lib/reporter.js';
import { SUITE, scenarioNamed } from '../lib/catalogue.js';
import { runContainersTest } from '../services/containers-test.js';
import { runKillersTest } from '../services/killers-test.js';
import { runSystemTest } from '../services/system-test.js';
import { runVmTest } from '../services/vm-test.js';
import type { Command, CommandEnv } from './types.js';
import { passed } from '../lib/checks.js';
import { SYSTEM_RELEASES, systemRelease } from '../lib/system-test.js';

/** The default patched series of the system test: the newest with a source package of the host's release. */
const SYSTEM_DEFAULT_SERIES = distroSeries(undefined).series;

const spec: CommandSpec = {
  name: 'vm',
  summary: 'vm test: boot the patched kernel in QEMU (TCG) with a busybox initramfs holding the module and test programs, run the OOM scenarios, and print each verdict. vm system: run the host workflow on a real Debian 13 (--debian 12: Debian 12) system in QEMU (install-kernel --deb, configure, reboot into what grub.cfg names, run-with-gs as a user). vm containers: on such a system with Podman, Docker and containerd, protect a container with no change to its image (the io.gs-kit.handler annotation) on each engine, rootless Podman included. vm killers: on Debian unstable (systemd-oomd 262, earlyoom 1.9), a protected workload killed by systemd-oomd, by earlyoom and by the kernel, each after its handler ran once.',
  usage: `gs-kit vm test [--series ${[...SERIES_NAMES, 'all'].join('|')}] [--scenario NAME[,NAME...]] [--profile qemu|debug] [--stock [--flavour generic|cloud|rt]]\n       gs-kit vm system [--series ${SERIES_NAMES.join('|')}] [--stock] [--debian ${SYSTEM_RELEASES.map((r) => r.number).join('|')}]\n       gs-kit vm containers [--out FILE] [--debian ${SYSTEM_RELEASES.map((r) => r.number).join('|')}]\n       gs-kit vm killers [--out FILE]`,
  options: [
    { name: 'series', type: 'string', value: 'SERIES', description: `Kernel series to test (5.4: the ${sourceEnvVar('5.4')} tarball, or Linux 5.4.1 from gs-kit setup-vm --kernel 5.4.1); vm system: the patched series whose kernel packages it installs [default: ${SYSTEM_DEFAULT_SERIES}]; with --stock, the image's own kernel. With --stock, a Debian kernel: ${stockNames()}.`, choices: [...new Set([...SERIES_NAMES, ...STOCK_KERNELS.map((s) => s.name)]), 'all'], default: 'all' },
    { name: 'debian', type: 'string', value: 'N', description: `vm system, vm containers: the Debian release of the image (${SYSTEM_RELEASES.map((r) => `${r.number}, ${r.suite}`).join('; ')}).`, choices: SYSTEM_RELEASES.map((r) => r.number), default: SYSTEM_RELEASES[0]!.number },
    { name: 'out', type: 'string', value: 'FILE', description: 'vm containers, vm killers: write what it measured (container starts with and without the hook, each handler\'s run; each killer\'s handler run and the room left before its kill) to FILE (bench/containers.json, bench/killers.json).' },
    { name: 'scenario', type: 'string', value: 'NAMES', description: `Scenarios to run (${SUITE.map((s) => s.name).join(', ')}).` },
    { name: 'profile', type: 'string', value: 'PROFILE', description: 'Kernel build profile.', choices: ['qemu', 'debug'], default: 'qemu' },
    { name: 'flavour', type: 'string', value: 'FLAVOUR', description: 'With --stock: which of Debian\'s kernels of the series (generic; cloud, what cloud VMs boot; rt, PREEMPT_RT).', choices: [...FLAVOURS], default: 'generic' },
    { name: 'stock', type: 'boolean', description: `Boot the distribution's own kernel (Debian's, unmodified: ${stockNames()}) instead of a patched one; the module runs in stock mode. With --profile debug: our debug kernel with the module built in stock mode (Debian has no debug kernel). vm system: install-module on the image's own Debian kernel instead of a patched kernel's packages.` },
    { name: 'timeout', type: 'string', value: 'SECONDS', description: 'Hard limit for each guest boot [default: 120, 600 for the CLI scenario; three times that on the debug profile].' },
    { name: 'trace', type: 'boolean', description: 'global4 and global8 print what each handler is doing (state, kernel stack) and the zones\' free pages every 500 ms: for a handler that timed out. Use with --debug to see the console.' },
  ],
  examples: ['gs-kit vm test', 'gs-kit vm test --series 6.12 --scenario memcg,hang', 'gs-kit vm test --stock --series 6.1', 'gs-kit vm test --stock --series 6.12-deb13   # Debian 13\'s own 6.12', 'gs-kit vm test --stock --series 6.12-deb13 --flavour rt', 'gs-kit vm test --series 6.12 --scenario global8 --trace --debug', 'gs-kit vm system', 'gs-kit vm system --series 5.4', 'gs-kit vm system --stock --debian 12', 'gs-kit vm containers', 'gs-kit vm killers --out bench/killers.json'],
};

async function systemTest(options: ParsedArgs['options'], ui: Ui): Promise<number> {
  const debian = systemRelease(String(options.debian))!;
  const stock = Boolean(options.stock);
  const named = options.series === 'all' ? undefined : String(options.series);
  // Stock mode runs on the image's own kernel; the patched flow on a series gs-kit patches.
  const series = stock ? debian.kernelSeries : named ?? SYSTEM_DEFAULT_SERIES;
  if (stock && named && named !== series) {
    throw new GsError(`The Debian ${debian.number} image's own kernel is of series ${series}, not ${named}.`,
      `Leave out --series, or give --debian ${SYSTEM_RELEASES.find((r) => r.kernelSeries === named)?.number ?? SYSTEM_RELEASES[0]!.number}.`, 'usage');
  }
  if (!stock && !SERIES_NAMES.includes(series)) {
    throw new GsError(`vm system installs a patched kernel of ${SERIES_NAMES.join(', ')}, not ${series}.`, `Give --series ${SERIES_NAMES.at(-1)}, or --stock.`, 'usage');
  }
  const started = Date.now();
  const stages = await runSystemTest(series, ui, stock ? 'stock' : 'deb', debian);
  const failed = stages.filter((st) => !passed(st)).length;
  const { red, green } = ui.style;
  ui.print(`system test on ${series}, Debian ${debian.number}: ${failed ? red(`${failed} stage(s) failed`) : green('passed')} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (failed) throw new GsError(`${failed} system-test stage(s) failed.`, 'Read the stage console above.', 'vm');
  return 0;
}

async function containersTest(options: ParsedArgs['options'], ui: Ui, host: CommandEnv['host']): Promise<number> {
  const debian = systemRelease(String(options.debian))!;
  const started = Date.now();
  const judged = await runContainersTest(ui, debian);
  const failed = judged.checks.filter((c) => !c.ok).length;
  const { red, green } = ui.style;
  for (const [engine, m] of Object.entries(judged.timings.startMedianMs)) {
    ui.print(`${engine} run of a container that exits at once: ${m.plain} ms without the hook, ${m.hook} ms with it (median)`);
  }
  if (typeof options.out === 'string') {
    const result = { debian: debian.number, kernel: judged.kernel, passed: failed === 0, bootMs: judged.boot.durationMs, ...judged.timings };
    await host('/', false).writeFile(resolve(options.out), `${JSON.stringify(result, null, 2)}\n`);
    ui.print(`wrote ${options.out}`);
  }
  ui.print(`container test, Debian ${debian.number}: ${failed ? red(`${failed} check(s) failed`) : green('passed')} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (failed) throw new GsError(`${failed} container-test check(s) failed.`, 'Read the console above.', 'vm');
  return 0;
}

async function killersTest(options: ParsedArgs['options'], ui: Ui, host: CommandEnv['host']): Promise<number> {
  const started = Date.now();
  const judged = await runKillersTest(ui);
  const failed = judged.checks.filter((c) => !c.ok).length;
  const { red, green } = ui.style;
  for (const [killer, ms] of Object.entries(judged.timings.handlerMs)) {
    const start = judged.timings.startMs[killer];
    const held = judged.timings.heldMs[killer];
    ui.print(`${killer}: the handler ran ${ms ?? '?'} ms${start === undefined ? '' : `; from the killer's decision, it started after ${start} ms and the kill came after ${held ?? '?'} ms`}`);
  }
  if (typeof options.out === 'string') {
    const result = { debian: 'unstable', kernel: judged.kernel, passed: failed === 0, bootMs: judged.boot.durationMs, ...judged.timings };
    await host('/', false).writeFile(resolve(options.out), `${JSON.stringify(result, null, 2)}\n`);
    ui.print(`wrote ${options.out}`);
  }
  ui.print(`killers test, Debian unstable: ${failed ? red(`${failed} check(s) failed`) : green('passed')} in ${((Date.now() - started) / 60_000).toFixed(1)} min`);
  if (failed) throw new GsError(`${failed} killers-test check(s) failed.`, 'Read the console above.', 'vm');
  return 0;
}

export const vm: Command = {
  spec,
  async run({ positional, options }, { ui, host }) {
    if (positional[0] === 'system') return systemTest(options, ui);
    if (positional[0] === 'containers') return containersTest(options, ui, host);
    if (positional[0] === 'killers') return killersTest(options, ui, host);
    if (positional[0] !== 'test') {
      throw new GsError(`Unknown vm action "${positional[0] ?? ''}".`, 'Run "gs-kit vm test", "gs-kit vm system", "gs-kit vm containers" or "gs-kit vm killers".', 'usage');
    }
    const names = typeof options.scenario === 'string' ? options.scenario.split(',') : SUITE.map((s) => s.name);
    const scenarios = names.map((n) => scenarioNamed(n, SUITE));
    const stock = Boolean(options.stock);
    // all: every kernel, as make test-kernels runs them (make test boots lkm/kernels.json's *_tested only).
    const seriesList = options.series === 'all' ? (stock ? STOCK_KERNELS.map((x) => x.name) : [...SERIES_NAMES]) : [String(options.series)];
    const timeout = options.timeout === undefined ? undefined : Number(options.timeout);
    if (timeout !== undefined && !(timeout > 0)) throw new GsError(`--timeout must be a number of seconds, not "${options.timeout}".`, 'Write e.g. --timeout 300.', 'usage');
    const runOptions = {
      ...(timeout ? { timeoutMs: timeout * 1000 } : {}),
      slowdown: options.profile === 'debug' ? 3 : 1,
      ...(options.trace ? { append: 'gs.trace=1' } : {}),
    };
    const profile = options.profile as Profile;
    const unpatched = stock ? [] : seriesList.filter((x) => !SERIES_NAMES.includes(x));
    if (unpatched.length) {
      throw new GsError(`${unpatched.join(', ')} is a Debian kernel, not a series gs-kit patches.`,
        `Add --stock to boot it with the module in stock mode, or give --series ${SERIES_NAMES.join(', ')}.`, 'usage');
    }
    const notStock = stock ? seriesList.filter((x) => !stockSeriesNamed(x)) : [];
    if (notStock.length) {
      throw new GsError(`Stock mode is for ${stockNames(' and ')}, not ${notStock.join(', ')}.`,
        `Give --series ${stockNames()}, or leave out --stock.`, 'usage');
    }
    const flavour = options.flavour as Flavour;
    if (flavour !== 'generic' && (!stock || profile === 'debug')) {
      throw new GsError(`--flavour ${flavour} is a flavour of Debian's own kernels.`, 'Add --stock (and leave --profile at qemu: Debian has no debug kernel).', 'usage');
    }
    const failed = await runVmTest({
      scenarios, series: seriesList, profile, stock, flavour, boot: runOptions, consoles: Boolean(options.debug),
    }, ui);
    if (failed) {
      throw new GsError(`${failed} scenario run(s) failed.`, 'Rerun with --debug to see the guest console.', 'vm');
    }
    return 0;
  },
};
