/**
 * `gs-kit vm containers`: a container protected with no change to its
 * image, on rootful and rootless Podman, Docker and containerd, in a
 * Debian system in QEMU booted on Debian's own kernel (stock mode, no
 * reboot). The stage is vm/system/stage-containers.sh; the judging,
 * lib/containers-test.ts.
 */
import { buildTestPrograms } from '../adapters/initramfs.js';
import { repoRoot } from '../adapters/paths.js';
import { boot } from '../adapters/qemu.js';
import { ensureSystemImage, openSystemRun } from '../adapters/system-image.js';
import { containersChecks, containerTimings, type ContainerTimings } from '../lib/containers-test.js';
import { judgeBoot, type Judged } from '../lib/judge.js';
import type { Reporter } from '../lib/reporter.js';
import { CONTAINER_PACKAGES } from '../lib/containers-test.js';
import { SYSTEM_RELEASES, type SystemRelease } from '../lib/system-test.js';

const MEMORY_MB = 2048;
const TIMEOUT_MS = 40 * 60_000;

/** Build or reuse the image, boot it once, judge what the stage said. */
export async function runContainersTest(reporter: Reporter, debian: SystemRelease = SYSTEM_RELEASES[0]!): Promise<Judged & { timings: ContainerTimings; kernel: string }> {
  const progs = await buildTestPrograms();
  reporter.step(`Build or reuse the Debian ${debian.number} image with Podman, Docker and containerd`);
  const image = await ensureSystemImage(debian, (s) => reporter.step(s), CONTAINER_PACKAGES);
  const run = await openSystemRun(image);
  try {
    reporter.step(`Boot Debian's kernel ${image.debianRelease}: install-module, configure, a protected container on each engine`);
    const result = await boot({
      kernel: image.debianKernel, initrd: image.debianInitrd, memoryMb: MEMORY_MB, smp: 2, timeoutMs: TIMEOUT_MS,
      append: `root=/dev/vda rw gs.repo=${repoRoot()} gs.progs=${progs} gs.stage=-containers`,
      shareHostRoot: true, shares: [{ path: run.results, tag: 'results', readonly: false }], drives: [run.disk],
    });
    const judged = judgeBoot(result, containersChecks, { limit: `${TIMEOUT_MS / 60_000} min` });
    const ok = judged.checks.every((c) => c.ok);
    reporter.verdict({
      label: debian.suite, name: 'containers', checks: judged.checks, durationMs: result.durationMs, ...(ok ? {} : { console: result.console }),
    });
    return { ...judged, timings: containerTimings(judged.report), kernel: image.debianRelease };
  } finally {
    await run.close();
  }
}
