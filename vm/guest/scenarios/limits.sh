# Per-user bounds: registrations per non-root user (user_max_entries), the
# longest wait a non-root registrant's handler gets (user_timeout_ms), and
# the time handlers may hold the OOM killer, per user and in all
# (user_hold_budget_ms, hold_budget_ms).
load_module timeout_ms=4000 user_timeout_ms=1000 user_max_entries=3 user_hold_budget_ms=1000 hold_budget_ms=2000
prepare_records
make_cgroup work 32M

# Quota: three registrations, then EDQUOT; removing one makes room; root's
# registrations of the user's processes do not count against it.
for i in 1 2 3 4 5; do
	user_sleeper 1000
	eval "U$i=\$SLEEPER"
done
say quota_1 "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$U1 /gs/gs_handler_record /tmp/rec\\n$U2 /gs/gs_handler_record /tmp/rec")"
say quota_2 "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$U3 /gs/gs_handler_record /tmp/rec")"
say quota_full "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$U4 /gs/gs_handler_record /tmp/rec")"
say quota_replace "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$U3 /gs/gs_handler_sleep /tmp/rec 10")"
say quota_root "$(proc_write $GS_PROC "$U4 /gs/gs_handler_record /tmp/rec")"
say quota_remove "$(/gs/run_as 1000 1000 proc_write $GS_PROC "-$U1")"
say quota_again "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$U5 /gs/gs_handler_record /tmp/rec")"
say quota_listing "$(/gs/run_as 1000 1000 cat $GS_PROC | wc -l)"
kill $U1 $U2 $U3 $U4 $U5
wait $U1 $U2 $U3 $U4 $U5 2> /dev/null

# The user's hung handler is cut at user_timeout_ms, not timeout_ms; that
# spends the user's whole budget, so its next handler is skipped; root's
# handler still runs.
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim_u1 "$VICTIM"
say register_u1 "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /gs/gs_handler_hang /tmp/rec")"
trigger_victim
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim_u2 "$VICTIM"
say register_u2 "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
trigger_victim
say_wrote rec_u2 "$VICTIM"
start_victim /sys/fs/cgroup/work
say victim_r1 "$VICTIM"
say register_r1 "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
trigger_victim
say_wrote rec_r1 "$VICTIM"

# Root's hung handler gets only what is left of the budget for all
# (hold_budget_ms=2000, less what the user's and root's first handlers
# held), not timeout_ms; then none is left. The budget comes back at
# 2000 ms a minute, 100 ms (what a handler needs) in 3 s, so the next OOM
# must not wait for this shell: r3, in a cgroup of its own, starts to
# allocate while r2's handler hangs, and its OOM queues behind r2's.
make_cgroup work3 32M
start_victim /sys/fs/cgroup/work3
R3=$VICTIM
R3_JOB=$VICTIM_JOB
say victim_r3 "$R3"
say register_r3 "$(proc_write $GS_PROC "$R3 /gs/gs_handler_record /tmp/rec")"
start_victim /sys/fs/cgroup/work
say victim_r2 "$VICTIM"
say register_r2 "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_hang /tmp/rec")"
kill -USR1 "$VICTIM"
# The hang handler writes its record once it runs; a test, not a walk of
# /proc, which on a debug kernel takes longer than the handler lives.
wait_file /tmp/rec/$VICTIM.rec 500 || true
kill -USR1 "$R3"
wait "$VICTIM_JOB"
say victim_status $?
wait "$R3_JOB"
say victim_status $?
say_wrote rec_r3 "$R3"
sleep 1
say leftover_helpers "$(count_procs gs_handler_hang)"
