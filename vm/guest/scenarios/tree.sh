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
say_wrote rec_plain "$CHILD"
kill "$PARENT" 2> /dev/null

# A user's registration covers the user's own processes only, checked again
# at the OOM: a process that ran a setuid program since (as su does) is not
# the user's to act for. /tmp/suid_run_as is a root-owned setuid copy of
# run_as, a user's way to become another user.
cp /gs/run_as /tmp/suid_run_as
chmod 4755 /tmp/suid_run_as
rm -f /tmp/family /tmp/child.pid /tmp/other.status

# start_user_shell SCRIPT: SCRIPT run by a shell of user 1000 in the work
# cgroup, with oom_score_adj 0, in the background. Sets USER_JOB.
start_user_shell() {
	sh -c 'echo $$ > /sys/fs/cgroup/work/cgroup.procs; echo 0 > /proc/self/oom_score_adj; exec /gs/run_as 1000 1000 sh -c "$0"' "$1" &
	USER_JOB=$!
}

# A user's "+<pid>" shell whose first child becomes user 1001 and whose
# second stays the user's; the registration passes over the first.
start_user_shell 'echo $$ > /tmp/family
	/tmp/suid_run_as 1001 1001 /gs/oom_condition_creator --wait > /tmp/child.pid
	echo $? > /tmp/other.status
	/gs/oom_condition_creator --wait > /tmp/own.pid'
FAMILY_JOB=$USER_JOB
wait_file /tmp/family
wait_file /tmp/child.pid
PARENT=$(cat /tmp/family)
say parent_user "$PARENT"
say register_user "$(/gs/run_as 1000 1000 proc_write $GS_PROC "+$PARENT /gs/gs_handler_record /tmp/rec")"
OTHER=$(cat /tmp/child.pid)
say victim_other "$OTHER"
say victim_other_uid "$(awk '/^Uid:/ { print $2, $3, $4 }' /proc/$OTHER/status)"
kill -USR1 "$OTHER"
wait_file /tmp/other.status
say victim_other_status "$(cat /tmp/other.status)"
say_wrote rec_other "$OTHER"
# Root reads the user's registration with its registrant first.
say listing_user "$(grep -c "^1000:+$PARENT " $GS_PROC)"
wait_file /tmp/own.pid
OWN=$(cat /tmp/own.pid)
say victim_own "$OWN"
kill -USR1 "$OWN"
wait "$FAMILY_JOB"
say victim_own_status "$?"
say_file rec_own "/tmp/rec/$OWN.rec"

# A user's own registered process that then execs a setuid program.
rm -f /tmp/self.pid /tmp/go /tmp/self_oom.pid
start_user_shell 'echo $$ > /tmp/self.pid
	while [ ! -e /tmp/go ]; do sleep 0.02; done
	exec /tmp/suid_run_as 1001 1001 /gs/oom_condition_creator --wait > /tmp/self_oom.pid'
SELF_JOB=$USER_JOB
wait_file /tmp/self.pid
SELF=$(cat /tmp/self.pid)
say victim_exec "$SELF"
say register_exec "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$SELF /gs/gs_handler_record /tmp/rec")"
touch /tmp/go
wait_file /tmp/self_oom.pid
say victim_exec_same "$([ "$(cat /tmp/self_oom.pid)" = "$SELF" ] && echo yes || echo no)"
kill -USR1 "$SELF"
wait "$SELF_JOB"
say victim_exec_status "$?"
say_wrote rec_exec "$SELF"
