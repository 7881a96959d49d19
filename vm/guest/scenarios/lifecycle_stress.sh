# Module lifecycle under stress, and a recycled pid.
#
# 1. pid reuse: register a process, let it exit, bring the pid counter round
#    (pid_max lowered to 400; no ns_last_pid without CHECKPOINT_RESTORE) so
#    that a new, unregistered process gets the same number, and OOM-kill that
#    one without touching /proc/graceful_shutdown in between (the stale entry
#    is still in the registry). Its handler must not run. A registered third
#    process then shows the module would have fired.
# 2. stress: gs.cycles (default 30) rmmod/insmod cycles while one loop keeps
#    memcg OOMs firing on registered victims and another registers, lists and
#    removes entries of other processes.
#
# Facts: reuse_* (part 1); lc_oom N victims=P,P handlers=H,H register=R
# statuses=S,S and lc_cycle N rmmod=RC insmod=RC rmmod_ms=MS (part 2). The
# kernel log is drained after each cycle (the ring buffer would not hold
# every OOM report); the background loops keep their facts in a file until
# the end, so that no fact lands inside a kernel log block.
cycles=$(cmdline_value gs.cycles)
[ -n "$cycles" ] || cycles=30
LC_TIMEOUT_MS=500
LC_CG=/sys/fs/cgroup/lcs

echo -1000 > /proc/self/oom_score_adj
echo 0 > /proc/sys/vm/oom_dump_tasks
prepare_records
make_cgroup lcs 16M
load_module timeout_ms=$LC_TIMEOUT_MS
say lc_config "cycles=$cycles timeout_ms=$LC_TIMEOUT_MS"

# The last pid the kernel handed out, without forking.
last_pid() {
	read -r _ _ _ _ LAST < /proc/loadavg
}

# Use up one pid.
burn_pid() {
	: &
	wait $!
}

# fork_victim FILE: fork straight into a waiting oom_condition_creator in
# the lcs cgroup; the fork is the first thing this does. Sets FV_PID.
fork_victim() {
	launch_victim "$LC_CG" "$1"
	FV_PID=$LAUNCHED
}

# ---- 1. pid reuse ----
PID_MAX=$(cat /proc/sys/kernel/pid_max)
echo 400 > /proc/sys/kernel/pid_max
mkdir -p /tmp/rec/reuse
last_pid
while [ "$LAST" -lt 305 ] || [ "$LAST" -gt 380 ]; do
	burn_pid
	last_pid
done
echo "gs_reuse: begin" > /dev/kmsg
rm -f /tmp/old.pid
fork_victim /tmp/old.pid
OLD=$FV_PID
wait_file /tmp/old.pid
say reuse_old "$OLD"
say reuse_register "$(proc_write $GS_PROC "$OLD /gs/gs_handler_record /tmp/rec/reuse")"
kill -TERM "$OLD"
wait "$OLD"
say reuse_old_status $?
# From here until the OOM, nothing reads or writes the proc file: the entry
# of the exited process stays in the registry, holding its struct pid.
attempt=0
NEW=
while [ $attempt -lt 8 ]; do
	attempt=$((attempt + 1))
	rm -f /tmp/new.pid
	burns=0
	last_pid
	while [ "$LAST" -ne $((OLD - 1)) ] && [ $burns -lt 1000 ]; do
		burn_pid
		burns=$((burns + 1))
		last_pid
	done
	fork_victim /tmp/new.pid
	NEW=$FV_PID
	[ "$NEW" = "$OLD" ] && break
	kill -TERM "$NEW"
	wait "$NEW"
done
wait_file /tmp/new.pid
say reuse_attempts $attempt
say reuse_new "$NEW"
kill -USR1 "$NEW"
wait "$NEW"
say reuse_new_status $?
sleep 0.2
say reuse_rec "$([ -f /tmp/rec/reuse/$OLD.rec ] && echo present || echo none)"
say reuse_oom_kill "$(sed -n 's/^oom_kill //p' $LC_CG/memory.events)"
say_listing reuse_listing_after
# Control: a registered process with a fresh pid fires as usual.
rm -f /tmp/ctl.pid
fork_victim /tmp/ctl.pid
CTL=$FV_PID
wait_file /tmp/ctl.pid
say reuse_control "$CTL"
say reuse_control_register "$(proc_write $GS_PROC "$CTL /gs/gs_handler_record /tmp/rec/reuse")"
kill -USR1 "$CTL"
wait "$CTL"
say reuse_control_status $?
say reuse_control_rec "$([ -f /tmp/rec/reuse/$CTL.rec ] && echo present || echo none)"
echo "gs_reuse: end" > /dev/kmsg
echo "$PID_MAX" > /proc/sys/kernel/pid_max
drain_dmesg

# ---- 2. rmmod/insmod under OOMs and registrations ----
LC_KIND_0="/gs/gs_handler_record /tmp/rec/lc"
LC_KIND_1="/gs/gs_handler_sleep /tmp/rec/lc 300"
LC_KIND_2="/gs/gs_handler_hang /tmp/rec/lc"
mkdir -p /tmp/rec/lc /tmp/racer

oom_loop() {
	n=0
	while [ ! -e /tmp/lcs.stop ]; do
		n=$((n + 1))
		rm -f /tmp/oa.pid /tmp/ob.pid
		fork_victim /tmp/oa.pid
		a=$FV_PID
		fork_victim /tmp/ob.pid
		b=$FV_PID
		wait_file /tmp/oa.pid
		wait_file /tmp/ob.pid
		eval ha=\"\$LC_KIND_$((n % 3))\"
		eval hb=\"\$LC_KIND_$(((n + 1) % 3))\"
		r=$(proc_write $GS_PROC "$a $ha\\n$b $hb" 2>&1)
		kill -USR1 $a $b
		wait $a
		sa=$?
		wait $b
		sb=$?
		say lc_oom "$n victims=$a,$b handlers=${ha%% *},${hb%% *} register=$(echo $r | tr ' ' _) statuses=$sa,$sb" >> /tmp/lc.facts
	done
}

reg_loop() {
	say lc_racer "$(registration_racer /tmp/lcs.stop 0.05)" >> /tmp/lc.facts
}

echo "gs_stress: begin" > /dev/kmsg
oom_loop &
OOM_LOOP=$!
reg_loop &
REG_LOOP=$!
i=1
while [ $i -le "$cycles" ]; do
	sleep 0.$((i % 5 + 1))
	now_ms
	t0=$NOW_MS
	rmmod proc_create_module
	rr=$?
	now_ms
	rms=$((NOW_MS - t0))
	sleep 0.$(((i + 2) % 4 + 1))
	insmod $GS_MODULE handler_cgroup=$GS_HANDLERS timeout_ms=$LC_TIMEOUT_MS
	ri=$?
	say lc_cycle "$i rmmod=$rr insmod=$ri rmmod_ms=$rms"
	drain_dmesg
	i=$((i + 1))
done
touch /tmp/lcs.stop
wait $OOM_LOOP
wait $REG_LOOP
cat /tmp/lc.facts
sleep 1
say leftover_helpers "$(count_helpers)"
if rmmod proc_create_module; then say rmmod_final ok; else say rmmod_final "failed $?"; fi
echo "gs_stress: end" > /dev/kmsg
