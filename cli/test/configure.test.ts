import test from 'ava';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { configure } from '../src/commands/configure.js';
import { parseArgs } from '../src/lib/cli-args.js';
import { GsError } from '../src/lib/errors.js';
import { recordingEnv } from './helpers/env.js';
import { files, snapshot } from './helpers/sysroot.js';
import { renderGrubDropIn } from '../src/lib/grub.js';
import { renderSlice } from '../src/lib/cgroups.js';

const GRUB = 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet"\nGRUB_CMDLINE_LINUX=""\n';
const V2 = 'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n';
const V1 = 'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n';
const MEMINFO = 'MemTotal:        2097152 kB\nMemFree:         1048576 kB\nMemAvailable:    1500000 kB\n';
/** 2 GiB less the default reserve of 256 MiB. */
const LIMIT = 2048 * 1024 * 1024 - 256 * 1024 * 1024;


async function put(root: string, path: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), content);
  await chmod(join(root, path), mode);
}

interface Sysroot { mounts?: string; systemd?: boolean; grub?: boolean; updateGrub?: boolean; extra?: Record<string, string> }

async function sysroot(opts: Sysroot = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'gs-configure-'));
  await put(root, '/proc/mounts', opts.mounts ?? V2);
  await put(root, '/proc/meminfo', MEMINFO);
  if (opts.grub ?? true) await put(root, '/etc/default/grub', GRUB);
  // Never run under a sysroot; if it were, it would fail the test.
  if (opts.updateGrub ?? true) await put(root, '/usr/sbin/update-grub', '#!/bin/sh\nexit 99\n', 0o755);
  if (opts.systemd) await mkdir(join(root, 'run/systemd/system'), { recursive: true });
  for (const [p, c] of Object.entries(opts.extra ?? {})) await put(root, p, c);
  return root;
}

/** Run the real command with what it tells the user recorded. */
async function runConfigure(argv: string[]): Promise<{ code: number; out: string }> {
  const env = recordingEnv();
  const code = await configure.run(parseArgs(argv, configure.spec), env);
  return { code, out: env.ui.out };
}

test.serial('systemd + cgroup v2: the slice and the GRUB drop-in, live-system commands skipped; a second run changes nothing', async (t) => {
  const root = await sysroot({ systemd: true });
  try {
    const before = await snapshot(root);
    const first = await runConfigure(['--root', root]);
    t.is(first.code, 0);
    const after = await snapshot(root);
    t.deepEqual(files(after), [...files(before), '/etc/default/grub.d/gs-kit.cfg', '/etc/modprobe.d/gs-kit.conf',
      '/etc/systemd/system/gs-handlers.slice', '/etc/systemd/system/gs-workload.slice', '/etc/tmpfiles.d/gs-kit.conf'].sort());
    // The slice's text is cgroups.test.ts's; here, that configure wrote it with this machine's limit.
    t.is(await readFile(join(root, 'etc/systemd/system/gs-workload.slice'), 'utf8'),
      renderSlice({ limitBytes: LIMIT, reserveBytes: 256 * 1024 * 1024 }, 'v2'));
    t.true(renderSlice({ limitBytes: LIMIT, reserveBytes: 256 * 1024 * 1024 }, 'v2').includes(`MemoryMax=${LIMIT}\n`));
    t.is(await readFile(join(root, 'etc/systemd/system/gs-handlers.slice'), 'utf8'), `# Written by gs-kit configure: the cgroup proc_create_module makes each
# registrant's handler cgroup in. Nothing else belongs here: everything in
# a handler cgroup is killed when a handler's run ends.
[Unit]
Description=gs-kit OOM handlers (each user's at most 32 MiB)

[Slice]
MemoryAccounting=yes
MemoryMin=${64 * 1024 * 1024}
MemorySwapMax=0

[Install]
WantedBy=slices.target
`);
    t.is(await readFile(join(root, 'etc/modprobe.d/gs-kit.conf'), 'utf8'),
      '# Written by gs-kit configure: where proc_create_module runs OOM handlers,\n'
      + '# and how much memory each non-root user\'s handlers may hold.\n'
      + 'options proc_create_module handler_cgroup=/sys/fs/cgroup/gs-handlers.slice user_handler_memory_kb=32768\n');
    t.is(await readFile(join(root, 'etc/default/grub.d/gs-kit.cfg'), 'utf8'), renderGrubDropIn('v2'));
    t.is(after['/etc/default/grub.d/gs-kit.cfg']!.mode & 0o777, 0o644);
    t.is(await readFile(join(root, 'etc/default/grub'), 'utf8'), GRUB);
    t.deepEqual(after['/etc/default/grub'], before['/etc/default/grub']);
    t.regex(first.out, /cgroup v2 \(mounted now\); systemd: yes/);
    t.regex(first.out, /^write \/etc\/systemd\/system\/gs-workload\.slice \(10 lines, mode 0644\)$/m);
    t.regex(first.out, /^skipped systemctl daemon-reload: it acts on the running system, not on the sysroot /m);
    t.regex(first.out, /^skipped update-grub: it acts on the running system/m);
    t.regex(first.out, /^link \/etc\/systemd\/system\/slices\.target\.wants\/gs-handlers\.slice -> \/etc\/systemd\/system\/gs-handlers\.slice$/m);
    t.is(after['/etc/systemd/system/slices.target.wants/gs-handlers.slice']?.link, '/etc/systemd/system/gs-handlers.slice');
    // systemd makes a slice's cgroup only once a unit runs in it: tmpfiles makes it at boot.
    t.regex(await readFile(join(root, 'etc/tmpfiles.d/gs-kit.conf'), 'utf8'),
      /^d \/sys\/fs\/cgroup\/gs-handlers\.slice 0755 root root -\nw \/sys\/fs\/cgroup\/gs-handlers\.slice\/memory\.min - - - - \d+$/m);
    t.regex(first.out, /^skipped systemctl start gs-handlers\.slice: /m);
    t.regex(first.out, /handler cgroup \/sys\/fs\/cgroup\/gs-handlers\.slice: memory\.min 64 MiB, each user's handlers at most 32 MiB/);
    t.regex(first.out, /\b6 changes\./);

    const second = await runConfigure(['--root', root]);
    t.is(second.code, 0);
    t.regex(second.out, /\b0 changes\./);
    t.notRegex(second.out, /^(write|run|skipped) /m);
    t.deepEqual(await snapshot(root), after, 'nothing written, mtimes unchanged');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.serial('plain cgroup v2 without systemd: the cgroup itself, with the memory controller enabled above it', async (t) => {
  const root = await sysroot({ extra: { '/sys/fs/cgroup/cgroup.subtree_control': 'cpu io pids\n' } });
  try {
    const first = await runConfigure(['--root', root, '--reserve', '512M']);
    t.is(first.code, 0);
    t.is(await readFile(join(root, 'sys/fs/cgroup/cgroup.subtree_control'), 'utf8'), '+memory');
    t.is(await readFile(join(root, 'sys/fs/cgroup/gs-workload/memory.max'), 'utf8'), String(1536 * 1024 * 1024));
    t.regex(first.out, /^set \/sys\/fs\/cgroup\/gs-workload\/memory\.max to 1610612736$/m);
    t.regex(first.out, /^mkdir \/sys\/fs\/cgroup\/gs-workload$/m);
    // The handler cgroup beside it: a quarter of the reserve protected, no
    // limit of its own (each user's handler cgroup in it has one).
    t.false(existsSync(join(root, 'sys/fs/cgroup/gs-handlers/memory.max')));
    t.is(await readFile(join(root, 'sys/fs/cgroup/gs-handlers/memory.min'), 'utf8'), String(64 * 1024 * 1024));
    t.regex(await readFile(join(root, 'etc/modprobe.d/gs-kit.conf'), 'utf8'),
      /handler_cgroup=\/sys\/fs\/cgroup\/gs-handlers user_handler_memory_kb=65536\n/);
    // subtree_control, mkdir, memory.max; mkdir, memory.min, modprobe.d; drop-in
    t.regex(first.out, /\b7 changes\./);
    const snap = await snapshot(root);
    t.regex((await runConfigure(['--root', root, '--reserve', '512M'])).out, /\b0 changes\./);
    t.deepEqual(await snapshot(root), snap);
    // A different limit changes memory.max only.
    const third = await runConfigure(['--root', root, '--memory-max', '1G']);
    t.regex(third.out, /\b1 changes?\./); // the workload's memory.max (memory.min and the user cap stay at their caps)
    t.is(await readFile(join(root, 'sys/fs/cgroup/gs-workload/memory.max'), 'utf8'), String(1024 * 1024 * 1024));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.serial('cgroup v1 (hybrid) with --no-grub: memory.limit_in_bytes, no drop-in', async (t) => {
  const root = await sysroot({ mounts: V1 });
  try {
    const before = await snapshot(root);
    const r = await runConfigure(['--root', root, '--no-grub']);
    const after = await snapshot(root);
    t.deepEqual(files(after), [...files(before), '/sys/fs/cgroup/memory/gs-workload/memory.limit_in_bytes'].sort());
    t.is(await readFile(join(root, 'sys/fs/cgroup/memory/gs-workload/memory.limit_in_bytes'), 'utf8'), String(LIMIT));
    t.regex(r.out, /cgroup v1 \(mounted now\)/);
    t.regex(r.out, /\b2 changes\./);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.serial('--cgroup v2 on a v1 host without systemd: only the boot setting now, and grub-mkconfig when update-grub is absent', async (t) => {
  const root = await sysroot({ mounts: V1, updateGrub: false, extra: { '/usr/sbin/grub-mkconfig': '#!/bin/sh\nexit 99\n' } });
  try {
    const r = await runConfigure(['--root', root, '--cgroup', 'v2']);
    t.regex(r.out, /cgroup v2 is not mounted now/);
    t.regex(r.out, /^skipped grub-mkconfig -o \/boot\/grub\/grub\.cfg: /m);
    t.is(await readFile(join(root, 'etc/default/grub.d/gs-kit.cfg'), 'utf8'), renderGrubDropIn('v2', ['grub-mkconfig', '-o', '/boot/grub/grub.cfg']));
    t.regex(r.out, /\b1 change\./);
    t.false(existsSync(join(root, 'sys')), 'no cgroup made for a hierarchy that is not mounted');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.serial('--dry-run writes nothing at all and lists each change', async (t) => {
  const root = await sysroot({ systemd: true });
  try {
    const before = await snapshot(root);
    const r = await runConfigure(['--root', root, '--dry-run']);
    t.is(r.code, 0);
    t.deepEqual(await snapshot(root), before);
    t.regex(r.out, /^would write \/etc\/systemd\/system\/gs-workload\.slice \(10 lines, mode 0644\)$/m);
    t.regex(r.out, /^would write \/etc\/default\/grub\.d\/gs-kit\.cfg \(4 lines, mode 0644\)$/m);
    t.regex(r.out, /^would skip update-grub: /m);
    t.regex(r.out, /^would write \/etc\/systemd\/system\/gs-handlers\.slice \(13 lines, mode 0644\)$/m);
    t.regex(r.out, /^would write \/etc\/tmpfiles\.d\/gs-kit\.conf \(6 lines, mode 0644\)$/m);
    t.regex(r.out, /^would skip systemd-tmpfiles --create \/etc\/tmpfiles\.d\/gs-kit\.conf: /m);
    t.regex(r.out, /6 changes would be made \(dry run: nothing was written\)/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.serial('paths stay in the root: a symlink out of it is refused and nothing outside is written', async (t) => {
  const root = await sysroot({ grub: false });
  const outside = await mkdtemp(join(tmpdir(), 'gs-outside-'));
  try {
    await writeFile(join(outside, 'grub'), GRUB);
    await mkdir(join(root, 'etc'), { recursive: true });
    await symlink(outside, join(root, 'etc/default'));
    const before = await snapshot(outside);
    const err = await t.throwsAsync(runConfigure(['--root', root]));
    t.true(err instanceof GsError);
    t.regex(err!.message, /leads out of the root/);
    t.deepEqual(await snapshot(outside), before);
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  }
});

test.serial('usage errors: a missing root, a bad size, both --reserve and --memory-max', async (t) => {
  const root = await sysroot();
  try {
    for (const argv of [
      ['--root', join(root, 'nope')],
      ['--root', root, '--reserve', 'lots'],
      ['--root', root, '--reserve', '1G', '--memory-max', '1G'],
      ['--root', root, '--reserve', '2G'],
    ]) {
      const err = await t.throwsAsync(runConfigure(argv));
      t.is((err as GsError).exitCode, 2, argv.join(' '));
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.serial('systemd: after a kernel change moves MemTotal by a few MiB, configure again changes nothing; a real change of memory rewrites the limit', async (t) => {
  const root = await sysroot({ systemd: true });
  const meminfo = (kb: number) => put(root, '/proc/meminfo', `MemTotal:        ${kb} kB\n`);
  const withoutMeminfo = (snap: Record<string, unknown>) => Object.fromEntries(Object.entries(snap).filter(([p]) => p !== '/proc/meminfo'));
  const slice = () => readFile(join(root, 'etc/systemd/system/gs-workload.slice'), 'utf8');
  try {
    t.is((await runConfigure(['--root', root])).code, 0);
    const written = withoutMeminfo(await snapshot(root));
    for (const kb of [2097152 + 12 * 1024, 2097152 - 12 * 1024]) {
      await meminfo(kb);
      const again = await runConfigure(['--root', root]);
      t.is(again.code, 0);
      t.deepEqual(withoutMeminfo(await snapshot(root)), written, `MemTotal ${kb} kB`);
    }
    // 4 GiB: the default reserve is 10%, 409.6 MiB; the limit the rest, to a page.
    await meminfo(4 * 1024 * 1024);
    t.is((await runConfigure(['--root', root])).code, 0);
    t.true((await slice()).includes('MemoryMax=3865468928\n'), await slice());
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
