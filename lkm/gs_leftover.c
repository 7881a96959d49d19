// SPDX-License-Identifier: GPL-2.0
/*
 * What a handler's run left charged: tmpfs, shm and memfd pages outlive
 * the processes that made them, and stay charged to the principal's
 * handler cgroup (gs_cgroup.c). After each run, once its processes are
 * gone, what that cgroup still holds is logged (event=leftover).
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

/* How long, and how often, the leftover check waits for a run's processes to go. */
#define GS_LEFTOVER_TRIES	100
#define GS_LEFTOVER_DELAY	msecs_to_jiffies(20)

/*
 * Leftover checks, on a workqueue of the module's own so that unload can
 * wait until none is running. Each waits on gs_leftovers until it is done;
 * unload runs those still waiting at once, and none waits again.
 */
struct gs_leftover {
	struct list_head node;		/* in gs_leftovers */
	struct delayed_work work;
	struct gs_hcg *hcg;
	pid_t victim;
	uid_t uid;
	int tries;
};

static struct workqueue_struct *gs_leftover_wq;
static LIST_HEAD(gs_leftovers);
static DEFINE_SPINLOCK(gs_leftover_lock);	/* gs_leftovers, gs_unloading */
static bool gs_unloading;

/**
 * gs_leftover_init - make the leftover checks' workqueue
 *
 * Context: module load.
 * Return: 0, or -ENOMEM.
 */
int gs_leftover_init(void)
{
	gs_leftover_wq = alloc_workqueue("graceful_shutdown_leftover", WQ_UNBOUND, 0);
	return gs_leftover_wq ? 0 : -ENOMEM;
}

/**
 * gs_leftover_exit - finish the leftover checks at once
 *
 * Context: module unload, once no run can start.
 */
void gs_leftover_exit(void)
{
	struct gs_leftover *l;

	spin_lock(&gs_leftover_lock);
	gs_unloading = true;
	list_for_each_entry(l, &gs_leftovers, node)
		mod_delayed_work(gs_leftover_wq, &l->work, 0);
	spin_unlock(&gs_leftover_lock);
	/* Waits for every check, now queued to run at once. */
	destroy_workqueue(gs_leftover_wq);
}

/* Whether a process that ran (it has memory) is still in @cgrp. */
static bool gs_hcg_busy(struct cgroup *cgrp)
{
	struct task_struct *g, *t;
	bool busy = false;

	rcu_read_lock();
	for_each_process_thread(g, t) {
		if (!t->exit_state && READ_ONCE(t->mm) &&
		    task_dfl_cgroup(t) == cgrp) {
			busy = true;
			break;
		}
	}
	rcu_read_unlock();
	return busy;
}

static void gs_leftover_check(struct work_struct *work)
{
	struct gs_leftover *l = container_of(to_delayed_work(work), struct gs_leftover, work);
	struct gs_log_fields f = {
		.victim = l->victim,
		.uid = l->uid,
		.cgroup = l->hcg->name,
	};
	bool again = false;
	u64 bytes;

	if (gs_hcg_busy(l->hcg->run) && ++l->tries < GS_LEFTOVER_TRIES) {
		spin_lock(&gs_leftover_lock);
		again = !gs_unloading;
		if (again)
			queue_delayed_work(gs_leftover_wq, &l->work, GS_LEFTOVER_DELAY);
		spin_unlock(&gs_leftover_lock);
		if (again)
			return;
	}
	if (!gs_cg_read_u64(l->hcg->dir, "memory.current", &bytes)) {
		f.leftover_kb = bytes >> 10;
		gs_log(GS_EVENT_LEFTOVER, &f);
	}
	spin_lock(&gs_leftover_lock);
	list_del(&l->node);
	spin_unlock(&gs_leftover_lock);
	gs_hcg_put(l->hcg);
	kfree(l);
}

/**
 * gs_hcg_leftover_later - log what a run left charged, once it is gone
 * @h: the handler cgroup it ran in
 * @victim: its victim, for the log
 * @uid: its principal's uid, for the log
 *
 * Context: any context that may allocate atomically (the OOM path).
 */
void gs_hcg_leftover_later(struct gs_hcg *h, pid_t victim, uid_t uid)
{
	struct gs_leftover *l = kzalloc(sizeof(*l), GFP_ATOMIC | __GFP_NOWARN);

	if (!l)
		return;
	INIT_DELAYED_WORK(&l->work, gs_leftover_check);
	l->hcg = gs_hcg_get(h);
	l->victim = victim;
	l->uid = uid;
	spin_lock(&gs_leftover_lock);
	list_add(&l->node, &gs_leftovers);
	queue_delayed_work(gs_leftover_wq, &l->work, gs_unloading ? 0 : GS_LEFTOVER_DELAY);
	spin_unlock(&gs_leftover_lock);
}
