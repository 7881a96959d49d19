# "+<pid>" covers the process and what it starts: the handler runs when
# the OOM killer picks a child of the registered process (as stress-ng's
# workers are). A plain "<pid>" registration does not cover its children.
load_module
prepare_records
make_cgroup work 32M

# start_family: a shell in the work cgroup whose child is a waiting
# allocator. Sets PARENT, CHILD and FAMILY_JOB.
start_family() {
	rm -f /tmp/family
	sh -c 'echo $$ > /sys/fs/cgroup/work/cgroup.procs; /gs/oom_condition_creator --wait > /tmp/child.pid & echo $$ > /tmp/family; wait $!' &
	FAMILY_JOB=$!
	while [ ! -s /tmp/family ] || [ ! -s /tmp/child.pid ]; do sleep 0.05; done
	PARENT=$(cat /tmp/family)
	CHILD=$(cat /tmp/child.pid)
	rm -f /tmp/child.pid
}

start_family
say parent "$PARENT"
say victim "$CHILD"
say register "$(proc_write $GS_PROC "+$PARENT /gs/gs_handler_record /tmp/rec")"
say_listing listing
kill -USR1 "$CHILD"
wait "$FAMILY_JOB"
say victim_status "$?"
say_record "$CHILD"

start_family
say parent_plain "$PARENT"
say victim_plain "$CHILD"
say register_plain "$(proc_write $GS_PROC "$PARENT /gs/gs_handler_record /tmp/rec")"
kill -USR1 "$CHILD"
wait "$FAMILY_JOB"
say victim_plain_status "$?"
say rec_plain "$([ -f /tmp/rec/$CHILD.rec ] && echo yes || echo no)"
kill "$PARENT" 2> /dev/null
