# Other users cannot starve root: users together hold at most
# users_max_entries of the table and spend at most users_hold_budget_ms of
# the time handlers may hold the OOM killer, never root's share of either;
# and a user is one user however many uids it maps into user namespaces of
# its own (counted by the uid outside them).
load_module timeout_ms="$(scaled_ms 3000)" user_timeout_ms="$(scaled_ms 1000)" \
	hold_budget_ms="$(scaled_ms 5000)" users_hold_budget_ms="$(scaled_ms 2000)" \
	user_hold_budget_ms="$(scaled_ms 4000)" max_entries=8 users_max_entries=5 user_max_entries=2
prepare_records

# The table: users 1001 to 1003 fill the users' share (5 of 8); root still
# registers its three.
for u in 1001 1002 1003; do
	user_sleeper $u
	eval "A$u=\$SLEEPER"
	user_sleeper $u
	eval "B$u=\$SLEEPER"
done
say table_1001 "$(/gs/run_as 1001 1001 proc_write $GS_PROC "$A1001 /gs/gs_handler_record /tmp/rec\\n$B1001 /gs/gs_handler_record /tmp/rec")"
say table_1002 "$(/gs/run_as 1002 1002 proc_write $GS_PROC "$A1002 /gs/gs_handler_record /tmp/rec\\n$B1002 /gs/gs_handler_record /tmp/rec")"
say table_1003_a "$(/gs/run_as 1003 1003 proc_write $GS_PROC "$A1003 /gs/gs_handler_record /tmp/rec")"
say table_1003_b "$(/gs/run_as 1003 1003 proc_write $GS_PROC "$B1003 /gs/gs_handler_record /tmp/rec")"
for i in 1 2 3; do
	/gs/oom_condition_creator --wait > /dev/null &
	eval "R$i=\$!"
done
say table_root "$(proc_write $GS_PROC "$R1 /gs/gs_handler_record /tmp/rec\\n$R2 /gs/gs_handler_record /tmp/rec\\n$R3 /gs/gs_handler_record /tmp/rec")"
say table_count "$(wc -l < $GS_PROC)"
kill $A1001 $B1001 $A1002 $B1002 $A1003 $B1003 $R1 $R2 $R3
wait 2> /dev/null

# A user namespace of user 1001's, its uids 200000 and up outside: its
# uid 5 is user 1001 here, whose share (2) is full with two registrations.
/gs/run_as 1001 1001 sleep 1000 &
U1=$!
/gs/run_as 1001 1001 sleep 1000 &
U2=$!
sleep 0.2
say ns_outside "$(/gs/run_as 1001 1001 proc_write $GS_PROC "$U1 /gs/gs_handler_record /tmp/rec\\n$U2 /gs/gs_handler_record /tmp/rec")"
/gs/userns_run 1001 200000 5 sh -c 'sleep 1000 & sleep 0.2; proc_write '$GS_PROC' "$! /gs/gs_handler_record /tmp/rec"; kill $!' > /tmp/ns.out 2>&1
say ns_inside "$(cat /tmp/ns.out)"
proc_write $GS_PROC "-$U1\\n-$U2" > /dev/null
kill $U1 $U2

# The hold budget: three users' hung handlers spend the users' 2000 ms
# (two of them; the third is skipped), and root's hung handler still gets
# its whole timeout_ms.
i=0
for u in 1001 1002 1003; do
	i=$((i + 1))
	make_cgroup "work$i" 32M
	start_victim "/sys/fs/cgroup/work$i" /gs/run_as $u $u
	say "victim_u$i" "$VICTIM"
	say "register_u$i" "$(/gs/run_as $u $u proc_write $GS_PROC "$VICTIM /gs/gs_handler_hang /tmp/rec")"
	trigger_victim
done
start_victim /sys/fs/cgroup/work1
say victim_root "$VICTIM"
say root_timeout_ms "$(scaled_ms 3000)"
say register_root "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_hang /tmp/rec")"
trigger_victim
sleep 1
say hung_left "$(count_procs gs_handler_hang)"
