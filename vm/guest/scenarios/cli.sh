# The real CLI in the guest: the host's root is shared read-only over 9p,
# and PID 1 chroots into it, so that the kernel's user-mode helpers (which
# share PID 1's root) see the same paths as the CLI. Stage 2 runs there.
load_module timeout_ms=5000
mkdir -p /host
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /host; then
	say error "cannot mount the host root over 9p"
	return
fi
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
mount -t tmpfs -o mode=1777 tmpfs /host/tmp
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
cp /bin/busybox /host/tmp/busybox
repo=$(cmdline_value gs.repo)
exec chroot /host /tmp/busybox sh "$repo/vm/guest/cli-stage2.sh" "$repo" "$(cmdline_value gs.progs)"
