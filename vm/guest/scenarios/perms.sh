# e. a user registers its own processes only; its handler runs as that user.
load_module
prepare_records
sleep 1000 &
ROOTP=$!
say root_register "$(proc_write $GS_PROC "$ROOTP /gs/gs_handler_record /tmp/rec")"
say user_register_root "$(run_as 1000 1000 proc_write $GS_PROC "$ROOTP /gs/gs_handler_record /tmp/rec")"
say user_register_init "$(run_as 1000 1000 proc_write $GS_PROC "1 /gs/gs_handler_record /tmp/rec")"
say user_remove_root "$(run_as 1000 1000 proc_write $GS_PROC "-$ROOTP")"

make_cgroup work 32M
start_victim /sys/fs/cgroup/work run_as 1000 1000
say victim "$VICTIM"
say user_register_own "$(run_as 1000 1000 proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
say user_listing "$(run_as 1000 1000 cat $GS_PROC | tr '\n' '|')"
say_listing root_listing
trigger_victim
say_record "$VICTIM"
kill $ROOTP
