# c. a handler that never exits: the kill goes on after timeout_ms.
load_module timeout_ms=2000
prepare_records
make_cgroup work 32M
register_work_victim "/gs/gs_handler_hang /tmp/rec"
trigger_victim
say_record "$VICTIM"
# The killed helper is reaped by the kernel; give it a moment.
sleep 1
say leftover_helpers "$(count_procs gs_handler_hang)"
