# b. global OOM: no cgroup limit; the whole guest runs out of memory.
# start_timeout_ms above its default: under TCG on a loaded host the guest
# clock jumps when QEMU is descheduled, and a 1 s start window can close
# before the helper's kworker has run at all.
# Both scaled on the debug kernels (gs.slowdown).
load_module timeout_ms="$(scaled_ms 5000)" start_timeout_ms="$(scaled_ms 3000)"
prepare_records
start_victim -
say victim "$VICTIM"
say register "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
trigger_victim
say_record "$VICTIM"
# The guest must still be usable: start a process, register it, list it.
sleep 1000 &
say register_after "$(proc_write $GS_PROC "$! /gs/gs_handler_record /tmp/rec")"
say_listing listing_after
say sleeper "$!"
kill $!
