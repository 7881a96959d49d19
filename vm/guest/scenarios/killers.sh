# k. a user-space killer's request (/proc/graceful_shutdown_fire): the
# handler runs once, as at a kernel OOM, before the write returns; the
# kernel's OOM later finds the registration gone and kills with no handler.
load_module timeout_ms=5000
prepare_records
GS_FIRE=/proc/graceful_shutdown_fire
make_cgroup work 32M
register_work_victim "/gs/gs_handler_record /tmp/rec"

# Who may ask, and what a request must look like.
say fire_user "$(run_as 1000 1000 proc_write $GS_FIRE "$VICTIM earlyoom")"
say fire_kernel "$(proc_write $GS_FIRE "$VICTIM kernel")"
say fire_malformed "$(proc_write $GS_FIRE "$VICTIM")"
say fire_nosuch "$(proc_write $GS_FIRE "999999 earlyoom")"
sleep 1000 &
UNREG=$!
say fire_unregistered "$(proc_write $GS_FIRE "$UNREG earlyoom")"
kill $UNREG
say_wrote rec_before_fire "$VICTIM"

# earlyoom's request: the handler has run when the write returns.
say fire "$(proc_write $GS_FIRE "$VICTIM earlyoom")"
say_wrote rec_at_fire_return "$VICTIM"
say victim_alive_after_fire "$([ -d /proc/$VICTIM ] && echo yes || echo no)"
say fire_again "$(proc_write $GS_FIRE "$VICTIM systemd-oomd")"
say_listing listing_after_fire
say_record "$VICTIM"
mv "/tmp/rec/$VICTIM.rec" /tmp/fired.rec

# The kernel's OOM after it: the victim dies, no second run.
trigger_victim
say_wrote rec_after_oom "$VICTIM"

# A user's registration, systemd-oomd's request: as that user, in its cgroup.
make_cgroup work2 32M
start_victim /sys/fs/cgroup/work2 run_as 1000 1000
say user_victim "$VICTIM"
say user_register "$(run_as 1000 1000 proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
say user_fire "$(proc_write $GS_FIRE "$VICTIM systemd-oomd")"
say_file user_rec "/tmp/rec/$VICTIM.rec"
kill -9 "$VICTIM"
wait "$VICTIM_JOB"

# gs-kit-killer, as systemd-oomd's pre-kill hook runs it: a varlink Notify
# for a cgroup announces every process in it and below, then replies.
make_cgroup work3 32M
mkdir -p /sys/fs/cgroup/work3/inner
sleep 1000 &
UNREG=$!
echo $UNREG > /sys/fs/cgroup/work3/cgroup.procs
start_victim /sys/fs/cgroup/work3/inner
say oomd_victim "$VICTIM"
say oomd_register "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
printf '{"method":"io.systemd.oom.Prekill.Notify","parameters":{"cgroup":"/work3"}}\000' |
	/gs/gs-kit-killer oomd > /tmp/oomd.reply 2> /tmp/oomd.log
say oomd_rc $?
say oomd_reply "$(tr '\000' '|' < /tmp/oomd.reply)"
say_file oomd_log /tmp/oomd.log
say_file oomd_rec "/tmp/rec/$VICTIM.rec"
printf '{"method":"io.systemd.oom.Prekill.Notify","parameters":{"cgroup":"/work3/../.."}}\000' |
	/gs/gs-kit-killer oomd > /tmp/oomd.reply 2> /dev/null
say oomd_climb "$(tr '\000' '|' < /tmp/oomd.reply)"
kill -9 "$VICTIM" $UNREG
wait "$VICTIM_JOB"

# earlyoom's requests, as gs-kit-earlyoom.socket hands them to root.
start_victim -
say early_victim "$VICTIM"
say early_register "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
say early_serve "$(echo "$VICTIM" | /gs/gs-kit-killer earlyoom-serve 2> /dev/null)"
say early_again "$(echo "$VICTIM" | /gs/gs-kit-killer earlyoom-serve 2> /dev/null)"
say early_bad "$(echo "1x" | /gs/gs-kit-killer earlyoom-serve 2> /dev/null)"
say_file early_rec "/tmp/rec/$VICTIM.rec"
kill -9 "$VICTIM"
wait "$VICTIM_JOB"

# Two requests at once, for two registrations of one user (whose runs share
# its handler cgroup): one run at a time, neither cut short by the other's end.
start_victim - run_as 1000 1000
PAIR_A=$VICTIM
PAIR_A_JOB=$VICTIM_JOB
start_victim - run_as 1000 1000
PAIR_B=$VICTIM
say pair_victims "$PAIR_A $PAIR_B"
say pair_register "$(run_as 1000 1000 proc_write $GS_PROC "$PAIR_A /gs/gs_handler_sleep /tmp/rec 300
$PAIR_B /gs/gs_handler_sleep /tmp/rec 300")"
proc_write $GS_FIRE "$PAIR_A earlyoom" > /tmp/pair_a &
FIRE_A=$!
proc_write $GS_FIRE "$PAIR_B systemd-oomd" > /tmp/pair_b &
FIRE_B=$!
wait $FIRE_A $FIRE_B
say pair_a "$(cat /tmp/pair_a)"
say pair_b "$(cat /tmp/pair_b)"
kill -9 "$PAIR_A" "$PAIR_B"
wait "$PAIR_A_JOB" "$VICTIM_JOB"

# A "+<pid>" registration whose waiter is one of its own processes (as
# gs-init's is): a request for the waiter itself, as a killer of the whole
# cgroup makes one, is passed over; the request for the workload runs the
# handler, in the waiter.
rm -f /tmp/wparent.pid /tmp/wchild.pid /tmp/w.out
sh -c 'echo $$ > /tmp/wparent.pid; /gs/gs_wait +$$ /gs/gs_handler_record /tmp/rec > /tmp/w.out 2>&1 & echo $! > /tmp/wchild.pid; wait' &
WAIT_JOB=$!
wait_file /tmp/w.out 250
wait_file /tmp/wchild.pid 250
# Until the waiter blocks in its first read, which makes it the waiter.
sleep 0.5
WPARENT=$(cat /tmp/wparent.pid)
WCHILD=$(cat /tmp/wchild.pid)
say waiter_tree "$WPARENT $WCHILD $(head -n 1 /tmp/w.out)"
say fire_waiter "$(proc_write $GS_FIRE "$WCHILD systemd-oomd")"
say fire_workload "$(proc_write $GS_FIRE "$WPARENT systemd-oomd")"
wait $WAIT_JOB
say_file waiter_rec "/tmp/rec/$WPARENT.rec"
