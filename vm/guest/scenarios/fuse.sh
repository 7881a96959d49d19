# A handler path on a FUSE mount whose daemon stopped answering holds up
# its own writer only: the path checks run before the writers' lock, and
# that writer can be killed. Root's write meanwhile completes.
load_module
prepare_records
mkdir -p /tmp/fz/mnt
/gs/fuse_stall /tmp/fz/mnt 1000 > /tmp/fz/out 2>&1 &
FUSE=$!
wait_file /tmp/fz/out 100
say fuse "$(cat /tmp/fz/out)"
/gs/oom_condition_creator --wait > /dev/null &
R=$!
say register_root "$(proc_write $GS_PROC "$R /gs/gs_handler_record /tmp/rec")"
user_sleeper 1000
/gs/run_as 1000 1000 proc_write $GS_PROC "$SLEEPER /tmp/fz/mnt/h" > /tmp/fz/user 2>&1 &
WRITER=$!
sleep 0.5
# Its state: S or D while its lookup waits, Z once it is done.
state() { sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$1/stat" 2> /dev/null | grep . || echo gone; }
say user_writer "$(state $WRITER) $(cat /tmp/fz/user)"
proc_write $GS_PROC "-$R" > /tmp/fz/root &
ROOT_WRITER=$!
wait_file /tmp/fz/root 100
say root_remove "$(cat /tmp/fz/root 2> /dev/null || echo none)"
kill -9 $WRITER
sleep 0.5
say user_writer_killed "$(state $WRITER)"
kill $FUSE
umount -l /tmp/fz/mnt
sleep 0.2
kill -9 $ROOT_WRITER 2> /dev/null
kill $SLEEPER $R
