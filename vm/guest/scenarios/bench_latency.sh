# Benchmark: how soon a gs-kit handler starts after the OOM killer chooses
# its victim, how much later the victim dies, and the same OOM without the
# module; then a plain fork+exec of the same handler binary for scale.
# gs.trials=N on the kernel command line (default 50). For each trial:
#   @gs lat_<mode> <trial> <victim> <started_ns> <chosen_ns>
#   @gs k_<mode> <trial> <kernel log line>   (OOM report, module, kill)
# with mode "stock" (no module), "gs" (a handler path the kernel starts) or
# "waiter" (gs_wait in the victim's cgroup, blocked reading the proc file,
# execs the same handler), and "@gs fe <trial> <ns>".
trials=$(cmdline_value gs.trials)
[ -n "$trials" ] || trials=50
say trials "$trials"
say nproc "$(nproc)"
say mem_total_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
cs=/sys/devices/system/clocksource/clocksource0
say clocksource "$(cat $cs/current_clocksource 2>/dev/null) (available: $(cat $cs/available_clocksource 2>/dev/null))"
dmesg | grep -i -E 'tsc|clocksource|sched_clock' | while read -r line; do say clock_log "$line"; done
prepare_records
make_cgroup bench 16M

# bench_trial MODE I: one memcg OOM, registered with the module in mode gs.
bench_trial() {
	start_victim /sys/fs/cgroup/bench
	if [ "$1" = gs ]; then
		r=$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")
		case "$r" in ok*) ;; *) say error "trial $2: register: $r" ;; esac
	elif [ "$1" = waiter ]; then
		rm -f /tmp/waiter.out
		# In the victim's cgroup, as a container's waiter is: it is moved out at the wake.
		sh -c 'echo $$ > /sys/fs/cgroup/bench/cgroup.procs && exec "$@"' sh \
			/gs/gs_wait "$VICTIM" /gs/gs_handler_record /tmp/rec > /tmp/waiter.out &
		wait_file /tmp/waiter.out
		r=$(cat /tmp/waiter.out)
		case "$r" in ok*) ;; *) say error "trial $2: waiter: $r" ;; esac
	fi
	dmesg -c > /dev/null
	kill -USR1 "$VICTIM"
	wait "$VICTIM_JOB"
	st=$?
	[ "$st" = 137 ] || say error "trial $2: victim status $st"
	dmesg -c | grep -E 'invoked oom-killer|graceful_shutdown: event=|Killed process|BUG:|WARNING:|Oops|blocked for more than' |
		while read -r line; do say "k_$1" "$2 $line"; done
	rec=/tmp/rec/$VICTIM.rec
	if [ -f "$rec" ]; then
		say "lat_$1" "$2 $VICTIM $(sed -n 's/^started_ns=//p' "$rec") $(sed -n 's/^GS_CHOSEN_NS=//p' "$rec")"
		rm -f "$rec"
	else
		say "lat_$1" "$2 $VICTIM none none"
	fi
}

i=0
while [ $i -lt "$trials" ]; do bench_trial stock $i; i=$((i + 1)); done
load_module timeout_ms=5000
i=0
while [ $i -lt "$trials" ]; do bench_trial gs $i; i=$((i + 1)); done
i=0
while [ $i -lt "$trials" ]; do bench_trial waiter $i; i=$((i + 1)); done

mkdir -p /tmp/fe
/gs/forkexec_bench /gs/gs_handler_record /tmp/fe "$trials" > /tmp/fe.out 2> /tmp/fe.err
say fe_status $?
sed -n 's/^forkexec //p' /tmp/fe.out | while read -r line; do say fe "$line"; done
[ -s /tmp/fe.err ] && say error "forkexec_bench: $(tr '\n' '|' < /tmp/fe.err)"
