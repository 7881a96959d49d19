import test from 'ava';
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findBuild } from '../src/adapters/build-cache.js';
import { installKernel } from '../src/commands/install-kernel.js';
import { installKernelPlan } from '../src/lib/install-plans.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { GsError } from '../src/lib/errors.js';
import { recordingEnv } from './helpers/env.js';
import { files, snapshot } from './helpers/sysroot.js';

// These tests set GS_KIT_CACHE, so they run one at a time.

const RELEASE = '6.1.99-gs';
const BZIMAGE = Buffer.from([0x4d, 0x5a, 0, 1, 2, 3, 0xff, 0, 0x55, 0xaa]);
const SYSTEM_MAP = 'ffffffff81000000 T _text\nffffffff81000040 T startup_64\n';
const CONFIG = 'CONFIG_MODULES=y\nCONFIG_MEMCG=y\n';
const MODULE_OLD = 'old module\n';
const MODULE_NEW = 'new module\n';
const MAKEFILE = `modules_install:
\tmkdir -p $(INSTALL_MOD_PATH)/lib/modules/${RELEASE}/kernel
\techo dummy > $(INSTALL_MOD_PATH)/lib/modules/${RELEASE}/kernel/dummy.ko
`;


async function put(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, mode);
}

interface Fixture { cache: string; build: string; root: string; cleanup(): Promise<void> }

/** A cache with one finished build (two module builds, the newer one wins) and an empty sysroot. */
async function fixture(): Promise<Fixture> {
  const cache = await mkdtemp(join(tmpdir(), 'gs-cache-'));
  const build = join(cache, 'builds', 'abc123def4567890');
  const src = join(build, 'src');
  await put(join(src, 'arch/x86/boot/bzImage'), BZIMAGE);
  await put(join(src, 'System.map'), SYSTEM_MAP);
  await put(join(src, '.config'), CONFIG);
  await put(join(src, 'Makefile'), MAKEFILE);
  await put(join(build, 'kernel.json'), JSON.stringify({ version: '6.1.99', series: '6.1', release: RELEASE, bzImage: join(src, 'arch/x86/boot/bzImage') }, null, 2));
  await put(join(build, 'lkm-aaaa/proc_create_module.ko'), MODULE_OLD);
  await put(join(build, 'lkm-bbbb/proc_create_module.ko'), MODULE_NEW);
  const past = new Date(Date.now() - 3600_000);
  await utimes(join(build, 'lkm-aaaa/proc_create_module.ko'), past, past);
  const root = await mkdtemp(join(tmpdir(), 'gs-root-'));
  await put(join(root, 'etc/default/grub'), 'GRUB_DEFAULT=0\n');
  await put(join(root, 'usr/sbin/update-grub'), '#!/bin/sh\nexit 99\n', 0o755);
  return {
    cache, build, root,
    async cleanup() {
      await rm(cache, { recursive: true, force: true });
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function runInstall(cache: string, argv: string[]): Promise<{ code: number; out: string }> {
  const origCache = process.env.GS_KIT_CACHE;
  process.env.GS_KIT_CACHE = cache;
  try {
    const env = recordingEnv();
    const code = await installKernel.run(parseArgs(argv, installKernel.spec), env);
    return { code, out: env.ui.out };
  } finally {
    if (origCache === undefined) delete process.env.GS_KIT_CACHE;
    else process.env.GS_KIT_CACHE = origCache;
  }
}

test.serial('installs the kernel, its modules and the module into a sysroot; a second run changes nothing', async (t) => {
  const f = await fixture();
  try {
    const before = await snapshot(f.root);
    const first = await runInstall(f.cache, ['--build', 'latest', '--root', f.root]);
    t.is(first.code, 0);
    const after = await snapshot(f.root);
    const m = `/lib/modules/${RELEASE}`;
    const planned = [
      `/boot/vmlinuz-${RELEASE}`, `/boot/System.map-${RELEASE}`, `/boot/config-${RELEASE}`,
      `${m}/kernel/dummy.ko`, `${m}/extra/proc_create_module.ko`, '/etc/modules-load.d/gs-kit.conf',
    ];
    // Everything else new is depmod's index of the modules.
    const added = files(after).filter((p) => !files(before).includes(p));
    t.deepEqual(added.filter((p) => !p.startsWith(`${m}/modules.`)), planned.sort());
    t.true(added.includes(`${m}/modules.dep`), 'depmod -b ROOT ran');
    t.deepEqual(await readFile(join(f.root, 'boot', `vmlinuz-${RELEASE}`)), BZIMAGE);
    t.is(await readFile(join(f.root, 'boot', `System.map-${RELEASE}`), 'utf8'), SYSTEM_MAP);
    t.is(await readFile(join(f.root, 'boot', `config-${RELEASE}`), 'utf8'), CONFIG);
    t.is(await readFile(join(f.root, m, 'kernel/dummy.ko'), 'utf8'), 'dummy\n');
    t.is(await readFile(join(f.root, m, 'extra/proc_create_module.ko'), 'utf8'), MODULE_NEW);
    t.is(await readFile(join(f.root, 'etc/modules-load.d/gs-kit.conf'), 'utf8'),
      '# Written by gs-kit install-kernel: load proc_create_module at boot.\nproc_create_module\n');
    t.is(after[`/boot/vmlinuz-${RELEASE}`]!.mode & 0o777, 0o644);
    t.deepEqual(after['/etc/default/grub'], before['/etc/default/grub']);
    t.regex(first.out, new RegExp(`^run make -C ${f.build}/src INSTALL_MOD_PATH=${f.root} modules_install  # `, 'm'));
    t.regex(first.out, new RegExp(`^run depmod -b ${f.root} ${RELEASE.replace(/\./g, '\\.')}  # `, 'm'));
    t.regex(first.out, /^skipped update-grub: it acts on the running system/m);
    t.regex(first.out, /^write \/boot\/vmlinuz-6\.1\.99-gs \(10 bytes, mode 0644\)$/m);
    t.regex(first.out, /\b7 changes\./);

    const second = await runInstall(f.cache, ['--build', 'abc123', '--root', f.root]);
    t.regex(second.out, /\b0 changes\./);
    t.notRegex(second.out, /^(write|run|skipped) /m);
    t.deepEqual(await snapshot(f.root), after, 'nothing written, mtimes unchanged');

    // A new module build replaces the module and reindexes, nothing else.
    await put(join(f.build, 'lkm-cccc/proc_create_module.ko'), 'newer module\n');
    const third = await runInstall(f.cache, ['--build', 'latest', '--root', f.root]);
    t.regex(third.out, /^write \/lib\/modules\/6\.1\.99-gs\/extra\/proc_create_module\.ko/m);
    t.regex(third.out, /^run depmod /m);
    t.notRegex(third.out, /^run make /m);
    t.regex(third.out, /\b2 changes\./);
  } finally {
    await f.cleanup();
  }
});

test.serial('--dry-run writes nothing at all (not even make modules_install)', async (t) => {
  const f = await fixture();
  try {
    const root = await snapshot(f.root);
    const cache = await snapshot(f.cache);
    const r = await runInstall(f.cache, ['--build', 'latest', '--root', f.root, '--dry-run']);
    t.is(r.code, 0);
    t.deepEqual(await snapshot(f.root), root);
    t.deepEqual(await snapshot(f.cache), cache);
    t.regex(r.out, /^would write \/boot\/config-6\.1\.99-gs \(32 bytes, mode 0644\)$/m);
    t.regex(r.out, /^would run make -C /m);
    t.regex(r.out, /^would skip update-grub: /m);
    t.regex(r.out, /7 changes would be made \(dry run: nothing was written\)/);
  } finally {
    await f.cleanup();
  }
});

test.serial('unknown builds and broken builds are usage errors', async (t) => {
  const f = await fixture();
  try {
    for (const which of ['nope', '../x']) {
      const err = await t.throwsAsync(runInstall(f.cache, ['--build', which, '--root', f.root]));
      t.is((err as GsError).exitCode, 2, which);
    }
    t.is(((await t.throwsAsync(runInstall(f.cache, ['--root', f.root]))) as GsError).exitCode, 2);
    await writeFile(join(f.build, 'kernel.json'), JSON.stringify({ release: '../../etc' }));
    t.regex((await t.throwsAsync(runInstall(f.cache, ['--build', 'latest', '--root', f.root])))!.message, /no usable release/);
    t.deepEqual(files(await snapshot(f.root)), ['/etc/default/grub', '/usr/sbin/update-grub']);
  } finally {
    await f.cleanup();
  }
});

test.serial('findBuild: latest is the newest finished build, a key may be a unique prefix', async (t) => {
  const f = await fixture();
  try {
    const builds = join(f.cache, 'builds');
    await put(join(builds, 'abd0000000000000/kernel.json'), '{}');
    await put(join(builds, 'unfinished00000/src/x'), '');
    const past = new Date(Date.now() - 3600_000);
    await utimes(join(f.build, 'kernel.json'), past, past);
    t.is(await findBuild(builds, 'latest'), join(builds, 'abd0000000000000'));
    t.is(await findBuild(builds, 'abc'), f.build);
    t.regex((await t.throwsAsync(findBuild(builds, 'ab')))!.message, /matches/);
    t.regex((await t.throwsAsync(findBuild(builds, 'unfinished00000')))!.message, /no finished build/);
    t.regex((await t.throwsAsync(findBuild(join(f.cache, 'none'), 'latest')))!.message, /no finished build/);
  } finally {
    await f.cleanup();
  }
});

const source = {
  buildDir: '/c/b', release: '6.1.0-gs', src: '/c/b/src',
  bzImage: 'K', systemMap: 'M', config: 'C', module: 'KO',
};

test('the plan on "/" with dkms: the source copied to /usr/src, then dkms add, build and install, then update-grub', (t) => {
  const plan = installKernelPlan(source, {
    root: '/', dkms: true, dkmsSources: new Map([['dkms.conf', 'D'], ['Makefile', 'MK']]), dkmsAdded: false,
    grub: { updateGrub: true, grubMkconfig: false },
  });
  const lines = plan.map((c) => (c.kind === 'command' ? `run ${c.argv.join(' ')}` : `${c.kind} ${c.path}`));
  t.deepEqual(lines, [
    'file /boot/vmlinuz-6.1.0-gs',
    'file /boot/System.map-6.1.0-gs',
    'file /boot/config-6.1.0-gs',
    'run make -C /c/b/src INSTALL_MOD_PATH=/ modules_install',
    'file /lib/modules/6.1.0-gs/extra/proc_create_module.ko',
    'file /etc/modules-load.d/gs-kit.conf',
    'run depmod -b / 6.1.0-gs',
    'file /usr/src/proc_create_module-0.1.0/Makefile',
    'file /usr/src/proc_create_module-0.1.0/dkms.conf',
    'run dkms add -m proc_create_module -v 0.1.0',
    'run dkms build -m proc_create_module -v 0.1.0 -k 6.1.0-gs --force',
    'run dkms install -m proc_create_module -v 0.1.0 -k 6.1.0-gs --force',
    'run update-grub',
  ]);
  const added = installKernelPlan(source, { root: '/', dkms: true, dkmsSources: new Map([['Makefile', 'MK']]), dkmsAdded: true, grub: { updateGrub: false, grubMkconfig: false } });
  t.false(added.some((c) => c.kind === 'command' && c.argv[1] === 'add'));
  t.false(added.some((c) => c.kind === 'command' && c.argv[0] === 'update-grub'));
});

test('the plan under a sysroot has no DKMS even where dkms exists', (t) => {
  const plan = installKernelPlan(source, { root: '/srv/img', dkms: true, dkmsSources: new Map([['Makefile', 'MK']]), grub: { updateGrub: false, grubMkconfig: true } });
  t.false(plan.some((c) => c.kind === 'command' && c.argv[0] === 'dkms'));
  t.false(plan.some((c) => c.kind === 'file' && c.path.startsWith('/usr/src')));
  t.deepEqual(plan.at(-1), { kind: 'command', argv: ['grub-mkconfig', '-o', '/boot/grub/grub.cfg'], why: 'add 6.1.0-gs to the boot menu', after: ['/boot/vmlinuz-6.1.0-gs'] });
});
