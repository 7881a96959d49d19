# Nothing a handler starts outlives its run, thread by thread: a handler
# whose main thread ends alone (exit(2), not exit_group) while another
# thread runs lives on with a zombie leader; a handler that crashes while
# its core dump is piped to a program that never reads it stays in its
# dump. Both are cut at their timeout and must be killed then. Also: a
# thread id registers its process, and a victim's comm holding a space, a
# newline and "event=" is logged as one field of one line.
load_module timeout_ms="$(scaled_ms 2000)" user_timeout_ms="$(scaled_ms 2000)" \
	hold_budget_ms=0 users_hold_budget_ms=0 user_hold_budget_ms=0
prepare_records
make_cgroup work 32M

# A: a user's handler whose second thread beats every 20 ms.
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim "$VICTIM"
say register "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /gs/gs_handler_thread /tmp/rec")"
trigger_victim
say_record "$VICTIM"
beats() { wc -l < "/tmp/rec/$VICTIM.beat" 2> /dev/null || echo 0; }
sleep 0.5
b1=$(beats)
sleep 1
say beats_after_run "$(($(beats) - b1))"
say thread_left "$(count_cmdline gs_handler_thread)"

# B: root's handler crashes with its core piped to a program that never
# reads it (the pipe fills, the dump waits).
write_handler /tmp/h/slowcore <<'SCRIPT'
#!/bin/sh
exec sleep 1000
SCRIPT
old_pattern=$(cat /proc/sys/kernel/core_pattern)
echo "|/tmp/h/slowcore" > /proc/sys/kernel/core_pattern
start_victim /sys/fs/cgroup/work
say victim_core "$VICTIM"
say register_core "$(sh -c 'ulimit -c unlimited && exec "$@"' sh proc_write $GS_PROC "$VICTIM /gs/gs_handler_crash /tmp/rec")"
trigger_victim
sleep 1
say core_left "$(count_cmdline gs_handler_crash)"
echo "$old_pattern" > /proc/sys/kernel/core_pattern
say handler_procs "$(handler_procs)"

# C: a thread id registers its process.
/gs/gs_thread_sleeper > /tmp/tid &
SP=$!
wait_file /tmp/tid
say register_tid "$(proc_write $GS_PROC "$(cat /tmp/tid) /gs/gs_handler_record /tmp/rec")"
say listed_as_process "$(grep -c "^$SP " $GS_PROC)"
proc_write $GS_PROC "-$SP" > /dev/null
kill $SP

# D: a comm that would split a log line: the victim runs as a file of that
# name (comm is the name of the file a process runs).
comm=$(printf 'a b\nevent=exit')
mkdir -p /tmp/h
cp /gs/oom_condition_creator "/tmp/h/$comm"
rm -f /tmp/victim.pid
sh -c 'echo $$ > /sys/fs/cgroup/work/cgroup.procs; echo 0 > /proc/self/oom_score_adj; exec "$0" --wait' \
	"/tmp/h/$comm" > /tmp/victim.pid &
VICTIM_JOB=$!
wait_file /tmp/victim.pid
VICTIM=$(cat /tmp/victim.pid)
say victim_comm "$VICTIM"
say register_comm "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
trigger_victim
say_file rec_comm "/tmp/rec/$VICTIM.rec"
