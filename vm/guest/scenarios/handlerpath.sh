# The handler path cannot be swapped: registration refuses a handler any of
# whose directories someone other than root or the registrant could change
# (sudo's rule), and a path that no longer leads to the file that was
# checked, or leads there through a directory gone unsafe, is not run.
load_module timeout_ms=5000
prepare_records
make_cgroup work 32M
sleep 1000 &
P=$!

# Directories: one owned by uid 1000, one group-writable, a root-owned
# path through a symbolic link into uid 1000's, the registrant's own.
mkdir -p /tmp/u /tmp/g /tmp/r /tmp/r2 /tmp/r3
cp /gs/gs_handler_record /tmp/u/h
cp /gs/gs_handler_record /tmp/g/h
chown -R 1000:1000 /tmp/u
chmod 0775 /tmp/g
ln -s /tmp/u /tmp/r/via_user
say root_in_user_dir "$(proc_write $GS_PROC "$P /tmp/u/h /tmp/rec")"
say root_in_group_writable_dir "$(proc_write $GS_PROC "$P /tmp/g/h /tmp/rec")"
say root_through_user_symlink "$(proc_write $GS_PROC "$P /tmp/r/via_user/h /tmp/rec")"
ln -s /gs/gs_handler_record /tmp/u/link_to_root_file
say root_symlink_in_user_dir "$(proc_write $GS_PROC "$P /tmp/u/link_to_root_file /tmp/rec")"
user_sleeper 1000
UP=$SLEEPER
say user_in_own_dir "$(/gs/run_as 1000 1000 proc_write $GS_PROC "$UP /tmp/u/h /tmp/rec")"
say listing_before "$(tr '\n' '|' < $GS_PROC)"

# A handler replaced after registration (the way an editor or a package
# update does: a new file renamed over it) is not run.
cp /gs/gs_handler_record /tmp/r2/h
start_victim /sys/fs/cgroup/work
say victim_replaced "$VICTIM"
say register_replaced "$(proc_write $GS_PROC "$VICTIM /tmp/r2/h /tmp/rec")"
cp /gs/gs_handler_sleep /tmp/r2/h.new
mv /tmp/r2/h.new /tmp/r2/h
trigger_victim
say_wrote rec_replaced "$VICTIM"

# A directory that became group-writable after registration.
cp /gs/gs_handler_record /tmp/r3/h
start_victim /sys/fs/cgroup/work
say victim_unsafe "$VICTIM"
say register_unsafe "$(proc_write $GS_PROC "$VICTIM /tmp/r3/h /tmp/rec")"
chmod 0775 /tmp/r3
trigger_victim
say_wrote rec_unsafe "$VICTIM"

# A writer under another root directory (a chroot) would name another file.
mkdir -p /tmp/cr/gs /tmp/cr/proc /tmp/cr/bin
cp /gs/proc_write /gs/gs_handler_record /tmp/cr/gs/
mount --bind /proc /tmp/cr/proc
say chroot_register "$(chroot /tmp/cr /gs/proc_write $GS_PROC "$P /gs/gs_handler_record /tmp")"
umount /tmp/cr/proc

# What runs is the file checked, by its path without symbolic links: a
# script registered through a link sees its real path as $0.
write_handler /tmp/pub/real/h0 <<'SCRIPT'
#!/bin/sh
echo "$0" > "/tmp/rec/$GS_PID.path"
SCRIPT
ln -s /tmp/pub/real/h0 /tmp/pub/lnk
start_victim /sys/fs/cgroup/work
say victim_link "$VICTIM"
say register_link "$(proc_write $GS_PROC "$VICTIM /tmp/pub/lnk")"
trigger_victim
say ran_as "$(cat /tmp/rec/$VICTIM.path 2> /dev/null || echo none)"
kill $P $UP
