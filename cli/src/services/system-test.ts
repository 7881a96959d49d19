/**
 * `gs-kit vm system`: the host workflow, run on a real Debian 12 system in
 * QEMU. Build the kernel packages on this host, boot the image on Debian's
 * own kernel and let its first stage install them and configure the system
 * as the README says; then boot the kernel and command line its generated
 * grub.cfg names and let the second stage use gs-kit as a user would.
 * (GRUB itself is not installed to the disk image: QEMU boots the kernel,
 * initramfs and command line of the grub.cfg entry directly.)
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { buildDebs, ensureBuild, seriesSource, type BuildArtifacts } from '../adapters/kernel-build.js';
import { run } from '../adapters/exec.js';
import { buildTestPrograms } from '../adapters/initramfs.js';
import { cacheRoot, repoRoot } from '../adapters/paths.js';
import { boot, type BootResult } from '../adapters/qemu.js';
import { copyForRun, ensureSystemImage } from '../adapters/system-image.js';
import { check, type Check } from '../lib/checks.js';
import { GsError } from '../lib/errors.js';
import { parseGuestOutput, type GuestReport } from '../lib/guest-protocol.js';
import { commonChecks } from '../lib/scenario.js';
import { grubEntryFor, stage1Checks, stage2Checks, type SystemMode } from '../lib/system-test.js';

export interface SystemStage {
  name: string;
  boot: BootResult;
  report: GuestReport;
  checks: Check[];
}

export interface SystemTestReporter {
  step(title: string): void;
  stage(stage: SystemStage): void;
}

const MEMORY_MB = 2048;
const STAGE_TIMEOUT_MS = 30 * 60_000;

/** The .deb packages of a build, made once and kept with it. */
async function ensureDebs(a: BuildArtifacts, onLine: (l: string) => void): Promise<void> {
  const have = (await readdir(a.buildDir)).some((f) => f.startsWith(`linux-image-${a.release}_`) && f.endsWith('.deb'));
  if (!have) await buildDebs(a, 2, onLine);
}

function judge(name: string, result: BootResult, own: (r: GuestReport) => Check[], timeoutMs: number): SystemStage {
  const report = parseGuestOutput(result.console);
  return {
    name, boot: result, report,
    checks: [
      ...(result.timedOut ? [check(`the guest finished within ${timeoutMs / 60_000} min`, false)] : []),
      ...commonChecks(report),
      ...own(report),
    ],
  };
}

/**
 * The whole run. @mode deb builds the patched kernel's packages on this host
 * and installs them; stock installs the module alone for the image's own
 * Debian kernel (install-module: no kernel of ours at all).
 */
export async function runSystemTest(series: string, reporter: SystemTestReporter, mode: SystemMode = 'deb'): Promise<SystemStage[]> {
  let debsDir: string | undefined;
  let release: string | undefined;
  if (mode === 'deb') {
    reporter.step(`Build the gs-kit kernel (profile system) for ${series}`);
    const a = await ensureBuild({ tarball: seriesSource(series), profile: 'system' }, {
      step: (t) => reporter.step(t), output: () => undefined, note: () => undefined,
    });
    reporter.step('Build its .deb packages (make bindeb-pkg)');
    await ensureDebs(a, () => undefined);
    debsDir = a.buildDir;
    release = a.release;
  }
  const progs = await buildTestPrograms();
  reporter.step('Build or reuse the Debian 12 image');
  const image = await ensureSystemImage((s) => reporter.step(s));
  release ??= image.debianRelease;
  if (mode === 'stock' && !release.startsWith(`${series}.`)) {
    throw new GsError(`The image's Debian kernel is ${release}, not of series ${series}.`, `Run vm system --stock --series ${release.split('.').slice(0, 2).join('.')}.`, 'usage');
  }

  await mkdir(join(cacheRoot(), 'system-runs'), { recursive: true });
  const runDir = await mkdtemp(join(cacheRoot(), 'system-runs', 'run-'));
  const results = join(runDir, 'results');
  await mkdir(results);
  // What "npm ci --omit=dev" would leave: the stage copies only these.
  const deps = await run(['npm', 'ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot() });
  const prod = deps.stdout.split('\n').map((l) => relative(repoRoot(), l.trim())).filter((l) => l.startsWith('node_modules/'));
  await writeFile(join(results, 'prod-modules.txt'), `${prod.join('\n')}\n`);
  try {
    const disk = await copyForRun(image, runDir);
    const hooks = `gs.repo=${repoRoot()} gs.progs=${progs}`;
    const shares = [{ path: results, tag: 'results', readonly: false }];
    const how = mode === 'stock' ? 'gs.mode=stock' : `gs.debs=${debsDir}`;
    reporter.step(`Boot 1: Debian's kernel ${image.debianRelease}; ${mode === 'stock' ? 'install-module' : 'install-kernel --deb'}, configure`);
    const one = judge('stage 1', await boot({
      kernel: image.debianKernel, initrd: image.debianInitrd, memoryMb: MEMORY_MB, smp: 2, timeoutMs: STAGE_TIMEOUT_MS,
      append: `root=/dev/vda rw ${hooks} gs.stage=1 ${how}`, shareHostRoot: true, shares, drives: [disk],
    }), (r) => stage1Checks(r, release, mode), STAGE_TIMEOUT_MS);
    reporter.stage(one);
    const stages = [one];
    const cfg = existsSync(join(results, 'grub.cfg')) ? await readFile(join(results, 'grub.cfg'), 'utf8') : '';
    const entry = grubEntryFor(cfg, release);
    if (!entry) {
      throw new GsError(`The grub.cfg that configure generated has no entry for ${release}.`,
        `See ${join(results, 'grub.cfg')} and the stage 1 console above.`, 'vm');
    }
    const base = (p: string) => join(results, p.split('/').pop()!);
    reporter.step(`Boot 2: ${entry.title} (${entry.linux} ${entry.cmdline})`);
    const two = judge('stage 2', await boot({
      kernel: base(entry.linux), ...(entry.initrd ? { initrd: base(entry.initrd) } : {}), memoryMb: MEMORY_MB, smp: 2,
      timeoutMs: STAGE_TIMEOUT_MS, append: `${entry.cmdline} ${hooks} gs.stage=2`, shareHostRoot: true, shares, drives: [disk],
    }), (r) => stage2Checks(r, release, entry.cmdline, mode), STAGE_TIMEOUT_MS);
    reporter.stage(two);
    stages.push(two);
    return stages;
  } finally {
    await rm(runDir, { recursive: true, force: true });
  }
}
