# The real CLI in the guest, run by the host's node from the host's root
# (see mount_host_root in lib.sh). Stage 2 runs there.
load_module timeout_ms=5000
repo=$(cmdline_value gs.repo)
progs=$(cmdline_value gs.progs)
mount_host_root "$repo" "$progs" || return
exec chroot /host /tmp/busybox sh "$repo/vm/guest/cli-stage2.sh" "$repo" "$progs"
