# The container test (gs-kit vm containers): a fresh Debian with Podman,
# Docker and containerd from its own archive, booted on Debian's own
# kernel. Install gs-kit as the README says (install-module: stock mode,
# configure: which installs the container hook), then, for each engine,
# protect a container with no change to its image: the annotation
# io.gs-kit.handler names a handler that exists only in the image; the
# container is limited to 64 MiB and its workload exceeds it. Facts go to
# the console as "@gs KEY VALUE"; the host judges them
# (lib/containers-test.ts).
. "/host$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^gs.repo=//p')/vm/system/lib.sh"
say kernel "$(uname -r)"
say system "$(. /etc/os-release && echo "$PRETTY_NAME"), $(systemctl --version | head -n 1)"
install_gs_kit
run_step install gs-kit install-module
run_step configure gs-kit configure --no-grub
say hook_files "$(ls /usr/local/lib/gs-kit /usr/share/containers/oci/hooks.d 2>&1 | tr '\n' ' ')"
say daemon_json "$(tr -d '\n ' < /etc/docker/daemon.json 2>&1)"
# The Kubernetes runtime (CRI) gs-kit, as containerd itself reads its configuration.
say containerd_runtime "$(containerd config dump 2>&1 | awk '/^ *\[/ { on = /runtimes\.gs-kit(\.options)?\]/ } on' | tr -s ' \n' ' ')"
say versions "podman $(podman --version | cut -d' ' -f3), docker $(docker version --format '{{.Server.Version}}' 2>&1), containerd $(containerd --version | cut -d' ' -f3), runc $(runc --version | head -n 1 | cut -d' ' -f3), crun $(crun --version | head -n 1 | cut -d' ' -f3)"

# The machine has no network device; the engines' networks want a route
# out (pasta copies the host's): a dummy interface gives them one, as a
# machine's first interface would.
ip link add gs0 type dummy && ip addr add 10.0.2.15/24 dev gs0 && ip link set gs0 up && ip route add default via 10.0.2.2 dev gs0
say route "$(ip route 2>&1 | tr '\n' ';')"

# The image: busybox and the suite's programs, nothing of gs-kit.
ROOTFS=/srv/gs/rootfs
mkdir -p $ROOTFS/bin $ROOTFS/app $ROOTFS/data $ROOTFS/proc $ROOTFS/sys $ROOTFS/dev $ROOTFS/etc $ROOTFS/tmp
cp /bin/busybox $ROOTFS/bin/busybox
for l in $(/bin/busybox --list); do [ -e "$ROOTFS/bin/$l" ] || ln -s busybox "$ROOTFS/bin/$l"; done
for p in oom_condition_creator gs_handler; do install -m 755 "/host$PROGS/$p" "$ROOTFS/app/$p"; done
ln -f $ROOTFS/app/gs_handler $ROOTFS/app/gs_handler_alloc
ln -f $ROOTFS/app/gs_handler $ROOTFS/app/gs_handler_record
echo 'root:x:0:0:root:/:/bin/sh' > $ROOTFS/etc/passwd
# The workload: say its pid (as the container sees it), then allocate until killed.
# (and what the container itself reaches of the host's loopback, for the handler's to be held to).
cat > $ROOTFS/app/workload <<'EOF'
#!/bin/sh
echo "$(nc -w 2 127.0.0.1 7777 < /dev/null > /dev/null 2>&1 && echo reached || echo refused)" > /data/workload.net
echo $$ > /data/workload.pid
exec /app/oom_condition_creator
EOF
chmod 755 $ROOTFS/app/workload
# A program that outlives its victim: it starts the workload, and a while after the kill says what still runs.
printf '#!/bin/sh\n/app/workload\nsleep 3\nps -o pid,args > /data/after\n' > $ROOTFS/app/parent
chmod 755 $ROOTFS/app/parent
# The handler: what it can reach of the host, then 8 MiB touched and its record written (gs_handler_alloc).
cat > $ROOTFS/app/save <<'EOF'
#!/bin/sh
{
	echo "host_root=$(cat /proc/1/root/etc/gs-host-marker 2>&1 | head -n 1)"
	echo "host_path=$([ -e /etc/gs-host-marker ] && echo seen || echo absent)"
	echo "host_net=$(nc -w 2 127.0.0.1 7777 < /dev/null > /dev/null 2>&1 && echo reached || echo refused)"
	echo "workload_pid=$(cat /data/workload.pid)"
	# Its confinement against its victim's: the same bounding set, seccomp mode and open-files limit.
	echo "victim_capbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/$GS_PID/status)"
	echo "self_capbnd=$(sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status)"
	echo "victim_seccomp=$(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/$GS_PID/status)"
	echo "self_seccomp=$(sed -n 's/^Seccomp:[[:space:]]*//p' /proc/self/status)"
	echo "victim_nofile=$(sed -n 's/^Max open files *\([0-9a-z]*\).*/\1/p' /proc/$GS_PID/limits)"
	echo "self_nofile=$(sed -n 's/^Max open files *\([0-9a-z]*\).*/\1/p' /proc/self/limits)"
} > /data/probe
# A daemon of the handler's: the end of the run must take it too.
sleep 1001 < /dev/null > /dev/null 2>&1 &
exec /app/gs_handler_alloc /data 8
EOF
chmod 755 $ROOTFS/app/save
tar -C $ROOTFS -cf /srv/gs/rootfs.tar .
# What only the host has: a marker file, a handler path, a loopback service.
echo host-only > /etc/gs-host-marker
mkdir -p /srv/host-only
printf '#!/bin/sh\ntouch /tmp/host-handler-ran\n' > /srv/host-only/save
chmod 755 /srv/host-only/save
busybox nc -ll -p 7777 -e /bin/true > /dev/null 2>&1 &
sleep 1
say host_net_control "$(busybox nc -w 2 127.0.0.1 7777 < /dev/null > /dev/null 2>&1 && echo reached || echo refused)"

H=io.gs-kit.handler
LIMIT=64m
# report ENGINE DIR: what the container's handler left in its volume, and who owns it on the host.
report() {
	for f in "$2"/*.rec; do
		[ -f "$f" ] && say "${1}_rec" "$(tr '\n' ' ' < "$f")" && say "${1}_rec_owner" "$(stat -c %u "$f")"
	done
	say "${1}_probe" "$(tr '\n' ' ' < "$2/probe" 2>&1)"
	say "${1}_workload_pid" "$(cat "$2/workload.pid" 2>&1)"
	say "${1}_workload_net" "$(cat "$2/workload.net" 2>&1)"
}
# mark ENGINE: where its run starts in the kernel log.
mark() { echo "gs-test: run=$1" > /dev/kmsg; }

# Rootful Podman: the hooks.d entry, nothing on the command line but the annotation.
run_step podman_import podman import /srv/gs/rootfs.tar localhost/gs-test
mkdir -p /srv/gs/podman && mark podman
run_step podman timeout 300 podman run --rm --memory $LIMIT --memory-swap $LIMIT --annotation "$H=/app/save" \
	-v /srv/gs/podman:/data localhost/gs-test /app/workload
report podman /srv/gs/podman

# Rootless Podman, as the normal user in a session of its own (lingering: user@1000 delegates memory).
loginctl enable-linger user
for _ in $(seq 60); do [ -S /run/user/1000/bus ] && break; sleep 1; done
as_user() { runuser -u user -- env -C /home/user XDG_RUNTIME_DIR=/run/user/1000 DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus "$@"; }
say user_delegated "$(cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers 2>&1)"
run_step rootless_import as_user podman import /srv/gs/rootfs.tar localhost/gs-test
as_user mkdir -p /home/user/ct && mark rootless
run_step rootless as_user timeout 300 podman run --rm --memory $LIMIT --memory-swap $LIMIT --annotation "$H=/app/save" \
	-v /home/user/ct:/data localhost/gs-test /app/workload
report rootless /home/user/ct

# Docker: the gs-kit runtime configure told it of.
run_step docker_import docker import /srv/gs/rootfs.tar gs-test
mkdir -p /srv/gs/docker && mark docker
run_step docker timeout 300 docker run --rm --runtime gs-kit --memory $LIMIT --memory-swap $LIMIT --annotation "$H=/app/save" \
	-v /srv/gs/docker:/data gs-test /app/workload
report docker /srv/gs/docker

# The handler's daemon after the run, in a container that outlives its victim (Docker: the split, cgroup BPF).
mkdir -p /srv/gs/escape && mark escape
run_step escape timeout 300 docker run --rm --runtime gs-kit --memory $LIMIT --memory-swap $LIMIT --annotation "$H=/app/save" \
	-v /srv/gs/escape:/data gs-test /app/parent
report escape /srv/gs/escape
say escape_after "$(grep -c 'sleep 1001' /srv/gs/escape/after 2>&1) $(tr '\n' ';' < /srv/gs/escape/after 2>&1)"

# A bad annotation refuses the container, with the reason.
run_step badannotation docker run --rm --runtime gs-kit --annotation "$H=save-state" gs-test true

# containerd: ctr with the wrapper as its runc.
mkdir -p /srv/gs/ctr && mark ctr
run_step ctr timeout 300 ctr run --rm --runc-binary /usr/local/lib/gs-kit/gs-kit-runc --memory-limit 67108864 \
	--annotation "$H=/app/save" --mount type=bind,src=/srv/gs/ctr,dst=/data,options=rbind:rw \
	--rootfs $ROOTFS gs-ctr /app/workload
report ctr /srv/gs/ctr

# A Kubernetes pod, below the kubelet: containerd's CRI (vm/system/cri-pod.mjs
# in crictl's place, which Debian does not have), the RuntimeClass handler
# gs-kit, the handler named by a pod annotation. The image reaches the CRI's
# namespace through a docker archive; its command serves as the pause process.
SANDBOX_IMAGE=$(containerd config dump | sed -n 's/^ *sandbox_image = "\(.*\)"$/\1/p')
podman import --change 'CMD ["/bin/sleep","1000000"]' /srv/gs/rootfs.tar localhost/gs-cri:latest > /dev/null &&
	podman save --format docker-archive -o /srv/gs/cri.tar localhost/gs-cri:latest &&
	ctr -n k8s.io images import /srv/gs/cri.tar > /dev/null &&
	ctr -n k8s.io images tag --force localhost/gs-cri:latest "$SANDBOX_IMAGE" > /dev/null
say cri_images "$(ctr -n k8s.io images ls -q | tr '\n' ' ')"
mkdir -p /srv/gs/cri && mark cri
run_step cri timeout 600 node "/host$REPO/vm/system/cri-pod.mjs" run --name gs-pod --image localhost/gs-cri:latest --runtime-handler gs-kit --cgroup-parent gs-pods.slice \
	--pod-annotation "$H=/app/save" --memory-limit 67108864 --mount /srv/gs/cri:/data --timeout 300 -- /app/workload
report cri /srv/gs/cri

# A handler path that exists only on the host: not found in the container, the host's never run.
mkdir -p /srv/gs/hostpath && mark hostpath
run_step hostpath timeout 300 docker run --rm --runtime gs-kit --memory $LIMIT --memory-swap $LIMIT --annotation "$H=/srv/host-only/save" \
	-v /srv/gs/hostpath:/data gs-test /app/workload
say hostpath_host_ran "$([ -e /tmp/host-handler-ran ] && echo yes || echo no)"

# A global OOM: a rootless container with no limit of its own fills the
# machine. (A rootful one's waiter stays under its device rules, and its
# handler did not get to run in a global OOM: docs/design.md.) Its handler
# only records:
# in a global OOM on a kernel without the patch it has the module's small
# reserve, not 8 MiB and a few programs.
as_user mkdir -p /home/user/global && mark global
run_step global as_user timeout 600 podman run --rm --annotation "$H=/app/gs_handler_record /data" -v /home/user/global:/data localhost/gs-test /app/workload
report global /home/user/global
mark end

# What a node start costs here (the hook's stages run gs-kit's CLI), for
# reading the start times below: under TCG it is tens of times a real
# machine's.
for i in 1 2 3; do
	t0=$(date +%s%N)
	node -e 0
	say node_start_ms "$((($(date +%s%N) - t0) / 1000000))"
done
# What the hook costs a container's start: podman run and docker run of a
# container that exits at once, without the hook (Docker: its own runc)
# and with it.
for i in 1 2 3 4 5; do
	for how in plain hook; do
		ann= runtime=
		[ $how = hook ] && ann="--annotation $H=/app/save" runtime="--runtime gs-kit"
		t0=$(date +%s%N)
		podman run --rm --network none $ann localhost/gs-test true > /dev/null 2>&1
		t1=$(date +%s%N)
		docker run --rm --network none $runtime $ann gs-test true > /dev/null 2>&1
		t2=$(date +%s%N)
		say start_ms "podman $how $(((t1 - t0) / 1000000))"
		say start_ms "docker $how $(((t2 - t1) / 1000000))"
	done
done
