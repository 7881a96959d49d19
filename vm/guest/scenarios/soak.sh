# Soak: gs.count OOM trials (default 200) in one boot. Each trial starts
# 2-4 victims at once, each registered with a handler of its own behaviour
# (instant, slow, hung, crashing, failing, deleted before the OOM), and lets
# them allocate until the OOM killer has taken them all: in a cgroup with a
# small memory.max (memcg OOM), or, every fourth trial, with no limit at all
# (global OOM; the guest must stay usable). Meanwhile a background loop
# registers, replaces, lists and removes entries of other processes.
#
# Facts, per trial:
#   @gs trial N kind=memcg|global victims=P,P.. handlers=H,H.. statuses=S,S.. register=ok|err.. ms=MS ticks_ms=MS
#   (ms: the clock; ticks_ms: the same span in scheduler ticks, which TCG
#   loses when the host is overloaded, and in which timeout_ms is counted)
#   @gs vrec PID key=value...   (the handler's record on one line, or "none")
#   @gs usable N ok ...         (after a global trial: a new registration works)
# and the kernel log drained after every trial between the usual markers
# (the ring buffer would not hold hundreds of OOM reports).
count=$(cmdline_value gs.count)
[ -n "$count" ] || count=200
TIMEOUT_MS=1000
SOAK_MAX=24M
SOAK_CG=/sys/fs/cgroup/soak
KIND_0=record
KIND_1=sleep
KIND_2=hang
KIND_3=crash
KIND_4=missing
KIND_5=fail

# This shell and everything it starts (helpers, the racer) are never the
# victim; the victims set their own score back to 0.
echo -1000 > /proc/self/oom_score_adj
# Keep OOM reports short: no task list.
echo 0 > /proc/sys/vm/oom_dump_tasks
# Fewer pid wraps (tinyconfig's BASE_SMALL caps pid_max at 32768). The host
# matches victims within each trial's part of the kernel log in any case.
echo 4194304 > /proc/sys/kernel/pid_max 2> /dev/null || echo 32768 > /proc/sys/kernel/pid_max
# No hold budget: a hung handler every few OOMs would spend it within
# minutes, and then cut or skip the waits of the handlers measured here
# (the budget has a scenario of its own, limits).
load_module timeout_ms=$TIMEOUT_MS hold_budget_ms=0
prepare_records
make_cgroup soak $SOAK_MAX
mkdir -p /tmp/racer /tmp/miss
say soak_config "count=$count timeout_ms=$TIMEOUT_MS memcg_max=$SOAK_MAX pid_max=$(cat /proc/sys/kernel/pid_max) mem_kb=$(sed -n 's/^MemTotal: *//p' /proc/meminfo | tr -d ' kB')"

# CPU time of all kinds, in ms of ticks (USER_HZ 100), per CPU, without forking.
NCPU=$(grep -c '^cpu[0-9]' /proc/stat)
ticks_ms() {
	# Names of their own: ash functions share the caller's variables.
	read -r _ tk_us tk_ni tk_sy tk_id tk_io tk_irq tk_si tk_st _ < /proc/stat
	TICKS_MS=$(((tk_us + tk_ni + tk_sy + tk_id + tk_io + tk_irq + tk_si + tk_st) * 10 / NCPU))
}

# Registrations racing the OOMs: other processes come and go, registered,
# replaced, listed, removed, or left to exit while registered.
racer() {
	say racer "$(registration_racer /tmp/racer.stop 0.2)"
}

# start_soak_victim CGROUP_DIR|- I: a waiting oom_condition_creator.
# Sets SV_PID (also the job to wait for).
start_soak_victim() {
	rm -f "/tmp/v.$2"
	launch_victim "$1" "/tmp/v.$2"
	SV_PID=$LAUNCHED
	wait_file "/tmp/v.$2"
}

# handler_cmd KIND DIR N I: the registered command line for KIND.
handler_cmd() {
	case $1 in
	record) CMD="/gs/gs_handler_record $2" ;;
	sleep) CMD="/gs/gs_handler_sleep $2 300" ;;
	hang) CMD="/gs/gs_handler_hang $2" ;;
	crash) CMD="/gs/gs_handler_crash $2" ;;
	fail) CMD="/gs/gs_handler_fail $2 3" ;;
	missing)
		# A private copy, registered, then deleted before the OOM.
		mkdir -p "/tmp/miss/$3.$4"
		cp /gs/gs_handler_record "/tmp/miss/$3.$4/gs_handler_record"
		CMD="/tmp/miss/$3.$4/gs_handler_record $2"
		;;
	esac
}

trial() {
	n=$1
	kind=$2
	nv=$((2 + n % 3))
	dir=/tmp/rec/$n
	mkdir -p "$dir"
	cg=$SOAK_CG
	[ "$kind" = global ] && cg=-
	echo "gs_soak: trial=$n kind=$kind begin" > /dev/kmsg
	now_ms
	t0=$NOW_MS
	ticks_ms
	k0=$TICKS_MS
	pids=
	handlers=
	lines=
	i=0
	while [ $i -lt $nv ]; do
		eval h=\$KIND_$(((n * 7 + i * 5) % 6))
		start_soak_victim "$cg" $i
		handler_cmd "$h" "$dir" "$n" "$i"
		lines="$lines$SV_PID $CMD\\n"
		pids="$pids${pids:+,}$SV_PID"
		handlers="$handlers${handlers:+,}$h"
		i=$((i + 1))
	done
	reg=$(proc_write $GS_PROC "$lines")
	rm -rf /tmp/miss/*
	for p in $(echo "$pids" | tr , ' '); do kill -USR1 "$p"; done
	sts=
	for p in $(echo "$pids" | tr , ' '); do
		wait "$p"
		sts="$sts${sts:+,}$?"
	done
	now_ms
	ticks_ms
	say trial "$n kind=$kind victims=$pids handlers=$handlers statuses=$sts register=$(echo $reg | tr ' ' _) ms=$((NOW_MS - t0)) ticks_ms=$((TICKS_MS - k0))"
	for p in $(echo "$pids" | tr , ' '); do say_vrec "$p" "$dir"; done
	if [ "$kind" = global ]; then
		# The guest must still be usable: start, register, list, remove.
		sleep 1000 &
		s=$!
		r=$(proc_write $GS_PROC "$s /gs/gs_handler_record /tmp/racer")
		l=$(grep -c "^$s " $GS_PROC)
		proc_write $GS_PROC "-$s" > /dev/null
		kill $s
		wait $s 2> /dev/null
		say usable "$n $r listed=$l"
	fi
	drain_dmesg
}

drain_dmesg
racer &
RACER=$!
now_ms
start=$NOW_MS
n=1
while [ $n -le "$count" ]; do
	if [ $((n % 4)) = 0 ]; then trial $n global; else trial $n memcg; fi
	n=$((n + 1))
done
now_ms
touch /tmp/racer.stop
wait $RACER
# Killed hung helpers are reaped by the kernel; give the last one a moment.
sleep 1
say soak_done "trials=$count ms=$((NOW_MS - start))"
say leftover_helpers "$(count_helpers)"
say_listing listing_end
if rmmod proc_create_module; then say rmmod ok; else say rmmod "failed $?"; fi
