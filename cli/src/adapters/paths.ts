import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODULE_SOURCE_PATTERN } from '../lib/install-plans.js';

/** The gs-kit checkout or package this code runs from. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'gs-kit') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('gs-kit: cannot find the gs-kit package root');
    dir = parent;
  }
}

/** The home directory of @user from /etc/passwd, if it is listed there. */
function passwdHome(user: string): string | undefined {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === user);
    return line?.split(':')[5] || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The home whose cache gs-kit uses: under sudo, the invoking user's, so
 * that "gs-kit build-kernel" then "sudo gs-kit install-kernel --build
 * latest" see the same builds.
 */
function cacheHome(): string {
  const sudoUser = process.env.SUDO_USER;
  if (process.getuid?.() === 0 && sudoUser && sudoUser !== 'root') return passwdHome(sudoUser) ?? homedir();
  return homedir();
}

/**
 * Build trees and downloads live outside the checkout, keyed by their
 * inputs: $GS_KIT_CACHE, else $XDG_CACHE_HOME/gs-kit, else ~/.cache/gs-kit
 * of the user (under sudo, of the user who ran sudo).
 */
export function cacheRoot(): string {
  return process.env.GS_KIT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(cacheHome(), '.cache'), 'gs-kit');
}

/**
 * Under sudo, hand what gs-kit wrote to the cache back to the user who ran
 * it, so that the user's own runs can go on using it.
 */
export function invokingUserIds(): { uid: number; gid: number } | undefined {
  const uid = Number(process.env.SUDO_UID);
  const gid = Number(process.env.SUDO_GID);
  return process.getuid?.() === 0 && Number.isInteger(uid) && uid > 0 && Number.isInteger(gid) && !process.env.GS_KIT_CACHE
    ? { uid, gid } : undefined;
}

/** Under sudo, give the cache back to the user who ran it (see invokingUserIds). */
export async function handCacheBack(): Promise<void> {
  const ids = invokingUserIds();
  const root = cacheRoot();
  if (!ids || !existsSync(root)) return;
  const { run } = await import('./exec.js');
  await run(['chown', '-R', `${ids.uid}:${ids.gid}`, root]);
}

/** The module's source files DKMS builds from, by name, read from this checkout's lkm/. */
export async function dkmsSources(): Promise<Map<string, Uint8Array>> {
  const lkm = join(repoRoot(), 'lkm');
  const names = (await readdir(lkm)).filter((f) => MODULE_SOURCE_PATTERN.test(f)).sort();
  return new Map(await Promise.all(names.map(async (f) => [f, await readFile(join(lkm, f))] as const)));
}
