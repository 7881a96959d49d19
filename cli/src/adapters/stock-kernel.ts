/**
 * A distribution kernel for stock-mode guests: the newest Debian package
 * of a series, downloaded with apt-get (from the archive apt already uses;
 * for another Debian release, through an apt view of that release with
 * lists of its own), unpacked, and the module built against its headers:
 * here, or for another release in a root of that release made with
 * mmdebstrap, whose gcc and kbuild the headers were made for, by that
 * release's DKMS. Cached under ~/.cache/gs-kit/stock/<abi>.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GsError } from '../lib/errors.js';
import { kernelLacks, type KernelFeature } from '../lib/scenario.js';
import { moduleBuildPrograms } from '../lib/install-plans.js';
import {
  flavourSuffix, GUEST_MODULES, imagePackages, HOST_SUITE, loadOrder, newestAbi, stockNames, stockPackages,
  stockRelease, stockSeriesNamed, toolchainRootArgv, type Flavour,
} from '../lib/stock.js';
import { aptView, downloadAndUnpack, MIRROR, mustRun } from './apt.js';
import { SystemHost } from './host.js';
import { SILENT } from '../lib/reporter.js';
import { buildModule, buildModuleWithDkms, hashFiles, type ModuleBuild } from './kernel-tree.js';
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
  /** What the kernel lacks that some scenarios need: lib/scenario.ts kernelLacks(). */
  lacks: KernelFeature[];
}

/** Download and unpack the kernel packages (once). Returns the unpacked tree. */
async function unpackedTree(dir: string, packages: string[], apt: string[]): Promise<string> {
  const tree = join(dir, 'tree');
  const stamp = join(dir, 'unpacked');
  if (existsSync(stamp)) return tree;
  await rm(dir, { recursive: true, force: true });
  await downloadAndUnpack(packages, apt, join(dir, 'debs'), tree);
  await writeFile(stamp, '');
  return tree;
}

/**
 * The root whose toolchain builds the module for another release's kernel
 * @abi (made once): that release with the kernel's headers, its gcc and
 * kbuild. Returns it, and the headers' path inside it.
 */
async function toolchainRoot(dir: string, suite: string, release: string): Promise<string> {
  const root = join(dir, 'toolchain');
  // The stamp holds the command that made the root: a root made otherwise (other packages) is made again.
  const stamp = join(dir, 'toolchain.made');
  const argv = toolchainRootArgv(suite, release, MIRROR, root);
  if ((await readFile(stamp, 'utf8').catch(() => undefined)) === argv.join(' ')) return root;
  await rm(root, { recursive: true, force: true });
  await mustRun(argv, `mmdebstrap ${suite} with linux-headers-${release}`);
  await writeFile(stamp, argv.join(' '));
  return root;
}

/** The modules a guest of the kernel unpacked in @tree loads, decompressed, in load order. */
async function guestModules(tree: string, release: string, dir: string): Promise<string[]> {
  // Debian 13's packages are merged-/usr: their modules are under usr/lib, where depmod -b does not look.
  if (!existsSync(join(tree, 'lib')) && existsSync(join(tree, 'usr/lib/modules'))) await symlink('usr/lib', join(tree, 'lib'));
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
  return modules;
}

/** The module built with this machine's toolchain against the headers unpacked in @tree. */
async function hostModule(tree: string, release: string, outDir: string): Promise<ModuleBuild> {
  // The headers name their other half by its installed path: point it here.
  const headers = join(tree, 'usr/src', `linux-headers-${release}`);
  const makefile = join(headers, 'Makefile');
  const text = await readFile(makefile, 'utf8');
  const fixed = text.replace(/^include \/usr\/src\//m, `include ${join(tree, 'usr/src')}/`);
  if (fixed !== text) await writeFile(makefile, fixed);
  const config = await readFile(join(headers, '.config'), 'utf8');
  const host = new SystemHost('/', true, SILENT);
  for (const need of moduleBuildPrograms(config, existsSync(join(headers, 'vmlinux')))) {
    if (!(await host.hasProgram(need.program))) {
      throw new GsError(`${need.program} is not installed; Debian's ${release} headers generate BTF for modules, and the module's build fails without it.`,
        `Install it: apt-get install ${need.debian} (gs-kit setup-vm does).`, 'dependency');
    }
  }
  return buildModule(headers, outDir);
}

/** A stock kernel by its name in lib/stock.ts ("6.1", "6.12", "6.12-deb13"), in @flavour. */
export async function ensureStockKernel(name: string, flavour: Flavour = 'generic'): Promise<StockKernel> {
  const s = stockSeriesNamed(name);
  if (!s) throw new GsError(`There is no stock Debian kernel called ${name}.`, `Choose ${stockNames()}.`, 'usage');
  const apt = await aptView(s.suite);
  const names = (await mustRun(['apt-cache', ...apt, 'pkgnames', 'linux-'], 'apt-cache pkgnames')).split('\n');
  const abi = newestAbi(s, names, flavour);
  if (!abi) {
    throw new GsError(`apt knows no linux-image-*-${flavourSuffix(flavour)}-unsigned package of ${s.series} in Debian ${s.suite}.`,
      s.suite === HOST_SUITE ? `Run apt-get update on a Debian ${HOST_SUITE} system.` : `Check that Debian's archive (${MIRROR}) is reachable.`, 'dependency');
  }
  const release = stockRelease(abi, flavour);
  const dir = join(cacheRoot(), 'stock', flavour === 'generic' ? abi : release);
  const foreign = s.suite !== HOST_SUITE;
  // Another release's headers are built where its toolchain is: only the image is unpacked here.
  const tree = await unpackedTree(dir, foreign ? imagePackages(release, names) : stockPackages(s, abi, flavour), apt);

  const modules = await guestModules(tree, release, dir);
  const lkmHash = await hashFiles(join(repoRoot(), 'lkm'), MODULE_SOURCE_PATTERN);
  const mod = foreign
    ? await buildModuleWithDkms(await toolchainRoot(dir, s.suite, release), release, `/tmp/lkm-${lkmHash}`)
    : await hostModule(tree, release, join(dir, `lkm-${lkmHash}`));
  // /boot, or from Debian 14 on the release's own directory.
  const boot = (file: string) => [join(tree, 'boot', `${file}-${release}`), join(tree, 'usr/lib/modules', release, file)].find((f) => existsSync(f))
    ?? join(tree, 'boot', `${file}-${release}`);
  const lacks = kernelLacks(await readFile(boot('config'), 'utf8'));
  return { series: s.name, release, vmlinuz: boot('vmlinuz'), modules, module: mod.module, moduleWarnings: mod.warnings, lacks };
}
