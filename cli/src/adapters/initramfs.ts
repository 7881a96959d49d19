import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildCpio, type CpioEntry } from '../lib/cpio.js';
import { GsError } from '../lib/errors.js';
import { MODULE_FILE } from '../lib/module.js';
import { hashFiles } from './kernel-tree.js';
import { run } from './exec.js';
import { cacheRoot, repoRoot } from './paths.js';

export const BUSYBOX = '/bin/busybox';
export const TEST_PROGRAMS = [
  'oom_condition_creator', 'gs_handler_record', 'gs_handler_sleep', 'gs_handler_hang',
  'gs_handler_fail', 'proc_write', 'run_as',
  'gs_handler_crash', 'gs_handler_alloc', 'proc_fuzz',
  'forkexec_bench', 'stateful_workload', 'registry_bench', 'landlock_run', 'oom_watch', 'console_drain',
  'gs_handler_thread', 'gs_thread_sleeper', 'userns_run', 'seccomp_run', 'cgroup_bpf', 'fuse_stall', 'gs_save',
  'mempolicy_run',
  'gs_wait',
  'container_run',
  'gs-kit-killer',
];

/** Build the static test programs (cached by their sources). */
export async function buildTestPrograms(): Promise<string> {
  const srcDir = join(repoRoot(), 'test_programs');
  // They include the module's uapi header (lkm/graceful_shutdown.h) and gs-init's wake parser (oci/gs_wake.h), and build killers/: hash them too.
  const key = (await hashFiles(srcDir, /^(Makefile|.*\.[ch])$/)) + (await hashFiles(join(repoRoot(), 'lkm'), /^graceful_shutdown\.h$/)).slice(0, 8)
    + (await hashFiles(join(repoRoot(), 'oci'), /^gs_wake\.h$/)).slice(0, 8)
    + (await hashFiles(join(repoRoot(), 'killers'), /^.*\.c$/)).slice(0, 8);
  const out = join(cacheRoot(), 'test_programs', key);
  if (TEST_PROGRAMS.every((p) => existsSync(join(out, p)))) return out;
  // Built aside and renamed: the guest suite's two processes may both build them.
  const tmp = `${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const r = await run(['make', '-C', srcDir, `OUT=${tmp}`]);
  if (r.exitCode !== 0) {
    await rm(tmp, { recursive: true, force: true });
    throw new GsError(`Building the test programs failed: ${r.stderr.trim().split('\n').slice(-5).join(' ')}`,
      'Install a C compiler and static libc (apt-get install build-essential).', 'build');
  }
  // Whoever renames first wins; the other's copy, the same build, goes.
  await rename(tmp, out).catch(async (e: unknown) => {
    await rm(tmp, { recursive: true, force: true });
    if (!TEST_PROGRAMS.every((p) => existsSync(join(out, p)))) throw e;
  });
  return out;
}

async function assertStatic(path: string): Promise<void> {
  const r = await run(['sh', '-c', 'file -L "$0" 2>/dev/null || true', path]);
  if (/dynamically linked/.test(r.stdout)) {
    throw new GsError(`${path} is not statically linked, so it cannot run in the guest.`,
      'Install busybox-static (apt-get install busybox-static).', 'dependency');
  }
}

/**
 * An initramfs with busybox, the guest scripts, the module and the test
 * programs; @kernelModules (a distribution kernel's, in load order) go in
 * /gs/modules, which the guest's init loads first.
 */
export async function buildInitramfs(modulePath: string, dest: string, kernelModules: readonly string[] = []): Promise<string> {
  if (!existsSync(BUSYBOX)) {
    throw new GsError('busybox is not installed.', 'Install busybox-static (apt-get install busybox-static).', 'dependency');
  }
  await assertStatic(BUSYBOX);
  const programs = await buildTestPrograms();
  const guest = join(repoRoot(), 'vm', 'guest');
  const entries: CpioEntry[] = ['bin', 'dev', 'proc', 'sys', 'tmp', 'gs', 'gs/scenarios', 'gs/modules']
    .map((path) => ({ type: 'dir' as const, path }));
  for (const m of kernelModules) {
    entries.push({ type: 'file', path: `gs/modules/${basename(m)}`, data: await readFile(m), mode: 0o644 });
  }
  entries.push({ type: 'file', path: 'bin/busybox', data: await readFile(BUSYBOX), mode: 0o755 });
  entries.push({ type: 'file', path: 'init', data: await readFile(join(guest, 'init')), mode: 0o755 });
  entries.push({ type: 'file', path: 'gs/lib.sh', data: await readFile(join(guest, 'lib.sh')), mode: 0o644 });
  for (const f of (await readdir(join(guest, 'scenarios'))).sort()) {
    entries.push({ type: 'file', path: `gs/scenarios/${f}`, data: await readFile(join(guest, 'scenarios', f)), mode: 0o644 });
  }
  entries.push({ type: 'file', path: `gs/${MODULE_FILE}`, data: await readFile(modulePath), mode: 0o644 });
  for (const p of TEST_PROGRAMS) {
    entries.push({ type: 'file', path: `gs/${p}`, data: await readFile(join(programs, p)), mode: 0o755 });
  }
  // Written aside and renamed: another gs-kit may be booting the old one.
  const tmp = `${dest}.${process.pid}.tmp`;
  await writeFile(tmp, gzipSync(buildCpio(entries), { level: 1 }));
  await rename(tmp, dest);
  return dest;
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
