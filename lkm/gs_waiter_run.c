// SPDX-License-Identifier: GPL-2.0
/*
 * A waiter's side of its run (gs_waiter.c has the registration's): its
 * reads and polls, which wait for the wake and then start the run (the
 * move into the handler cgroup), and its "done".
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
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

/*
 * Whether @current is the waiter: the first process to read the descriptor
 * (the one that registered, or a child it handed the descriptor to) with
 * the credentials it was registered with, and no other process after it.
 */
static int gs_waiter_is_current(struct gs_waiter *w)
{
	unsigned long flags;
	int err = 0;

	if (!uid_eq(current_euid(), w->euid))
		return -EPERM;
	spin_lock_irqsave(&w->lock, flags);
	if (!w->tgid)
		w->tgid = get_pid(task_tgid(current));
	else if (w->tgid != task_tgid(current))
		err = -EPERM;
	spin_unlock_irqrestore(&w->lock, flags);
	return err;
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
 * cgroup BPF rules. Only a waiter that moves has the victim's reserves in
 * a global OOM (from before its move, which allocates): what it starts
 * stays in that cgroup, where the end of its run takes them back from
 * every process. Runs in the waiter, which the OOM path waits for.
 */
static int gs_waiter_start(struct gs_waiter *w, struct gs_entry *e)
{
	bool move = !gs_cgroup_bpf_rules(current), moved = false;
	int err = 0;

	spin_lock(&e->helper_lock);
	if (e->abandoned) {
		spin_unlock(&e->helper_lock);
		return -ECANCELED;
	}
	e->helper = get_pid(w->tgid);
	e->helper_task = get_task_struct(current->group_leader);
#ifdef GS_HAVE_OOM_RESERVES
	if (e->global && move)
		oom_set_reserves(current, true);
#endif
	spin_unlock(&e->helper_lock);

	if (move) {
		INIT_DELAYED_WORK(&w->move, gs_waiter_move_work);
		w->move_to = gs_hcg_get(e->hcg);
		gs_waiter_get(w);
		gs_helper_queue_delayed(&w->move, 0);
		/* Killable: the OOM path kills this process when its time is up. */
		err = wait_for_completion_killable(&w->moved) ? -EINTR : 0;
		moved = !err && !w->move_err && gs_hcg_holds_current(e->hcg);
	}
	spin_lock(&e->helper_lock);
	if (moved && !e->abandoned)
		e->cgrp = e->hcg->run;
#ifdef GS_HAVE_OOM_RESERVES
	if (!moved)
		oom_set_reserves(current, false);
#endif
	if (!err && e->abandoned)
		err = -ECANCELED;
	spin_unlock(&e->helper_lock);
	return err;
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
 * @pos: the descriptor's offset in the description (a shell may seek back)
 * @nonblock: O_NONBLOCK: -EAGAIN instead of blocking
 *
 * The first read after the wake starts the run (the move into the handler
 * cgroup included); reads then return the description from @pos, and 0
 * at its end. Only the process that registered may read, with its
 * credentials: the run is its.
 *
 * Context: process context; sleeps interruptibly.
 * Return: bytes read; 0 once the registration ended or the description was
 * read; -EAGAIN, -EPERM, -ERESTARTSYS, -EINTR or -ECANCELED (too late).
 */
ssize_t gs_waiter_read(struct gs_waiter *w, char __user *buf, size_t count, loff_t *pos,
		       bool nonblock)
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
			w->text_len = gs_victim_text(&w->victim, w->text, sizeof(w->text));
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
		ret = simple_read_from_buffer(buf, count, pos, w->text, w->text_len);
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
