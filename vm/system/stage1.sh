# Stage 1: a fresh Debian 12 with systemd, booted on Debian's own kernel.
# Do what the README's host flow tells an administrator to do on the
# target: install gs-kit, install the kernel packages built on the build
# host (the module is built by DKMS against their headers), configure. With
# gs.mode=stock, install the module alone for Debian's kernel instead.
. "/host$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^gs.repo=//p')/vm/system/lib.sh"
DEBS=$(arg gs.debs)
say kernel "$(uname -r)"
say system "$(. /etc/os-release && echo "$PRETTY_NAME"), $(systemctl --version | head -n 1)"
say init "$(ps -o comm= -p 1)"

install_gs_kit
# The handler the user registers in stage 2.
install -m 755 "/host$PROGS/gs_handler_record" /usr/local/bin/gs_handler_record

if [ "$(arg gs.mode)" = stock ]; then
	# Stock mode: the module alone for the kernel running now, no reboot.
	run_step install gs-kit install-module
	run_step install_again gs-kit install-module
	say hook_now "$(cat /sys/module/proc_create_module/parameters/hook 2>&1)"
else
	run_step install gs-kit install-kernel --deb "/host$DEBS"
	run_step install_again gs-kit install-kernel --deb "/host$DEBS"
fi
say dkms "$(dkms status 2>&1 | tr '\n' '|')"
run_step configure gs-kit configure
say modprobe_conf "$(cat /etc/modprobe.d/gs-kit.conf 2>&1 | tr '\n' '|')"
say grub_dropin "$(cat /etc/default/grub.d/gs-kit.cfg 2>&1 | tr '\n' '|')"
# What boot 2 boots: the host reads these from the results share.
cp /boot/grub/grub.cfg /results/grub.cfg
for f in /boot/vmlinuz-* /boot/initrd.img-*; do cp "$f" /results/; done
say boot_files "$(ls /boot | tr '\n' ' ')"
