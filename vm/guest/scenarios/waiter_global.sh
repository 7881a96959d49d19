# A waiter in a global OOM: no cgroup limit, the whole guest out of memory.
# The waiter (a user's, as in a rootless container) is woken, moved into
# its user's handler cgroup, lent the reserve (and, on a patched kernel,
# the victim's reserves), and its handler runs to its end before the kill.
# start_timeout_ms as in the global scenario (TCG clock jumps).
load_module timeout_ms="$(scaled_ms 5000)" user_timeout_ms="$(scaled_ms 5000)" \
	start_timeout_ms="$(scaled_ms 3000)"
prepare_records
start_victim - /gs/run_as 1000 1000
say victim "$VICTIM"
/gs/run_as 1000 1000 /gs/gs_wait "$VICTIM" /gs/gs_handler_record /tmp/rec > /tmp/rec/waiter.out &
wait_file /tmp/rec/waiter.out 500
say waiter "$(cat /tmp/rec/waiter.out)"
trigger_victim
say_record "$VICTIM"
say waiters_left "$(count_cmdline gs_wait)"
