#!/bin/sh
# The gs-kit DaemonSet's node side (gs-kit.yaml), run in a privileged
# container that shares the node's PID namespace.
#
#   node-install.sh install   put gs-kit and node under the node's
#                             /opt/gs-kit (a hostPath mounted at
#                             /node/opt/gs-kit), then in the node's
#                             namespaces: gs-kit install-module (DKMS
#                             against the node's headers; stock mode on a
#                             distribution kernel) and gs-kit configure
#                             --no-grub (handler cgroup, module option,
#                             the container hook, containerd's runtime
#                             gs-kit, containerd restarted: running
#                             containers stay up)
#   node-install.sh status    print gs-kit status on the node every five
#                             minutes, forever (the pod's main container)
#
# Both are idempotent: a restarted pod changes nothing.
set -eu
on_node() { nsenter --target 1 --mount --uts --ipc --net --pid -- "$@"; }
gs() { on_node /opt/gs-kit/node /opt/gs-kit/dist/cli/src/bin.js "$@"; }

case ${1:-} in
install)
	# Copied whole, then node beside it: the node runs gs-kit with no node of its own.
	cp -a /opt/gs-kit/. /node/opt/gs-kit/
	cp "$(command -v node)" /node/opt/gs-kit/node
	if [ "${GS_KIT_APT:-}" = 1 ] && on_node sh -c 'command -v apt-get' > /dev/null &&
		! on_node sh -c 'command -v dkms && test -d "/lib/modules/$(uname -r)/build"' > /dev/null; then
		on_node apt-get update
		on_node apt-get install -y --no-install-recommends dkms build-essential "linux-headers-$(uname -r)"
	fi
	gs install-module
	gs configure --no-grub
	;;
status)
	while :; do
		gs status || true
		sleep 300
	done
	;;
*)
	echo "usage: $0 install|status" >&2
	exit 2
	;;
esac
