# a. memcg OOM: the handler runs while the victim is alive, then the kill.
load_module timeout_ms=5000
prepare_records
make_cgroup work 32M
register_work_victim "/gs/gs_handler_record /tmp/rec"
say_listing listing
trigger_victim
say_record "$VICTIM"
say oom_kill "$(sed -n 's/^oom_kill //p' /sys/fs/cgroup/work/memory.events)"
say_listing listing_after
