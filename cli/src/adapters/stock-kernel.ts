/**
 * A distribution kernel for stock-mode guests: the newest Debian package
 * of a series, downloaded with apt-get (the archive apt already uses),
 * unpacked, its headers made usable where they were unpacked, and the
 * module built against them. Cached under ~/.cache/gs-kit/stock/<abi>.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GsError } from '../lib/errors.js';
import { moduleBuildPrograms } from '../lib/install-plans.js';
import { GUEST_MODULES, loadOrder, newestAbi, STOCK_SERIES, stockPackages } from '../lib/stock.js';
import { run } from './exec.js';
import { SystemHost } from './host.js';
import { SILENT } from '../lib/reporter.js';
import { buildModule, hashFiles } from './kernel-tree.js';
import { cacheRoot, repoRoot } from './paths.js';
import { MODULE_SOURCE_PATTERN } from '../lib/install-plans.js';

export interface StockKernel {
  series: string;
  /** e.g. 6.1.0-57-amd64 */
  release: string;
  vmlinuz: string;
  /** The guest's modules, decompressed, in load order. */
  modules: string[];
  /** The module built against the package's headers. */
  module: string;
  moduleWarnings: string[];
}

async function mustRun(argv: string[], what: string, cwd?: string): Promise<string> {
  const r = await run(argv, cwd ? { cwd } : {});
  if (r.exitCode !== 0) {
    throw new GsError(`${what} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      'Check that the Debian archive apt uses is reachable (apt-get update).', 'dependency');
  }
  return r.stdout;
}

/** Download and unpack the kernel packages (once). Returns the unpacked tree. */
async function unpackedTree(dir: string, packages: string[]): Promise<string> {
  const tree = join(dir, 'tree');
  const stamp = join(dir, 'unpacked');
  if (existsSync(stamp)) return tree;
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'debs'), { recursive: true });
  await mustRun(['apt-get', 'download', ...packages], `apt-get download ${packages.join(' ')}`, join(dir, 'debs'));
  for (const deb of await readdir(join(dir, 'debs'))) {
    await mustRun(['dpkg-deb', '-x', join(dir, 'debs', deb), tree], `dpkg-deb -x ${deb}`);
  }
  await rm(join(dir, 'debs'), { recursive: true, force: true });
  await writeFile(stamp, '');
  return tree;
}

export async function ensureStockKernel(series: string): Promise<StockKernel> {
  const s = STOCK_SERIES.find((x) => x.series === series);
  if (!s) throw new GsError(`There is no stock Debian kernel for series ${series}.`, `Choose ${STOCK_SERIES.map((x) => x.series).join(' or ')}.`, 'usage');
  const names = (await mustRun(['apt-cache', 'pkgnames', 'linux-image-'], 'apt-cache pkgnames')).split('\n');
  const abi = newestAbi(s, names);
  if (!abi) {
    throw new GsError(`apt knows no linux-image-*-amd64-unsigned package of ${series}.`,
      'Run apt-get update on a Debian 12 system, whose archive has the bookworm kernels.', 'dependency');
  }
  const release = `${abi}-amd64`;
  const dir = join(cacheRoot(), 'stock', abi);
  const tree = await unpackedTree(dir, stockPackages(s, abi));

  // The headers name their other half by its installed path: point it here.
  const headers = join(tree, 'usr/src', `linux-headers-${release}`);
  const makefile = join(headers, 'Makefile');
  const text = await readFile(makefile, 'utf8');
  const fixed = text.replace(/^include \/usr\/src\//m, `include ${join(tree, 'usr/src')}/`);
  if (fixed !== text) await writeFile(makefile, fixed);

  const modDir = join(tree, 'lib/modules', release);
  if (!existsSync(join(modDir, 'modules.dep'))) await mustRun(['depmod', '-b', tree, release], 'depmod');
  const modules: string[] = [];
  for (const rel of loadOrder(await readFile(join(modDir, 'modules.dep'), 'utf8'), GUEST_MODULES)) {
    const out = join(dir, 'modules', `${String(modules.length).padStart(2, '0')}-${rel.split('/').pop()!.replace(/\.xz$/, '')}`);
    if (!existsSync(out)) {
      await mkdir(join(dir, 'modules'), { recursive: true });
      await mustRun(['sh', '-c', rel.endsWith('.xz') ? 'xz -dc "$0" > "$1"' : 'cp "$0" "$1"', join(modDir, rel), out], `unpack ${rel}`);
    }
    modules.push(out);
  }

  const config = await readFile(join(headers, '.config'), 'utf8');
  const host = new SystemHost('/', true, SILENT);
  for (const need of moduleBuildPrograms(config, existsSync(join(headers, 'vmlinux')))) {
    if (!(await host.hasProgram(need.program))) {
      throw new GsError(`${need.program} is not installed; Debian's ${release} headers generate BTF for modules, and the module's build fails without it.`,
        `Install it: apt-get install ${need.debian} (gs-kit setup-vm does).`, 'dependency');
    }
  }
  const lkmHash = await hashFiles(join(repoRoot(), 'lkm'), MODULE_SOURCE_PATTERN);
  const mod = await buildModule(headers, join(dir, `lkm-${lkmHash}`));
  return { series, release, vmlinuz: join(tree, 'boot', `vmlinuz-${release}`), modules, module: mod.module, moduleWarnings: mod.warnings };
}
