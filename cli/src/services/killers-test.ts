/**
 * `gs-kit vm killers`: one registration heard by systemd-oomd, earlyoom
 * and the kernel's OOM killer, whichever comes first, in a Debian
 * unstable system in QEMU booted on Debian's own kernel (stock mode, no
 * reboot). The stage is vm/system/stage-killers.sh; the judging,
 * lib/killers-test.ts.
 */
import { buildTestPrograms } from '../adapters/initramfs.js';
import { repoRoot } from '../adapters/paths.js';
import { boot } from '../adapters/qemu.js';
import { ensureSystemImage, openSystemRun } from '../adapters/system-image.js';
import { judgeBoot, type Judged } from '../lib/judge.js';
import { KILLER_PACKAGES, KILLERS_RELEASE, killersChecks, killerTimings, type KillerTimings } from '../lib/killers-test.js';
import type { Reporter } from '../lib/reporter.js';

const MEMORY_MB = 2048;
const TIMEOUT_MS = 30 * 60_000;

/** Build or reuse the image, boot it once, judge what the stage said. */
export async function runKillersTest(reporter: Reporter): Promise<Judged & { timings: KillerTimings; kernel: string }> {
  const debian = KILLERS_RELEASE;
  const progs = await buildTestPrograms();
  reporter.step(`Build or reuse the Debian ${debian.number} image with systemd-oomd and earlyoom`);
  const image = await ensureSystemImage(debian, (s) => reporter.step(s), KILLER_PACKAGES);
  const run = await openSystemRun(image);
  try {
    reporter.step(`Boot Debian's kernel ${image.debianRelease}: install-module, configure, then systemd-oomd, earlyoom and the kernel each kill a protected workload`);
    const result = await boot({
      kernel: image.debianKernel, initrd: image.debianInitrd, memoryMb: MEMORY_MB, smp: 2, timeoutMs: TIMEOUT_MS,
      append: `root=/dev/vda rw gs.repo=${repoRoot()} gs.progs=${progs} gs.stage=-killers`,
      shareHostRoot: true, shares: [{ path: run.results, tag: 'results', readonly: false }], drives: [run.disk],
    });
    const judged = judgeBoot(result, killersChecks, { limit: `${TIMEOUT_MS / 60_000} min` });
    const ok = judged.checks.every((c) => c.ok);
    reporter.verdict({
      label: debian.suite, name: 'killers', checks: judged.checks, durationMs: result.durationMs, ...(ok ? {} : { console: result.console }),
    });
    return { ...judged, timings: killerTimings(judged.report), kernel: image.debianRelease };
  } finally {
    await run.close();
  }
}
