# The killers test (gs-kit vm killers): a fresh Debian unstable with
# systemd-oomd (262) and earlyoom (1.9) from its own archive, booted on
# Debian's own kernel. Install gs-kit as the README says (install-module:
# stock mode; configure: which hooks both killers), then let each killer
# kill a workload that gs-kit run-with-gs protects: systemd-oomd from
# memory pressure in the workload slice, earlyoom from low available
# memory, then the kernel's OOM killer at a scope's memory.max. Each
# handler writes its record; the host judges the facts
# (lib/killers-test.ts).
. "/host$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^gs.repo=//p')/vm/system/lib.sh"
say kernel "$(uname -r)"
say system "$(. /etc/os-release && echo "$PRETTY_NAME"), $(systemctl --version | head -n 1)"
say versions "systemd-oomd $(dpkg-query -W -f '${Version}' systemd-oomd), earlyoom $(dpkg-query -W -f '${Version}' earlyoom)"
install_gs_kit
install -m 755 "/host$PROGS/gs_handler_record" /usr/local/bin/gs_handler_record
run_step install gs-kit install-module
run_step configure gs-kit configure --no-grub
run_step configure_again gs-kit configure --no-grub
say prekill_dir "$(ls -l /run/systemd/oomd.prekill.hook/ 2>&1 | tail -n +2 | tr '\n' ' ')"
say oomd_timeout "$(systemd-analyze cat-config systemd/oomd.conf 2>&1 | sed -n 's/^PrekillHookTimeoutSec=//p' | tail -n 1)"
say earlyoom_cmdline "$(tr '\000' ' ' < "/proc/$(systemctl show -p MainPID --value earlyoom.service)/cmdline" 2>&1)"
say earlyoom_groups "$(sed -n 's/^Groups:\t*//p' "/proc/$(systemctl show -p MainPID --value earlyoom.service)/status" 2>&1) $(getent group gs-kit-killer)"
run_step status gs-kit status
mark() { echo "gs-test: run=$1" > /dev/kmsg; }
# protected KEY ARGS...: as the README's example, run-with-gs with a handler
# that records into /srv/rec/KEY; says KEY_rc, the end of its output and
# the records.
# (Not "key": say() sets that.)
protected() {
	run=$1
	shift
	mkdir -p "/srv/rec/$run"
	gs-kit run-with-gs "$@" > "/tmp/$run.out" 2>&1
	say "${run}_rc" "$?"
	say_out "${run}_rwg" "$(tail -n 3 "/tmp/$run.out")"
	for f in "/srv/rec/$run"/*.rec; do [ -f "$f" ] && say "${run}_rec" "$(tr '\n' ' ' < "$f")"; done
}

# 1. systemd-oomd: the operator has it watch the workload slice for memory
# pressure; a slice memory.high under the workload's size makes the pressure
# (no swap, so no kernel OOM: memory.high throttles, never kills).
systemctl stop earlyoom.service
mkdir -p /etc/systemd/system/gs-workload.slice.d /etc/systemd/oomd.conf.d
printf '[Slice]\nManagedOOMMemoryPressure=kill\nManagedOOMMemoryPressureLimit=20%%\nMemoryHigh=64M\n' \
	> /etc/systemd/system/gs-workload.slice.d/zz-test-pressure.conf
printf '[OOM]\nDefaultMemoryPressureDurationSec=2s\n' > /etc/systemd/oomd.conf.d/zz-test.conf
systemctl daemon-reload
systemctl restart systemd-oomd.service
sleep 2
mark oomd
protected oomd --memory-max 512M /usr/local/bin/gs_handler_record /srv/rec/oomd -- \
	stress-ng --vm 1 --vm-bytes 200M --vm-keep --timeout 180s
rm /etc/systemd/system/gs-workload.slice.d/zz-test-pressure.conf /etc/systemd/oomd.conf.d/zz-test.conf
systemctl daemon-reload
systemctl restart systemd-oomd.service

# 2. earlyoom: it kills when less than 40% of memory is available, well
# before the workload slice's memory.max would make the kernel kill.
echo 'EARLYOOM_ARGS="-r 3600 -m 40"' > /etc/default/earlyoom
systemctl restart earlyoom.service
sleep 2
say earlyoom_active "$(systemctl is-active earlyoom.service) $(systemctl is-active gs-kit-earlyoom.service)"
mark earlyoom
protected early /usr/local/bin/gs_handler_record /srv/rec/early -- \
	stress-ng --vm 1 --vm-bytes 1700M --vm-keep --timeout 180s

# 3. the kernel's OOM killer, earlyoom and systemd-oomd still running:
# a user's scope at its memory.max, as the README's first example.
mark kernel
su - user -c 'mkdir -p rec && gs-kit run-with-gs --memory-max 64M /usr/local/bin/gs_handler_record /home/user/rec -- stress-ng --vm 1 --vm-bytes 200M --oomable --timeout 60s' > /tmp/kernel.out 2>&1
say kernel_rc "$?"
say_out kernel_rwg "$(tail -n 3 /tmp/kernel.out)"
for f in /home/user/rec/*.rec; do [ -f "$f" ] && say kernel_rec "$(tr '\n' ' ' < "$f")"; done
mark end
# What the killers and gs-kit-killer said, on the kernel log's clock.
say_out journal "$(journalctl -b -o short-monotonic --no-pager | grep -e systemd-oomd -e earlyoom -e gs-kit -e graceful_shutdown | grep -v -e 'mem avail' -e 'Listening on' -e 'Reached target')"
