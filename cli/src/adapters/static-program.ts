/**
 * The small static C programs configure installs (oci/gs-init,
 * killers/gs-kit-killer): built from the repository into the cache, keyed
 * by their sources and the headers they include, or taken from there.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheKey } from '../lib/cache-key.js';
import { GsError } from '../lib/errors.js';
import { run } from './exec.js';
import { cacheRoot, repoRoot } from './paths.js';

/** A program of the repository's @dir (with a Makefile taking OUT=), and the files its build reads (repository paths). */
export interface StaticProgram {
  dir: string;
  name: string;
  sources: readonly string[];
}

/** @p built static into the cache, or the cached one; its path. */
export async function buildStatic(p: StaticProgram): Promise<string> {
  const key = await cacheKey(await Promise.all(p.sources.map(async (s) => ({ name: s, content: await readFile(join(repoRoot(), s)) }))));
  const dir = join(cacheRoot(), p.dir, key);
  const out = join(dir, p.name);
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  // Built aside and renamed: a concurrent build or reader never sees half a binary.
  const scratch = await mkdtemp(join(dir, 'build-'));
  try {
    const r = await run(['make', '-s', '-C', join(repoRoot(), p.dir), `OUT=${scratch}`]);
    if (r.exitCode !== 0) {
      throw new GsError(`Building ${p.name} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
        'It needs a C compiler and the static C library: sudo apt-get install build-essential.', 'dependency');
    }
    await rename(join(scratch, p.name), out);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return out;
}

/** gs-kit-killer (systemd-oomd's and earlyoom's hooks), built if need be. */
export async function killerBytes(): Promise<Uint8Array> {
  return readFile(await buildStatic({
    dir: 'killers', name: 'gs-kit-killer', sources: ['killers/gs-kit-killer.c', 'killers/Makefile', 'lkm/graceful_shutdown.h'],
  }));
}
