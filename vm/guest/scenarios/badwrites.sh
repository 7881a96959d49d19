# d. every class of bad write gets its errno and leaves the registry as it was.
load_module
prepare_records
sleep 1000 &
P1=$!
sleep 1000 &
P2=$!
say register "$(proc_write $GS_PROC "$P1 /gs/gs_handler_record /tmp/rec")"

cp /gs/gs_handler_record /tmp/h_noexec && chmod 0644 /tmp/h_noexec
cp /gs/gs_handler_record /tmp/h_groupw && chmod 0775 /tmp/h_groupw
cp /gs/gs_handler_record /tmp/h_worldw && chmod 0757 /tmp/h_worldw
long=$(printf '%05000d' 0)

# bad_write CASE DATA: the result of one write, and whether the listing
# stayed byte-identical.
bad_write() {
	before=$(cat $GS_PROC)
	result=$(proc_write $GS_PROC "$2")
	after=$(cat $GS_PROC)
	same=no
	[ "$before" = "$after" ] && same=yes
	say write "$1 $result same=$same"
}

bad_write malformed "$P2"
bad_write malformed_pid "12ab /gs/gs_handler_record"
bad_write remove_with_args "-$P1 /gs/gs_handler_record"
bad_write unknown_pid "999999 /gs/gs_handler_record /tmp/rec"
bad_write relative_path "$P2 gs/gs_handler_record /tmp/rec"
bad_write missing_file "$P2 /gs/no_such_handler"
bad_write not_executable "$P2 /tmp/h_noexec"
bad_write directory "$P2 /gs"
bad_write group_writable "$P2 /tmp/h_groupw"
bad_write world_writable "$P2 /tmp/h_worldw"
bad_write overlong_line "$P2 /gs/gs_handler_record $long"
bad_write embedded_nul "$P2 /gs/gs_handler_record\\0/tmp/rec"
bad_write multi_line_one_bad "$P2 /gs/gs_handler_record /tmp/rec\\n999999 /gs/gs_handler_record"
bad_write duplicate_pid "$P2 /gs/gs_handler_record\\n$P2 /gs/gs_handler_sleep"
bad_write remove_unregistered "-$P2"
echo 1 > /sys/module/proc_create_module/parameters/max_entries
bad_write table_full "$P2 /gs/gs_handler_record /tmp/rec"
echo 1024 > /sys/module/proc_create_module/parameters/max_entries
echo > /sys/module/proc_create_module/parameters/handler_cgroup
bad_write no_handler_cgroup "$P2 /gs/gs_handler_record /tmp/rec"
echo /tmp > /sys/module/proc_create_module/parameters/handler_cgroup
bad_write not_a_cgroup "$P2 /gs/gs_handler_record /tmp/rec"
say relative_cgroup_param "$(echo gs-handlers > /sys/module/proc_create_module/parameters/handler_cgroup 2>&1 && echo accepted || echo refused)"
echo $GS_HANDLERS > /sys/module/proc_create_module/parameters/handler_cgroup
say handler_cgroup_param "$(cat /sys/module/proc_create_module/parameters/handler_cgroup)"

# Good writes still work, and what is read can be written back.
say good "$(proc_write $GS_PROC "$P2 /gs/gs_handler_sleep /tmp/rec 100")"
say_listing listing
say replace "$(proc_write $GS_PROC "$P2   /gs/gs_handler_record	/tmp/rec")"
say_listing listing_replaced
saved=$(cat $GS_PROC)
say rewrite "$(proc_write $GS_PROC "$saved")"
[ "$saved" = "$(cat $GS_PROC)" ] && say rewrite_same yes || say rewrite_same no
kill $P1 $P2
