/**
 * Guests, as the commands and the guest suite use them: what a guest of a
 * series boots (a patched build and its initramfs, or Debian's own kernel
 * in stock mode), and a scenario booted on one and judged.
 */
import { dirname, join } from 'node:path';
import { bootScenario, type BootOptions } from '../adapters/guest.js';
import { buildInitramfs } from '../adapters/initramfs.js';
import { locateSource } from '../adapters/kernel-source.js';
import { ensureStockKernel } from '../adapters/stock-kernel.js';
import { judgeScenario, type ScenarioRun } from '../lib/judge.js';
import type { Profile } from '../lib/kconfig.js';
import type { ModuleHook } from '../lib/kernels.js';
import type { Reporter } from '../lib/reporter.js';
import type { KernelFeature, Scenario } from '../lib/scenario.js';
import { GsError } from '../lib/errors.js';
import { stockNames, stockSeriesNamed, type Flavour } from '../lib/stock.js';
import { buildPatched, type BuildArtifacts } from './build.js';

export type { ScenarioRun } from '../lib/judge.js';

/** What a guest boots: a kernel, and an initramfs with the module built for it. */
export interface Guest {
  kernel: string;
  initrd: string;
  release: string;
  moduleWarnings: string[];
  /** How the module in it hears of victims: the patch's notifier, or the stock-mode hook. */
  hook: ModuleHook;
  /** What its kernel lacks that some scenarios need (lib/scenario.ts kernelLacks): Debian's cloud kernels lack 9p and NUMA emulation. */
  lacks: KernelFeature[];
}

/**
 * Build what the guests need for one series: the patched kernel, module,
 * initramfs. @hook "stock": the module in stock mode on that kernel (the
 * patch present but unused), so that the stock hook's code runs on our
 * debug build; Debian has no debug kernel to boot.
 */
export async function prepareGuest(
  series: string, profile: Profile, reporter: Reporter, hook: ModuleHook = 'patched',
): Promise<Guest & { artifacts: BuildArtifacts }> {
  const artifacts = await buildPatched(locateSource({ from: 'series', series }), profile, hook, reporter);
  const initrd = await buildInitramfs(artifacts.module,
    join(artifacts.buildDir, hook === 'stock' ? 'initramfs-stock.cpio.gz' : 'initramfs.cpio.gz'));
  return { artifacts, kernel: artifacts.bzImage, initrd, release: artifacts.release, moduleWarnings: artifacts.moduleWarnings, hook, lacks: [] };
}

/**
 * A stock-mode guest: the distribution's own kernel @name (lib/stock.ts),
 * unmodified, with the module built against its headers and the modules it
 * needs.
 */
export async function prepareStockGuest(name: string, reporter: Reporter, flavour: Flavour = 'generic'): Promise<Guest> {
  const k = await reporter.task(`Debian's own ${name}${flavour === 'generic' ? '' : ` ${flavour}`} kernel and the module built against its headers`,
    () => ensureStockKernel(name, flavour),
    (s) => `Debian kernel ${s.release} (stock, unmodified) and module ready`);
  const initrd = await buildInitramfs(k.module, join(dirname(k.module), 'initramfs.cpio.gz'), k.modules);
  return { kernel: k.vmlinuz, initrd, release: k.release, moduleWarnings: k.moduleWarnings, hook: 'stock', lacks: k.lacks };
}

/** The guest of a series as a suite runs it: patched, or stock (on the debug profile, our debug build in stock mode). */
export async function suiteGuest(series: string, profile: Profile, stock: boolean, reporter: Reporter, flavour: Flavour = 'generic'): Promise<Guest> {
  if (!stock) return prepareGuest(series, profile, reporter);
  // Debian has no debug kernel: stock mode on the debug profile is our debug build with a stock-mode module.
  const s = stockSeriesNamed(series);
  if (!s) throw new GsError(`There is no stock kernel called ${series}.`, `Choose ${stockNames()}.`, 'usage');
  return profile === 'debug' ? prepareGuest(s.series, profile, reporter, 'stock') : prepareStockGuest(s.name, reporter, flavour);
}

export interface RunOptions extends BootOptions {
  /** The mode the module must report each time the scenario loads it (the suite checks it is the one built). */
  hook?: ModuleHook;
}

/** Boot @scenario on @guest and judge what it reported. */
export async function runScenario(scenario: Scenario, guest: Pick<Guest, 'kernel' | 'initrd'>, opts: RunOptions = {}): Promise<ScenarioRun> {
  const { hook, ...boot } = opts;
  const { boot: result, timeoutMs } = await bootScenario(scenario, guest.kernel, guest.initrd, boot);
  return judgeScenario(scenario, result, timeoutMs, hook);
}
