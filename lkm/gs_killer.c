// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/graceful_shutdown_fire: how a killer in user space tells the module
 * that it is about to kill a process. systemd-oomd (through gs-kit's
 * pre-kill hook) and earlyoom (through gs-kit's -P program) kill from
 * memory pressure, before the kernel's OOM killer would; a registration
 * should be heard whichever comes first.
 *
 * Root writes "<pid> <killer>"; the write returns once the registration
 * that covers that process has run its handler, exactly as at a kernel OOM
 * (gs_victim_announced()): same identity, confinement, handler cgroup,
 * bounds and budgets. The registration is claimed as the OOM path claims
 * it, so it fires once: a later kill, the kernel's included, finds it
 * gone. Only CAP_SYS_ADMIN in the initial user namespace may ask, as the
 * opener and as the writer: a request runs a handler early, which is
 * another user's business.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gs_internal.h"

/* Root's only: reading it gives nothing; a write runs a handler now. */
#define GS_FIRE_MODE	0200
/* "<pid> <killer>\n": a pid and the longest killer name, with room to spare. */
#define GS_FIRE_LINE	64

/* The killer a request names; the kernel's is not one a write may claim to be. */
static int gs_killer_parse(const char *name, enum gs_killer *killer)
{
	int i;

	for (i = 0; i < GS_KILLER_NR; i++) {
		if (i != GS_KILLER_KERNEL && !strcmp(name, gs_killer_name(i))) {
			*killer = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Parse "<pid> <killer>", one line, with at most a final newline. */
static int gs_fire_parse(char *line, pid_t *nr, enum gs_killer *killer)
{
	char *name, *end;
	int err;

	end = strchr(line, '\n');
	if (end) {
		if (end[1])
			return -EINVAL;
		*end = '\0';
	}
	name = strchr(line, ' ');
	if (!name)
		return -EINVAL;
	*name++ = '\0';
	err = kstrtoint(line, 10, nr);
	if (err || *nr <= 0)
		return -EINVAL;
	return gs_killer_parse(name, killer);
}

/* An admin's, as gs_is_admin() has it for the opener, and the writer's too. */
static bool gs_fire_allowed(struct file *file)
{
	return gs_is_admin(file) && ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
}

static ssize_t gs_fire_write(struct file *file, const char __user *ubuf, size_t count,
			     loff_t *ppos)
{
	char line[GS_FIRE_LINE];
	enum gs_killer killer;
	struct task_struct *task;
	pid_t nr;
	int err;

	if (!gs_fire_allowed(file))
		return -EPERM;
	if (!count || count >= sizeof(line))
		return -EINVAL;
	if (copy_from_user(line, ubuf, count))
		return -EFAULT;
	line[count] = '\0';
	if (strlen(line) != count)
		return -EINVAL;
	err = gs_fire_parse(line, &nr, &killer);
	if (err)
		return err;

	/* The pid as the writer's namespace sees it; the process, not a thread. */
	rcu_read_lock();
	task = pid_task(find_vpid(nr), PIDTYPE_TGID);
	if (task)
		get_task_struct(task);
	rcu_read_unlock();
	if (!task)
		return -ESRCH;
	err = gs_victim_announced(task, killer);
	put_task_struct(task);
	return err ? err : count;
}

#ifdef GS_HAVE_PROC_OPS
static const struct proc_ops gs_fire_ops = {
	.proc_write	= gs_fire_write,
	.proc_lseek	= noop_llseek,
};
#else
static const struct file_operations gs_fire_ops = {
	.owner		= THIS_MODULE,
	.write		= gs_fire_write,
	.llseek		= noop_llseek,
};
#endif

/**
 * gs_killer_init - create /proc/graceful_shutdown_fire
 *
 * Context: module load.
 * Return: 0, or -ENOMEM.
 */
int gs_killer_init(void)
{
	return proc_create(GS_FIRE_NAME, GS_FIRE_MODE, NULL, &gs_fire_ops) ? 0 : -ENOMEM;
}

/**
 * gs_killer_exit - remove /proc/graceful_shutdown_fire
 *
 * Returns once no write is left in it; each waits for its handler, bounded.
 *
 * Context: module unload.
 */
void gs_killer_exit(void)
{
	remove_proc_entry(GS_FIRE_NAME, NULL);
}
