# Each principal's handlers run in a handler cgroup of its own, which keeps
# what their runs leave charged: a user's handler that writes 40 MiB to
# tmpfs (root's own dd, with the user's arguments) stops at the user's cap
# (user_handler_memory_kb, 24 MiB here), what it left stays charged to
# that user's cgroup and is logged as such, and neither root's handler nor
# another user's is the worse for it.
make_handler_cgroup
load_module timeout_ms="$(scaled_ms 3000)" user_timeout_ms="$(scaled_ms 2000)" \
	user_handler_memory_kb=24576 hold_budget_ms=0 users_hold_budget_ms=0 user_hold_budget_ms=0
prepare_records
make_cgroup work 32M
mkdir -p /tmp/u1000 /tmp/u1001
chown 1000:1000 /tmp/u1000
chown 1001:1001 /tmp/u1001

# A: user 1000's handler fills tmpfs.
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim "$VICTIM"
say register "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /bin/dd if=/dev/zero of=/tmp/u1000/stash bs=1M count=40")"
trigger_victim
say stash_kb "$(($(stat -c %s /tmp/u1000/stash 2> /dev/null || echo 0) / 1024))"
sleep 1
say user_cgroup_kb "$(($(cat $GS_HANDLERS/user-1000/memory.current) / 1024))"
say user_cgroup_max "$(cat $GS_HANDLERS/user-1000/memory.max)"

# B: root's handler needs 24 MiB.
start_victim /sys/fs/cgroup/work
say victim_root "$VICTIM"
say register_root "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_alloc /tmp/rec 24")"
trigger_victim
say_file rec_root "/tmp/rec/$VICTIM.rec"

# C: user 1001's handler writes 16 MiB of its own.
start_victim /sys/fs/cgroup/work /gs/run_as 1001 1001
say victim_other "$VICTIM"
say register_other "$(/gs/run_as 1001 1001 proc_write $GS_PROC "$VICTIM /bin/dd if=/dev/zero of=/tmp/u1001/stash bs=1M count=16")"
trigger_victim
say other_stash_kb "$(($(stat -c %s /tmp/u1001/stash 2> /dev/null || echo 0) / 1024))"
sleep 1
say admin_cgroup_kb "$(($(cat $GS_HANDLERS/admin/memory.current) / 1024))"
say handler_procs "$(handler_procs)"
