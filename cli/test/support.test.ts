import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hookModeFor } from '../src/lib/install-plans.js';
import { SERIES_NAMES } from '../src/lib/kernels.js';
import { STOCK_KERNELS, STOCK_SERIES, stockSeriesNamed } from '../src/lib/stock.js';
import { patchedList, seriesOrder, stockHooksSeries, stockRange, SUPPORT } from '../src/lib/support.js';

// lkm/kernels.json is the one place that says which kernels gs-kit supports.
const repo = fileURLToPath(new URL('../../', import.meta.url));
/** The series after the last one stock mode hooks. */
const PAST_RANGE = `${SUPPORT.stockTo.split('.')[0]}.${Number(SUPPORT.stockTo.split('.')[1]) + 1}.4-amd64`;

test('every patched series kernels.json names has its patches, and every patch directory is named there', async (t) => {
  t.deepEqual((await readdir(join(repo, 'kernel/patches'))).sort(), [...SUPPORT.patched].sort());
  t.deepEqual(SERIES_NAMES, SUPPORT.patched, 'the guest suite builds what kernels.json names');
});

test('the stock kernels the suite boots are ones stock mode hooks', (t) => {
  t.deepEqual(STOCK_SERIES.map((s) => s.name), SUPPORT.stockTested);
  for (const s of SUPPORT.stockTested) t.true(stockHooksSeries(s), s);
  t.true(stockHooksSeries(`${SUPPORT.stockTo}.117+deb13-amd64`));
  t.false(stockHooksSeries(PAST_RANGE), 'a series past the range is not guessed at');
  t.false(stockHooksSeries('5.10.0-30-amd64'));
});

test('the CLI refuses stock mode outside the range in the words the module uses', (t) => {
  const config = `${SUPPORT.stockNeeds.map((o) => `${o}=y`).join('\n')}\n`;
  t.deepEqual(hookModeFor(`${SUPPORT.stockTo}.9-amd64`, config, ''), { mode: 'stock' });
  const out = hookModeFor(PAST_RANGE, config, '');
  t.is(out.mode, 'none');
  t.regex(out.mode === 'none' ? out.reason : '', new RegExp(`verified on Linux ${stockRange().replace(/\./g, '\\.')} only`));
});

test('the module\'s Kbuild reads the same range from kernels.json', async (t) => {
  const kbuild = await readFile(join(repo, 'lkm/Kbuild'), 'utf8');
  const line = /^gs-support = .*$/m.exec(kbuild)?.[0];
  t.truthy(line, 'Kbuild reads kernels.json with gs-support');
  const dir = await mkdtemp(join(tmpdir(), 'gs-support-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'Makefile'),
    `src := ${join(repo, 'lkm')}\n${line}\nall:\n\t@echo "$(call gs-support,stock_from) $(call gs-support,stock_to)"\n`);
  const r = spawnSync('make', ['-s', '-C', dir], { encoding: 'utf8' });
  t.is(r.stdout.trim(), `${SUPPORT.stockFrom} ${SUPPORT.stockTo}`, r.stderr);
});

test('README.md says what kernels.json says', async (t) => {
  const readme = (await readFile(join(repo, 'README.md'), 'utf8')).replace(/\s+/g, ' ');
  t.true(readme.includes(`Linux ${patchedList()}`), `README names the patched series: Linux ${patchedList()}`);
  t.true(readme.includes(`kernels ${stockRange()}`), `README names the stock range: kernels ${stockRange()}`);
});

test('make test boots the oldest and the newest kernel of each mode, and make test-kernels every flavoured one it names', async (t) => {
  const byAge = (names: readonly string[]) => [...names].sort((a, b) => seriesOrder(a) - seriesOrder(b));
  const patched = byAge(SUPPORT.patched);
  t.deepEqual(SUPPORT.patchedTested, [patched[0], patched.at(-1)]);
  const stock = byAge(STOCK_KERNELS.map((s) => s.series));
  t.deepEqual(STOCK_SERIES.map((s) => s.series), [stock[0], stock.at(-1)]);
  const makefile = await readFile(join(repo, 'Makefile'), 'utf8');
  const flavoured = /^FLAVOURED \?= (.*)$/m.exec(makefile)?.[1]?.split(/\s+/) ?? [];
  t.true(flavoured.length > 0, 'the Makefile names the kernels whose flavours make test-kernels boots');
  for (const name of flavoured) t.truthy(stockSeriesNamed(name), `${name} is a stock kernel lib/stock.ts knows`);
  t.true(flavoured.includes(STOCK_SERIES.at(-1)!.name), 'the newest stock kernel\'s flavours are in the matrix');
});
