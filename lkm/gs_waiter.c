// SPDX-License-Identifier: GPL-2.0
/*
 * Waiters: handlers their registrant starts itself.
 *
 * A process writes "[+]<pid> @wait" to a /proc/graceful_shutdown it opened
 * and reads that descriptor, which blocks (or polls it). When the OOM
 * killer chooses <pid>, the read returns the victim as "NAME=value" lines,
 * the handler environment's names, with pids as the reader's pid namespace
 * sees them and the cgroup as its cgroup namespace does; the waiter then
 * saves what it must. Its run ends when its process exits or when it
 * writes "done" to the descriptor; everything of it is killed then, as
 * after any handler. Closing the descriptor before an OOM removes the
 * registration.
 *
 * The waiter is the registrant's own process, so it runs with all its
 * registrant has: root directory, every namespace, credentials, seccomp
 * filter, LSM labels, capabilities, nice value and limits. Nothing is
 * carried and no path is looked up: this is how a process in a container
 * is heard, and why a waiter needs none of gs_confine.c's checks.
 *
 * What the module gives it is what it gives any handler: the bounded wait,
 * the reserve in a global OOM, and memory of its own. At its wake the
 * waiter's process is moved into its principal's handler cgroup, so that
 * an OOM of its own cgroup leaves it room. A kworker writes the move, as
 * the waiter's cgroup namespace (a container's) may not see that cgroup.
 * A waiter under cgroup BPF programs (a container's device rules) is not
 * moved, since they would not follow it: it runs where it is, on what its
 * own cgroup has left.
 *
 * Lock order: w->lock is taken alone, under nothing but oom_lock, and
 * nothing is taken under it. w->read_mutex is the reading side's only.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/ctype.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

#define GS_WAITER_TEXT	1024

enum gs_waiter_state {
	GS_WAITER_IDLE,		/* no registration yet */
	GS_WAITER_BOUND,	/* registered, waiting for an OOM */
	GS_WAITER_FIRED,	/* its process was chosen; not read yet */
	GS_WAITER_STARTING,	/* a reader takes the wake */
	GS_WAITER_RUNNING,	/* the waiter runs its handler */
	GS_WAITER_OVER,		/* the run ended */
	GS_WAITER_GONE,		/* the registration ended without an OOM */
};

struct gs_waiter {
	struct kref ref;
	spinlock_t lock;		/* protects state, done, e, victim */
	enum gs_waiter_state state;
	bool done;			/* it wrote "done" */
	struct pid *tgid;		/* the process that registered: only it reads */
	kuid_t euid;			/* and only with its credentials */
	struct pid *registered;		/* the process it is registered for */
	struct gs_entry *e;		/* the registration being run, with a reference */
	struct gs_victim victim;	/* the victim, with references */
	struct mutex read_mutex;	/* the reading side */
	struct delayed_work move;	/* into the handler cgroup, from a kworker */
	struct gs_hcg *move_to;		/* that cgroup, for the kworker */
	struct completion moved;
	int move_err;
	char text[GS_WAITER_TEXT];
	size_t text_len;
	loff_t text_pos;
};

/* Every waiter's readers and pollers: wakes are rare, one queue is enough. */
static DECLARE_WAIT_QUEUE_HEAD(gs_waiter_wq);
static bool gs_waiters_closing;

static void gs_waiter_move_work(struct work_struct *work);

/**
 * gs_waiter_new - a waiter for the calling process, with its credentials
 *
 * Context: process context (a writer's open of the proc file).
 * Return: the waiter, or NULL without memory.
 */
struct gs_waiter *gs_waiter_new(void)
{
	struct gs_waiter *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	kref_init(&w->ref);
	spin_lock_init(&w->lock);
	mutex_init(&w->read_mutex);
	INIT_DELAYED_WORK(&w->move, gs_waiter_move_work);
	init_completion(&w->moved);
	w->tgid = get_pid(task_tgid(current));
	w->euid = current_euid();
	return w;
}

/**
 * gs_waiter_get - take a reference to @w
 * @w: a waiter
 *
 * Context: any.
 * Return: @w.
 */
struct gs_waiter *gs_waiter_get(struct gs_waiter *w)
{
	kref_get(&w->ref);
	return w;
}

/* Drop what a fired waiter holds of its victim. */
static void gs_waiter_drop_victim(struct gs_victim *v)
{
	put_pid(v->pid);
	put_pid(v->registered);
	v->pid = NULL;
	v->registered = NULL;
#ifdef CONFIG_CGROUPS
	if (v->cgrp)
		css_put(&v->cgrp->self);
#endif
	v->cgrp = NULL;
}

static void gs_waiter_release(struct kref *ref)
{
	struct gs_waiter *w = container_of(ref, struct gs_waiter, ref);

	gs_waiter_drop_victim(&w->victim);
	gs_hcg_put(w->move_to);
	put_pid(w->registered);
	put_pid(w->tgid);
	kfree(w);
}

/**
 * gs_waiter_put - drop a reference to @w
 * @w: a waiter, or NULL
 *
 * Context: any context (an entry's RCU callback included).
 */
void gs_waiter_put(struct gs_waiter *w)
{
	if (w)
		kref_put(&w->ref, gs_waiter_release);
}

static void gs_waiter_wake(void)
{
	wake_up_all(&gs_waiter_wq);
}

/**
 * gs_waiter_bind - make @w the handler of a registration of @pid
 * @w: the writer's waiter
 * @pid: the registered process
 *
 * A descriptor waits for one registration: the first it makes.
 *
 * Context: process context.
 * Return: 0, or -EBUSY if @w was bound before.
 */
int gs_waiter_bind(struct gs_waiter *w, struct pid *pid)
{
	unsigned long flags;
	int err = -EBUSY;

	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_IDLE && !READ_ONCE(gs_waiters_closing)) {
		w->state = GS_WAITER_BOUND;
		w->registered = get_pid(pid);
		err = 0;
	}
	spin_unlock_irqrestore(&w->lock, flags);
	return err;
}

/**
 * gs_waiter_unbind - the registration @w was bound to is freed
 * @w: its waiter
 *
 * If it never fired, the waiter's read ends (returns 0).
 *
 * Context: any context (an entry's RCU callback included).
 */
void gs_waiter_unbind(struct gs_waiter *w)
{
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_BOUND)
		w->state = GS_WAITER_GONE;
	spin_unlock_irqrestore(&w->lock, flags);
	gs_waiter_wake();
}

/**
 * gs_waiter_registered - the process @w waits for, if it waits
 * @w: a waiter
 *
 * Context: any.
 * Return: a reference to its pid, or NULL if @w is not bound (any more).
 */
struct pid *gs_waiter_registered(struct gs_waiter *w)
{
	struct pid *pid = NULL;
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_BOUND)
		pid = get_pid(w->registered);
	spin_unlock_irqrestore(&w->lock, flags);
	return pid;
}

/**
 * gs_waiter_is_bound - whether @w was given a registration (it is a waiter's descriptor)
 * @w: a waiter, or NULL
 *
 * Context: any.
 * Return: true from the write of "@wait" on.
 */
bool gs_waiter_is_bound(struct gs_waiter *w)
{
	return w && READ_ONCE(w->state) != GS_WAITER_IDLE;
}

/**
 * gs_waiter_fire - wake @w for the victim @v of its registration @e
 * @w: the waiter of @e
 * @e: the registration that fired; @w holds a reference until its run is over
 * @v: the victim; @w takes references to what it points to
 *
 * Context: the OOM path; no allocation, no sleep.
 * Return: false if the waiter is no longer there to wake.
 */
bool gs_waiter_fire(struct gs_waiter *w, struct gs_entry *e, const struct gs_victim *v)
{
	unsigned long flags;
	bool fired = false;

	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_BOUND) {
		w->victim = *v;
		get_pid(v->pid);
		get_pid(v->registered);
#ifdef CONFIG_CGROUPS
		if (v->cgrp)
			css_get(&v->cgrp->self);
#endif
		kref_get(&e->ref);
		w->e = e;
		w->state = GS_WAITER_FIRED;
		fired = true;
	}
	spin_unlock_irqrestore(&w->lock, flags);
	if (fired)
		gs_waiter_wake();
	return fired;
}

/**
 * gs_waiter_over - the run of @w ended, and all of it was killed
 * @w: a waiter that was fired
 *
 * Context: the OOM path.
 */
void gs_waiter_over(struct gs_waiter *w)
{
	struct gs_entry *e;
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	w->state = GS_WAITER_OVER;
	e = w->e;
	w->e = NULL;
	spin_unlock_irqrestore(&w->lock, flags);
	if (e)
		gs_entry_put(e);
	gs_waiter_wake();
}

/**
 * gs_waiter_is_done - whether the waiter of @w said its run is done
 * @w: a waiter
 *
 * Context: any.
 * Return: true once it wrote "done".
 */
bool gs_waiter_is_done(struct gs_waiter *w)
{
	return READ_ONCE(w->done);
}

/* Whether @current is the waiter's process, with its credentials. */
static int gs_waiter_is_current(struct gs_waiter *w)
{
	return task_tgid(current) == w->tgid && uid_eq(current_euid(), w->euid) ? 0 : -EPERM;
}

/**
 * gs_waiter_done - the waiter says its run is done (a write of "done")
 * @w: the writer's waiter
 *
 * Context: process context.
 * Return: 0, -EPERM from another process, -EINVAL if it is not running.
 */
int gs_waiter_done(struct gs_waiter *w)
{
	struct pid *pid = NULL;
	unsigned long flags;
	int err;

	err = gs_waiter_is_current(w);
	if (err)
		return err;
	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_RUNNING && !w->done) {
		WRITE_ONCE(w->done, true);
		pid = get_pid(w->tgid);
	} else {
		err = -EINVAL;
	}
	spin_unlock_irqrestore(&w->lock, flags);
	/* The OOM path waits on the waiter's pid, for its exit or this. */
	if (pid) {
		wake_up_all(&pid->wait_pidfd);
		put_pid(pid);
	}
	return err;
}

static void gs_waiter_move_work(struct work_struct *work)
{
	struct gs_waiter *w = container_of(to_delayed_work(work), struct gs_waiter, move);

	w->move_err = gs_hcg_move(w->move_to, w->tgid);
	complete(&w->moved);
	gs_waiter_put(w);
}

/*
 * Start the run as a helper does (gs_helper_start()): take the handler's
 * place in @e, then move into the handler cgroup unless that would shed
 * cgroup BPF rules. Runs in the waiter, which the OOM path waits for.
 */
static int gs_waiter_start(struct gs_waiter *w, struct gs_entry *e)
{
	bool move;
	int err;

	spin_lock(&e->helper_lock);
	if (e->abandoned) {
		spin_unlock(&e->helper_lock);
		return -ECANCELED;
	}
	e->helper = get_pid(w->tgid);
	e->helper_task = get_task_struct(current->group_leader);
#ifdef GS_HAVE_OOM_RESERVES
	if (e->global)
		oom_set_reserves(current, true);
#endif
	spin_unlock(&e->helper_lock);

	move = !gs_cgroup_bpf_rules(current);
	if (move) {
		w->move_to = gs_hcg_get(e->hcg);
		gs_waiter_get(w);
		gs_helper_queue_delayed(&w->move, 0);
		/* Killable: the OOM path kills this process when its time is up. */
		err = wait_for_completion_killable(&w->moved);
		if (err)
			return -EINTR;
		if (!w->move_err && gs_hcg_holds_current(e->hcg)) {
			spin_lock(&e->helper_lock);
			e->cgrp = e->hcg->run;
			spin_unlock(&e->helper_lock);
		}
	}
	return 0;
}

/* Append "NAME=value\n", @value's bytes outside [ -~] written as \xHH. */
static size_t gs_waiter_line(char *buf, size_t len, const char *name, const char *value)
{
	const size_t size = GS_WAITER_TEXT;
	size_t i;

	len += scnprintf(buf + len, size - len, "%s=", name);
	for (i = 0; value[i]; i++) {
		unsigned char c = value[i];

		if (isprint(c) && c != '\\')
			len += scnprintf(buf + len, size - len, "%c", c);
		else
			len += scnprintf(buf + len, size - len, "\\x%02x", c);
	}
	return len + scnprintf(buf + len, size - len, "\n");
}

/*
 * The victim, as the reading waiter sees it: pids in its pid namespace (0
 * where it cannot see them), the cgroup from its cgroup namespace's root.
 */
static void gs_waiter_render(struct gs_waiter *w)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	const struct gs_victim *v = &w->victim;
	char num[32], cgroup[GS_CGROUP_PATH_MAX] = "";
	size_t len = 0;

#ifdef CONFIG_CGROUPS
	if (v->cgrp) {
		struct cgroup_namespace *cns = current->nsproxy->cgroup_ns;
		struct cgroup *root = cns->root_cset->dfl_cgrp;

		if (kernfs_path_from_node(v->cgrp->kn, root->kn, cgroup, sizeof(cgroup)) < 0)
			cgroup[0] = '\0';
	}
#endif
	snprintf(num, sizeof(num), "%d", pid_nr_ns(v->pid, ns));
	len = gs_waiter_line(w->text, len, GS_ENV_PID, num);
	snprintf(num, sizeof(num), "%d", pid_nr_ns(v->registered, ns));
	len = gs_waiter_line(w->text, len, GS_ENV_REGISTERED_PID, num);
	len = gs_waiter_line(w->text, len, GS_ENV_COMM, v->comm);
	snprintf(num, sizeof(num), "%lu", v->rss_kb);
	len = gs_waiter_line(w->text, len, GS_ENV_RSS_KB, num);
	snprintf(num, sizeof(num), "%d", v->oom_score_adj);
	len = gs_waiter_line(w->text, len, GS_ENV_OOM_SCORE_ADJ, num);
	len = gs_waiter_line(w->text, len, GS_ENV_CONSTRAINT, v->constraint);
	len = gs_waiter_line(w->text, len, GS_ENV_CGROUP, cgroup);
	snprintf(num, sizeof(num), "%u", v->timeout_ms);
	len = gs_waiter_line(w->text, len, GS_ENV_TIMEOUT_MS, num);
	snprintf(num, sizeof(num), "%llu", v->chosen_ns);
	len = gs_waiter_line(w->text, len, GS_ENV_CHOSEN_NS, num);
	w->text_len = len;
	w->text_pos = 0;
}

/* Whether a reader of @w has something to do. */
static bool gs_waiter_woken(struct gs_waiter *w)
{
	return READ_ONCE(w->state) != GS_WAITER_BOUND || READ_ONCE(gs_waiters_closing);
}

/**
 * gs_waiter_read - a waiter's read: block until its process is the victim
 * @w: the reader's waiter, bound
 * @buf: where the victim's description goes
 * @count: its size
 * @nonblock: O_NONBLOCK: -EAGAIN instead of blocking
 *
 * The first read after the wake starts the run (the move into the handler
 * cgroup included); reads then return the description until it is read
 * whole, then 0. Only the process that registered may read, with its
 * credentials: the run is its.
 *
 * Context: process context; sleeps interruptibly.
 * Return: bytes read; 0 once the registration ended or the description was
 * read; -EAGAIN, -EPERM, -ERESTARTSYS, -EINTR or -ECANCELED (too late).
 */
ssize_t gs_waiter_read(struct gs_waiter *w, char __user *buf, size_t count, bool nonblock)
{
	struct gs_entry *e = NULL;
	unsigned long flags;
	ssize_t ret;

	ret = gs_waiter_is_current(w);
	if (ret)
		return ret;
	if (nonblock && !gs_waiter_woken(w))
		return -EAGAIN;
	if (wait_event_interruptible(gs_waiter_wq, gs_waiter_woken(w)))
		return -ERESTARTSYS;
	if (mutex_lock_interruptible(&w->read_mutex))
		return -ERESTARTSYS;

	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_FIRED) {
		w->state = GS_WAITER_STARTING;
		e = w->e;
		kref_get(&e->ref);
	}
	spin_unlock_irqrestore(&w->lock, flags);

	if (e) {
		ret = gs_waiter_start(w, e);
		if (!ret)
			gs_waiter_render(w);
		spin_lock_irqsave(&w->lock, flags);
		if (w->state == GS_WAITER_STARTING)
			w->state = ret ? GS_WAITER_OVER : GS_WAITER_RUNNING;
		spin_unlock_irqrestore(&w->lock, flags);
		if (ret)
			e->status = ret;
		/* The OOM path's start wait: as a helper's that is about to exec. */
		complete_all(&e->started);
		gs_entry_put(e);
		if (ret)
			goto out;
	}
	ret = 0;
	if (READ_ONCE(w->state) == GS_WAITER_RUNNING || READ_ONCE(w->state) == GS_WAITER_OVER)
		ret = simple_read_from_buffer(buf, count, &w->text_pos, w->text, w->text_len);
out:
	mutex_unlock(&w->read_mutex);
	return ret;
}

/**
 * gs_waiter_poll - a waiter's poll: readable once its process is the victim
 * @w: the poller's waiter, bound
 * @file: the proc file
 * @pt: the poll table
 *
 * Context: process context.
 * Return: EPOLLIN when a read would not block, with EPOLLHUP once the
 * registration ended without an OOM.
 */
__poll_t gs_waiter_poll(struct gs_waiter *w, struct file *file, poll_table *pt)
{
	enum gs_waiter_state state;

	poll_wait(file, &gs_waiter_wq, pt);
	state = READ_ONCE(w->state);
	if (state == GS_WAITER_GONE || READ_ONCE(gs_waiters_closing))
		return EPOLLIN | EPOLLRDNORM | EPOLLHUP;
	return state == GS_WAITER_BOUND ? 0 : EPOLLIN | EPOLLRDNORM;
}

/**
 * gs_waiters_shutdown - end every waiter's read: the module is unloading
 *
 * Context: module unload, before the proc file is removed (which waits for
 * its readers).
 */
void gs_waiters_shutdown(void)
{
	WRITE_ONCE(gs_waiters_closing, true);
	gs_waiter_wake();
}
