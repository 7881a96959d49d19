# Stage 2 of the "cli" scenario, as PID 1 inside the host's root (read-only,
# with /tmp, /proc, /sys and /dev of the guest). Usage: REPO PROGRAMS_DIR
repo=$1
progs=$2
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
export NO_COLOR=1 HOME=/tmp
. "$repo/vm/guest/lib.sh"
gs() {
	node "$repo/dist/cli/src/bin.js" "$@"
}
say node "$(node --version)"
say status "$(gs status --json | tr -d '\n')"

# register / list / unregister round trip, and the errors a user sees.
sleep 1000 &
S=$!
say sleeper "$S"
say register "$(gs register "$S" "$progs/gs_handler_record" /tmp/rec 2>&1)"
say list "$(gs list 2>&1 | tr '\n' '|')"
say unregister "$(gs unregister "$S" 2>&1)"
say list_after "$(gs list 2>&1 | tr '\n' '|')"
out=$(gs unregister "$S" 2>&1)
say unregister_again_rc "$?"
say unregister_again "$(echo "$out" | tr '\n' '|')"
out=$(gs register 999999 "$progs/gs_handler_record" 2>&1)
say register_nosuch_rc "$?"
say register_nosuch "$(echo "$out" | tr '\n' '|')"
kill "$S"

# run-with-gs protects oom_condition_creator in a 32M cgroup of its own.
prepare_records
gs run-with-gs --memory-max 32M "$progs/gs_handler_record" /tmp/rec -- "$progs/oom_condition_creator" \
	> /tmp/rwg.out 2> /tmp/rwg.err
rwg=$?
say rwg_status "$rwg"
say victim_status "$rwg"
VICTIM=$(head -n 1 /tmp/rwg.out)
say victim "$VICTIM"
say_record "$VICTIM"
say rwg_stderr "$(tr '\n' '|' < /tmp/rwg.err)"
say cgroups_left "$(ls /sys/fs/cgroup/gs-workload | grep -c '^run-')"
gs run-with-gs "$progs/gs_handler_record" /tmp/rec -- /bin/sh -c 'exit 7' 2>/dev/null
say rwg_exit7 "$?"

# rwg_oom KEY COMMAND...: run-with-gs, by COMMAND (node and the CLI, or
# the launcher, under unshare), protects oom_condition_creator in a 32M
# cgroup of its own; what became of it, said under KEY.
rwg_oom() {
	rwg_as=$1
	shift
	"$@" run-with-gs --memory-max 32M "$progs/gs_handler_record" /tmp/rec \
		-- "$progs/oom_condition_creator" > "/tmp/rwg_$rwg_as.out" 2> "/tmp/rwg_$rwg_as.err"
	say "rwg_${rwg_as}_status" "$?"
	victim=$(head -n 1 "/tmp/rwg_$rwg_as.out")
	say "victim_$rwg_as" "$victim"
	say_file "rec_$rwg_as" "/tmp/rec/$victim.rec"
	say "rwg_${rwg_as}_stderr" "$(tr '\n' '|' < "/tmp/rwg_$rwg_as.err")"
	say "waiters_left_$rwg_as" "$(count_cmdline gs-kit-wait)"
}

# In another network namespace (as in a container) the kernel cannot start
# the handler (EXDEV): run-with-gs runs it from a waiter of its own.
rwg_oom waiter unshare -n node "$repo/dist/cli/src/bin.js"
# As a container's entrypoint: the launcher as PID 1 of pid, mount and
# network namespaces of its own (a waiter runs the handler there too, and
# GS_PID is the pid the namespace sees).
rwg_oom init unshare -p -f -m -n --mount-proc "$repo/bin/gs-kit"

end_boot /tmp/busybox "$progs/console_drain"
