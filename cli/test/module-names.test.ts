import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { repoRoot } from '../src/adapters/paths.js';
import { MODULE_NAME, PROC_FILE } from '../src/lib/module.js';

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...await sources(path));
    else if (e.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

test('the module\'s name and its proc file are written only in lib/module.ts; every other source takes them from there', async (t) => {
  const src = join(repoRoot(), 'cli', 'src');
  const offenders: string[] = [];
  for (const file of await sources(src)) {
    if (relative(src, file) === join('lib', 'module.ts')) continue;
    const text = await readFile(file, 'utf8');
    text.split('\n').forEach((line, i) => {
      if (line.includes(MODULE_NAME) || line.includes(PROC_FILE)) offenders.push(`${relative(src, file)}:${i + 1}: ${line.trim()}`);
    });
  }
  t.deepEqual(offenders, []);
});
