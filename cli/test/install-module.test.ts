import test from 'ava';
import { stockRange, SUPPORT } from '../src/lib/support.js';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { installModule } from '../src/commands/install-module.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { ExitCode, GsError } from '../src/lib/errors.js';
import { hookModeFor, moduleBuildPrograms, moduleInstallPlan, secureBootEnabled } from '../src/lib/install-plans.js';
import { recordingEnv } from './helpers/env.js';
import { snapshot } from './helpers/sysroot.js';

const STOCK_CONFIG = 'CONFIG_X86_64=y\nCONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y\n';

async function put(root: string, path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
  await chmod(join(root, path), mode);
}

/** A sysroot with kernel @release, its headers (patched or not) and dkms. */
async function sysroot(release: string, opts: { headers?: boolean; dkms?: boolean; patched?: boolean; config?: string; vmlinux?: boolean } = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gs-module-'));
  await put(root, `/boot/config-${release}`, opts.config ?? STOCK_CONFIG);
  if (opts.headers !== false) {
    await put(root, `/lib/modules/${release}/build/Makefile`, 'all:\n');
    await put(root, `/lib/modules/${release}/build/include/linux/oom.h`,
      opts.patched ? 'int register_oom_victim_notifier(struct notifier_block *nb);\n' : 'extern void out_of_memory(void);\n');
  }
  if (opts.vmlinux) await put(root, `/lib/modules/${release}/build/vmlinux`, '');
  if (opts.dkms !== false) await put(root, '/usr/sbin/dkms', '#!/bin/sh\nexit 99\n', 0o755);
  return root;
}

async function runModule(argv: string[]): Promise<{ code: number; out: string }> {
  const env = recordingEnv();
  try {
    const code = await installModule.run(parseArgs(argv, installModule.spec), env);
    return { code, out: env.ui.out };
  } catch (err) {
    if (err instanceof GsError) return { code: err.exitCode, out: `${env.ui.out}\n${err.message}\n${err.hint}` };
    throw err;
  }
}

/** The series after the last one stock mode hooks. */
const PAST_RANGE = `${SUPPORT.stockTo.split('.')[0]}.${Number(SUPPORT.stockTo.split('.')[1]) + 1}.0`;

test('the hook mode follows the headers: the patch where declared, stock mode in kernels.json\'s range with direct calls, nothing elsewhere', (t) => {
  t.deepEqual(hookModeFor('5.4.1-gs', undefined, 'int register_oom_victim_notifier(struct notifier_block *nb);'), { mode: 'patched' });
  t.deepEqual(hookModeFor('6.1.0-57-amd64', STOCK_CONFIG, ''), { mode: 'stock' });
  t.deepEqual(hookModeFor('6.12.117+deb12-amd64', STOCK_CONFIG, ''), { mode: 'stock' });
  const old = hookModeFor('5.10.0-30-amd64', STOCK_CONFIG, '');
  t.is(old.mode, 'none');
  t.true(('reason' in old ? old.reason : '').includes(`verified on Linux ${stockRange()} only`));
  t.is(hookModeFor(PAST_RANGE, STOCK_CONFIG, '').mode, 'none');
  const noDirect = hookModeFor('6.1.0-57-amd64', 'CONFIG_X86_64=y\n# CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS is not set\n', '');
  t.regex('reason' in noDirect ? noDirect.reason : '', /needs CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS=y/);
  t.regex(JSON.stringify(hookModeFor('6.1.0-57-amd64', undefined, '')), /cannot be read/);
});

test('pahole is needed only when the headers generate BTF for modules: BTF_MODULES and a vmlinux beside them', (t) => {
  const btf = `${STOCK_CONFIG}CONFIG_DEBUG_INFO_BTF_MODULES=y\n`;
  t.deepEqual(moduleBuildPrograms(btf, true).map((p) => [p.program, p.debian]), [['pahole', 'dwarves']]);
  t.deepEqual(moduleBuildPrograms(btf, false), []);
  t.deepEqual(moduleBuildPrograms(`${STOCK_CONFIG}# CONFIG_DEBUG_INFO_BTF_MODULES is not set\n`, true), []);
  t.deepEqual(moduleBuildPrograms(undefined, true), []);
});

test('Secure Boot is read from the EFI variable: attributes, then the flag', (t) => {
  t.true(secureBootEnabled(Uint8Array.from([6, 0, 0, 0, 1])));
  t.false(secureBootEnabled(Uint8Array.from([6, 0, 0, 0, 0])));
  t.is(secureBootEnabled(undefined), undefined);
  t.is(secureBootEnabled(Uint8Array.from([6, 0])), undefined);
});

test('the plan builds with DKMS for the named kernel, loads at boot, and loads now only when asked', (t) => {
  const sources = new Map([['gs_main.c', 'int x;\n']]);
  const plan = moduleInstallPlan({ release: '6.1.0-57-amd64', dkmsSources: sources, dkmsAdded: false, loadNow: true });
  const commands = plan.filter((c) => c.kind === 'command').map((c) => (c.kind === 'command' ? c.argv.join(' ') : ''));
  t.deepEqual(commands, [
    'dkms add -m proc_create_module -v 0.1.0',
    'dkms build -m proc_create_module -v 0.1.0 -k 6.1.0-57-amd64 --force',
    'dkms install -m proc_create_module -v 0.1.0 -k 6.1.0-57-amd64 --force',
    'modprobe proc_create_module',
  ]);
  t.true(plan.some((c) => c.kind === 'file' && c.path === '/usr/src/proc_create_module-0.1.0/gs_main.c'));
  t.true(plan.some((c) => c.kind === 'file' && c.path === '/etc/modules-load.d/gs-kit.conf'));
  const again = moduleInstallPlan({ release: '6.1.0-57-amd64', dkmsSources: sources, dkmsAdded: true, loadNow: false });
  t.false(again.some((c) => c.kind === 'command' && (c.argv[1] === 'add' || c.argv[0] === 'modprobe')));
});

test.serial('into a sysroot: the module source for DKMS and its autoload; a second run changes nothing', async (t) => {
  const root = await sysroot('6.1.0-57-amd64');
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const first = await runModule(['--root', root, '--kernel', '6.1.0-57-amd64']);
  t.is(first.code, 0, first.out);
  t.regex(first.out, /stock mode: no gs-kit patch in this kernel/);
  t.regex(first.out, /skipped dkms build .* -k 6\.1\.0-57-amd64/);
  t.is(await readFile(join(root, 'etc/modules-load.d/gs-kit.conf'), 'utf8'),
    '# Written by gs-kit install-module: load proc_create_module at boot.\nproc_create_module\n');
  t.is(await readFile(join(root, 'usr/src/proc_create_module-0.1.0/gs_main.c'), 'utf8'),
    await readFile(new URL('../../lkm/gs_main.c', import.meta.url), 'utf8'));
  const before = await snapshot(root);
  const second = await runModule(['--root', root, '--kernel', '6.1.0-57-amd64']);
  t.is(second.code, 0);
  t.regex(second.out, /0 changes/);
  t.deepEqual(await snapshot(root), before);
});

test.serial('a patched kernel is named as such; --dry-run writes nothing', async (t) => {
  const root = await sysroot('5.4.1-gs', { patched: true, config: 'CONFIG_X86_64=y\n' });
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const before = await snapshot(root);
  const r = await runModule(['--root', root, '--kernel', '5.4.1-gs', '--dry-run']);
  t.is(r.code, 0, r.out);
  t.regex(r.out, /the kernel carries the gs-kit patch/);
  t.regex(r.out, /\/usr\/src\/proc_create_module-0\.1\.0\/gs_main\.c/);
  t.deepEqual(await snapshot(root), before);
});

test.serial('missing headers, missing dkms or pahole, a kernel the module cannot hook, no --kernel with --root: each a clear error that changes nothing', async (t) => {
  const cases: [string, Parameters<typeof sysroot>[1], string[], number, RegExp][] = [
    ['6.1.0-57-amd64', { headers: false }, [], ExitCode.dependency, /apt-get install linux-headers-6\.1\.0-57-amd64/],
    ['6.1.0-57-amd64', { dkms: false }, [], ExitCode.dependency, /apt-get install dkms/],
    ['6.12.57+deb12-amd64', { config: `${STOCK_CONFIG}CONFIG_DEBUG_INFO_BTF_MODULES=y\n`, vmlinux: true }, [], ExitCode.dependency, /pahole is not installed[\s\S]*apt-get install dwarves/],
    ['5.10.0-30-amd64', {}, [], ExitCode.patch, new RegExp(`verified on Linux ${stockRange().replace(/\./g, '\\.')} only[\\s\\S]*build-kernel`)],
    ['6.1.0-57-amd64', {}, ['--no-kernel'], ExitCode.usage, /needs the kernel to build for/],
  ];
  for (const [release, opts, flags, code, message] of cases) {
    const root = await sysroot(release, opts);
    try {
      const before = await snapshot(root);
      const argv = flags.includes('--no-kernel') ? ['--root', root] : ['--root', root, '--kernel', release];
      const r = await runModule(argv);
      t.is(r.code, code, r.out);
      t.regex(r.out, message);
      t.deepEqual(await snapshot(root), before);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }
  t.is((await runModule(['--kernel', '../../etc'])).code, ExitCode.usage);
});
