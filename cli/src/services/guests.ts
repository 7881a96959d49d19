/**
 * Orchestration the commands share: build a patched kernel with progress,
 * and everything a guest needs for one series. Sits between the commands
 * (options, prompts, output) and the adapters (one outside thing each).
 */
import { join } from 'node:path';
import { buildInitramfs } from '../adapters/initramfs.js';
import { ensureBuild, seriesSource, type BuildArtifacts } from '../adapters/kernel-build.js';
import type { ScenarioRun } from '../adapters/guest.js';
import { color, printVerdicts, taskList } from '../adapters/ui.js';
import type { Profile } from '../lib/kconfig.js';

/** Build with a progress display. */
export async function buildWithProgress(tarball: string, profile: Profile, jobs?: number): Promise<BuildArtifacts> {
  const ctx: { artifacts?: BuildArtifacts } = {};
  const notes: string[] = [];
  await taskList<typeof ctx>([{
    title: `Build a patched kernel (${profile}) from ${tarball}`,
    task: async (c, task) => {
      let lastShown = 0;
      c.artifacts = await ensureBuild({ tarball, profile, ...(jobs ? { jobs } : {}) }, {
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
      task.title = `Kernel ${c.artifacts.release} (${profile}) and module ready`;
    },
  }]).run(ctx);
  for (const n of notes) console.log(color.yellow(`note: ${n}`));
  return ctx.artifacts!;
}

/** Build what the guests need for one series: kernel, module, initramfs. */
export async function prepareGuest(series: string, profile: Profile) {
  const artifacts = await buildWithProgress(seriesSource(series), profile);
  const initrd = await buildInitramfs(artifacts.module, join(artifacts.buildDir, 'initramfs.cpio.gz'));
  return { artifacts, initrd };
}

/** A scenario run's verdicts, one line each. */
export function printRun(run: ScenarioRun, series: string): void {
  printVerdicts(`${color.bold(`[${series}] ${run.scenario.name}`)}: ${run.scenario.title}`, run.checks, run.boot.durationMs);
}
