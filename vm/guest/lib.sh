# Helpers for guest scenarios (busybox sh).

say() {
	key=$1
	shift
	echo "@gs $key $*"
}

cmdline_value() {
	tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"
}

# scaled_ms MS: MS times gs.slowdown (the harness passes 3 on the debug
# kernels, which run several times slower), for handler time budgets.
scaled_ms() {
	echo $(($1 * $(cmdline_value gs.slowdown | grep . || echo 1)))
}

GS_PROC=/proc/graceful_shutdown
GS_MODULE=/gs/proc_create_module.ko
GS_HANDLERS=/sys/fs/cgroup/gs-handlers

# make_handler_cgroup [MAX]: the cgroup the module makes each principal's
# handler cgroup in, as gs-kit configure makes it: memory.min 16M, no
# memory.max unless MAX is given.
make_handler_cgroup() {
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control
	mkdir -p $GS_HANDLERS
	[ -n "${1:-}" ] && echo "$1" > $GS_HANDLERS/memory.max
	echo 16M > $GS_HANDLERS/memory.min
}

# handler_procs: how many processes that ran a program (parked helpers have
# no command line) are in the principals' handler cgroups.
handler_procs() {
	n=0
	for pid in $(cat $GS_HANDLERS/*/run/cgroup.procs 2> /dev/null); do
		[ -s "/proc/$pid/cmdline" ] && n=$((n + 1))
	done
	echo $n
}

# load_module [PARAM=VALUE...]: insmod, with the handler cgroup made (when
# missing) and named; a handler_cgroup=... among the parameters wins.
load_module() {
	[ -d $GS_HANDLERS ] || make_handler_cgroup
	if insmod "$GS_MODULE" handler_cgroup=$GS_HANDLERS "$@"; then
		say insmod ok
		# patched or stock: the host checks it is the mode it built for.
		say hook "$(cat /sys/module/proc_create_module/parameters/hook)"
	else
		say insmod "failed $?"
	fi
}

# write_handler PATH: a handler script from stdin, owned by root, mode 0755.
write_handler() {
	mkdir -p "$(dirname "$1")"
	cat > "$1"
	chmod 0755 "$1"
}

# make_cgroup NAME MAX: a cgroup v2 group with a memory limit.
make_cgroup() {
	echo +memory > /sys/fs/cgroup/cgroup.subtree_control
	mkdir -p "/sys/fs/cgroup/$1"
	echo "$2" > "/sys/fs/cgroup/$1/memory.max"
}

# launch_victim CGROUP_DIR|- OUT [PREFIX...]: fork into oom_condition_creator,
# waiting for SIGUSR1 before it allocates, in the cgroup (or none with -),
# with oom_score_adj 0 (scenario shells may be at -1000), run through PREFIX
# (e.g. run_as 1000 1000); it writes its pid to OUT. The fork is the first
# thing this does (the pid-reuse test counts on it). Sets LAUNCHED (the job).
launch_victim() {
	lv_cg=$1
	lv_out=$2
	shift 2
	sh -c '[ "$0" = - ] || echo $$ > "$0/cgroup.procs"; echo 0 > /proc/self/oom_score_adj; exec "$@" /gs/oom_condition_creator --wait' \
		"$lv_cg" "$@" > "$lv_out" &
	LAUNCHED=$!
}

# wait_file FILE [TRIES]: until FILE has something in it; with TRIES, for
# at most that many checks 20 ms apart (then fails).
wait_file() {
	wf_n=0
	while [ ! -s "$1" ]; do
		[ -n "${2:-}" ] && [ $wf_n -ge "$2" ] && return 1
		sleep 0.02
		wf_n=$((wf_n + 1))
	done
}

# start_victim CGROUP_DIR|- [PREFIX...]: launch_victim, and wait for it. Sets
# VICTIM (its pid) and VICTIM_JOB (the job to wait for; the same process).
start_victim() {
	sv_cg=$1
	shift
	rm -f /tmp/victim.pid
	launch_victim "$sv_cg" /tmp/victim.pid "$@"
	VICTIM_JOB=$LAUNCHED
	wait_file /tmp/victim.pid
	VICTIM=$(cat /tmp/victim.pid)
}

# register_work_victim HANDLER_LINE: start_victim in the work cgroup
# (make_cgroup work first) and register it as "<pid> HANDLER_LINE"; says
# victim and register.
register_work_victim() {
	start_victim /sys/fs/cgroup/work
	say victim "$VICTIM"
	say register "$(proc_write $GS_PROC "$VICTIM $1")"
}

# user_sleeper UID: a "sleep 1000" of user UID, started in the background
# and waited for until it runs as that user (run_as changes its uid before
# it execs sleep). Sets SLEEPER.
user_sleeper() {
	/gs/run_as "$1" "$1" sleep 1000 &
	SLEEPER=$!
	while [ "$(cat /proc/$SLEEPER/comm 2> /dev/null)" != sleep ]; do sleep 0.02; done
}

# now_ms: uptime in ms into NOW_MS, without forking.
now_ms() {
	read -r up _ < /proc/uptime
	frac=${up#*.}
	NOW_MS=$((${up%.*} * 1000 + ${frac#0} * 10))
}

# say_dmesg COMMAND...: the kernel log as COMMAND prints it, between the
# markers the host reads it by.
say_dmesg() {
	echo @gs-dmesg-begin
	"$@"
	echo @gs-dmesg-end
}

# drain_dmesg: the kernel log so far, between markers, and clear it.
drain_dmesg() {
	say_dmesg dmesg -c
}

# end_boot [BUSYBOX [DRAIN]]: how every boot ends: "alive yes", a leak
# scan (debug kernels), the whole kernel log, "@gs-done", the console
# drained, power off. Inside the host's root, BUSYBOX (/tmp/busybox) runs
# dmesg and reboot, and DRAIN names console_drain.
end_boot() {
	say alive yes
	kmemleak_scan
	say_dmesg ${1:+"$1"} dmesg -s 1048576
	echo @gs-done
	"${2:-/gs/console_drain}"
	${1:+"$1"} reboot -f
}

# count_helpers: how many handler processes (gs_handler*) are running.
count_helpers() {
	ch_n=0
	for f in /proc/[0-9]*/comm; do
		read -r c < "$f" 2> /dev/null
		case $c in gs_handler*) ch_n=$((ch_n + 1)) ;; esac
	done
	echo $ch_n
}

# trigger_victim: let the victim allocate, wait for it to die, say how.
trigger_victim() {
	kill -USR1 "$VICTIM"
	wait "$VICTIM_JOB"
	say victim_status $?
}

# say_record PID: report the handler's record for PID, if it wrote one.
say_record() {
	say_file rec "/tmp/rec/$1.rec"
}

# say_wrote KEY PID: whether the handler for PID wrote its record, as
# "KEY yes" or "KEY no".
say_wrote() {
	if [ -f "/tmp/rec/$2.rec" ]; then say "$1" yes; else say "$1" no; fi
}

# say_vrec PID DIR: the handler's record for PID in DIR on one line,
# "vrec PID key=value...", or "vrec PID none".
say_vrec() {
	if [ -f "$2/$1.rec" ]; then
		say vrec "$1 $(tr '\n' ' ' < "$2/$1.rec")"
	else
		say vrec "$1 none"
	fi
}

# say_listing KEY: the registry as one line, entries joined by "|".
say_listing() {
	say "$1" "$(tr '\n' '|' < $GS_PROC)"
}

# count_cmdline TEXT: how many live (not zombie) processes have TEXT in
# their command line.
count_cmdline() {
	n=0
	for d in /proc/[0-9]*; do
		[ -r "$d/cmdline" ] || continue
		case $(tr '\0' ' ' < "$d/cmdline" 2>/dev/null) in *"$1"*) n=$((n + 1)) ;; esac
	done
	echo $n
}

# count_matching FILE VALUE: how many processes' /proc/PID/FILE read VALUE.
count_matching() {
	n=0
	for f in /proc/[0-9]*/"$1"; do
		[ "$(cat "$f" 2>/dev/null)" = "$2" ] && n=$((n + 1))
	done
	echo $n
}

# count_adj VALUE: how many processes have that oom_score_adj.
count_adj() {
	count_matching oom_score_adj "$1"
}

# say_file KEY FILE: each line of FILE as a KEY fact, or "none".
say_file() {
	if [ -f "$2" ]; then
		while read -r line; do say "$1" "$line"; done < "$2"
	else
		say "$1" none
	fi
}

# count_procs COMM: how many processes have that comm.
count_procs() {
	count_matching comm "$1"
}

prepare_records() {
	mkdir -p /tmp/rec
	chmod 1777 /tmp/rec
}

# kmemleak_scan: on a kernel with kmemleak (the debug profile), scan for
# leaks now; the kernel logs "N new suspected memory leaks" if it finds any.
# Objects younger than 5 s are not reported, hence the wait.
kmemleak_scan() {
	[ -w /sys/kernel/debug/kmemleak ] || return 0
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	say kmemleak "$(grep -c '^unreferenced object' /sys/kernel/debug/kmemleak)"
}

# mount_host_root [PATH...]: the host's root, shared read-only over 9p, at
# /host, with the guest's /proc, /sys, /dev, cgroup2 and a writable /tmp
# inside, and busybox at /host/tmp/busybox. Each PATH (the repository, the
# test programs) stays visible even if it lives under the host's /tmp,
# which the guest's tmpfs would otherwise hide. Then `exec chroot /host ...`
# as PID 1: the kernel's user-mode helpers share PID 1's root, so they see
# the same paths as the programs in it. Returns 1 if the share cannot be
# mounted.
mount_host_root() {
	mkdir -p /host
	# cache=loose: the host's files do not change during a test, and node
	# (100 MB) and its modules are then read over 9p once, not per run.
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host; then
		say error "cannot mount the host root over 9p"
		return 1
	fi
	kept=0
	for path in "$@"; do
		case $path in /tmp/*)
			kept=$((kept + 1))
			mkdir -p "/kept/$kept"
			mount -o bind "/host$path" "/kept/$kept" ;;
		esac
	done
	mount -t proc proc /host/proc
	mount -t sysfs sys /host/sys
	mount -t devtmpfs dev /host/dev
	mount -t tmpfs -o mode=1777 tmpfs /host/tmp
	mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
	kept=0
	for path in "$@"; do
		case $path in /tmp/*)
			kept=$((kept + 1))
			mkdir -p "/host$path"
			mount -o bind "/kept/$kept" "/host$path" ;;
		esac
	done
	cp /bin/busybox /host/tmp/busybox
}

# registration_racer STOP_FILE PAUSE: until STOP_FILE exists, start two
# short-lived processes, register both in one write, replace one, list,
# remove the other, end them, pause; then print
# "iterations=N ok=N err=N". Run it in the background to race OOMs.
registration_racer() {
	it=0
	ok=0
	err=0
	while [ ! -e "$1" ]; do
		sleep 30 &
		a=$!
		sleep 30 &
		b=$!
		for w in "$a /gs/gs_handler_record /tmp/racer\\n$b /gs/gs_handler_sleep /tmp/racer 10" \
			"$b /gs/gs_handler_record /tmp/racer" "-$a"; do
			case $(proc_write $GS_PROC "$w") in ok*) ok=$((ok + 1)) ;; *) err=$((err + 1)) ;; esac
		done
		cat $GS_PROC > /dev/null
		kill $a $b
		wait $a $b 2> /dev/null
		it=$((it + 1))
		sleep "$2"
	done
	echo "iterations=$it ok=$ok err=$err"
}

# global_many N: a global OOM with N processes allocating at once, all
# registered with gs_handler_record; then each victim's record on one line
# ("@gs vrec PID key=value..." or "@gs vrec PID none") and its exit status
# ("@gs vstatus PID STATUS").
global_many() {
	# This shell is never the victim; the allocators set their score back to 0.
	echo -1000 > /proc/self/oom_score_adj
	echo 0 > /proc/sys/vm/oom_dump_tasks
	# start_timeout_ms: see global.sh. With 8 allocators the first OOM's
	# fork, in a kernel worker at an equal share of the CPU, once took over
	# 3 s here (1 of 160 handlers): the whole wait may go to the start.
	# gs.trace=1 (diagnosis only): the module prints a timed-out helper's
	# kernel stack, and oom_watch what the handlers are doing (below).
	gm_trace=""
	if [ "$(cmdline_value gs.trace)" = 1 ]; then gm_trace=show_stuck=1; fi
	# shellcheck disable=SC2086
	load_module timeout_ms="$(scaled_ms 5000)" start_timeout_ms="$(scaled_ms 5000)" $gm_trace
	prepare_records
	gm_pids=""
	gm_jobs=""
	gm_lines=""
	gm_i=0
	while [ $gm_i -lt "$1" ]; do
		gm_i=$((gm_i + 1))
		start_victim -
		gm_pids="$gm_pids $VICTIM"
		gm_jobs="$gm_jobs $VICTIM_JOB"
		gm_lines="$gm_lines$VICTIM /gs/gs_handler_record /tmp/rec\\n"
	done
	say victims "$gm_pids"
	say register "$(proc_write $GS_PROC "$gm_lines")"
	# gs.trace=1: what the handlers are doing, every 500 ms (diagnosis only).
	gm_watch=""
	if [ -n "$gm_trace" ]; then
		/gs/oom_watch $GS_HANDLERS 500 &
		gm_watch=$!
	fi
	# shellcheck disable=SC2086
	kill -USR1 $gm_pids
	for gm_job in $gm_jobs; do
		wait "$gm_job"
		say vstatus "$gm_job $?"
	done
	[ -z "$gm_watch" ] || kill "$gm_watch"
	for gm_pid in $gm_pids; do say_vrec "$gm_pid" /tmp/rec; done
	sleep 1000 &
	say register_after "$(proc_write $GS_PROC "$! /gs/gs_handler_record /tmp/rec")"
	kill $!
}
