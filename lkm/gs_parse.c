// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing a write to /proc/graceful_shutdown: each line becomes an op (a
 * registration to make, a pid to remove, or a registration kept as it is),
 * checked as far as it can be without the registry. Lines are
 *
 *   [<uid>:][+]<pid> <handler> [args...]   register (replaces)
 *   [+]<pid> @wait                         register the writer as its own
 *                                          handler (gs_waiter.c)
 *   -<pid>                                 remove
 *
 * where "<uid>:" names the registrant when it is not the writer: only
 * root may write it, as a listing root read and writes back, and it never
 * makes the registration root's.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uidgid.h>

#include "gs_internal.h"

/**
 * gs_is_admin - whether who opened @file may act on any process
 * @file: the proc file
 *
 * Context: any.
 * Return: true if its opener has CAP_SYS_ADMIN in the initial user namespace.
 */
bool gs_is_admin(struct file *file)
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

/**
 * gs_ops_free - free the ops of a write, and what they hold
 * @ops: the list gs_parse_line() filled
 *
 * Context: process context.
 */
void gs_ops_free(struct list_head *ops)
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

/* A process's pid from a number in the writer's pid namespace; a thread's is its process's. */
static int gs_parse_pid(const char *s, struct pid **pidp)
{
	struct task_struct *task;
	struct pid *pid = NULL;
	int nr;

	if (!isdigit(*s) || kstrtoint(s, 10, &nr) || nr <= 0)
		return -EINVAL;
	rcu_read_lock();
	task = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (task && !(task->flags & PF_EXITING))
		pid = get_task_pid(task, PIDTYPE_TGID);
	rcu_read_unlock();
	if (!pid)
		return -ESRCH;
	if (gs_process_gone(pid)) {	/* an exiting process */
		put_pid(pid);
		return -ESRCH;
	}
	*pidp = pid;
	return 0;
}

/*
 * A registration of @pid with handler line @cmd, made by @registrant with
 * @cred (a reference of its own is taken), answered for by the admins or
 * by the user @cred is. With @w, the registrant is its own handler ("@wait"):
 * nothing of it is carried and no path is checked.
 */
static struct gs_entry *gs_entry_new(struct task_struct *registrant, const struct cred *cred,
				     bool admin, struct pid *pid, const char *cmd,
				     struct gs_waiter *w)
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
	e->cred = get_cred(cred);
	err = -EINVAL;
	if (e->argc < 1)
		goto fail;
	err = -E2BIG;
	if (e->argc > GS_ARGS_MAX + 1)
		goto fail;
	if (w) {
		err = gs_waiter_bind(w, pid);
		if (err)
			goto fail;
		e->waiter = gs_waiter_get(w);
	} else {
		err = gs_confinement_check(registrant);
		if (err)
			goto fail;
		gs_confinement_take(&e->confine, registrant);
		err = gs_check_handler(e->argv[0], e->cred, &e->dev, &e->ino, &e->exec_path);
		if (err)
			goto fail;
	}
	err = -ENOMEM;
	e->principal = gs_principal_get(e->cred, admin);
	if (!e->principal)
		goto fail;
	/* Handlers run only in a handler cgroup: without one, none can. */
	e->hcg = gs_principal_hcg(e->principal, &err);
	if (!e->hcg)
		goto fail;
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

/* Whether @e is registered as "<owner>:[+]<pid> @cmd" would make it. */
static bool gs_entry_is(const struct gs_entry *e, kuid_t owner, bool tree, const char *cmd)
{
	char **argv;
	int argc, i;
	bool same;

	if (test_bit(GS_FIRED, &e->flags) || e->tree != tree || !uid_eq(e->cred->euid, owner))
		return false;
	argv = argv_split(GFP_KERNEL, cmd, &argc);
	if (!argv)
		return false;
	same = argc == e->argc;
	for (i = 0; same && i < argc; i++)
		same = !strcmp(argv[i], e->argv[i]);
	argv_free(argv);
	return same;
}

/*
 * "<uid>:[+]<pid> <handler>..." for another user's process, written by an
 * admin (a listing written back): keep the registration if it is there as
 * written, else make one with the process's own credentials, never the
 * writer's. The process must be wholly the user's.
 */
static int gs_parse_restore(struct gs_op *op, kuid_t owner, bool tree, const char *cmd)
{
	struct task_struct *task;
	const struct cred *cred;
	struct gs_entry *e;
	bool kept;
	int err;

	rcu_read_lock();
	e = gs_lookup(op->pid);
	kept = e && kref_get_unless_zero(&e->ref);
	rcu_read_unlock();
	if (kept) {
		kept = gs_entry_is(e, owner, tree, cmd);
		gs_entry_put(e);
		if (kept)
			return 0;
	}
	/* A waiter's registration lives with its descriptor: gone, it stays gone. */
	if (!strcmp(cmd, GS_WAIT_HANDLER))
		return 0;

	task = get_pid_task(op->pid, PIDTYPE_TGID);
	if (!task)
		return -ESRCH;
	cred = get_task_cred(task);
	err = -EPERM;
	if (gs_owns(owner, cred)) {
		e = gs_entry_new(task, cred, false, op->pid, cmd, NULL);
		err = PTR_ERR_OR_ZERO(e);
		if (!err)
			op->add = e;
	}
	put_cred(cred);
	put_task_struct(task);
	return err;
}

/**
 * gs_parse_line - parse and check one line of a write
 * @file: the proc file written to
 * @w: the writer's waiter, for a line "[+]<pid> @wait"; or NULL
 * @line: the line, not empty, blanks trimmed (it is cut up)
 * @ops: the write's ops so far; the line's is added on success
 * @adds: counts the registrations to make
 *
 * Every check that does not need the registry is made here, before the
 * writers' mutex: the pid, the writer's right to it, and for a
 * registration the handler path, the registrant's confinement and its
 * principal's handler cgroup.
 *
 * Context: process context; may sleep (path lookups, allocation).
 * Return: 0, or the errno the write fails with.
 */
int gs_parse_line(struct file *file, struct gs_waiter *w, char *line, struct list_head *ops,
		  unsigned int *adds)
{
	bool admin = gs_is_admin(file), tree, remove;
	kuid_t owner = INVALID_UID;
	char *word, *pidstr, *rest;
	struct gs_op *op, *other;
	unsigned int nr;
	int err;

	word = strsep(&line, " \t");
	rest = line ? skip_spaces(line) : NULL;
	pidstr = strchr(word, ':');
	if (pidstr) {		/* "<uid>:...": whose registration it is */
		*pidstr++ = '\0';
		if (!isdigit(*word) || kstrtouint(word, 10, &nr))
			return -EINVAL;
		owner = make_kuid(current_user_ns(), nr);
		if (!uid_valid(owner))
			return -EINVAL;
		if (uid_eq(owner, current_euid()))
			owner = INVALID_UID;	/* the writer's own: as without */
	} else {
		pidstr = word;
	}
	remove = pidstr[0] == '-';
	tree = pidstr[0] == '+';
	/* "-<pid>" has nothing after it, nor an owner; the others need a handler. */
	if (remove == (rest && *rest) || (remove && uid_valid(owner)))
		return -EINVAL;
	if (uid_valid(owner) && !admin)
		return -EPERM;
	op = kzalloc(sizeof(*op), GFP_KERNEL);
	if (!op)
		return -ENOMEM;
	err = gs_parse_pid(pidstr + (remove || tree), &op->pid);
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
	op->remove = remove;
	err = 0;
	if (uid_valid(owner)) {
		err = gs_parse_restore(op, owner, tree, rest);
	} else if (!remove) {
		bool wait = !strcmp(rest, GS_WAIT_HANDLER);

		if (wait && !w) {
			err = -EINVAL;
			goto fail_pid;
		}
		op->add = gs_entry_new(current, current_cred(), admin, op->pid, rest,
				       wait ? w : NULL);
		err = PTR_ERR_OR_ZERO(op->add);
		if (err)
			op->add = NULL;
	}
	if (err)
		goto fail_pid;
	if (op->add) {
		op->add->tree = tree;
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
