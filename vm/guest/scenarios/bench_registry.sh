# Benchmark: registry cost with N entries. gs.reg_sizes=N,N,... (default
# 1,64,1024,4096) and gs.reg_repeats=R (default 51). For each N:
#   @gs reg N entries <lines read back>
#   @gs reg N add|replace|remove|read <ns>...
sizes=$(cmdline_value gs.reg_sizes)
[ -n "$sizes" ] || sizes=1,64,1024,4096
repeats=$(cmdline_value gs.reg_repeats)
[ -n "$repeats" ] || repeats=51
# tinyconfig's CONFIG_BASE_SMALL makes pid_max 4096: too few for 4,096
# sleepers and the rest.
echo 32768 > /proc/sys/kernel/pid_max
say pid_max "$(cat /proc/sys/kernel/pid_max)"
load_module max_entries=5000
for n in $(echo "$sizes" | tr ',' ' '); do
	/gs/registry_bench $GS_PROC /gs/gs_handler_record "$n" "$repeats" > /tmp/reg.out 2> /tmp/reg.err
	st=$?
	[ $st = 0 ] || say error "registry_bench $n: status $st: $(tr '\n' '|' < /tmp/reg.err)"
	sed -n 's/^registry //p' /tmp/reg.out | while read -r line; do say reg "$line"; done
	# The sleepers are gone; let the registry notice before the next size.
	cat $GS_PROC > /dev/null
done
say listing_after "$(wc -l < $GS_PROC)"
