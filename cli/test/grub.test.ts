import test from 'ava';
import { grubPlan, grubUpdateCommand, renderGrubDropIn } from '../src/lib/grub.js';
import { pendingChanges } from '../src/lib/host-plan.js';

test('the v2 drop-in', (t) => {
  t.is(renderGrubDropIn('v2'), `# Written by gs-kit configure: boot with cgroup v2 so the gs-workload
# memory cgroup can limit workloads and leave memory for OOM handlers.
# To remove: rm /etc/default/grub.d/gs-kit.cfg && update-grub
GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"
`);
});

test('the v1 drop-in, removal with grub-mkconfig', (t) => {
  t.is(renderGrubDropIn('v1', ['grub-mkconfig', '-o', '/boot/grub/grub.cfg']), `# Written by gs-kit configure: boot with cgroup v1 so the gs-workload
# memory cgroup can limit workloads and leave memory for OOM handlers.
# To remove: rm /etc/default/grub.d/gs-kit.cfg && grub-mkconfig -o /boot/grub/grub.cfg
GRUB_CMDLINE_LINUX_DEFAULT="$GRUB_CMDLINE_LINUX_DEFAULT systemd.unified_cgroup_hierarchy=0 cgroup_enable=memory"
`);
});

test('update-grub when it exists, else grub-mkconfig, else grub2-mkconfig, else nothing', (t) => {
  t.deepEqual(grubUpdateCommand({ updateGrub: true, grubMkconfig: true }), ['update-grub']);
  t.deepEqual(grubUpdateCommand({ updateGrub: false, grubMkconfig: true }), ['grub-mkconfig', '-o', '/boot/grub/grub.cfg']);
  t.deepEqual(grubUpdateCommand({ updateGrub: false, grubMkconfig: false, grub2Mkconfig: true }), ['grub2-mkconfig', '-o', '/boot/grub2/grub.cfg']);
  t.is(grubUpdateCommand({ updateGrub: false, grubMkconfig: false }), undefined);
});

test('the plan never names /etc/default/grub and regenerates only when the drop-in changes', (t) => {
  const plan = grubPlan('v2', { updateGrub: true, grubMkconfig: true });
  t.deepEqual(plan, [
    { kind: 'file', path: '/etc/default/grub.d/gs-kit.cfg', content: renderGrubDropIn('v2'), mode: 0o644 },
    { kind: 'command', argv: ['update-grub'], why: 'regenerate grub.cfg with /etc/default/grub.d/gs-kit.cfg', after: ['/etc/default/grub.d/gs-kit.cfg'] },
  ]);
  t.false(JSON.stringify(plan).includes('"/etc/default/grub"'));
  t.is(pendingChanges(plan, { files: new Map() }).length, 2);
  const done = { files: new Map([['/etc/default/grub.d/gs-kit.cfg', renderGrubDropIn('v2')]]), modes: new Map([['/etc/default/grub.d/gs-kit.cfg', 0o644]]) };
  t.deepEqual(pendingChanges(plan, done), []);
  // Switching to v1 rewrites the drop-in and regenerates again.
  t.is(pendingChanges(grubPlan('v1', { updateGrub: true, grubMkconfig: true }), done).length, 2);
  // Without any GRUB tool the drop-in is still written; no command.
  t.deepEqual(grubPlan('v2', { updateGrub: false, grubMkconfig: false }).map((c) => c.kind), ['file']);
});
