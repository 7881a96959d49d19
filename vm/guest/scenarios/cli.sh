# The real CLI in the guest, run by the host's node from the host's root
# (see mount_host_root in lib.sh). Stage 2 runs there.
load_module timeout_ms=5000
mount_host_root || return
repo=$(cmdline_value gs.repo)
exec chroot /host /tmp/busybox sh "$repo/vm/guest/cli-stage2.sh" "$repo" "$(cmdline_value gs.progs)"
