import { createHash } from 'node:crypto';

/** Bump when the build recipe changes in a way the inputs do not show. */
export const BUILD_RECIPE_VERSION = 1;

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
  for (const part of [...parts].sort((a, b) => a.name.localeCompare(b.name))) {
    const content = createHash('sha256').update(part.content).digest('hex');
    hash.update(`${part.name}\0${content}\n`);
  }
  return hash.digest('hex').slice(0, 16);
}
