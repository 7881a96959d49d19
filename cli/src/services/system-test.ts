/**
 * `gs-kit vm system`: the host workflow, run on a real Debian 13 (or 12) system in
 * QEMU. Build the kernel packages on this host, boot the image on Debian's
 * own kernel and let its first stage install them and configure the system
 * as the README says; then boot the kernel and command line its generated
 * grub.cfg names and let the second stage use gs-kit as a user would.
 * (GRUB itself is not installed to the disk image: QEMU boots the kernel,
 * initramfs and command line of the grub.cfg entry directly.)
 */
import { join } from 'node:path';
import { buildTestPrograms } from '../adapters/initramfs.js';
import { repoRoot } from '../adapters/paths.js';
import { boot } from '../adapters/qemu.js';
import { ensureSystemImage, openSystemRun } from '../adapters/system-image.js';
import { GsError } from '../lib/errors.js';
import { judgeBoot, type Judged } from '../lib/judge.js';
import type { Reporter, Verdict } from '../lib/reporter.js';
import { grubEntryFor, stage1Checks, stage2Checks, SYSTEM_RELEASES, type SystemMode } from '../lib/system-test.js';
import { ensureBuild, ensureDebs, kernelFor } from './build.js';

/** A stage's boot, judged. */
export interface SystemStage extends Judged {
  name: string;
}

const MEMORY_MB = 2048;
const STAGE_TIMEOUT_MS = 30 * 60_000;

/** A stage's boot judged by @own, within the stage's time limit. */
function stage(name: string, result: Judged['boot'], own: Parameters<typeof judgeBoot>[1]): SystemStage {
  return { name, ...judgeBoot(result, own, { limit: `${STAGE_TIMEOUT_MS / 60_000} min` }) };
}

/** A stage as a reporter is told of it: a failed stage shows its console. */
function stageVerdict(series: string, st: SystemStage): Verdict {
  const ok = st.checks.every((c) => c.ok);
  return { label: series, name: `system ${st.name}`, checks: st.checks, durationMs: st.boot.durationMs, ...(ok ? {} : { console: st.boot.console }) };
}

/**
 * The whole run. @mode deb builds the patched kernel's packages on this host
 * and installs them; stock installs the module alone for the image's own
 * Debian kernel (install-module: no kernel of ours at all).
 */
export async function runSystemTest(series: string, reporter: Reporter, mode: SystemMode = 'deb', debian = SYSTEM_RELEASES[0]!): Promise<SystemStage[]> {
  let debsDir: string | undefined;
  let release: string | undefined;
  if (mode === 'deb') {
    reporter.step(`Build the gs-kit kernel (profile system) for ${series}`);
    const a = await ensureBuild(await kernelFor({ from: 'series', series }, 'system', 'patched', reporter), reporter);
    reporter.step('Build its .deb packages (make bindeb-pkg)');
    await ensureDebs(a, reporter);
    debsDir = a.buildDir;
    release = a.release;
  }
  const progs = await buildTestPrograms();
  reporter.step(`Build or reuse the Debian ${debian.number} image`);
  const image = await ensureSystemImage(debian, (s) => reporter.step(s));
  release ??= image.debianRelease;
  if (mode === 'stock' && !release.startsWith(`${series}.`)) {
    throw new GsError(`The image's Debian kernel is ${release}, not of series ${series}.`, `Run vm system --stock --series ${release.split('.').slice(0, 2).join('.')}.`, 'usage');
  }

  const run = await openSystemRun(image);
  const { results, disk } = run;
  try {
    const hooks = `gs.repo=${repoRoot()} gs.progs=${progs}`;
    const shares = [{ path: results, tag: 'results', readonly: false }];
    const how = mode === 'stock' ? 'gs.mode=stock' : `gs.debs=${debsDir}`;
    reporter.step(`Boot 1: Debian's kernel ${image.debianRelease}; ${mode === 'stock' ? 'install-module' : 'install-kernel --deb'}, configure`);
    const one = stage('stage 1', await boot({
      kernel: image.debianKernel, initrd: image.debianInitrd, memoryMb: MEMORY_MB, smp: 2, timeoutMs: STAGE_TIMEOUT_MS,
      append: `root=/dev/vda rw ${hooks} gs.stage=1 ${how}`, shareHostRoot: true, shares, drives: [disk],
    }), (r) => stage1Checks(r, release, mode, debian));
    reporter.verdict(stageVerdict(series, one));
    const stages = [one];
    const entry = grubEntryFor(await run.grubCfg(), release);
    if (!entry) {
      throw new GsError(`The grub.cfg that configure generated has no entry for ${release}.`,
        `See ${join(results, 'grub.cfg')} and the stage 1 console above.`, 'vm');
    }
    const base = (p: string) => join(results, p.split('/').pop()!);
    reporter.step(`Boot 2: ${entry.title} (${entry.linux} ${entry.cmdline})`);
    const two = stage('stage 2', await boot({
      kernel: base(entry.linux), ...(entry.initrd ? { initrd: base(entry.initrd) } : {}), memoryMb: MEMORY_MB, smp: 2,
      timeoutMs: STAGE_TIMEOUT_MS, append: `${entry.cmdline} ${hooks} gs.stage=2`, shareHostRoot: true, shares, drives: [disk],
    }), (r) => stage2Checks(r, release, entry.cmdline, mode));
    reporter.verdict(stageVerdict(series, two));
    stages.push(two);
    return stages;
  } finally {
    await run.close();
  }
}
