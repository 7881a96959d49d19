# Benchmark: the largest checkpoint a handler saves before its victim is
# killed, with the module's default bounds: to tmpfs, to a new file on a
# disk-backed ext4 (the guest's /dev/vda) and to a file there written
# ahead of the OOM (overwritten in place), in a memcg OOM and in a global
# OOM with 1 and with 4 processes allocating at once. The handler
# (gs_save) writes in 1 MiB writes from one locked buffer, with O_DIRECT
# where the file system takes it, then syncs. Sizes double (gs.save_sizes,
# default 4 8 16 32 64 128 MiB) until one does not complete;
# gs.save_targets and gs.save_kinds pick. One line per trial:
#   @gs savesize target=T kind=K mb=N saved=0|1 [mb=N ms=MS direct=0|1 inplace=0|1]
# This shell is never the victim; the allocators set their score back to 0.
echo -1000 > /proc/self/oom_score_adj
echo 0 > /proc/sys/vm/oom_dump_tasks
load_module start_timeout_ms="$(scaled_ms 3000)" $( [ "$(cmdline_value gs.trace)" = 1 ] && echo show_stuck=1)
prepare_records
make_cgroup work 64M
mkdir -p /tmp/ckpt /mnt/disk
if mount -t ext4 /dev/vda /mnt/disk 2> /dev/null; then say disk yes; else say disk no; fi
sizes=$(cmdline_value gs.save_sizes | tr ',' ' ')
[ -n "$sizes" ] || sizes="4 8 16 32 64 128"
say save_sizes "$sizes"

# save_trial TARGET KIND MB: one OOM whose victim's handler saves MB MiB.
save_trial() {
	dir=/tmp/ckpt
	[ "$1" = tmpfs ] || dir=/mnt/disk
	others=""
	case $2 in
	memcg) start_victim /sys/fs/cgroup/work ;;
	global1) start_victim - ;;
	global4)
		for i in 1 2 3; do
			start_victim -
			others="$others $VICTIM"
			eval "job_$i=\$VICTIM_JOB"
		done
		start_victim -
		# The one registered is chosen first; the others go on allocating.
		echo 1000 > "/proc/$VICTIM/oom_score_adj"
		;;
	esac
	# The file a handler overwrites in place, written ahead of the OOM.
	[ "$1" = disk-ahead ] && dd if=/dev/zero of="$dir/$VICTIM.ckpt" bs=1M count="$3" conv=fsync 2> /dev/null
	answer=$(proc_write $GS_PROC "$VICTIM /gs/gs_save $dir $3 /tmp/rec")
	# shellcheck disable=SC2086
	kill -USR1 $VICTIM $others
	wait "$VICTIM_JOB"
	if [ -n "$others" ]; then
		# shellcheck disable=SC2086
		kill -9 $others 2> /dev/null
		wait
	fi
	if [ -f "/tmp/rec/$VICTIM.saved" ]; then
		say savesize "target=$1 kind=$2 mb=$3 saved=1 $(cat "/tmp/rec/$VICTIM.saved")"
		ok=1
	else
		say savesize "target=$1 kind=$2 mb=$3 saved=0 register=${answer% *}"
		# What the module said of this victim's handler.
		say save_failed "target=$1 kind=$2 mb=$3 $(dmesg | grep "graceful_shutdown: event=.* victim=$VICTIM " | tr '\n' '|')"
		ok=0
	fi
	rm -f "$dir"/*.ckpt
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

targets=$(cmdline_value gs.save_targets | tr ',' ' ')
kinds=$(cmdline_value gs.save_kinds | tr ',' ' ')
for target in ${targets:-tmpfs disk disk-ahead}; do
	[ $target = tmpfs ] || grep -q ' /mnt/disk ' /proc/mounts || continue
	for kind in ${kinds:-memcg global1 global4}; do
		for mb in $sizes; do
			save_trial $target $kind "$mb"
			[ $ok = 1 ] || break
		done
	done
done
say timeouts "$(dmesg | grep -c 'graceful_shutdown: event=timeout')"
