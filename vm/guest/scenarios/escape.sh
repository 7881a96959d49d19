# Least privilege: nothing a handler starts outlives its run, however it
# daemonizes; none of it is shielded from the OOM killer; all of it runs
# in the handler cgroup. A non-root user's handler exits 0, a root
# registrant's exits 3; both leave children behind in every way a script
# can. The handler's time budgets, and its wait for its six children,
# scaled on the debug kernels (gs.slowdown): what is measured here is
# what the module leaves behind, not how fast the handler is.
load_module timeout_ms="$(scaled_ms 5000)" user_timeout_ms="$(scaled_ms 5000)" \
	hold_budget_ms="$(scaled_ms 10000)" user_hold_budget_ms="$(scaled_ms 5000)"
START_TRIES=$(($(scaled_ms 2000) / 100))
prepare_records
write_handler /tmp/h/daemonize <<'SCRIPT'
#!/bin/sh
# $1: record directory, $2: exit status, $3: tries (0.1 s apart) to see
# all six background processes start
dir=$1
/gs/gs_handler_record "$dir" || exit 1
out=$dir/$GS_PID.tree
{
	if echo -1000 > /proc/self/oom_score_adj; then echo lower=allowed; else echo lower=refused; fi
	sh -c 'echo "child_adj=$(cat /proc/self/oom_score_adj)"; echo "child_cgroup=$(cat /proc/self/cgroup)"'
} > "$out.tmp" 2> /dev/null
# Each background process notes itself in $marks, then becomes a sleep:
# counting them so never reads the victim's /proc (it may hold its
# mmap_lock while stuck in the allocator).
marks=$dir/$GS_PID.marks
mark='echo x >> "$0"; exec sleep "$1"'
setsid sh -c "$mark" "$marks" 1001 &
( sh -c "$mark" "$marks" 1002 & ) &
# nohup, as busybox-static has none: SIGHUP ignored, output away.
( trap '' HUP && exec sh -c "$mark" "$marks" 1003 ) > /dev/null 2>&1 &
sh -c "$mark" "$marks" 1004 | sh -c "$mark" "$marks" 1005 &
( setsid sh -c 'sh -c "$1" "$0" 1006 & exit 0' "$marks" "$mark" & ) &
# Wait (up to $3 tries) until all six are running.
tries=0
while started=$(cat "$marks" 2> /dev/null | wc -l) && [ "$started" -lt 6 ] && [ $tries -lt "${3:-20}" ]; do
	sleep 0.1
	tries=$((tries + 1))
done
echo "started=$started" >> "$out.tmp"
mv "$out.tmp" "$out"
exit "${2:-0}"
SCRIPT
make_cgroup work 32M

# A: a user registers its own process; its handler exits 0.
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim "$VICTIM"
say register "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /tmp/h/daemonize /tmp/rec 0 $START_TRIES")"
trigger_victim
say_record "$VICTIM"
say_file tree "/tmp/rec/$VICTIM.tree"
sleep 1
say leftovers "$(count_cmdline 'sleep 100')"
say shielded "$(count_adj -1000)"
say user_lower_after "$(/gs/run_as 1000 1000 sh -c 'echo -1000 > /proc/self/oom_score_adj' 2> /dev/null && echo allowed || echo refused)"

# B: root registers a process; its handler exits 3.
start_victim /sys/fs/cgroup/work
say victim_b "$VICTIM"
say register_b "$(proc_write $GS_PROC "$VICTIM /tmp/h/daemonize /tmp/rec 3 $START_TRIES")"
trigger_victim
say_file tree_b "/tmp/rec/$VICTIM.tree"
say_file rec_b "/tmp/rec/$VICTIM.rec"
sleep 1
say leftovers_b "$(count_cmdline 'sleep 100')"
say shielded_b "$(count_adj -1000)"
say handler_cgroup_procs "$(handler_procs)"
