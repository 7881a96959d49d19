# Helpers for the system-test stages (sh, run as root by gs-system-stage).
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p"; }
say() {
	key=$1
	shift
	echo "@gs $key $*"
}
# say_out KEY TEXT: TEXT one line per fact.
say_out() {
	printf '%s\n' "$2" | while IFS= read -r line; do say "$1" "$line"; done
}
# run_step NAME COMMAND...: run it, report its output and exit status.
run_step() {
	name=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	say_out "$name" "$out"
	say "${name}_rc" "$rc"
	return $rc
}
# The serial console is the test's report: no login prompt on it.
systemctl stop serial-getty@ttyS0.service 2> /dev/null
echo
REPO=$(arg gs.repo)
PROGS=$(arg gs.progs)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NO_COLOR=1
