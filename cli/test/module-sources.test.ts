import test from 'ava';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dkmsSources, repoRoot } from '../src/adapters/paths.js';
import { FIRE_FILE, KILLER_NAMES, MODULE_NAME, MODULE_TIMEOUT_MS, MODULE_USER_TIMEOUT_MS, WAIT_HANDLER } from '../src/lib/module.js';
import { MODULE_SOURCE_PATTERN } from '../src/lib/install-plans.js';
import { PROC_FILE } from '../src/lib/registry.js';

const lkm = join(repoRoot(), 'lkm');

/** The string value of `#define NAME "value"` (or of NAME built from other defines) in @header. */
function defineOf(header: string, name: string): string | undefined {
  const m = new RegExp(`^#define\\s+${name}\\s+(.+)$`, 'm').exec(header);
  if (!m) return undefined;
  // "a" B "c": join string literals and other defines.
  return m[1]!.trim().split(/\s+/).map((part) => (part.startsWith('"')
    ? part.slice(1, -1) : defineOf(header, part) ?? part)).join('');
}

test('DKMS installs every file the module\'s Kbuild builds and every header its sources include', async (t) => {
  const sources = await dkmsSources();
  const kbuild = await readFile(join(lkm, 'Kbuild'), 'utf8');
  const objects = [...kbuild.replace(/\\\n/g, ' ').matchAll(/proc_create_module-y\s*:=\s*(.*)/g)]
    .flatMap((m) => m[1]!.trim().split(/\s+/));
  t.true(objects.length > 1, 'Kbuild names the module\'s objects');
  for (const o of objects) t.true(sources.has(o.replace(/\.o$/, '.c')), `${o}'s source is installed`);
  for (const f of (await readdir(lkm)).filter((n) => n.endsWith('.c') || n.endsWith('.h'))) {
    for (const m of (await readFile(join(lkm, f), 'utf8')).matchAll(/^#include "([^"]+)"/gm)) {
      t.true(sources.has(m[1]!), `${f} includes ${m[1]}, which DKMS installs`);
    }
  }
  for (const f of ['Kbuild', 'Makefile', 'dkms.conf']) t.true(sources.has(f), `${f} is installed`);
  t.true(MODULE_SOURCE_PATTERN.test('gs_anything.c') && !MODULE_SOURCE_PATTERN.test('gs_main.o'));
});

test('the CLI names the module and its proc file as the module\'s uapi header does', async (t) => {
  const header = await readFile(join(lkm, 'graceful_shutdown.h'), 'utf8');
  t.is(defineOf(header, 'GS_MODULE_NAME'), MODULE_NAME);
  t.is(defineOf(header, 'GS_PROC_PATH'), PROC_FILE);
  t.is(defineOf(header, 'GS_WAIT_HANDLER'), WAIT_HANDLER);
  t.is(defineOf(header, 'GS_FIRE_PATH'), FIRE_FILE);
  t.is(defineOf(header, 'GS_KILLER_NAME_KERNEL'), KILLER_NAMES.kernel);
  t.is(defineOf(header, 'GS_KILLER_NAME_OOMD'), KILLER_NAMES.oomd);
  t.is(defineOf(header, 'GS_KILLER_NAME_EARLYOOM'), KILLER_NAMES.earlyoom);
});

test('the CLI sizes systemd-oomd\'s wait by the module\'s own default timeouts', async (t) => {
  const params = await readFile(join(lkm, 'gs_params.c'), 'utf8');
  t.is(Number(/gs_timeout_ms = (\d+);/.exec(params)?.[1]), MODULE_TIMEOUT_MS);
  t.is(Number(/gs_user_timeout_ms = (\d+);/.exec(params)?.[1]), MODULE_USER_TIMEOUT_MS);
});
