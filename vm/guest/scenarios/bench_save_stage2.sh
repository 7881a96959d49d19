# Stage 2 of "bench_save", as PID 1 inside the host's root (read-only, with
# the guest's /tmp, /proc, /sys and /dev). Usage: REPO PROGRAMS_DIR
# Kernel command line: gs.rates=R,R,... (MiB/s, 0 = no limit; default
# 10,50,200,0), gs.save_trials=N (default 5), gs.contenders=C,C,...
# (default stock,gs-memcg,earlyoom,nohang,gs-global).
# One line per trial:
#   @gs save contender=C rate=R trial=I saved=0|1 status=S left_kb=K ...
repo=$1
progs=$2
/tmp/busybox mkdir -p /tmp/bin
/tmp/busybox --install -s /tmp/bin
export PATH=/tmp/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export HOME=/tmp
. "$repo/vm/guest/lib.sh"
GS_MODULE=/tmp/proc_create_module.ko
W=$progs/stateful_workload
CG=/sys/fs/cgroup/save
MEMCG_MAX=64M
# The handler waits this long for the state (ms); the module waits longer.
HANDLER_WAIT_MS=3000

rates=$(cmdline_value gs.rates)
[ -n "$rates" ] || rates=10,50,200,0
trials=$(cmdline_value gs.save_trials)
[ -n "$trials" ] || trials=5
contenders=$(cmdline_value gs.contenders)
[ -n "$contenders" ] || contenders=stock,gs-memcg,earlyoom,nohang,gs-global
say rates "$rates"
say save_trials "$trials"
say mem_total_kb "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
mkdir -p /tmp/state
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
mkdir -p $CG
echo $MEMCG_MAX > $CG/memory.max

mem_available_kb() {
	sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo
}

# value KEY FILE: the value of "KEY=value" in FILE.
value() {
	sed -n "s/^$1=//p" "$2" 2>/dev/null | head -n 1
}

# trial CONTENDER RATE I: start the workload, let the contender act, and
# report what was saved.
trial() {
	contender=$1
	rate=$2
	extra=
	cg=-
	case $contender in
	stock|gs-memcg) cg=$CG ;;
	earlyoom|nohang) extra=--meminfo ;;
	esac
	rm -f /tmp/w.out
	sh -c '[ "$0" = - ] || echo $$ > "$0/cgroup.procs"; exec "$@"' \
		"$cg" "$W" --dir /tmp/state --rate-mb-s "$rate" --wait $extra > /tmp/w.out &
	job=$!
	while [ ! -s /tmp/w.out ]; do sleep 0.05; done
	pid=$(head -n 1 /tmp/w.out)
	case $contender in
	gs-*)
		r=$(printf '%s %s --notify /tmp/state %s\n' "$pid" "$W" $HANDLER_WAIT_MS 2>&1 > $GS_PROC)
		[ -z "$r" ] || say error "register $pid: $r"
		;;
	esac
	( sleep 180; kill -9 "$pid" 2>/dev/null ) &
	watchdog=$!
	dmesg -c > /dev/null
	kill -USR2 "$pid"
	wait "$job"
	st=$?
	dmesg -c | grep -E 'invoked oom-killer|graceful_shutdown: event=|Killed process|BUG:|WARNING:|Oops|blocked for more than' |
		while read -r line; do say k_save "$contender $rate $3 $line"; done
	kill "$watchdog" 2>/dev/null
	wait "$watchdog" 2>/dev/null
	state=/tmp/state/$pid.state
	hrec=/tmp/state/$pid.hrec
	saved=0
	[ "$(head -n 1 "$state" 2>/dev/null)" = status=saved ] && saved=1
	left=
	case $contender in
	gs-memcg)
		cur=$(value memory_current "$hrec")
		max=$(value memory_max "$hrec")
		[ -n "$cur" ] && [ -n "$max" ] && left=$(((max - cur) / 1024))
		;;
	gs-global) left=$(value mem_available_kb "$hrec") ;;
	earlyoom|nohang) left=$(value mem_available_kb "$state") ;;
	esac
	say save "contender=$contender rate=$rate trial=$3 saved=$saved status=$st left_kb=${left:-na}" \
		"signal=$(value signal "$state") alloc_kb=$(value allocated_kb "$state")" \
		"go_ns=$(sed -n 's/^go_ns=//p' /tmp/w.out) signal_ns=$(value signal_ns "$state")" \
		"saved_ns=$(value saved_ns "$state") handler_saved=$(value saved "$hrec")" \
		"handler_waited_ns=$(value waited_ns "$hrec")"
	rm -f "$state" "$hrec"
}

# run_contender C: every rate, every trial.
run_contender() {
	for rate in $(echo "$rates" | tr ',' ' '); do
		i=0
		while [ $i -lt "$trials" ]; do
			trial "$1" "$rate" $i
			i=$((i + 1))
		done
	done
}

# Memory hog for the global runs: stress-ng holds all but ~80 MiB of what
# is available, so the workload meets the threshold or the OOM killer
# within seconds; it is made ineligible for any killer (oom_score_adj -1000).
ballast_up() {
	[ -n "$BALLAST" ] && return
	kb=$(($(mem_available_kb) - 80 * 1024))
	say ballast_kb "$kb"
	stress-ng --temp-path /tmp --vm 1 --vm-bytes "${kb}k" --vm-hang 0 --vm-method zero-one --oomable -q > /tmp/stress.log 2>&1 &
	BALLAST=$!
	# Wait until the memory is taken, then shield every stress-ng process.
	n=0
	while [ $n -lt 600 ] && [ "$(mem_available_kb)" -gt $((80 * 1024 + 20 * 1024)) ]; do
		sleep 0.1
		n=$((n + 1))
	done
	# stress-ng forks its worker ("stress-ng-vm"): pgrep matches both.
	for p in $(pgrep stress-ng); do echo -1000 > /proc/$p/oom_score_adj; done
	sleep 1
	for p in $(pgrep stress-ng); do echo -1000 > /proc/$p/oom_score_adj; done
	say ballast_avail_kb "$(mem_available_kb)"
	say ballast_procs "$(for p in $(pgrep stress-ng); do echo "$p:$(cat /proc/$p/comm):$(sed -n 's/^VmRSS: *//p' /proc/$p/status)"; done | tr '\n' ' ')"
	[ -s /tmp/stress.log ] && say ballast_log "$(head -n 5 /tmp/stress.log | tr '\n' '|')"
}

for c in $(echo "$contenders" | tr ',' ' '); do
	case $c in
	stock)
		run_contender stock
		;;
	gs-memcg)
		load_module timeout_ms=5000
		run_contender gs-memcg
		rmmod proc_create_module
		;;
	earlyoom)
		ballast_up
		say earlyoom_version "$(earlyoom -v 2>&1 | head -n 1)"
		# SIGTERM the process with the highest oom_score once MemAvailable
		# is below 10 % (SIGKILL below 5 %); check every 100 ms at most.
		earlyoom -m 10,5 -r 0 > /tmp/earlyoom.log 2>&1 &
		eo=$!
		sleep 2
		run_contender earlyoom
		kill $eo
		wait $eo 2>/dev/null
		say earlyoom_log "$(grep -E 'sending|SIGTERM|SIGKILL|mem avail' /tmp/earlyoom.log | head -n 4 | tr '\n' '|')"
		;;
	nohang)
		ballast_up
		say nohang_version "$(nohang --version 2>/dev/null | head -n 1)"
		# Same policy as earlyoom: SIGTERM (soft) below 10 % MemAvailable,
		# SIGKILL (hard) below 5 %; the victim is the highest badness
		# (oom_score). Everything else as Debian ships it.
		sed -e 's/^\(soft_threshold_min_mem *=\).*/\1 10 %/' \
			-e 's/^\(hard_threshold_min_mem *=\).*/\1 5 %/' \
			/etc/nohang/nohang.conf > /tmp/nohang.conf
		nohang --monitor --config /tmp/nohang.conf > /tmp/nohang.log 2>&1 &
		nh=$!
		# python3 over 9p under TCG: wait for it to start monitoring.
		n=0
		while [ $n -lt 600 ] && ! grep -q -i 'monitoring has started' /tmp/nohang.log; do
			sleep 0.1
			n=$((n + 1))
		done
		say nohang_started "$n"
		run_contender nohang
		kill $nh
		wait $nh 2>/dev/null
		say nohang_log "$(grep -v -i warning /tmp/nohang.log | head -n 30 | tr '\n' '|')"
		;;
	gs-global)
		ballast_up
		load_module timeout_ms=5000
		run_contender gs-global
		rmmod proc_create_module
		;;
	esac
done
[ -n "$BALLAST" ] && kill $BALLAST
for p in $(pgrep stress-ng); do kill -9 $p; done

end_boot /tmp/busybox "$progs/console_drain"
