// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/graceful_shutdown: a write registers "<pid> <handler> [args...]"
 * ("+<pid>" for the process and every process descended from it) or
 * removes "-<pid>", one a line, all lines or none; a read lists the
 * registrations the reader may see, in the same format.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "gs_internal.h"

/*
 * World-writable on purpose: any user may register its own processes.
 * gs_may_act_on() decides, line by line, what a writer may register.
 */
#define GS_PROC_MODE	0666

/* Serialises writers, so that a multi-line write is checked and applied as one. */
static DEFINE_MUTEX(gs_write_mutex);

static bool gs_is_admin(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

/* Root may act on any process; a user on its own processes only. */
static int gs_may_act_on(struct file *file, struct pid *pid)
{
	const struct cred *cred = file->f_cred;
	struct task_struct *task;
	int err = -ESRCH;

	if (gs_is_admin(file))
		return 0;
	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (task)
		err = gs_owns(cred->euid, __task_cred(task)) ? 0 : -EPERM;
	rcu_read_unlock();
	return err;
}

/* One parsed line of a write: an entry to add, or a pid to remove. */
struct gs_op {
	struct list_head node;
	struct pid *pid;
	struct gs_entry *add;		/* NULL for a removal */
};

static void gs_ops_free(struct list_head *ops)
{
	struct gs_op *op, *next;

	list_for_each_entry_safe(op, next, ops, node) {
		if (op->add)
			gs_entry_put(op->add);
		else
			put_pid(op->pid);
		kfree(op);
	}
}

static int gs_parse_pid(const char *s, struct pid **pidp)
{
	struct pid *pid;
	int nr;

	if (!isdigit(*s) || kstrtoint(s, 10, &nr) || nr <= 0)
		return -EINVAL;
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	if (gs_process_gone(pid)) {	/* a thread id, or an exiting process */
		put_pid(pid);
		return -ESRCH;
	}
	*pidp = pid;
	return 0;
}

static struct gs_entry *gs_entry_new(struct file *file, struct pid *pid,
				     const char *cmd)
{
	struct gs_entry *e;
	int err, i;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return ERR_PTR(-ENOMEM);
	kref_init(&e->ref);
	INIT_HLIST_NODE(&e->hnode);
	e->argv = argv_split(GFP_KERNEL, cmd, &e->argc);
	if (!e->argv) {
		kfree(e);
		return ERR_PTR(-ENOMEM);
	}
	e->pid = pid;
	e->cred = get_cred(file->f_cred);
	e->no_new_privs = task_no_new_privs(current);
	err = -EINVAL;
	if (e->argc < 1)
		goto fail;
	err = -EXDEV;
	if (!gs_same_root_as_kernel())
		goto fail;
	err = -E2BIG;
	if (e->argc > GS_ARGS_MAX + 1)
		goto fail;
	err = gs_check_handler(e->argv[0], e->cred, &e->dev, &e->ino);
	if (err)
		goto fail;
	if (!gs_is_admin(file)) {
		err = -ENOMEM;
		e->user = gs_user_get(e->cred->euid);
		if (!e->user)
			goto fail;
	}
	/* The listed form: arguments joined by single spaces. */
	err = -ENOMEM;
	e->cmdline = kzalloc(strlen(cmd) + 1, GFP_KERNEL);
	if (!e->cmdline)
		goto fail;
	for (i = 0; i < e->argc; i++) {
		if (i)
			strcat(e->cmdline, " ");
		strcat(e->cmdline, e->argv[i]);
	}
	return e;
fail:
	e->pid = NULL;		/* the caller still owns the reference */
	gs_entry_put(e);
	return ERR_PTR(err);
}

/* Parse one non-empty line into @ops; count registrations in @adds. */
static int gs_parse_line(struct file *file, char *line, struct list_head *ops,
			 unsigned int *adds)
{
	struct gs_op *op, *other;
	char *pidstr, *rest;
	struct gs_entry *e;
	int err;

	pidstr = strsep(&line, " \t");
	rest = line ? skip_spaces(line) : NULL;
	op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (!op)
		return -ENOMEM;
	/* "-<pid>" has nothing after it; "<pid>" and "+<pid>" need a handler. */
	if ((pidstr[0] == '-') == (rest && *rest))
		err = -EINVAL;
	else
		err = gs_parse_pid(pidstr + (pidstr[0] == '-' || pidstr[0] == '+'), &op->pid);
	if (err)
		goto fail;
	err = gs_may_act_on(file, op->pid);
	if (err)
		goto fail_pid;
	/* One write names each process once, so that lines do not conflict. */
	err = -EINVAL;
	list_for_each_entry(other, ops, node)
		if (other->pid == op->pid)
			goto fail_pid;
	if (pidstr[0] != '-') {
		e = gs_entry_new(file, op->pid, rest);
		err = PTR_ERR_OR_ZERO(e);
		if (err)
			goto fail_pid;
		e->tree = pidstr[0] == '+';
		op->add = e;
		(*adds)++;
	}
	list_add_tail(&op->node, ops);
	return 0;
fail_pid:
	put_pid(op->pid);
fail:
	kfree(op);
	return err;
}

/*
 * Check every op against the registry and the limits, then apply them all.
 * Writers are serialised, so only the OOM path can change the registry
 * meanwhile, and it only takes entries out: what was checked still holds.
 * The lock the OOM path takes is held for one op at a time.
 */
static int gs_apply(struct list_head *ops)
{
	int grow = 0, user_grow = 0;
	struct gs_user *user = NULL;
	struct gs_entry *old;
	struct gs_op *op;
	bool fits;

	lockdep_assert_held(&gs_write_mutex);
	/* All the registrations of one write are the same registrant's. */
	list_for_each_entry(op, ops, node)
		if (op->add)
			user = op->add->user;

	gs_prune();
	rcu_read_lock();
	list_for_each_entry(op, ops, node) {
		old = gs_lookup(op->pid);
		if (old && test_bit(GS_FIRED, &old->flags))
			old = NULL;
		if (!op->add && !old) {
			rcu_read_unlock();
			return -ENOENT;
		}
		grow += !!op->add - !!old;
		if (user)
			user_grow += !!op->add - (old && old->user == user);
	}
	rcu_read_unlock();

	spin_lock(&gs_lock);
	/* Only a write that grows the registry can overflow it. */
	fits = grow <= 0 || gs_registry_count_locked() + grow <= READ_ONCE(gs_max_entries);
	if (fits && user_grow > 0 &&
	    user->entries + user_grow > READ_ONCE(gs_user_max_entries)) {
		spin_unlock(&gs_lock);
		return -EDQUOT;
	}
	spin_unlock(&gs_lock);
	if (!fits)
		return -ENOSPC;

	list_for_each_entry(op, ops, node) {
		rcu_read_lock();
		spin_lock(&gs_lock);
		old = gs_lookup(op->pid);
		if (old && !gs_unlink(old))
			old = NULL;
		if (op->add) {
			/* The registry takes over the op's entry and pid. */
			gs_link(op->add);
			op->add = NULL;
			op->pid = NULL;
		}
		spin_unlock(&gs_lock);
		rcu_read_unlock();
		if (old)
			gs_entry_put(old);
	}
	return 0;
}

static ssize_t gs_proc_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char *buf, *cursor, *line;
	unsigned int adds = 0;
	LIST_HEAD(ops);
	int err = 0;

	if (count > GS_WRITE_MAX)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (strlen(buf) != count) {
		kfree(buf);
		return -EILSEQ;
	}

	mutex_lock(&gs_write_mutex);
	cursor = buf;
	while (!err && (line = strsep(&cursor, "\n"))) {
		if (strlen(line) > GS_LINE_MAX)
			err = -ENAMETOOLONG;
		else if (*strim(line))
			err = gs_parse_line(file, strim(line), &ops, &adds);
	}
	/* Handlers run only in the handler cgroup: without one, none can. */
	if (!err && adds)
		err = gs_check_handler_cgroup();
	if (!err)
		err = gs_apply(&ops);
	gs_ops_free(&ops);
	gs_users_sweep(false);
	mutex_unlock(&gs_write_mutex);

	kfree(buf);
	if (!err && adds)
		gs_park_again(0);	/* one parked helper per registration */
	return err ? err : count;
}

struct gs_show {
	struct seq_file *m;
	struct pid_namespace *ns;
	const struct cred *reader;
	bool admin;
};

static void gs_show_entry(struct gs_entry *e, void *data)
{
	struct gs_show *s = data;
	pid_t nr;

	if (test_bit(GS_FIRED, &e->flags) || gs_process_gone(e->pid))
		return;
	if (!s->admin && !uid_eq(e->cred->euid, s->reader->euid))
		return;
	nr = pid_nr_ns(e->pid, s->ns);
	if (nr)
		seq_printf(s->m, "%s%d %s\n", e->tree ? "+" : "", nr, e->cmdline);
}

/*
 * The registry as the reader may see it. Walked under RCU: a reader never
 * holds up the OOM path, however many entries there are.
 */
static int gs_proc_show(struct seq_file *m, void *v)
{
	struct file *file = m->private;
	struct gs_show s = {
		.m = m,
		.ns = task_active_pid_ns(current),
		.reader = file->f_cred,
		.admin = gs_is_admin(file),
	};

	gs_registry_for_each(gs_show_entry, &s);
	return 0;
}

static int gs_proc_open(struct inode *inode, struct file *file)
{
	return single_open(file, gs_proc_show, file);
}

#ifdef GS_HAVE_PROC_OPS
static const struct proc_ops gs_proc_ops = {
	.proc_open	= gs_proc_open,
	.proc_read	= seq_read,
	.proc_write	= gs_proc_write,
	.proc_lseek	= seq_lseek,
	.proc_release	= single_release,
};
#else
static const struct file_operations gs_proc_ops = {
	.owner		= THIS_MODULE,
	.open		= gs_proc_open,
	.read		= seq_read,
	.write		= gs_proc_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};
#endif

/**
 * gs_proc_init - create /proc/graceful_shutdown
 *
 * Context: module load.
 * Return: 0, or -ENOMEM.
 */
int gs_proc_init(void)
{
	return proc_create(GS_PROC_NAME, GS_PROC_MODE, NULL, &gs_proc_ops) ? 0 : -ENOMEM;
}

/**
 * gs_proc_exit - remove /proc/graceful_shutdown, and every registration
 *
 * Returns once no writer is left; the entries are freed after an RCU grace
 * period.
 *
 * Context: module unload.
 */
void gs_proc_exit(void)
{
	remove_proc_entry(GS_PROC_NAME, NULL);
}

/**
 * gs_proc_clear - drop every registration (unload, once the hook is gone)
 *
 * Context: module unload.
 */
void gs_proc_clear(void)
{
	mutex_lock(&gs_write_mutex);
	gs_registry_clear();
	mutex_unlock(&gs_write_mutex);
}
