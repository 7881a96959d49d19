# f, g. exited processes leave the listing; -<pid> removes; rmmod/insmod.
load_module
prepare_records
sleep 0.3 &
SHORT=$!
say short "$SHORT"
say register_short "$(proc_write $GS_PROC "$SHORT /gs/gs_handler_record /tmp/rec")"
say_listing listing_with_short
wait $SHORT
say_listing listing_after_exit

sleep 1000 &
L1=$!
sleep 1000 &
L2=$!
say l1 "$L1"
say l2 "$L2"
say register_both "$(proc_write $GS_PROC "$L1 /gs/gs_handler_record /tmp/rec\\n$L2 /gs/gs_handler_sleep /tmp/rec 10")"
say remove_l1 "$(proc_write $GS_PROC "-$L1")"
say_listing listing_after_remove

# Unload with an entry present, then load again.
if rmmod proc_create_module; then say rmmod ok; else say rmmod "failed $?"; fi
say proc_after_rmmod "$([ -e $GS_PROC ] && echo present || echo absent)"
load_module
say_listing listing_after_reload
say register_after_reload "$(proc_write $GS_PROC "$L2 /gs/gs_handler_record /tmp/rec")"
if rmmod proc_create_module; then say rmmod_again ok; else say rmmod_again "failed $?"; fi
kill $L1 $L2
