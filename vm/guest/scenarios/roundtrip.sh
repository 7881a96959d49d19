# A listing written back never changes whose registration it is. Root sees
# a user's registration with the user first ("1000:<pid> ..."); writing the
# saved listing back keeps it the user's, and so does writing it back after
# the registration is gone (a reload): its handler runs as the process's
# owner, never as root. Nobody but root may name another registrant.
load_module
prepare_records
make_cgroup work 32M

start_victim /sys/fs/cgroup/work /gs/run_as 1000 1000
say victim "$VICTIM"
say register "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$VICTIM /bin/sh -c id>/tmp/rec/$VICTIM.who")"
say user_listing "$(/gs/run_as 1000 1000 cat $GS_PROC | tr '\n' '|')"
cat $GS_PROC > /tmp/saved
say root_listing "$(tr '\n' '|' < /tmp/saved)"
say write_back "$(proc_write $GS_PROC "$(cat /tmp/saved)")"
say listing_after "$(tr '\n' '|' < $GS_PROC)"
# A reload: the registration is gone, root writes the saved listing.
say removed "$(/gs/run_as 1000 1000 proc_write $GS_PROC "-$VICTIM")"
say restore "$(proc_write $GS_PROC "$(cat /tmp/saved)")"
say listing_restored "$(tr '\n' '|' < $GS_PROC)"
# Only root may name another registrant, and only as the process's owner.
user_sleeper 1001
say other_names_root "$(/gs/run_as 1001 1001 proc_write $GS_PROC "0:$SLEEPER /bin/sh -c id")"
say other_names_user "$(/gs/run_as 1001 1001 proc_write $GS_PROC "1000:$SLEEPER /bin/sh -c id")"
say root_names_wrong_owner "$(proc_write $GS_PROC "1000:$SLEEPER /bin/sh -c id")"
kill $SLEEPER
trigger_victim
say_file who "/tmp/rec/$VICTIM.who"
