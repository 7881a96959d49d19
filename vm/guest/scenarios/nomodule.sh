# g. the patched kernel without the module behaves like stock Linux.
prepare_records
make_cgroup work 32M
start_victim /sys/fs/cgroup/work
say victim "$VICTIM"
say proc_file "$([ -e $GS_PROC ] && echo present || echo absent)"
trigger_victim
say_record "$VICTIM"
say oom_kill "$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/work/memory.events)"
