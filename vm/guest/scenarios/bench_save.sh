# Benchmark: does a stateful workload get to save its state before it is
# killed, at several allocation rates, with gs-kit (memcg and global OOM),
# earlyoom, nohang, and a stock kernel? earlyoom, nohang and stress-ng are
# the host's own (Debian packages), so the host's root is shared over 9p
# and PID 1 chroots into it as in the "cli" scenario; stage 2 runs there.
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
cp "$GS_MODULE" /host/tmp/proc_create_module.ko
repo=$(cmdline_value gs.repo)
exec chroot /host /tmp/busybox sh "$repo/vm/guest/scenarios/bench_save_stage2.sh" "$repo" "$(cmdline_value gs.progs)"
