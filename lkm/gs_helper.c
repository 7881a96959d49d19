// SPDX-License-Identifier: GPL-2.0
/*
 * The helper: the process that becomes the handler. Forked by the kernel as
 * a user-mode helper (at the OOM, or ahead of time by gs_park.c), it runs
 * gs_helper_start() before its credentials are committed and before exec:
 * it joins its principal's handler cgroup, checks that the handler path
 * still leads to the file checked at registration, and takes its
 * registrant's confinement and identity. Also how the waiting side sees a
 * helper's exit.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/umh.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

static struct workqueue_struct *gs_wq;

/**
 * gs_helper_wq_init - make the workqueue helpers are forked and parked from
 *
 * Context: module load.
 * Return: 0, or -ENOMEM.
 */
int gs_helper_wq_init(void)
{
	gs_wq = alloc_workqueue("graceful_shutdown", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	return gs_wq ? 0 : -ENOMEM;
}

/**
 * gs_helper_wq_exit - wait for the work queued, and free the workqueue
 *
 * Context: module unload, after the hook and the parking have stopped.
 */
void gs_helper_wq_exit(void)
{
	destroy_workqueue(gs_wq);
}

/**
 * gs_helper_queue_delayed - queue @work on the helpers' workqueue
 * @work: the work
 * @delay: in jiffies
 *
 * Context: any.
 */
void gs_helper_queue_delayed(struct delayed_work *work, unsigned long delay)
{
	queue_delayed_work(gs_wq, work, delay);
}

/* Runs in the helper: fail with @err for @why. */
static int gs_helper_fail(struct gs_entry *e, int err, const char *why)
{
	e->why = why;
	return err;
}

/**
 * gs_helper_start - make the calling helper the handler of @e
 * @e: the registration that fired
 * @new: the helper's credentials, committed after this returns 0
 *
 * Join the principal's handler cgroup (a parked helper may be there
 * already), check that the handler path still leads to the file that was
 * checked at registration, take the registrant's confinement, the victim's
 * OOM score adjustment and the registrant's identity; on a kernel that
 * allows it, let the process tree use the victim's memory reserves for
 * its run.
 *
 * Context: the new helper, before exec (a usermode helper's init callback).
 * Return: 0, or the error that keeps it from running the handler.
 */
int gs_helper_start(struct gs_entry *e, struct cred *new)
{
	unsigned long ino;
	dev_t dev;
	int err;

	spin_lock(&e->helper_lock);
	if (e->abandoned) {
		spin_unlock(&e->helper_lock);
		return gs_helper_fail(e, -ECANCELED, "abandoned");
	}
	e->helper = get_task_pid(current, PIDTYPE_PID);
	e->helper_task = get_task_struct(current);
#ifdef GS_HAVE_OOM_RESERVES
	/*
	 * Before anything below allocates (the cgroup move, the path walk, the
	 * credentials, exec): in a global OOM the allocators would take every
	 * page this helper needs first.
	 */
	if (e->global)
		oom_set_reserves(current, true);
#endif
	spin_unlock(&e->helper_lock);

	/* Its setup competes with the allocators too (see gs_confinement_apply()). */
	if (e->global && e->principal->admin)
		set_user_nice(current, clamp_t(int, READ_ONCE(gs_global_nice), MIN_NICE, MAX_NICE));

	err = gs_hcg_join(e->hcg);
	if (!err && !gs_hcg_holds_current(e->hcg))
		err = -EINVAL;
	if (err)
		return gs_helper_fail(e, err, "handler_cgroup");
	spin_lock(&e->helper_lock);
	e->cgrp = e->hcg->run;
	spin_unlock(&e->helper_lock);

	err = gs_check_handler(e->exec_path, e->cred, &dev, &ino, NULL);
	if (err)
		return gs_helper_fail(e, err, "handler_check");
	if (dev != e->dev || ino != e->ino)
		return gs_helper_fail(e, -ESTALE, "handler_replaced");

	gs_confinement_apply(&e->confine, e->global, e->principal->admin);
	current->signal->oom_score_adj = e->oom_score_adj;
	current->signal->oom_score_adj_min = e->oom_score_adj_min;

	if (e->parked) {
		err = gs_umh_caps_now(new);
		if (err)
			return gs_helper_fail(e, err, "usermodehelper_caps");
	}
	err = gs_take_identity(new, e->cred);
	if (err)
		return gs_helper_fail(e, err, "credentials");

	spin_lock(&e->helper_lock);
	if (e->abandoned) {
		spin_unlock(&e->helper_lock);
		return gs_helper_fail(e, -ECANCELED, "abandoned");
	}
	spin_unlock(&e->helper_lock);
	complete(&e->started);
	return 0;
}

static int gs_helper_init(struct subprocess_info *info, struct cred *new)
{
	return gs_helper_start(info->data, new);
}

static void gs_helper_work(struct work_struct *work)
{
	struct gs_entry *e = container_of(work, struct gs_entry, work);

	e->status = call_usermodehelper_exec(e->info, UMH_WAIT_PROC);
	e->end_ns = ktime_get_ns();
	/* A helper that failed before exec never said it started. */
	complete_all(&e->started);
	complete_all(&e->done);
	gs_entry_put(e);
}

/**
 * gs_helper_setup - prepare to fork a helper for @e at the OOM
 * @e: the registration that fired
 *
 * Context: the OOM path; no sleeping allocation.
 * Return: 0, or -ENOMEM.
 */
int gs_helper_setup(struct gs_entry *e)
{
	e->info = call_usermodehelper_setup(e->exec_path, e->argv, e->envp,
					    GFP_ATOMIC | __GFP_NOWARN,
					    gs_helper_init, NULL, e);
	return e->info ? 0 : -ENOMEM;
}

/**
 * gs_helper_fork - fork the helper gs_helper_setup() prepared
 * @e: the registration that fired
 *
 * A worker forks it and waits for its exit, then completes e->done.
 *
 * Context: the OOM path.
 */
void gs_helper_fork(struct gs_entry *e)
{
	kref_get(&e->ref);	/* the worker's */
	INIT_WORK(&e->work, gs_helper_work);
	queue_work(gs_wq, &e->work);
}

/**
 * gs_helper_exited - whether a helper has exited, seen from its pid
 * @pid: the helper's
 *
 * Parked helpers are nobody's child that the module could wait for.
 *
 * Context: any; the answer may change at once.
 * Return: true if it is gone, or a zombie with no thread left.
 */
bool gs_helper_exited(struct pid *pid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	exited = !task || (READ_ONCE(task->exit_state) && thread_group_empty(task));
	rcu_read_unlock();
	return exited;
}

/**
 * gs_helper_status - a helper's exit status, as wait(2) would report it
 * @task: the helper, exited
 *
 * Context: any.
 * Return: the status.
 */
int gs_helper_status(struct task_struct *task)
{
	return (task->signal->flags & SIGNAL_GROUP_EXIT) ?
	       task->signal->group_exit_code : task->exit_code;
}
