# A process in a container has its last word, its handler running inside
# the container: the container's root directory, pid, network and other
# namespaces, its user. A handler path named in the container means
# another file to the kernel, so that registration is refused (EXDEV); the
# container's own waiter ("<pid> @wait", gs_wait) is not: it blocks
# reading the proc file, is woken with the victim as the container sees
# it, is moved into its principal's handler cgroup so that it has memory
# in its container's OOM, and runs the handler in place.
load_module timeout_ms="$(scaled_ms 5000)" user_timeout_ms="$(scaled_ms 5000)"
prepare_records

# make_rootfs DIR: a container image: busybox, the application, its waiter
# and the handler that saves its state.
make_rootfs() {
	mkdir -p "$1/bin" "$1/proc" "$1/dev" "$1/tmp" "$1/app"
	touch "$1/dev/null" "$1/dev/zero"
	chmod 1777 "$1/tmp"
	cp /bin/busybox "$1/bin/busybox"
	for applet in sh cat echo id sleep readlink hostname kill dd mv rm; do
		ln -sf busybox "$1/bin/$applet"
	done
	cp /gs/gs_wait /gs/oom_condition_creator /gs/proc_write "$1/app/"
	write_handler "$1/app/start" <<'EOF'
#!/bin/sh
# The container's init: its application, and the application's waiter.
/app/oom_condition_creator --wait > /tmp/app.pid &
while [ ! -s /tmp/app.pid ]; do sleep 0.02; done
APP=$(cat /tmp/app.pid)
/app/proc_write /proc/graceful_shutdown "$APP /app/save" > /tmp/by_path
/app/gs_wait "$@" "$APP" /app/save > /tmp/wait.out 2>&1 &
while [ ! -s /tmp/wait.out ]; do sleep 0.02; done
{
	echo "app $APP"
	echo "net $(readlink /proc/self/ns/net)"
	echo "uid $(id -u)"
} > /tmp/ready.tmp
mv /tmp/ready.tmp /tmp/ready
while [ ! -e /tmp/go ]; do sleep 0.02; done
kill -USR1 "$APP"
wait "$APP"
echo $? > /tmp/app.status
EOF
	write_handler "$1/app/save" <<'EOF'
#!/bin/sh
# The handler: a state of 8 MiB, written while the container is out of memory.
dd if=/dev/zero of=/tmp/state bs=1M count=8 2> /dev/null
{
	echo "uid $(id -u)"
	echo "pid $GS_PID"
	echo "registered $GS_REGISTERED_PID"
	echo "constraint $GS_CONSTRAINT"
	echo "cgroup $GS_CGROUP"
	echo "net $(readlink /proc/self/ns/net)"
	echo "host $(hostname)"
	echo "alive $(kill -0 "$GS_PID" 2> /dev/null && echo yes || echo no)"
	echo "in $(cat /proc/self/cgroup)"
} > /tmp/saved.tmp
mv /tmp/saved.tmp /tmp/saved
EOF
}

# field FILE KEY: the value of "KEY value" in FILE.
field() {
	sed -n "s/^$2 //p" "$1" 2> /dev/null
}

# run_container MODE DIR [GS_WAIT_OPTION]: start the container (in the
# cgroup ctr) and wait until its waiter registered; sets rc_victim (the
# application's pid outside) and rc_job.
run_container() {
	rc_dir=$2
	make_rootfs "$rc_dir"
	/gs/container_run "$1" "$rc_dir" /sys/fs/cgroup/ctr 1000 /app/start $3 &
	rc_job=$!
	wait_file "$rc_dir/tmp/ready" 1500 || say "container_$1" "not ready"
	rc_victim=
	for p in $(cat /sys/fs/cgroup/ctr/cgroup.procs); do
		[ "$(cat "/proc/$p/comm" 2> /dev/null)" = oom_condition_c ] && rc_victim=$p
	done
}

# oom_container DIR: let the container's application run out of memory,
# and wait for the container to end.
oom_container() {
	touch "$1/tmp/go"
	wait_file "$1/tmp/app.status" 1500 && wait "$rc_job"
}

make_cgroup ctr 48M

# A: a rootless container (Podman's way): its root is uid 1000 outside.
run_container rootless /tmp/ctr_a
say victim "$rc_victim"
say a_app "$(field /tmp/ctr_a/tmp/ready app)"
say a_net "$(field /tmp/ctr_a/tmp/ready net)"
say a_by_path "$(cat /tmp/ctr_a/tmp/by_path)"
say a_waiter "$(cat /tmp/ctr_a/tmp/wait.out)"
say_listing a_listing
oom_container /tmp/ctr_a
say a_app_status "$(cat /tmp/ctr_a/tmp/app.status 2> /dev/null)"
say a_uid "$(field /tmp/ctr_a/tmp/saved uid)"
say a_pid "$(field /tmp/ctr_a/tmp/saved pid)"
say a_registered "$(field /tmp/ctr_a/tmp/saved registered)"
say a_constraint "$(field /tmp/ctr_a/tmp/saved constraint)"
say a_cgroup "$(field /tmp/ctr_a/tmp/saved cgroup)"
say a_saved_net "$(field /tmp/ctr_a/tmp/saved net)"
say a_host "$(field /tmp/ctr_a/tmp/saved host)"
say a_alive "$(field /tmp/ctr_a/tmp/saved alive)"
say a_in "$(field /tmp/ctr_a/tmp/saved in)"
say a_owner "$(stat -c %u /tmp/ctr_a/tmp/saved 2> /dev/null)"
say a_state_kb "$(($(stat -c %s /tmp/ctr_a/tmp/state 2> /dev/null || echo 0) / 1024))"
say a_host_saved "$([ -e /tmp/saved ] && echo yes || echo no)"
say a_left "$(count_cmdline /app/save)"

# B: a rootful container (Docker's way): uid 0 without CAP_SYS_ADMIN. Its
# waiter runs the handler as a child and says "done"; the module then ends
# the run and kills the waiter.
run_container rootful /tmp/ctr_b --done
say victim_b "$rc_victim"
say b_waiter "$(cat /tmp/ctr_b/tmp/wait.out)"
say b_by_path "$(cat /tmp/ctr_b/tmp/by_path)"
say_listing b_listing
oom_container /tmp/ctr_b
say b_app_status "$(cat /tmp/ctr_b/tmp/app.status 2> /dev/null)"
say b_uid "$(field /tmp/ctr_b/tmp/saved uid)"
say b_alive "$(field /tmp/ctr_b/tmp/saved alive)"
say b_in "$(field /tmp/ctr_b/tmp/saved in)"
say b_left "$(count_cmdline gs_wait)"
say handler_procs "$(handler_procs)"

# C: on the host. A waiter registers only what its user may (another
# user's process: EPERM), and its registration ends with its descriptor.
user_sleeper 1000
say c_other "$(/gs/run_as 1001 1001 /gs/gs_wait "$SLEEPER" /bin/true)"
/gs/run_as 1000 1000 /gs/gs_wait "$SLEEPER" /bin/true > /tmp/c_wait.out &
c_waiter=$!
wait_file /tmp/c_wait.out
say c_waiter "$(cat /tmp/c_wait.out)"
say_listing c_listing
kill "$c_waiter"
wait "$c_waiter" 2> /dev/null
say_listing c_listing_closed
kill "$SLEEPER"

# D: the README's shell waiter, as a user on the host, for a memcg OOM.
write_handler /tmp/h/readme_waiter <<'EOF'
#!/bin/sh
APP=$1
exec 3<> /proc/graceful_shutdown
echo "$APP @wait" >&3 || exit 1
echo registered > /tmp/rec/d_ready
while IFS= read -r line <&3; do
	export "$line"
done
[ -n "${GS_PID:-}" ] && exec /gs/gs_handler_record /tmp/rec
EOF
make_cgroup work 32M
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim_d "$VICTIM"
/gs/run_as 1000 1000 /tmp/h/readme_waiter "$VICTIM" &
wait_file /tmp/rec/d_ready 500
say d_ready "$(cat /tmp/rec/d_ready 2> /dev/null)"
trigger_victim
say_file d_rec "/tmp/rec/$VICTIM.rec"

# E: rmmod while a waiter blocks in its read: the read ends (the waiter
# exits 0, having run nothing) and the unload completes.
user_sleeper 1000
/gs/run_as 1000 1000 /gs/gs_wait "$SLEEPER" /bin/true > /tmp/e_wait.out &
e_waiter=$!
wait_file /tmp/e_wait.out
say e_waiter "$(cat /tmp/e_wait.out)"
rmmod proc_create_module
say e_rmmod "$?"
wait "$e_waiter"
say e_waiter_status "$?"
kill "$SLEEPER"
