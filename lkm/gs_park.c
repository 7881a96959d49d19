// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers forked ahead of time and parked before exec.
 *
 * Forking a helper at the OOM is its weakest step in a global OOM: the fork
 * runs in a shared kworker, at its priority and with no access to the
 * reserves, against every allocating task. So helpers are forked ahead of
 * time and parked in their init callback, before credentials and exec; the
 * OOM path hands one an entry and wakes it, and it goes on exactly as a
 * freshly forked one would (gs_helper_start()). One is kept per
 * registration, up to GS_PARK_MAX, since global OOMs with several
 * allocators come back to back, faster than a helper is parked again after
 * a kill; another is parked after each OOM that used one. Without one at
 * hand the OOM path forks as before.
 *
 * A helper is parked for a principal (root's registrations first, then the
 * user whose registrations have the fewest) and waits in that principal's
 * handler cgroup: moving a process between cgroups waits for an RCU grace
 * period, which would otherwise be most of a handler's start. An OOM takes
 * the helper parked for its registration's principal, else any (which then
 * moves). Parked helpers have no memory of their own (no mm), which is how
 * the end of a run, killing everything in that cgroup, passes them over.
 *
 * A parked helper is started with UMH_NO_WAIT, so that no worker sits in
 * an uninterruptible wait for as long as it is parked; the OOM path watches
 * its pid for the exit instead. It waits interruptibly: a signal, the
 * freezer's included, sends it away unless it was claimed, and suspend and
 * hibernation stop parking until resume.
 *
 * Nothing of the module may run after it is unloaded: gs_park_live counts
 * the helpers that may still run its code (until the cleanup callback after
 * exec); the unload waits for them, and then for each to have left the
 * callback's last instructions, which only a tasks-RCU grace period (or, on
 * a kernel that cannot preempt, the unload's own RCU grace period)
 * guarantees. On a preemptible kernel without tasks RCU, no helper is
 * parked.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/fs_struct.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/suspend.h>
#include <linux/umh.h>
#include <linux/wait.h>

#include "gs_internal.h"

/*
 * Park only with this much memory available (MemAvailable): the fork is
 * an ordinary GFP_KERNEL one, and parking must never be what drives a
 * machine into an OOM kill of its own.
 */
#define GS_PARK_MIN_AVAILABLE	(16L << (20 - PAGE_SHIFT))
#define GS_PARK_WAIT		HZ
/* Helpers kept parked: one per registration, up to this many. */
#define GS_PARK_MAX		8

#if defined(CONFIG_TASKS_RCU) || !defined(CONFIG_PREEMPTION)
const bool gs_can_park = !IS_ENABLED(CONFIG_STATIC_USERMODEHELPER);
#else
const bool gs_can_park;
#endif

struct gs_parked_helper {
	struct list_head node;		/* in gs_park_list, under gs_park_lock */
	bool reached;			/* it got as far as parking: no longer gs_park_busy's */
	struct completion go;
	struct gs_entry *e;		/* set when claimed, under gs_park_lock */
	/*
	 * The principal it was parked for, and the handler cgroup it waits
	 * in (in_hcg), so that an OOM of that principal need not move it.
	 */
	struct gs_principal *pr;
	struct gs_hcg *hcg;
	bool in_hcg;
	bool counted;			/* in pr->parked, under gs_park_lock */
	/* The kernel's root when it was forked (compared, never dereferenced). */
	struct vfsmount *root_mnt;
	struct dentry *root_dentry;
};

/* fs_struct's lock: a spinlock beside a seqcount, from 6.18 a seqlock's own. */
static void gs_fs_lock(struct fs_struct *fs)
{
#ifdef GS_HAVE_FS_SEQLOCK
	read_seqlock_excl(&fs->seq);
#else
	spin_lock(&fs->lock);
#endif
}

static void gs_fs_unlock(struct fs_struct *fs)
{
#ifdef GS_HAVE_FS_SEQLOCK
	read_sequnlock_excl(&fs->seq);
#else
	spin_unlock(&fs->lock);
#endif
}

static DEFINE_SPINLOCK(gs_park_lock);
/* Under gs_park_lock: the parked helpers, whether to park, whether one is on its way. */
static LIST_HEAD(gs_park_list);
static unsigned int gs_parked_count;
static bool gs_park_enabled;
static bool gs_park_busy;
static atomic_t gs_park_live = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(gs_park_wq);
static void gs_park_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(gs_park_next, gs_park_work);

/* Placeholders: the parked helper takes the entry's before it execs. */
static char *gs_park_argv[] = { "/proc/graceful_shutdown/parked", NULL };
static char *gs_park_envp[] = { NULL };

/* @p no longer waits for its principal's registrations. */
static void gs_park_uncount(struct gs_parked_helper *p)
{
	lockdep_assert_held(&gs_park_lock);
	if (p->counted) {
		atomic_dec(&p->pr->parked);
		p->counted = false;
	}
}

/* How many helpers to keep parked: one per registration, at least one. */
static unsigned int gs_park_wanted(void)
{
	return clamp_t(unsigned int, gs_registry_count(), 1, GS_PARK_MAX);
}

/**
 * gs_park_again - park another helper after @delay, if parking is on
 * @delay: in jiffies
 *
 * Context: any context that may take a spinlock.
 */
void gs_park_again(unsigned long delay)
{
	bool on;

	spin_lock(&gs_park_lock);
	on = gs_park_enabled;
	spin_unlock(&gs_park_lock);
	if (on)
		gs_helper_queue_delayed(&gs_park_next, delay);
}

/* No helper parked nor on its way: try again later, not in a loop. */
static void gs_park_retry_later(void)
{
	spin_lock(&gs_park_lock);
	gs_park_busy = false;
	spin_unlock(&gs_park_lock);
	gs_park_again(GS_REFILL_DELAY);
}

/* Runs in the parked helper: wait for an entry, then start as its helper. */
static int gs_park_wait(struct subprocess_info *info, struct cred *new)
{
	struct gs_parked_helper *p = info->data;
	struct gs_entry *e;
	unsigned int wanted;
	bool more;
	int err;

	/* A copy of the kernel's fs_struct, made at the fork. */
	gs_fs_lock(current->fs);
	p->root_mnt = current->fs->root.mnt;
	p->root_dentry = current->fs->root.dentry;
	gs_fs_unlock(current->fs);
	/* Wait where its principal's handlers run: the move is slow (gs_hcg_join()). */
	if (p->hcg)
		p->in_hcg = !gs_hcg_join(p->hcg) && gs_hcg_holds_current(p->hcg);

	spin_lock(&gs_park_lock);
	gs_park_busy = false;
	p->reached = true;
	wanted = gs_park_enabled ? gs_park_wanted() : 0;
	if (gs_parked_count < wanted) {
		list_add_tail(&p->node, &gs_park_list);
		gs_parked_count++;
	} else {
		complete(&p->go);	/* not wanted: leave */
	}
	more = gs_parked_count < wanted;
	spin_unlock(&gs_park_lock);
	if (more)
		gs_park_again(0);

	err = wait_for_completion_interruptible(&p->go);

	spin_lock(&gs_park_lock);
	if (!list_empty(&p->node)) {	/* interrupted while parked */
		list_del_init(&p->node);
		gs_parked_count--;
	}
	gs_park_uncount(p);
	e = p->e;
	spin_unlock(&gs_park_lock);
	if (!e)
		return err ?: -ECANCELED;
	info->path = e->exec_path;
	info->argv = e->argv;
	info->envp = e->envp;
	err = gs_helper_start(e, new);
	if (err)
		e->status = err;
	return err;
}

/*
 * Runs once for each parked helper: in it after exec (or after its init
 * or exec failed), or where it could not be started at all.
 */
static void gs_park_cleanup(struct subprocess_info *info)
{
	struct gs_parked_helper *p = info->data;
	struct gs_entry *e = p->e;

	if (e) {
		/* An exec failure: the helper exits with 0, so keep the error. */
		if (info->retval && !e->status)
			e->status = info->retval;
		/* A helper that failed before exec never said it started. */
		complete_all(&e->started);
		gs_entry_put(e);
	} else if (p->reached) {
		/* Sent away: park another, if parking is still on. */
		gs_park_again(GS_REFILL_DELAY);
	} else {
		/* Never parked: its fork failed. */
		gs_park_retry_later();
	}
	spin_lock(&gs_park_lock);
	gs_park_uncount(p);
	spin_unlock(&gs_park_lock);
	gs_hcg_put(p->hcg);
	gs_principal_put(p->pr);
	kfree(p);
	if (atomic_dec_and_test(&gs_park_live))
		wake_up_all(&gs_park_wq);
}

/*
 * Send away one helper that waits in no principal's handler cgroup, to make
 * room for one that will: true if there was one.
 */
static bool gs_park_dismiss_unplaced(void)
{
	struct gs_parked_helper *p;

	lockdep_assert_held(&gs_park_lock);
	list_for_each_entry(p, &gs_park_list, node) {
		if (p->in_hcg)
			continue;
		list_del_init(&p->node);
		gs_parked_count--;
		complete(&p->go);
		return true;
	}
	return false;
}

static void gs_park_work(struct work_struct *work)
{
	struct subprocess_info *info;
	struct gs_principal *pr;
	struct gs_parked_helper *p;
	struct gs_hcg *hcg = NULL;
	bool go;
	int err;

	if (si_mem_available() < GS_PARK_MIN_AVAILABLE) {
		gs_park_again(GS_PARK_WAIT);
		return;
	}
	/* For the principal that lacks one most; for none if none does. */
	pr = gs_principal_to_park();
	if (pr) {
		hcg = gs_principal_hcg(pr, &err);
		if (!hcg) {
			gs_principal_put(pr);
			pr = NULL;
		}
	}
	spin_lock(&gs_park_lock);
	go = gs_park_enabled && !gs_park_busy;
	/* A full pool makes room for a placed helper by sending an unplaced one away. */
	if (go && hcg && gs_parked_count >= gs_park_wanted())
		gs_park_dismiss_unplaced();
	go = go && gs_parked_count < gs_park_wanted();
	if (go)
		gs_park_busy = true;
	spin_unlock(&gs_park_lock);
	if (!go)
		goto out;

	p = kzalloc(sizeof(*p), GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
	info = p ? call_usermodehelper_setup(gs_park_argv[0], gs_park_argv, gs_park_envp,
					     GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
					     gs_park_wait, gs_park_cleanup, p) : NULL;
	if (!info) {
		kfree(p);
		gs_park_retry_later();
		goto out;
	}
	if (pr) {
		p->pr = pr;
		p->hcg = hcg;
		atomic_inc(&pr->parked);
		p->counted = true;
		pr = NULL;
		hcg = NULL;
	}
	INIT_LIST_HEAD(&p->node);
	init_completion(&p->go);
	atomic_inc(&gs_park_live);
	/* Every way this can fail calls gs_park_cleanup(). */
	call_usermodehelper_exec(info, UMH_NO_WAIT);
out:
	gs_hcg_put(hcg);
	gs_principal_put(pr);
}

/*
 * Whether the kernel's root is still the one @p copied. It moves when init
 * changes root (switch_root out of an initramfs): a helper forked before
 * would not find handler paths where the registrant and the check see them.
 */
static bool gs_park_root_current(const struct gs_parked_helper *p)
{
	struct fs_struct *fs = gs_user_fs();
	bool same;

	gs_fs_lock(fs);
	same = fs->root.mnt == p->root_mnt && fs->root.dentry == p->root_dentry;
	gs_fs_unlock(fs);
	return same;
}

/* Send every parked helper away (they run nothing). */
static void gs_park_dismiss(void)
{
	struct gs_parked_helper *p, *next;

	lockdep_assert_held(&gs_park_lock);
	list_for_each_entry_safe(p, next, &gs_park_list, node) {
		list_del_init(&p->node);
		complete(&p->go);
	}
	gs_parked_count = 0;
}

/**
 * gs_park_claim - hand @e to a parked helper and wake it
 * @e: the registration that fired; the helper takes a reference
 *
 * Context: the OOM path; takes gs_park_lock.
 * Return: false if none is parked (or those parked are stale).
 */
bool gs_park_claim(struct gs_entry *e)
{
	struct gs_parked_helper *p, *q;

	spin_lock(&gs_park_lock);
	p = list_first_entry_or_null(&gs_park_list, struct gs_parked_helper, node);
	/* One waiting in the entry's handler cgroup already, if any. */
	list_for_each_entry(q, &gs_park_list, node) {
		if (q->in_hcg && q->hcg == e->hcg) {
			p = q;
			break;
		}
	}
	if (p && !gs_park_root_current(p)) {
		/* Stale, and so are the others: send them away and fork this time. */
		gs_park_dismiss();
		p = NULL;
	}
	if (p) {
		list_del_init(&p->node);
		gs_parked_count--;
		gs_park_uncount(p);
		kref_get(&e->ref);	/* the helper's, put by gs_park_cleanup() */
		e->parked = true;
		p->e = e;
		complete(&p->go);
	}
	spin_unlock(&gs_park_lock);
	return p;
}

/* Keep helpers parked from now on. */
static void gs_park_start(void)
{
	if (!gs_can_park)
		return;
	spin_lock(&gs_park_lock);
	gs_park_enabled = true;
	spin_unlock(&gs_park_lock);
	gs_helper_queue_delayed(&gs_park_next, 0);
}

/* Send the parked helpers away and park no more. */
static void gs_park_stop(void)
{
	spin_lock(&gs_park_lock);
	gs_park_enabled = false;
	gs_park_dismiss();
	spin_unlock(&gs_park_lock);
}

/* Suspend and hibernation freeze tasks: no helper parked across them. */
static int gs_park_pm(struct notifier_block *nb, unsigned long action, void *data)
{
	switch (action) {
	case PM_HIBERNATION_PREPARE:
	case PM_RESTORE_PREPARE:
	case PM_SUSPEND_PREPARE:
		gs_park_stop();
		break;
	case PM_POST_HIBERNATION:
	case PM_POST_RESTORE:
	case PM_POST_SUSPEND:
		gs_park_start();
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block gs_park_pm_nb = {
	.notifier_call = gs_park_pm,
};

/**
 * gs_park_init - start parking helpers, and stop across suspend
 *
 * Context: module load, once the helpers' workqueue exists.
 * Return: 0, or the error registering the PM notifier.
 */
int gs_park_init(void)
{
	int err = register_pm_notifier(&gs_park_pm_nb);

	if (!err)
		gs_park_start();
	return err;
}

/**
 * gs_park_exit - no helper left that may still run the module's code
 *
 * Context: module unload, once no OOM can claim a helper any more.
 */
void gs_park_exit(void)
{
	unregister_pm_notifier(&gs_park_pm_nb);
	gs_park_stop();
	/* A park in progress has counted its helper once this returns. */
	cancel_delayed_work_sync(&gs_park_next);
	wait_event(gs_park_wq, !atomic_read(&gs_park_live));
	/* What the last helpers queued before they saw parking off. */
	cancel_delayed_work_sync(&gs_park_next);
#ifdef CONFIG_TASKS_RCU
	synchronize_rcu_tasks();
#endif
}
