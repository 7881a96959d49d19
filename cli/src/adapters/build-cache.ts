/**
 * The build cache as install-kernel reads it: which finished build a
 * --build KEY names, and what that build holds for installing.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GsError } from '../lib/errors.js';
import { MODULE_NAME, RELEASE_PATTERN, type InstallSource } from '../lib/install-plans.js';

/** The names in @dir, where build-kernel --package deb's packages were copied. */
export async function listDebDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    throw new GsError(`${dir} cannot be read.`, 'Give the directory holding the .deb packages.', 'usage');
  }
}

/** The build directory for --build KEY (or a unique prefix) or latest. */
export async function findBuild(buildsDir: string, which: string): Promise<string> {
  const keys = existsSync(buildsDir)
    ? (await readdir(buildsDir)).filter((k) => existsSync(join(buildsDir, k, 'kernel.json')))
    : [];
  const hint = 'Build one with "gs-kit build-kernel", or list the builds with ls ~/.cache/gs-kit/builds.';
  if (keys.length === 0) throw new GsError(`There is no finished build in ${buildsDir}.`, hint, 'usage');
  if (which === 'latest') {
    const times = await Promise.all(keys.map(async (k) => ({ k, t: (await stat(join(buildsDir, k, 'kernel.json'))).mtimeMs })));
    return join(buildsDir, times.sort((a, b) => b.t - a.t || a.k.localeCompare(b.k))[0]!.k);
  }
  if (!/^[0-9A-Za-z_-]+$/.test(which)) throw new GsError(`"${which}" is not a build key.`, hint, 'usage');
  const matches = keys.includes(which) ? [which] : keys.filter((k) => k.startsWith(which));
  if (matches.length === 1) return join(buildsDir, matches[0]!);
  if (matches.length > 1) throw new GsError(`The build prefix "${which}" matches ${matches.join(', ')}.`, 'Give more of the key.', 'usage');
  throw new GsError(`There is no finished build "${which}" in ${buildsDir} (there are: ${keys.join(', ')}).`, hint, 'usage');
}

async function newestModule(buildDir: string): Promise<string | undefined> {
  let best: { path: string; t: number } | undefined;
  for (const d of (await readdir(buildDir)).filter((n) => n.startsWith('lkm-'))) {
    const path = join(buildDir, d, `${MODULE_NAME}.ko`);
    if (!existsSync(path)) continue;
    const t = (await stat(path)).mtimeMs;
    if (!best || t > best.t) best = { path, t };
  }
  return best?.path;
}

async function mustRead(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new GsError(`The build has no ${what} (${path}).`, 'Rebuild it with "gs-kit build-kernel".', 'usage');
  }
}

/** Read what a build directory holds for installing. */
export async function loadBuild(buildDir: string): Promise<InstallSource & { paths: Record<string, string> }> {
  let kernel: { release?: unknown; bzImage?: unknown };
  try {
    kernel = JSON.parse(await readFile(join(buildDir, 'kernel.json'), 'utf8'));
  } catch (err) {
    throw new GsError(`${join(buildDir, 'kernel.json')} cannot be read: ${(err as Error).message}.`, 'Rebuild it with "gs-kit build-kernel".', 'usage');
  }
  const release = typeof kernel.release === 'string' ? kernel.release : '';
  if (!RELEASE_PATTERN.test(release)) {
    throw new GsError(`The build's kernel.json has no usable release ("${String(kernel.release)}").`, 'Rebuild it with "gs-kit build-kernel".', 'usage');
  }
  const src = join(buildDir, 'src');
  const bzImage = typeof kernel.bzImage === 'string' && existsSync(kernel.bzImage) ? kernel.bzImage : join(src, 'arch/x86/boot/bzImage');
  const module = await newestModule(buildDir);
  if (!module) throw new GsError(`The build ${buildDir} has no ${MODULE_NAME}.ko.`, 'Run "gs-kit build-kernel" again to build the module.', 'usage');
  const paths = { bzImage, systemMap: join(src, 'System.map'), config: join(src, '.config'), module };
  return {
    buildDir, release, src, paths,
    bzImage: await mustRead(bzImage, 'kernel image'),
    systemMap: await mustRead(paths.systemMap, 'System.map'),
    config: await mustRead(paths.config, '.config'),
    module: await mustRead(module, 'module'),
  };
}
