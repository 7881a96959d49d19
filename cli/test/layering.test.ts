import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../src/adapters/paths.js';

/*
 * The layers, top down: bin -> commands -> (ui) -> services -> adapters ->
 * lib. Each imports only from below it; only ui (and bin) draws; only
 * adapters touch the outside world.
 */
const src = join(repoRoot(), 'cli', 'src');
const LAYERS = ['lib', 'adapters', 'services', 'ui', 'commands'] as const;

async function filesOf(layer: string): Promise<{ file: string; text: string }[]> {
  const dir = join(src, layer);
  return Promise.all((await readdir(dir)).filter((f) => f.endsWith('.ts'))
    .map(async (f) => ({ file: `${layer}/${f}`, text: await readFile(join(dir, f), 'utf8') })));
}

const imports = (text: string) => [...text.matchAll(/^import[^;]*?from '([^']+)';/gms)].map((m) => m[1]!);

test('each layer imports only from the layers below it', async (t) => {
  const above: Record<string, readonly string[]> = {
    lib: ['adapters', 'services', 'ui', 'commands'],
    adapters: ['services', 'ui', 'commands'],
    services: ['ui', 'commands'],
    ui: ['adapters', 'services', 'commands'],
    commands: [],
  };
  const wrong: string[] = [];
  for (const layer of LAYERS) {
    for (const { file, text } of await filesOf(layer)) {
      for (const from of imports(text)) {
        if (above[layer]!.some((l) => from.startsWith(`../${l}/`))) wrong.push(`${file} imports ${from}`);
      }
    }
  }
  t.deepEqual(wrong, []);
});

test('only the renderer draws: nothing else under cli/src imports chalk, listr2 or inquirer, or writes to the console', async (t) => {
  const wrong: string[] = [];
  for (const layer of ['lib', 'adapters', 'services', 'commands']) {
    for (const { file, text } of await filesOf(layer)) {
      for (const from of imports(text)) if (['chalk', 'listr2', 'inquirer'].includes(from)) wrong.push(`${file} imports ${from}`);
      if (/\bconsole\.(log|error|warn|info)\(/.test(text)) wrong.push(`${file} writes to the console`);
    }
  }
  t.deepEqual(wrong, []);
});

test('no command or service touches files or processes itself: the adapters do (the Host for a system\'s)', async (t) => {
  const wrong: string[] = [];
  for (const { file, text } of [...await filesOf('commands'), ...await filesOf('services')]) {
    for (const from of imports(text)) if (/^node:(fs|fs\/promises|child_process)$/.test(from)) wrong.push(`${file} imports ${from}`);
  }
  t.deepEqual(wrong, []);
});

test('lib is pure: no file system, no processes, no network', async (t) => {
  const wrong: string[] = [];
  for (const { file, text } of await filesOf('lib')) {
    for (const from of imports(text)) {
      if (/^node:(fs|fs\/promises|child_process|net|http|https)$/.test(from) || ['zx', 'node-fetch', 'tar'].includes(from)) wrong.push(`${file} imports ${from}`);
    }
  }
  t.deepEqual(wrong, []);
});
