import test from 'ava';
import { GsError } from '../src/lib/errors.js';
import {
  controlSatisfied, countChanges, decideCommand, formatChange, formatPlan, pendingChanges, resolveUnder,
  type Change, type HostState,
} from '../src/lib/host-plan.js';

const unit: Change = { kind: 'file', path: '/etc/x.conf', content: 'a\nb\n', mode: 0o644 };
const grub: Change = { kind: 'file', path: '/etc/default/grub.d/gs-kit.cfg', content: 'X=1\n', mode: 0o644 };
const update: Change = { kind: 'command', argv: ['update-grub'], why: 'regenerate grub.cfg', after: ['/etc/default/grub.d/gs-kit.cfg'] };

function state(files: Record<string, string>, modes: Record<string, number> = {}, existing: string[] = []): HostState {
  return { files: new Map(Object.entries(files)), modes: new Map(Object.entries(modes)), existing: new Set(existing) };
}

test('on an empty host every change is needed, in plan order', (t) => {
  t.deepEqual(pendingChanges([unit, grub, update], state({})), [unit, grub, update]);
});

test('a file whose content and mode match is skipped, and so is the command after it', (t) => {
  const s = state({ '/etc/x.conf': 'a\nb\n', '/etc/default/grub.d/gs-kit.cfg': 'X=1\n' },
    { '/etc/x.conf': 0o644, '/etc/default/grub.d/gs-kit.cfg': 0o100644 });
  t.deepEqual(pendingChanges([unit, grub, update], s), []);
});

test('a changed drop-in brings its command back; an unrelated file does not', (t) => {
  const s = state({ '/etc/x.conf': 'old\n', '/etc/default/grub.d/gs-kit.cfg': 'X=1\n' },
    { '/etc/x.conf': 0o644, '/etc/default/grub.d/gs-kit.cfg': 0o644 });
  t.deepEqual(pendingChanges([unit, grub, update], s), [unit]);
  const s2 = state({ '/etc/default/grub.d/gs-kit.cfg': 'X=0\n' }, { '/etc/default/grub.d/gs-kit.cfg': 0o644 });
  t.deepEqual(pendingChanges([grub, update], s2), [grub, update]);
});

test('a right file with the wrong mode is a change; a file without a planned mode ignores it', (t) => {
  t.deepEqual(pendingChanges([unit], state({ '/etc/x.conf': 'a\nb\n' }, { '/etc/x.conf': 0o600 })), [unit]);
  t.is(formatChange(unit, '/', state({ '/etc/x.conf': 'a\nb\n' }, { '/etc/x.conf': 0o600 })), 'chmod 0644 /etc/x.conf');
  const free: Change = { kind: 'file', path: '/etc/y', content: 'y' };
  t.deepEqual(pendingChanges([free], state({ '/etc/y': 'y' }, { '/etc/y': 0o600 })), []);
});

test('bytes compare with bytes and with text', (t) => {
  const bin: Change = { kind: 'file', path: '/boot/vmlinuz-1', content: new Uint8Array([1, 2, 0, 3]) };
  t.deepEqual(pendingChanges([bin], state({})), [bin]);
  t.deepEqual(pendingChanges([bin], { files: new Map([['/boot/vmlinuz-1', Buffer.from([1, 2, 0, 3])]]) }), []);
  t.deepEqual(pendingChanges([bin], { files: new Map([['/boot/vmlinuz-1', Buffer.from([1, 2, 0, 4])]]) }), [bin]);
  const text: Change = { kind: 'file', path: '/etc/t', content: 'é\n' };
  t.deepEqual(pendingChanges([text], { files: new Map([['/etc/t', Buffer.from('é\n')]]) }), []);
});

test('directories and `unless` commands are skipped when their path exists', (t) => {
  const dir: Change = { kind: 'dir', path: '/sys/fs/cgroup/gs-workload' };
  const make: Change = { kind: 'command', id: 'mi', argv: ['make', 'modules_install'], why: 'w', unless: ['/lib/modules/1/modules.order', '/lib/modules/1/kernel'] };
  const depmod: Change = { kind: 'command', argv: ['depmod', '1'], why: 'w', after: ['mi'] };
  t.deepEqual(pendingChanges([dir, make, depmod], state({})), [dir, make, depmod]);
  t.deepEqual(pendingChanges([dir, make, depmod], state({}, {}, ['/sys/fs/cgroup/gs-workload', '/lib/modules/1/kernel'])), []);
});

test('control files: "+memory" is done when memory is listed, values compare trimmed', (t) => {
  t.true(controlSatisfied('+memory', 'cpu io memory pids\n'));
  t.true(controlSatisfied('+memory', '+memory\n'));
  t.false(controlSatisfied('+memory', 'cpu io pids\n'));
  t.false(controlSatisfied('+memory', 'memoryx\n'));
  t.false(controlSatisfied('+memory', undefined));
  t.true(controlSatisfied('1048576', '1048576\n'));
  t.false(controlSatisfied('1048576', 'max\n'));
  const c: Change = { kind: 'file', path: '/sys/fs/cgroup/gs-workload/memory.max', content: '4096', control: true };
  t.deepEqual(pendingChanges([c], state({ '/sys/fs/cgroup/gs-workload/memory.max': '4096\n' })), []);
  t.is(formatChange(c), 'set /sys/fs/cgroup/gs-workload/memory.max to 4096');
});

test('the dry-run listing', (t) => {
  const bin: Change = { kind: 'file', path: '/boot/vmlinuz-1', content: new Uint8Array(3 * 1024 * 1024) };
  const plan: Change[] = [
    { kind: 'file', path: '/etc/x', content: Array.from({ length: 12 }, (_, i) => `l${i}`).join('\n') + '\n' },
    { kind: 'file', path: '/etc/one', content: 'only', mode: 0o600 },
    bin,
    { kind: 'dir', path: '/sys/fs/cgroup/gs-workload' },
    { kind: 'command', argv: ['update-grub'], why: 'regenerate grub.cfg' },
  ];
  t.is(formatPlan(plan), [
    'write /etc/x (12 lines)',
    'write /etc/one (1 line, mode 0600)',
    'write /boot/vmlinuz-1 (3.0 MiB)',
    'mkdir /sys/fs/cgroup/gs-workload',
    'run update-grub  # regenerate grub.cfg',
  ].join('\n'));
  t.is(formatPlan(plan.slice(4), '/srv/img'),
    'skip update-grub: it acts on the running system, not on the sysroot /srv/img; run it on the target once booted');
});

test('under a sysroot, live-system commands are skipped; depmod runs with -b ROOT', (t) => {
  for (const argv of [['update-grub'], ['grub-mkconfig', '-o', '/boot/grub/grub.cfg'], ['systemctl', 'daemon-reload'], ['modprobe', 'x'], ['dkms', 'add'], ['/usr/sbin/update-grub']]) {
    t.is(decideCommand(argv, '/tmp/r').action, 'skip', argv.join(' '));
    t.deepEqual(decideCommand(argv, '/'), { action: 'run', argv });
  }
  t.deepEqual(decideCommand(['depmod', '-b', '/tmp/r', '6.1'], '/tmp/r'), { action: 'run', argv: ['depmod', '-b', '/tmp/r', '6.1'] });
  t.deepEqual(decideCommand(['depmod', '6.1'], '/tmp/r'), { action: 'run', argv: ['depmod', '-b', '/tmp/r', '6.1'] });
  t.is(decideCommand(['depmod', '-b', '/', '6.1'], '/tmp/r').action, 'skip');
  t.deepEqual(decideCommand(['make', '-C', '/src', 'INSTALL_MOD_PATH=/tmp/r', 'modules_install'], '/tmp/r').action, 'run');
  const pending: Change[] = [unit, update, { kind: 'command', argv: ['depmod', '1'], why: 'w' }];
  t.is(countChanges(pending, '/tmp/r'), 2);
  t.is(countChanges(pending, '/'), 3);
});

test('paths resolve under the root and may not leave it', (t) => {
  t.is(resolveUnder('/tmp/r', '/etc/default/grub'), '/tmp/r/etc/default/grub');
  t.is(resolveUnder('/', '/etc/default/grub'), '/etc/default/grub');
  t.is(resolveUnder('/tmp/r/', '/a/../b'), '/tmp/r/b');
  for (const bad of ['/../etc/passwd', '/a/../../etc', 'etc/passwd']) {
    const err = t.throws(() => resolveUnder('/tmp/r', bad));
    t.true(err instanceof GsError, bad);
  }
});
