# The handler cgroup's hard limit (memory.max) and oom_lock: a handler that
# runs into the limit while the OOM killer waits for it enters the memcg
# OOM path, which needs the oom_lock that the waiting OOM holds. It stays
# blocked, is killed when its time is up, and the kill goes on: bounded,
# never a hang. A handler within the limit runs as usual afterwards.
make_handler_cgroup 16M
load_module timeout_ms=2000
prepare_records
make_cgroup work 32M
register_work_victim "/gs/gs_handler_alloc /tmp/rec 48"
trigger_victim
say_wrote rec_greedy "$VICTIM"
say handler_oom_events "$(sed -n 's/^oom //p' $GS_HANDLERS/memory.events)"
sleep 1
say leftover_helpers "$(count_procs gs_handler_allo)"

start_victim /sys/fs/cgroup/work
say victim_ok "$VICTIM"
say register_ok "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_alloc /tmp/rec 4")"
trigger_victim
say_file rec_ok "/tmp/rec/$VICTIM.rec"
