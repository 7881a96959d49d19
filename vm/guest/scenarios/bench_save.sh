# Benchmark: does a stateful workload get to save its state before it is
# killed, at several allocation rates, with gs-kit (memcg and global OOM),
# earlyoom, nohang, and a stock kernel? earlyoom, nohang and stress-ng are
# the host's own (Debian packages), run from the host's root (see
# mount_host_root in lib.sh); stage 2 runs there.
repo=$(cmdline_value gs.repo)
progs=$(cmdline_value gs.progs)
mount_host_root "$repo" "$progs" || return
cp "$GS_MODULE" /host/tmp/proc_create_module.ko
exec chroot /host /tmp/busybox sh "$repo/vm/guest/scenarios/bench_save_stage2.sh" "$repo" "$progs"
