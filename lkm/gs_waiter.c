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
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

/* Every waiter's readers and pollers: wakes are rare, one queue is enough. */
DECLARE_WAIT_QUEUE_HEAD(gs_waiter_wq);
bool gs_waiters_closing;

/**
 * gs_waiter_new - a waiter, for a descriptor open for writing
 *
 * Context: process context (an open of the proc file).
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
	init_completion(&w->moved);
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

/**
 * gs_waiter_wake - wake every waiter's reader and poller, to look again
 *
 * Context: any.
 */
void gs_waiter_wake(void)
{
	wake_up_all(&gs_waiter_wq);
}

/**
 * gs_waiter_bind - make the calling process, through @w, the handler of @pid
 * @w: the writer's waiter
 * @pid: the registered process
 *
 * A descriptor waits for one registration: the first it makes. The waiter
 * is the first process to read it with the writer's credentials (the
 * writer, or a child it handed the descriptor to); no other may after it.
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
		w->euid = current_euid();
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
 * gs_waiter_close - the waiter's descriptor is closed
 * @w: a waiter
 *
 * A waiter that has not been woken is gone from now on: an OOM that comes
 * before its registration is removed finds nobody to wake, and says so.
 *
 * Context: process context.
 * Return: a reference to the pid whose registration is to be removed, or
 * NULL if @w was not waiting.
 */
struct pid *gs_waiter_close(struct gs_waiter *w)
{
	struct pid *pid = NULL;
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	if (w->state == GS_WAITER_BOUND) {
		w->state = GS_WAITER_GONE;
		pid = get_pid(w->registered);
	}
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
 * gs_waiter_is - whether @tgid is the process that waits as @w's handler
 * @w: a waiter
 * @tgid: a process
 *
 * Compares pointers only: @w's reader, once it has read, is held until @w
 * is freed.
 *
 * Context: any; takes w->lock.
 * Return: true if @tgid has read @w's wake.
 */
bool gs_waiter_is(struct gs_waiter *w, struct pid *tgid)
{
	unsigned long flags;
	bool is;

	spin_lock_irqsave(&w->lock, flags);
	is = w->tgid == tgid;
	spin_unlock_irqrestore(&w->lock, flags);
	return is;
}

/**
 * gs_waiter_fire - wake @w for the victim @v of its registration @e
 * @w: the waiter of @e
 * @e: the registration that fired; the caller holds it until gs_waiter_over()
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
 * From now on @w no longer points to the registration: its reader took a
 * reference of its own if it needed one.
 *
 * Context: the OOM path.
 */
void gs_waiter_over(struct gs_waiter *w)
{
	unsigned long flags;

	spin_lock_irqsave(&w->lock, flags);
	w->state = GS_WAITER_OVER;
	w->e = NULL;
	spin_unlock_irqrestore(&w->lock, flags);
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
