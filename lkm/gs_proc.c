// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/graceful_shutdown: a write registers "<pid> <handler> [args...]"
 * ("+<pid>" for the process and every process descended from it) or
 * removes "-<pid>", one a line, all lines or none; a read lists the
 * registrations the reader may see, in the same format. A registration the
 * reader did not make is listed with its registrant first, "<uid>:<pid>
 * ...", so that a listing written back never changes whose it is: root
 * writing "<uid>:<pid> ..." keeps that user's registration as it is, or
 * makes one that runs as the process's owner, never as root.
 *
 * Every line is parsed and checked (gs_parse.c: handler path, confinement,
 * the principal's handler cgroup) before the writers' mutex is taken, and
 * that mutex is taken killably: a handler path on a stalled FUSE mount
 * holds up its own writer only. Then the lines are checked against the
 * registry and the shares of the table, and applied, all or none.
 *
 * A descriptor that wrote "[+]<pid> @wait" is a waiter's (gs_waiter.c):
 * from then on its reads and polls wait for that process's OOM, a write
 * of "done" ends the run, and closing it removes the registration.
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
#include <linux/poll.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>

#include "gs_internal.h"

/*
 * World-writable on purpose: any user may register its own processes.
 * gs_parse_line() decides, line by line, what a writer may register.
 */
#define GS_PROC_MODE	0666

/* Serialises writers' checks against the registry and their changes to it. */
static DEFINE_MUTEX(gs_write_mutex);

/*
 * The writer must be who opened the file: the handler gets the writer's
 * credentials and confinement, and whether it may act at all is the
 * opener's. A descriptor passed from root to a user, or written to by a
 * setuid program on a user's behalf, registers nothing.
 */
static int gs_writer_is_opener(struct file *file)
{
	const struct cred *opener = file->f_cred;

	if (!uid_eq(current_euid(), opener->euid) || !uid_eq(current_uid(), opener->uid) ||
	    gs_is_admin(file) != ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN))
		return -EPERM;
	return 0;
}

/* How much a write grows one principal's registrations. */
struct gs_growth {
	struct gs_principal *pr;
	int grow;
};

static void gs_grow(struct gs_growth *g, unsigned int *n, struct gs_principal *pr, int by)
{
	unsigned int i;

	for (i = 0; i < *n && g[i].pr != pr; i++)
		;
	if (i == *n) {
		g[i].pr = pr;
		g[i].grow = 0;
		(*n)++;
	}
	g[i].grow += by;
}

/*
 * Check every op against the registry and the shares of the table, then
 * apply them all. Writers are serialised, so only the OOM path can change
 * the registry meanwhile, and it only takes entries out: what was checked
 * still holds. The lock the OOM path takes is held for one op at a time.
 */
static int gs_apply(struct list_head *ops, unsigned int nr_ops)
{
	int total = 0, users = 0, err = 0;
	struct gs_growth *growth;
	struct gs_entry *old;
	unsigned int n = 0, i;
	struct gs_op *op;

	lockdep_assert_held(&gs_write_mutex);
	growth = kcalloc(2 * nr_ops + 1, sizeof(*growth), GFP_KERNEL);
	if (!growth)
		return -ENOMEM;
	gs_prune();
	rcu_read_lock();
	list_for_each_entry(op, ops, node) {
		if (!op->add && !op->remove)
			continue;	/* kept as it is */
		old = gs_lookup(op->pid);
		if (old && test_bit(GS_FIRED, &old->flags))
			old = NULL;
		if (op->remove && !old) {
			err = -ENOENT;
			break;
		}
		if (op->add)
			gs_grow(growth, &n, op->add->principal, 1);
		if (old)
			gs_grow(growth, &n, old->principal, -1);
		total += !!op->add - !!old;
	}
	rcu_read_unlock();

	spin_lock(&gs_lock);
	for (i = 0; !err && i < n; i++) {
		if (!growth[i].pr->admin)
			users += growth[i].grow;
		err = gs_principal_may_grow(growth[i].pr, growth[i].grow);
	}
	if (!err)
		err = gs_table_may_grow(gs_registry_count_locked(), total, users);
	spin_unlock(&gs_lock);
	kfree(growth);
	if (err)
		return err;

	list_for_each_entry(op, ops, node) {
		if (!op->add && !op->remove)
			continue;
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

/* What an open of the proc file holds: its waiter, for a writer. */
struct gs_proc_open {
	struct file *file;
	struct gs_waiter *waiter;
};

static struct gs_waiter *gs_proc_waiter(struct file *file)
{
	struct seq_file *m = file->private_data;
	struct gs_proc_open *o = m->private;

	return o->waiter;
}

/* A waiter's descriptor takes "done" only. */
static ssize_t gs_proc_write_done(struct gs_waiter *w, const char *buf, size_t count)
{
	int err;

	if (strcmp(strim((char *)buf), GS_WAIT_DONE))
		return -EBUSY;
	err = gs_waiter_done(w);
	return err ? err : count;
}

static ssize_t gs_proc_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	struct gs_waiter *w = gs_proc_waiter(file);
	unsigned int adds = 0, nr_ops = 0;
	char *buf, *cursor, *line;
	LIST_HEAD(ops);
	int err;

	if (count > GS_WRITE_MAX)
		return -E2BIG;
	err = gs_writer_is_opener(file);
	if (err)
		return err;
	buf = memdup_user_nul(ubuf, count);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (strlen(buf) != count) {
		kfree(buf);
		return -EILSEQ;
	}
	if (gs_waiter_is_bound(w)) {
		ssize_t done = gs_proc_write_done(w, buf, count);

		kfree(buf);
		return done;
	}

	cursor = buf;
	while (!err && (line = strsep(&cursor, "\n"))) {
		if (strlen(line) > GS_LINE_MAX) {
			err = -ENAMETOOLONG;
		} else if (*strim(line)) {
			err = gs_parse_line(file, w, strim(line), &ops, &adds);
			nr_ops++;
		}
	}
	if (!err) {
		err = mutex_lock_killable(&gs_write_mutex);
		if (!err) {
			err = gs_apply(&ops, nr_ops);
			mutex_unlock(&gs_write_mutex);
		}
	}
	gs_ops_free(&ops);
	gs_principals_sweep(false);
	kfree(buf);
	/* A waiter reads the victim's description from its start. */
	if (!err && gs_waiter_is_bound(w))
		*ppos = 0;
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
	if (!nr)
		return;
	if (!uid_eq(e->cred->euid, s->reader->euid))
		seq_printf(s->m, "%u:", from_kuid_munged(s->reader->user_ns, e->cred->euid));
	seq_printf(s->m, "%s%d %s\n", e->tree ? "+" : "", nr, e->cmdline);
}

/*
 * The registry as the reader may see it. Walked under RCU: a reader never
 * holds up the OOM path, however many entries there are.
 */
static int gs_proc_show(struct seq_file *m, void *v)
{
	struct gs_proc_open *o = m->private;
	struct file *file = o->file;
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
	struct gs_proc_open *o = kzalloc(sizeof(*o), GFP_KERNEL);
	int err;

	if (!o)
		return -ENOMEM;
	o->file = file;
	/* A writer may make itself a waiter. */
	if (file->f_mode & FMODE_WRITE) {
		o->waiter = gs_waiter_new();
		if (!o->waiter) {
			kfree(o);
			return -ENOMEM;
		}
	}
	err = single_open(file, gs_proc_show, o);
	if (err) {
		gs_waiter_put(o->waiter);
		kfree(o);
	}
	return err;
}

static ssize_t gs_proc_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	struct gs_waiter *w = gs_proc_waiter(file);

	if (gs_waiter_is_bound(w))
		return gs_waiter_read(w, buf, count, ppos, file->f_flags & O_NONBLOCK);
	return seq_read(file, buf, count, ppos);
}

/* A waiter's descriptor seeks in the victim's description (a shell's read may). */
static loff_t gs_proc_lseek(struct file *file, loff_t offset, int whence)
{
	if (gs_waiter_is_bound(gs_proc_waiter(file)))
		return no_seek_end_llseek(file, offset, whence);
	return seq_lseek(file, offset, whence);
}

static __poll_t gs_proc_poll(struct file *file, poll_table *pt)
{
	struct gs_waiter *w = gs_proc_waiter(file);

	if (gs_waiter_is_bound(w))
		return gs_waiter_poll(w, file, pt);
	return EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
}

/* A waiter's descriptor closed before its OOM: its registration goes. */
static void gs_proc_unwait(struct gs_waiter *w)
{
	struct pid *pid = gs_waiter_close(w);
	struct gs_entry *e;

	if (!pid)
		return;
	mutex_lock(&gs_write_mutex);
	rcu_read_lock();
	spin_lock(&gs_lock);
	e = gs_lookup(pid);
	if (e && (e->waiter != w || !gs_unlink(e)))
		e = NULL;
	spin_unlock(&gs_lock);
	rcu_read_unlock();
	mutex_unlock(&gs_write_mutex);
	if (e)
		gs_entry_put(e);
	put_pid(pid);
}

static int gs_proc_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct gs_proc_open *o = m->private;

	if (gs_waiter_is_bound(o->waiter))
		gs_proc_unwait(o->waiter);
	gs_waiter_put(o->waiter);
	kfree(o);
	return single_release(inode, file);
}

#ifdef GS_HAVE_PROC_OPS
static const struct proc_ops gs_proc_ops = {
	.proc_open	= gs_proc_open,
	.proc_read	= gs_proc_read,
	.proc_write	= gs_proc_write,
	.proc_lseek	= gs_proc_lseek,
	.proc_poll	= gs_proc_poll,
	.proc_release	= gs_proc_release,
};
#else
static const struct file_operations gs_proc_ops = {
	.owner		= THIS_MODULE,
	.open		= gs_proc_open,
	.read		= gs_proc_read,
	.write		= gs_proc_write,
	.llseek		= gs_proc_lseek,
	.poll		= gs_proc_poll,
	.release	= gs_proc_release,
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
 * gs_proc_exit - remove /proc/graceful_shutdown
 *
 * Returns once no reader or writer is left in it.
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
