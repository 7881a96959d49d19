/**
 * Orchestration the commands share: build a patched kernel with progress,
 * and everything a guest needs for one series. Sits between the commands
 * (options, prompts, output) and the adapters (one outside thing each).
 */
import { dirname, join } from 'node:path';
import { buildInitramfs } from '../adapters/initramfs.js';
import { ensureBuild, seriesSource, type BuildArtifacts } from '../adapters/kernel-build.js';
import { ensureStockKernel, type StockKernel } from '../adapters/stock-kernel.js';
import type { ModuleHook, ScenarioRun } from '../adapters/guest.js';
import { color, printVerdicts, taskList } from '../adapters/ui.js';
import type { Profile } from '../lib/kconfig.js';

/** Build with a progress display. */
export async function buildWithProgress(
  tarball: string, profile: Profile, jobs?: number, moduleHook?: 'stock',
): Promise<BuildArtifacts> {
  const ctx: { artifacts?: BuildArtifacts } = {};
  const notes: string[] = [];
  await taskList<typeof ctx>([{
    title: `Build a patched kernel (${profile}) from ${tarball}`,
    task: async (c, task) => {
      let lastShown = 0;
      c.artifacts = await ensureBuild({ tarball, profile, ...(jobs ? { jobs } : {}), ...(moduleHook ? { moduleHook } : {}) }, {
        step: (title) => { task.output = title; },
        note: (text) => { notes.push(text); },
        output: (text) => {
          // Redraw at most every 50 files: the simple renderer prints every update.
          const n = Number(/^(\d+) files/.exec(text)?.[1] ?? NaN);
          if (Number.isNaN(n) || n - lastShown >= 50) {
            lastShown = Number.isNaN(n) ? lastShown : n;
            task.output = text;
          }
        },
      });
      task.title = `Kernel ${c.artifacts.release} (${profile}) and module${moduleHook ? ` (${moduleHook} mode)` : ''} ready`;
    },
  }]).run(ctx);
  for (const n of notes) console.log(color.yellow(`note: ${n}`));
  return ctx.artifacts!;
}

/** What a guest boots: a kernel, and an initramfs with the module built for it. */
export interface Guest {
  kernel: string;
  initrd: string;
  release: string;
  moduleWarnings: string[];
  /** How the module in it hears of victims: the patch's notifier, or the stock-mode hook. */
  hook: ModuleHook;
}

/**
 * Build what the guests need for one series: the patched kernel, module,
 * initramfs. @moduleHook "stock": the module in stock mode on that kernel
 * (the patch present but unused), so that the stock hook's code runs on our
 * debug build; Debian has no debug kernel to boot.
 */
export async function prepareGuest(
  series: string, profile: Profile, moduleHook?: 'stock',
): Promise<Guest & { artifacts: BuildArtifacts }> {
  const artifacts = await buildWithProgress(seriesSource(series), profile, undefined, moduleHook);
  const initrd = await buildInitramfs(artifacts.module,
    join(artifacts.buildDir, moduleHook ? `initramfs-${moduleHook}.cpio.gz` : 'initramfs.cpio.gz'));
  return {
    artifacts, kernel: artifacts.bzImage, initrd, release: artifacts.release, moduleWarnings: artifacts.moduleWarnings,
    hook: moduleHook ?? 'patched',
  };
}

/**
 * A stock-mode guest: the distribution's own kernel of @series, unmodified,
 * with the module built against its headers and the modules it needs.
 */
export async function prepareStockGuest(series: string): Promise<Guest> {
  const ctx: { k?: StockKernel } = {};
  await taskList<typeof ctx>([{
    title: `Debian's own ${series} kernel and the module built against its headers`,
    task: async (c, task) => {
      c.k = await ensureStockKernel(series);
      task.title = `Debian kernel ${c.k.release} (stock, unmodified) and module ready`;
    },
  }]).run(ctx);
  const k = ctx.k!;
  const initrd = await buildInitramfs(k.module, join(dirname(k.module), 'initramfs.cpio.gz'), k.modules);
  return { kernel: k.vmlinuz, initrd, release: k.release, moduleWarnings: k.moduleWarnings, hook: 'stock' };
}

/** A scenario run's verdicts, one line each. */
export function printRun(run: ScenarioRun, series: string): void {
  printVerdicts(`${color.bold(`[${series}] ${run.scenario.name}`)}: ${run.scenario.title}`, run.checks, run.boot.durationMs);
}
