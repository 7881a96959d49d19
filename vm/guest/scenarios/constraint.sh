# Only a global OOM lends the reserve and raises a root handler's priority.
# An OOM of a memory policy (a process bound to NUMA node 1 with MPOL_BIND;
# the guest boots with numa=fake=2) is not global: its handler runs at its
# registrant's nice value, no reserve is lent, and it is told
# GS_CONSTRAINT=mempolicy.
load_module
prepare_records
say nodes "$(ls -d /sys/devices/system/node/node[0-9]* 2> /dev/null | wc -l)"
rm -f /tmp/victim.pid
sh -c 'echo 0 > /proc/self/oom_score_adj; exec /gs/mempolicy_run 1 /gs/oom_condition_creator --wait' > /tmp/victim.pid &
VICTIM_JOB=$!
wait_file /tmp/victim.pid 250
VICTIM=$(cat /tmp/victim.pid)
say victim "$VICTIM"
say register "$(proc_write $GS_PROC "$VICTIM /gs/gs_handler_record /tmp/rec")"
trigger_victim
say_record "$VICTIM"
