# The handler runs with its registrant's whole identity and never more:
# uid, gid and supplementary groups, the LSM state (a Smack label where
# Smack runs, a Landlock domain where Landlock runs), no_new_privs, its
# RLIMIT_NOFILE, nice value and audit login uid (not the victim's); and
# within the usermode-helper bounding set, which is narrowed here by
# dropping CAP_SYS_ADMIN (bit 21) from it.
load_module timeout_ms=5000
prepare_records
mkdir -p /sys/fs/smackfs
mount -t smackfs smackfs /sys/fs/smackfs 2> /dev/null
if [ -w /sys/fs/smackfs/load2 ]; then
	say smack yes
	# The label may write the records (floor "_" objects) and run the handler.
	echo "gs_user _ rwxat" > /sys/fs/smackfs/load2
	export RUN_AS_LABEL=gs_user
else
	say smack no
fi
make_cgroup work 32M

# A user labelled gs_user, with groups and no_new_privs, at nice 19, with
# nofile 77 and login uid 4242, registers its own process (nofile 88, nice
# 0): the handler must carry all of the registrant's.
export RUN_AS_GROUPS=4242,4243 RUN_AS_NNP=1
start_victim /sys/fs/cgroup/work sh -c 'ulimit -n 88 && exec "$@"' sh /gs/run_as 1000 1000
say victim "$VICTIM"
if [ -w /proc/self/loginuid ]; then say loginuid yes; else say loginuid no; fi
say register "$(RUN_AS_NICE=19 sh -c '[ -w /proc/self/loginuid ] && echo 4242 > /proc/self/loginuid; ulimit -n 77 && exec "$@"' sh \
	/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
unset RUN_AS_LABEL RUN_AS_GROUPS RUN_AS_NNP
trigger_victim
say_record "$VICTIM"

# A user confined by Landlock to writing under /tmp/rec (and /proc, to
# register) registers its own process: the handler must be confined the
# same way (it may not create /tmp/probe-landlock).
start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim_landlock "$VICTIM"
out=$(RUN_AS_NNP=1 /gs/run_as 1000 1000 /gs/landlock_run /tmp/rec:/proc /gs/proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec /tmp/probe-landlock" 2> /dev/null)
case $? in
125) say landlock no ;;
*) say landlock yes ;;
esac
say register_landlock "$out"
trigger_victim
say_file rec_landlock "/tmp/rec/$VICTIM.rec"

# Root registers a process after the usermode-helper bounding set lost
# CAP_SYS_ADMIN: its handler must not have it either.
# 4292870143 = 0xffdfffff: the low 32 capabilities but CAP_SYS_ADMIN
# (busybox arithmetic may be 32-bit, so not computed here).
read lo hi < /proc/sys/kernel/usermodehelper/bset
echo "4292870143 $hi" > /proc/sys/kernel/usermodehelper/bset
say umh_bset "$(cat /proc/sys/kernel/usermodehelper/bset)"
start_victim /sys/fs/cgroup/work
say victim_root "$VICTIM"
say register_root "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec /tmp/probe-root")"
trigger_victim
say_file rec_root "/tmp/rec/$VICTIM.rec"
