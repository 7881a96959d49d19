import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** Build trees and downloads live outside the checkout, keyed by their inputs. */
export function cacheRoot(): string {
  return process.env.GS_KIT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'gs-kit');
}
