/**
 * The Debian image `gs-kit vm system` boots (13 or 12): a root filesystem made by
 * mmdebstrap from the same archive apt uses, with the system-test unit
 * from vm/system/ and a normal user, as a raw ext4 disk image. Cached
 * under ~/.cache/gs-kit/images/<key>, keyed by what goes into it; each run
 * boots a copy, so that the cached image stays as built.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { cacheKey } from '../lib/cache-key.js';
import { GsError } from '../lib/errors.js';
import { SYSTEM_FILES, SYSTEM_PACKAGES, SYSTEM_USER, type SystemRelease } from '../lib/system-test.js';
import { haveCommand, run } from './exec.js';
import { cacheRoot, repoRoot } from './paths.js';

export interface SystemImage {
  dir: string;
  /** The raw ext4 image of the root filesystem. */
  image: string;
  /** Debian's own kernel and initramfs in it, for the first boot. */
  debianKernel: string;
  debianInitrd: string;
  debianRelease: string;
}

/** Bump when the recipe below changes in a way its inputs do not show. */
const IMAGE_RECIPE = 1;
const IMAGE_SIZE = '6G';

/** Shell for mmdebstrap's customize hook ($1 is the new root). */
function customizeScript(files: Record<string, string>): string {
  const installs = Object.entries(SYSTEM_FILES).map(([name, dest]) =>
    `install -D -m ${dest.includes('/sbin/') ? '0755' : '0644'} '${files[name]}' "$1${dest}"`);
  return [
    'set -e',
    `chroot "$1" useradd -m -s /bin/bash -u ${SYSTEM_USER.uid} ${SYSTEM_USER.name}`,
    ...installs,
    'mkdir -p "$1/etc/systemd/system/multi-user.target.wants"',
    'ln -sf /etc/systemd/system/gs-system-test.service "$1/etc/systemd/system/multi-user.target.wants/gs-system-test.service"',
    // What an administrator sets up on a VM: GRUB's defaults, a serial console, the root disk.
    '[ -f "$1/etc/default/grub" ] || cp "$1/usr/share/grub/default/grub" "$1/etc/default/grub"',
    'sed -i -e \'s/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="console=ttyS0"/\' -e \'s/^GRUB_TIMEOUT=.*/GRUB_TIMEOUT=0/\' "$1/etc/default/grub"',
    'mkdir -p "$1/boot/grub"',
    'echo "/dev/vda / ext4 defaults 0 1" > "$1/etc/fstab"',
    'echo gs-system > "$1/etc/hostname"',
  ].join('\n');
}

async function imageKey(files: Record<string, string>, suite: string, packages: readonly string[]): Promise<string> {
  return cacheKey([
    { name: 'recipe', content: String(IMAGE_RECIPE) },
    { name: 'suite', content: suite },
    { name: 'packages', content: [...packages].sort().join(' ') },
    ...await Promise.all(Object.keys(SYSTEM_FILES).map(async (n) => ({ name: `file/${n}`, content: await readFile(files[n]!) }))),
  ]);
}

/**
 * The image, built with mmdebstrap if it is not cached yet: the system
 * test's packages and @extraPackages (the container test's engines).
 */
export async function ensureSystemImage(debian: SystemRelease, onStep: (s: string) => void, extraPackages: readonly string[] = []): Promise<SystemImage> {
  const files = Object.fromEntries(Object.keys(SYSTEM_FILES).map((n) => [n, join(repoRoot(), 'vm', 'system', n)]));
  const packages = [...new Set([...SYSTEM_PACKAGES, ...extraPackages])];
  const dir = join(cacheRoot(), 'images', await imageKey(files, debian.suite, packages));
  const stamp = join(dir, 'image.json');
  if (existsSync(stamp)) return { dir, image: join(dir, 'root.img'), ...JSON.parse(await readFile(stamp, 'utf8')) };

  for (const tool of ['mmdebstrap', 'mkfs.ext4']) {
    if (!(await haveCommand(tool))) {
      throw new GsError(`${tool} is not installed.`, 'Install it: sudo gs-kit setup-vm --system (or sudo apt-get install mmdebstrap e2fsprogs).', 'dependency');
    }
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const rootfs = join(dir, 'rootfs');
  const log = join(dir, 'build.log');
  try {
    onStep(`mmdebstrap ${debian.suite} (${packages.length} packages and what they need)`);
    // As the apt views do (lib/stock.ts): a suite's Release file that
    // carries a Valid-Until (unstable's) outlives it on a mirror kept still.
    const r = await run(['mmdebstrap', '--variant=minbase', `--include=${packages.join(',')}`, '--aptopt=Acquire::Check-Valid-Until "false"',
      `--customize-hook=${customizeScript(files)}`, debian.suite, rootfs], { logFile: log });
    if (r.exitCode !== 0) {
      throw new GsError(`mmdebstrap failed (exit ${r.exitCode}); see ${log}.`, 'Check that the Debian archive apt uses is reachable.', 'vm');
    }
    const boot = await readdir(join(rootfs, 'boot'));
    const vmlinuz = boot.find((f) => /^vmlinuz-.*-amd64$/.test(f));
    const initrd = vmlinuz && boot.find((f) => f === `initrd.img-${vmlinuz.slice('vmlinuz-'.length)}`);
    if (!vmlinuz || !initrd) throw new GsError(`The image has no Debian kernel and initramfs in /boot (${boot.join(', ')}).`, `See ${log}.`, 'vm');
    const meta = {
      debianKernel: join(dir, vmlinuz), debianInitrd: join(dir, initrd), debianRelease: vmlinuz.slice('vmlinuz-'.length),
    };
    await copyFile(join(rootfs, 'boot', vmlinuz), meta.debianKernel);
    await copyFile(join(rootfs, 'boot', initrd), meta.debianInitrd);
    onStep(`mkfs.ext4 -d (${IMAGE_SIZE}, sparse)`);
    const mk = await run(['mkfs.ext4', '-q', '-F', '-L', 'gsroot', '-d', rootfs, join(dir, 'root.img'), IMAGE_SIZE], { logFile: log });
    if (mk.exitCode !== 0) throw new GsError(`mkfs.ext4 failed (exit ${mk.exitCode}); see ${log}.`, 'Check the free space in the cache.', 'vm');
    await rm(rootfs, { recursive: true, force: true });
    await writeFile(stamp, JSON.stringify(meta, null, 2));
    return { dir, image: join(dir, 'root.img'), ...meta };
  } catch (err) {
    await rm(rootfs, { recursive: true, force: true });
    throw err;
  }
}

/** One run's own directory: a copy of the image, and the results share the stages write to. */
export interface SystemRun {
  dir: string;
  /** Shared with the guest over 9p as "results". */
  results: string;
  /** The run's copy of the image (sparse, so it costs only what it holds). */
  disk: string;
  /** What configure generated as grub.cfg in stage 1 ("" if it left none). */
  grubCfg(): Promise<string>;
  /** Remove the run's directory. */
  close(): Promise<void>;
}

/**
 * A run of @image: its directory under the cache, the results share with
 * the list of production node modules the stage copies (what "npm ci
 * --omit=dev" would leave), and its copy of the image.
 */
export async function openSystemRun(image: SystemImage): Promise<SystemRun> {
  await mkdir(join(cacheRoot(), 'system-runs'), { recursive: true });
  const dir = await mkdtemp(join(cacheRoot(), 'system-runs', 'run-'));
  const results = join(dir, 'results');
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    await mkdir(results);
    const deps = await run(['npm', 'ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot() });
    const prod = deps.stdout.split('\n').map((l) => relative(repoRoot(), l.trim())).filter((l) => l.startsWith('node_modules/'));
    await writeFile(join(results, 'prod-modules.txt'), `${prod.join('\n')}\n`);
    const disk = await copyForRun(image, dir);
    const cfg = join(results, 'grub.cfg');
    return { dir, results, disk, grubCfg: async () => (existsSync(cfg) ? readFile(cfg, 'utf8') : ''), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A copy of the image for one run (sparse, so it costs only what it holds). */
async function copyForRun(image: SystemImage, runDir: string): Promise<string> {
  const copy = join(runDir, 'root.img');
  const r = await run(['cp', '--sparse=always', image.image, copy]);
  if (r.exitCode !== 0) throw new GsError(`Cannot copy ${image.image}: ${r.stderr.trim()}.`, 'Check the free space in the cache.', 'vm');
  return copy;
}
