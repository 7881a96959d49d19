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
# install_gs_kit: gs-kit on the target, a copy of the checkout (as "git
# clone && npm ci" would leave it) and node, on PATH as gs-kit. Only the
# production dependencies ("npm ci --omit=dev"), listed by the host in the
# results share: 9p is slow under TCG, and a virtio 9p share takes one
# mount only, so there is no cached second view of it.
install_gs_kit() {
	mkdir -p /opt/gs-kit
	# shellcheck disable=SC2046
	tar -C "/host$REPO" -cf - package.json dist lkm oci killers $(cat /results/prod-modules.txt) | tar -C /opt/gs-kit -xf -
	cp /host/usr/bin/node /usr/local/bin/node
	say copied "$(du -sm /opt/gs-kit | cut -f1) MiB, node $(/usr/local/bin/node --version)"
	printf '#!/bin/sh\nexec /usr/local/bin/node /opt/gs-kit/dist/cli/src/bin.js "$@"\n' > /usr/local/bin/gs-kit
	chmod 755 /usr/local/bin/gs-kit
}
