# A handler never runs wider than its registrant. What the kernel cannot
# carry to a handler it starts is refused with EXDEV: a registrant in
# another namespace (UTS, network: PrivateNetwork=), under a seccomp filter
# (SystemCallFilter=) or cgroup BPF programs (IPAddressDeny=). And the
# writer must be who opened the file: a descriptor root opened, passed to a
# user, registers nothing.
load_module
prepare_records
user_sleeper 1000

say plain "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$SLEEPER /gs/gs_handler_record /tmp/rec")"
proc_write $GS_PROC "-$SLEEPER" > /dev/null
say uts_ns "$(unshare -u /gs/run_as 1000 1000 proc_write $GS_PROC "$SLEEPER /gs/gs_handler_record /tmp/rec" 2>&1)"
say net_ns "$(unshare -n /gs/run_as 1000 1000 proc_write $GS_PROC "$SLEEPER /gs/gs_handler_record /tmp/rec" 2>&1)"
say seccomp "$(/gs/run_as 1000 1000 /gs/seccomp_run proc_write $GS_PROC "$SLEEPER /gs/gs_handler_record /tmp/rec")"
mkdir -p /sys/fs/cgroup/bpfcg
if /gs/cgroup_bpf /sys/fs/cgroup/bpfcg; then
	say cgroup_bpf "$(sh -c 'echo $$ > /sys/fs/cgroup/bpfcg/cgroup.procs && exec "$@"' sh \
		/gs/run_as 1000 1000 proc_write $GS_PROC "$SLEEPER /gs/gs_handler_record /tmp/rec")"
else
	say cgroup_bpf "unavailable"
fi
# Root opens the file; a user writes through that descriptor.
say passed_fd "$(sh -c 'exec 3> '$GS_PROC' && exec /gs/run_as 1000 1000 sh -c "echo \"$0 /gs/gs_handler_record /tmp/rec\" >&3 && echo ok || echo refused"' "$SLEEPER" 2> /dev/null)"
say listing "$(tr '\n' '|' < $GS_PROC)"
kill $SLEEPER
