import { createHash } from 'node:crypto';

/** Bump when the build recipe changes in a way the inputs do not show. */
export const BUILD_RECIPE_VERSION = 2;

export interface KeyPart {
  name: string;
  content: string | Buffer;
}

/**
 * A short, stable key for a set of named inputs: the same inputs in any
 * order give the same key; any change to a name or content changes it.
 */
export function cacheKey(parts: readonly KeyPart[]): string {
  const hash = createHash('sha256');
  hash.update(`recipe ${BUILD_RECIPE_VERSION}\n`);
  // Plain code-unit order, not localeCompare: the key must not depend on the machine's locale.
  const hashed = parts
    .map((p) => `${p.name}\0${createHash('sha256').update(p.content).digest('hex')}\n`)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const line of hashed) hash.update(line);
  return hash.digest('hex').slice(0, 16);
}
