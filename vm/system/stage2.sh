# Stage 2: the same system rebooted into the kernel and command line that
# its generated grub.cfg names. What a user does from here, as the README
# says: check the status, protect a process as a normal user, list and
# unregister; and a second configure changes nothing.
. "/host$(tr ' ' '\n' < /proc/cmdline | sed -n 's/^gs.repo=//p')/vm/system/lib.sh"
say kernel "$(uname -r)"
say cmdline "$(cat /proc/cmdline)"
say module "$(grep -c '^proc_create_module ' /proc/modules)"
say module_path "$(modinfo -n proc_create_module 2>&1)"
say status "$(gs-kit status --json | tr -d '\n')"
run_step status_text gs-kit status

# A normal user protects a process: stress-ng in a 64M scope of its own.
su - user -c 'mkdir -p rec && gs-kit run-with-gs --memory-max 64M /usr/local/bin/gs_handler_record /home/user/rec -- stress-ng --vm 1 --vm-bytes 200M --oomable --timeout 60s' > /tmp/rwg.out 2>&1
say rwg_rc "$?"
say_out rwg "$(cat /tmp/rwg.out)"
for f in /home/user/rec/*.rec; do
	[ -f "$f" ] && say rec "$(tr '\n' ' ' < "$f")"
done
say rec_count "$(ls /home/user/rec/*.rec 2> /dev/null | wc -l)"

# register / list / unregister as the user.
su - user -c 'sleep 600 > /dev/null 2>&1 & echo $!' > /tmp/sleeper
S=$(cat /tmp/sleeper)
say sleeper "$S"
run_step user_register su - user -c "gs-kit register $S /usr/local/bin/gs_handler_record /home/user/rec"
run_step user_list su - user -c 'gs-kit list'
run_step user_unregister su - user -c "gs-kit unregister $S"
run_step user_list_after su - user -c 'gs-kit list'
kill "$S"

run_step configure_again gs-kit configure
say handler_slice "$(systemctl is-active gs-handlers.slice) $(systemctl is-enabled gs-handlers.slice)"
