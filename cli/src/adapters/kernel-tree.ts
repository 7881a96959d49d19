import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { spawn } from 'node:child_process';
import { GsError } from '../lib/errors.js';
import { MODULE_FILE, MODULE_NAME } from '../lib/module.js';
import { mergeFragments, profilePlan, unmetOptions, type Profile } from '../lib/kconfig.js';
import { isSeriesPatch, versionFromMakefile, formatVersion, supportedSeriesList, type Kernel, type KernelVersion } from '../lib/kernels.js';
import { run } from './exec.js';
import { repoRoot } from './paths.js';
import { DKMS_VERSION, MODULE_SOURCE_PATTERN } from '../lib/install-plans.js';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Unpack a kernel tarball into @dest, dropping the top directory. GNU tar
 * with xz's threads: the JavaScript tar takes minutes of CPU for a kernel
 * tree, which a cold CI run pays once per series.
 */
export async function extractTarball(tarball: string, dest: string): Promise<void> {
  await mkdir(dest, { recursive: true });
  const decompress = tarball.endsWith('.xz') ? ['--use-compress-program=xz -T0'] : tarball.endsWith('.gz') ? ['-z'] : [];
  const r = await run(['tar', '-x', ...decompress, '-f', tarball, '-C', dest, '--strip-components=1', '--no-same-owner']);
  if (r.exitCode !== 0) {
    throw new GsError(`${tarball} could not be unpacked: ${(r.stderr.trim().split('\n').at(-1) ?? '') || `tar exited ${r.exitCode}`}.`,
      'The file is damaged or not a tar archive: download it again.', 'source');
  }
}

/**
 * The kernel version a source tarball holds, from its top-level Makefile,
 * read without unpacking the rest: the tarball is read only up to that
 * file.
 */
export async function tarballVersion(tarball: string): Promise<KernelVersion> {
  const xz = tarball.endsWith('.xz');
  const child = xz ? spawn('xz', ['-dc', tarball], { stdio: ['ignore', 'pipe', 'ignore'] }) : undefined;
  const input = child ? child.stdout : createReadStream(tarball);
  let makefile: string | undefined;
  const parser = new tar.Parser({
    filter: (path) => /^[^/]+\/Makefile$/.test(path),
    onReadEntry: (entry) => {
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => {
        makefile = Buffer.concat(chunks).toString();
        input.destroy();
      });
    },
  });
  await new Promise<void>((resolve) => {
    input.on('close', resolve);
    input.on('error', () => resolve());
    parser.on('error', () => { input.destroy(); });
    input.pipe(parser);
  });
  child?.kill();
  if (makefile === undefined) {
    throw new GsError(`${tarball} holds no top-level Makefile: it is not a Linux source tarball, or it is damaged.`,
      'Give a Linux source tarball such as linux-6.1.tar.xz.', 'source');
  }
  return versionFromMakefile(makefile);
}

/** The series' patches in order; a cover letter (0000-cover-letter.patch) has no diff and is not one. */
export async function patchFiles(series: string): Promise<string[]> {
  const dir = join(repoRoot(), 'kernel', 'patches', series);
  return (await readdir(dir)).filter(isSeriesPatch).sort().map((f) => join(dir, f));
}

/**
 * Apply the series' patches: first a dry run of every patch with no fuzz,
 * so that a tree they do not fit is refused before anything changes.
 */
export async function applyPatches(src: string, info: Pick<Kernel, 'series' | 'version'>, patches: string[]): Promise<void> {
  for (const patch of patches) {
    const dry = await run(['patch', '-p1', '-F0', '-N', '--dry-run', '-s', '-i', patch], { cwd: src });
    if (dry.exitCode !== 0) {
      throw new GsError(
        `The gs-kit patch for ${info.series.series} does not apply to Linux ${formatVersion(info.version)}: ${(dry.stdout + dry.stderr).trim().split('\n')[0]}`,
        `Use an unmodified kernel source of a supported series (${supportedSeriesList()}), or --kernel distro.`,
        'patch',
      );
    }
  }
  for (const patch of patches) {
    const r = await run(['patch', '-p1', '-F0', '-N', '-s', '-i', patch], { cwd: src });
    if (r.exitCode !== 0) throw new GsError(`Applying ${patch} failed: ${r.stdout}${r.stderr}`, 'Delete the build cache and retry.', 'patch');
  }
}

export function configFragments(profile: Profile): { name: string; path: string }[] {
  return profilePlan(profile).fragments.map((name) => ({ name, path: join(repoRoot(), 'kernel', 'config', name) }));
}

/** Make .config for @profile and check every requested option took. */
export async function configure(src: string, profile: Profile, logFile: string): Promise<void> {
  const plan = profilePlan(profile);
  const fragments = configFragments(profile);
  if (plan.base === 'tinyconfig') {
    await mustRun(['make', 'tinyconfig'], src, logFile);
  } else {
    const running = `/boot/config-${(await run(['uname', '-r'])).stdout.trim()}`;
    if (!existsSync(running)) {
      throw new GsError(`The running kernel's config ${running} is missing.`,
        'Build with --profile qemu, or install the running kernel\'s config.', 'build');
    }
    await cp(running, join(src, '.config'));
  }
  await mustRun(['scripts/kconfig/merge_config.sh', '-m', '.config', ...fragments.map((f) => f.path)], src, logFile);
  await mustRun(['make', 'olddefconfig'], src, logFile);
  const requested = mergeFragments(await Promise.all(fragments.map((f) => readFile(f.path, 'utf8'))));
  const unmet = unmetOptions(requested, await readFile(join(src, '.config'), 'utf8'));
  if (unmet.length) {
    throw new GsError(
      `The kernel config lacks options gs-kit needs: ${unmet.map((u) => `${u.option}=${u.wanted} (got ${u.got})`).join(', ')}.`,
      'Their Kconfig dependencies are missing from the fragments under kernel/config/; add them.',
      'build',
    );
  }
}

async function mustRun(argv: string[], cwd: string, logFile: string, onLine?: (l: string) => void): Promise<void> {
  const r = await run(argv, { cwd, logFile, ...(onLine ? { onLine } : {}) });
  if (r.exitCode !== 0) {
    const tail = (await readFile(logFile, 'utf8')).split('\n').slice(-25).join('\n');
    throw new GsError(`"${argv.join(' ')}" failed (exit ${r.exitCode}). Last lines of ${logFile}:\n${tail}`,
      `Read the whole log in ${logFile}.`, 'build');
  }
}

/** Build the kernel, counting compiled files for progress. */
export async function buildKernel(src: string, jobs: number, logFile: string, onCompiled: (n: number) => void): Promise<void> {
  let compiled = 0;
  await mustRun(['make', `-j${jobs}`], src, logFile, (line) => {
    if (/^\s+(CC|AS|LD|AR)\b/.test(line)) onCompiled(++compiled);
  });
}

export interface ModuleBuild {
  module: string;
  warnings: string[];
}

/** A fresh @dir holding this checkout's module source (lkm/: what MODULE_SOURCE_PATTERN names). */
async function freshModuleSource(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const lkm = join(repoRoot(), 'lkm');
  for (const f of await readdir(lkm)) {
    if (MODULE_SOURCE_PATTERN.test(f)) await cp(join(lkm, f), join(dir, f));
  }
}

/** The compiler's warnings in a build log. */
function warningLines(log: string): string[] {
  return log.split('\n').filter((l) => /warning:/.test(l));
}

/**
 * Build the module out of tree against @src, in @outDir.
 * @hook "stock": the stock-mode hook even on a patched tree (lkm/Kbuild's GS_HOOK).
 */
export async function buildModule(src: string, outDir: string, opts: { hook?: 'stock' } = {}): Promise<ModuleBuild> {
  await freshModuleSource(outDir);
  const logFile = join(outDir, 'build.log');
  await mustRun(['make', '-C', src, `M=${outDir}`, ...(opts.hook ? [`GS_HOOK=${opts.hook}`] : []), 'modules'], src, logFile);
  return { module: join(outDir, MODULE_FILE), warnings: warningLines(await readFile(logFile, 'utf8')) };
}

/**
 * The module built by DKMS in @root, a root of the kernel's own release
 * that has its headers and dkms: as `dkms build` on a machine of that
 * release builds it (its dkms.conf, its gcc, the kernel's kbuild), from
 * this checkout's lkm/ as /usr/src/<module>-<version>. The module is
 * left in @outDir (a path inside @root), decompressed if DKMS compressed
 * it.
 */
export async function buildModuleWithDkms(root: string, release: string, outDir: string): Promise<ModuleBuild> {
  await freshModuleSource(join(root, 'usr/src', `${MODULE_NAME}-${DKMS_VERSION}`));
  await rm(join(root, outDir), { recursive: true, force: true });
  await mkdir(join(root, outDir), { recursive: true });
  const logFile = join(root, outDir, 'dkms.log');
  const tree = `/var/lib/dkms/${MODULE_NAME}/${DKMS_VERSION}`;
  // Forget an earlier source, add this one, build, take the module and the build's log out.
  const script = [
    'set -e',
    `dkms remove -m ${MODULE_NAME} -v ${DKMS_VERSION} --all >/dev/null 2>&1 || true`,
    `dkms add -m ${MODULE_NAME} -v ${DKMS_VERSION}`,
    `dkms build -m ${MODULE_NAME} -v ${DKMS_VERSION} -k "$1" --force`,
    `cp ${tree}/"$1"/x86_64/log/make.log "$2/make.log"`,
    `m=$(ls ${tree}/"$1"/x86_64/module/${MODULE_FILE}*)`,
    `case "$m" in *.xz) xz -dc "$m" ;; *.zst) zstd -dc "$m" ;; *.gz) gzip -dc "$m" ;; *) cat "$m" ;; esac > "$2/${MODULE_FILE}"`,
  ].join('\n');
  // In the root, with a /proc of its own (objtool reads its limits there from 6.18), gone with the build.
  await mustRun(['unshare', '-m', 'sh', '-c', 'mount -t proc proc "$0/proc" && exec chroot "$0" sh -c "$@"', root, script, 'dkms', release, outDir],
    root, logFile);
  return { module: join(root, outDir, MODULE_FILE), warnings: warningLines(await readFile(join(root, outDir, 'make.log'), 'utf8')) };
}

export async function hashFiles(dir: string, filter: RegExp): Promise<string> {
  const hash = createHash('sha256');
  for (const f of (await readdir(dir)).filter((n) => filter.test(n)).sort()) {
    hash.update(f).update('\0').update(await readFile(join(dir, f)));
  }
  return hash.digest('hex').slice(0, 16);
}

