// SPDX-License-Identifier: GPL-2.0
/*
 * proc_create_module - run a process's graceful-shutdown handler before the
 * OOM killer kills it. This file: the registry, /proc/graceful_shutdown and
 * the handler's run; gs_hook.c hears of the victim (the gs-kit patch's
 * notifier, or on a stock kernel an ftrace direct call).
 *
 * Userspace registers "<pid> <handler> [args...]" in /proc/graceful_shutdown
 * ("+<pid> ..." for the process and every process descended from it).
 * When the OOM killer chooses a registered process as its victim (the
 * oom_victim notifier added to mm/oom_kill.c by the gs-kit patch), the
 * handler is started as a user-mode helper with the registrant's credentials
 * and an environment describing the victim, and the OOM killer waits for it
 * within a bound before going on with the kill. Each registration fires at
 * most once. Every start, exit, timeout and skip is logged to the kernel log
 * with the prefix "graceful_shutdown: ".
 *
 * Least privilege: the handler runs in the handler cgroup (handler_cgroup=),
 * where its memory is accounted and from which nothing it starts can leave
 * without root's help; when the handler exits or its time is up, every
 * process in that cgroup is killed. It gets the registrant's whole identity
 * (LSM label included) within the usermode-helper bounding set, the victim's
 * rlimits and OOM score adjustment, and nothing more. Per-user limits bound
 * how many registrations a user holds and how long its handlers may hold the
 * OOM killer.
 *
 * The registry lives in memory only and is read under RCU: the OOM path
 * never waits for a reader, and a writer holds the lock the OOM path takes
 * for one entry at a time. The helper is forked ahead of time and parked
 * before exec, so that an OOM only has to wake it (it is forked at the OOM
 * when none is at hand). For a global OOM, a reserve of pages taken at load
 * is given back to the page allocator just before the helper starts, and on
 * a kernel with the gs-kit reserves patch the helper's process tree may use
 * the OOM victim's memory reserves until its run is over.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/fs_struct.h>
#include <linux/gfp.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/magic.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/path.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/suspend.h>
#include <linux/uaccess.h>
#include <linux/umh.h>
#include <linux/workqueue.h>

#include "gs.h"

#define GS_PROC_NAME	"graceful_shutdown"
#ifdef GS_HAVE_OOM_RESERVES
#define GS_RESERVES_ACCESS	"yes"	/* the kernel lets handlers use the reserves */
#define GS_HANDLER_RESERVES	true
#else
#define GS_RESERVES_ACCESS	"no"
#define GS_HANDLER_RESERVES	false
#endif
/* One write may carry many lines; bound it so a write cannot pin memory. */
#define GS_WRITE_MAX	(64 * 1024)
/* One line: pid, handler path and its arguments. */
#define GS_LINE_MAX	4096
/* Arguments after the handler path. */
#define GS_ARGS_MAX	64
#define GS_ENV_MAX	13
#define GS_ENV_SIZE	1024
#define GS_HASH_BITS	10
#define GS_USER_HASH_BITS	6
#define GS_CGROUP_PATH_MAX	256
/* Time spent holding the OOM killer comes back at the budget per minute. */
#define GS_BUDGET_PERIOD_MS	60000U
/* Less than this is no time to run a handler in: skip it. */
#define GS_MIN_WAIT_MS	100U
/* Passes over the handler cgroup; each kills all it finds, so forks die out. */
#define GS_KILL_PASSES	16
/*
 * Retake the handler reserve soon after a global OOM (the kill frees
 * memory right after the hook returns), so that a second OOM close behind
 * the first still finds it; retry at the same pace while memory is short.
 */
#define GS_REFILL_DELAY	(HZ / 10)
/*
 * A global OOM's wait for its handler drops the watermark boost this often:
 * the helper's own allocations, falling back to the lent pages' blocks,
 * raise it again (see gs_drop_watermark_boost()).
 */
#define GS_BOOST_SLICE	msecs_to_jiffies(20)
/*
 * World-writable on purpose: any user may register its own processes.
 * gs_may_act_on() decides, line by line, what a writer may register.
 */
#define GS_PROC_MODE	0666

static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "Longest wait for a handler before the kill (ms, default 5000)");

static unsigned int start_timeout_ms = 1000;
module_param(start_timeout_ms, uint, 0644);
MODULE_PARM_DESC(start_timeout_ms,
		 "Longest wait for a handler to start, within its wait (ms, default 1000)");

static unsigned int user_timeout_ms = 2000;
module_param(user_timeout_ms, uint, 0644);
MODULE_PARM_DESC(user_timeout_ms,
		 "Longest wait for the handler of a non-root registrant (ms, default 2000)");

static unsigned int max_entries = 1024;
module_param(max_entries, uint, 0644);
MODULE_PARM_DESC(max_entries, "Most registrations in all (default 1024)");

static unsigned int user_max_entries = 64;
module_param(user_max_entries, uint, 0644);
MODULE_PARM_DESC(user_max_entries, "Most registrations a non-root registrant holds (default 64)");

static unsigned int hold_budget_ms = 10000;
module_param(hold_budget_ms, uint, 0644);
MODULE_PARM_DESC(hold_budget_ms,
		 "Most time all handlers together may hold the OOM killer in one OOM episode; spent time comes back at this much per minute (ms, default 10000, 0 no limit)");

static unsigned int user_hold_budget_ms = 4000;
module_param(user_hold_budget_ms, uint, 0644);
MODULE_PARM_DESC(user_hold_budget_ms,
		 "The same budget for the handlers of one non-root registrant (ms, default 4000, 0 no limit)");

static unsigned int reserve_kb = 4096;
module_param(reserve_kb, uint, 0444);
MODULE_PARM_DESC(reserve_kb,
		 "Memory held back for forking handlers in a global OOM (KiB, default 4096, 0 disables)");

/*
 * In a global OOM every task that wants a page loops in reclaim while the
 * OOM killer waits for the handler; at an equal share of the CPU the
 * handler is the slowest to finish (seen: 1.6 to 2.7 s with 8 allocators
 * against 0.2 s with one). The handler acts for the victim that will free
 * the memory they wait for, for a bounded time: let it go first.
 */
static int global_nice = -10;
module_param(global_nice, int, 0644);
MODULE_PARM_DESC(global_nice,
		 "Nice value of a handler's process tree in a global OOM, for its bounded run (-20 to 19, default -10)");

static bool show_stuck;
module_param(show_stuck, bool, 0644);
MODULE_PARM_DESC(show_stuck,
		 "At a handler's timeout, print its helper's kernel stack first, or every running and blocked task's if it was not forked (diagnosis; default off)");

/* Read and written under kernel_param_lock(THIS_MODULE). */
static char handler_cgroup[GS_CGROUP_PATH_MAX];

static int gs_set_cgroup(const char *val, const struct kernel_param *kp)
{
	size_t len = strcspn(val, "\n");

	if (len && val[0] != '/')
		return -EINVAL;
	if (len >= sizeof(handler_cgroup))
		return -ENAMETOOLONG;
	memcpy(handler_cgroup, val, len);
	handler_cgroup[len] = '\0';
	return 0;
}

static const struct kernel_param_ops gs_cgroup_ops = {
	.set = gs_set_cgroup,
	.get = param_get_string,
};

static struct kparam_string gs_cgroup_param = {
	.maxlen = sizeof(handler_cgroup),
	.string = handler_cgroup,
};

module_param_cb(handler_cgroup, &gs_cgroup_ops, &gs_cgroup_param, 0644);
MODULE_PARM_DESC(handler_cgroup,
		 "The cgroup v2 directory handlers run in, e.g. /sys/fs/cgroup/gs-handlers (required)");

/* Read-only: which hook this build of the module uses, for gs-kit status. */
static int gs_set_hook(const char *val, const struct kernel_param *kp)
{
	return -EPERM;
}

static int gs_get_hook(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n", gs_hook_mode());
}

static const struct kernel_param_ops gs_hook_ops = {
	.set = gs_set_hook,
	.get = gs_get_hook,
};

module_param_cb(hook, &gs_hook_ops, NULL, 0444);
MODULE_PARM_DESC(hook,
		 "How victims are heard of: patched (the gs-kit kernel patch) or stock (an ftrace direct call); read-only");

/* A budget of time to hold the OOM killer, refilled at its size per minute. */
struct gs_bucket {
	u64 stamp_ns;
	s64 left_ms;
};

/*
 * A non-root registrant: how many registrations it holds and how much of
 * its budget is left. Referenced by the users hash and by each entry.
 */
struct gs_user {
	struct hlist_node node;		/* in gs_users, under gs_lock */
	struct kref ref;
	kuid_t uid;
	unsigned int entries;		/* in the registry, under gs_lock */
	struct gs_bucket hold;		/* under gs_lock */
};

enum { GS_FIRED };

/*
 * A registration. The registry holds one reference while it is linked;
 * the OOM path takes its own when it claims the entry. Freed after an RCU
 * grace period, as readers walk the registry without a lock.
 */
struct gs_entry {
	struct hlist_node hnode;	/* in gs_registry, under gs_lock */
	struct rcu_head rcu;
	struct kref ref;
	unsigned long flags;		/* GS_FIRED: claimed by the OOM path */
	struct pid *pid;		/* the registered process (its TGID) */
	const struct cred *cred;	/* the registrant's, for the handler */
	struct gs_user *user;		/* NULL for an admin registrant */
	bool no_new_privs;		/* the registrant could not gain privileges */
	bool tree;			/* "+<pid>": its descendants too */
	dev_t dev;			/* the handler file that was checked */
	unsigned long ino;
	char *cmdline;			/* "handler arg...", as listed */
	char **argv;
	int argc;

	/* Used once, when the entry fires. */
	struct subprocess_info *info;
	struct work_struct work;
	struct completion started;	/* about to exec, or failed to */
	struct completion done;		/* the helper has exited */
	spinlock_t helper_lock;		/* protects helper, cgrp, abandoned */
	struct pid *helper;		/* set by the helper as it starts */
	struct task_struct *helper_task;	/* the same, for its exit status */
	struct cgroup *cgrp;		/* the handler cgroup it joined */
	bool abandoned;			/* the OOM killer stopped waiting */
	bool global;			/* not a memcg OOM */
	bool metered;			/* the reserve is lent a block at a time */
	bool parked;			/* run by the parked helper */
	int status;			/* what call_usermodehelper_exec() said */
	const char *why;		/* why the helper did not exec */
	pid_t victim_nr;
	short oom_score_adj;		/* the victim's, for the helper */
	short oom_score_adj_min;
	struct rlimit rlim[RLIM_NLIMITS];
	u64 start_ns;
	u64 end_ns;
	char *envp[GS_ENV_MAX + 1];
	char env[GS_ENV_SIZE];
};

static DEFINE_HASHTABLE(gs_registry, GS_HASH_BITS);
static DEFINE_HASHTABLE(gs_users, GS_USER_HASH_BITS);
static unsigned int gs_count;
static struct gs_bucket gs_hold;
/*
 * Taken in the OOM path: protects the registry's links, the counts and
 * the budgets. Held for one entry at a time; never across allocation.
 */
static DEFINE_SPINLOCK(gs_lock);
/* Serialises writers, so that a multi-line write is checked and applied as one. */
static DEFINE_MUTEX(gs_write_mutex);
static struct workqueue_struct *gs_wq;

/*
 * The handler reserve, chained through page->lru: blocks of
 * GS_RESERVE_ORDER, and order-0 pages where no block could be had. A
 * block larger than PAGE_ALLOC_COSTLY_ORDER goes straight back to the
 * buddy lists when freed; order-0 pages go to this CPU's per-CPU list,
 * which the watermark checks do not count. Lent that way, up to the
 * list's high mark (about 400 pages in a 192 MiB guest on 6.12) sat
 * there while the helper, allowed down to half the min watermark,
 * failed that check a few pages short, for its whole wait.
 */
#define GS_RESERVE_ORDER	(PAGE_ALLOC_COSTLY_ORDER + 1)
static LIST_HEAD(gs_reserve_blocks);
static LIST_HEAD(gs_reserve_pages);
static unsigned long gs_reserve_count;
static DEFINE_SPINLOCK(gs_reserve_lock);
static void gs_reserve_refill(struct work_struct *work);
static DECLARE_DELAYED_WORK(gs_reserve_work, gs_reserve_refill);

static unsigned long gs_reserve_target(void)
{
	return ((unsigned long)reserve_kb * 1024) >> PAGE_SHIFT;
}

/* Take memory for the reserve until it is full or the allocator says no. */
static bool gs_reserve_fill(gfp_t gfp)
{
	unsigned long target = gs_reserve_target(), missing;
	unsigned int order;
	struct page *page;

	for (;;) {
		spin_lock(&gs_reserve_lock);
		missing = target > gs_reserve_count ? target - gs_reserve_count : 0;
		spin_unlock(&gs_reserve_lock);
		if (!missing)
			return true;

		page = NULL;
		order = GS_RESERVE_ORDER;
		if (missing >= 1UL << order)
			page = alloc_pages(gfp | __GFP_NORETRY, order);
		if (!page) {
			order = 0;
			page = alloc_page(gfp);
		}
		if (!page)
			return false;
		spin_lock(&gs_reserve_lock);
		list_add(&page->lru, order ? &gs_reserve_blocks : &gs_reserve_pages);
		gs_reserve_count += 1UL << order;
		spin_unlock(&gs_reserve_lock);
	}
}

/* Give the whole reserve back to the page allocator; the number of pages. */
static unsigned long gs_reserve_release(void)
{
	struct page *page, *next;
	unsigned long freed;
	LIST_HEAD(blocks);
	LIST_HEAD(pages);

	spin_lock(&gs_reserve_lock);
	list_splice_init(&gs_reserve_blocks, &blocks);
	list_splice_init(&gs_reserve_pages, &pages);
	freed = gs_reserve_count;
	gs_reserve_count = 0;
	spin_unlock(&gs_reserve_lock);

	list_for_each_entry_safe(page, next, &blocks, lru) {
		list_del(&page->lru);
		__free_pages(page, GS_RESERVE_ORDER);
	}
	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return freed;
}

/*
 * Lend the reserve to a handler that may use the OOM reserves (patch
 * 0002), and to it alone: free a block only while its zone stays at or
 * below the min watermark with it, the floor of ordinary allocations. The
 * allocators that wait for the OOM killer fail that check still, and do
 * not pull the block's pages onto their per-CPU lists in batches; the
 * handler, allowed down to half the min watermark, finds them. Called
 * again during the wait, it tops the zones up as the handler uses them.
 * Returns the pages lent.
 */
static unsigned long gs_reserve_meter(void)
{
	unsigned long lent = 0, block = 1UL << GS_RESERVE_ORDER;
	struct page *page, *next;

	spin_lock(&gs_reserve_lock);
	list_for_each_entry_safe(page, next, &gs_reserve_blocks, lru) {
		struct zone *zone = page_zone(page);

		/* The snapshot: the blocks just freed count at once. */
		if (zone_page_state_snapshot(zone, NR_FREE_PAGES) + block >
		    zone->_watermark[WMARK_MIN])
			continue;
		list_del(&page->lru);
		gs_reserve_count -= block;
		__free_pages(page, GS_RESERVE_ORDER);
		lent += block;
	}
	spin_unlock(&gs_reserve_lock);
	return lent;
}

/*
 * Take the reserve back once memory is available again. Never let this
 * allocation start an OOM kill of its own: retry later instead.
 */
static void gs_reserve_refill(struct work_struct *work)
{
	if (!gs_reserve_fill(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN))
		queue_delayed_work(system_wq, &gs_reserve_work, GS_REFILL_DELAY);
}

/* ---- budgets ---- */

static void gs_bucket_init(struct gs_bucket *b, unsigned int cap_ms)
{
	b->stamp_ns = ktime_get_ns();
	b->left_ms = cap_ms;
}

/* What is left of @b now, after refilling it for the time gone by. */
static s64 gs_bucket_level(struct gs_bucket *b, unsigned int cap_ms, u64 now)
{
	u64 elapsed_ms = div_u64(now - b->stamp_ns, NSEC_PER_MSEC);
	u64 gain;

	if (!cap_ms)
		return S64_MAX;
	if (elapsed_ms >= GS_BUDGET_PERIOD_MS) {
		b->left_ms = cap_ms;
		b->stamp_ns = now;
	} else {
		gain = div_u64(elapsed_ms * cap_ms, GS_BUDGET_PERIOD_MS);
		if (gain) {
			b->left_ms += gain;
			b->stamp_ns += div_u64(gain * GS_BUDGET_PERIOD_MS, cap_ms) * NSEC_PER_MSEC;
		}
	}
	if (b->left_ms > cap_ms)
		b->left_ms = cap_ms;
	return b->left_ms;
}

static bool gs_bucket_full(struct gs_bucket *b, unsigned int cap_ms, u64 now)
{
	return gs_bucket_level(b, cap_ms, now) >= cap_ms;
}

/* ---- registrants ---- */

static void gs_user_release(struct kref *ref)
{
	kfree(container_of(ref, struct gs_user, ref));
}

static void gs_user_put(struct gs_user *u)
{
	if (u)
		kref_put(&u->ref, gs_user_release);
}

/* Caller holds gs_lock. */
static struct gs_user *gs_user_lookup(kuid_t uid)
{
	struct gs_user *u;

	hash_for_each_possible(gs_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/* The registrant @uid, with a reference for the caller; made if new. */
static struct gs_user *gs_user_get(kuid_t uid)
{
	struct gs_user *u, *fresh;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return NULL;
	kref_init(&fresh->ref);		/* the hash's */
	fresh->uid = uid;
	gs_bucket_init(&fresh->hold, READ_ONCE(user_hold_budget_ms));

	spin_lock(&gs_lock);
	u = gs_user_lookup(uid);
	if (!u) {
		hash_add(gs_users, &fresh->node, __kuid_val(uid));
		u = fresh;
		fresh = NULL;
	}
	kref_get(&u->ref);
	spin_unlock(&gs_lock);
	kfree(fresh);
	return u;
}

/*
 * Forget registrants that hold nothing and whose budget is whole again:
 * one that spent its budget is kept until it comes back. Caller holds
 * gs_write_mutex, so no new reference to a user can appear meanwhile.
 */
static void gs_users_sweep(bool all)
{
	unsigned int cap = READ_ONCE(user_hold_budget_ms);
	u64 now = ktime_get_ns();
	struct hlist_node *tmp;
	struct gs_user *u;
	HLIST_HEAD(idle);
	int bkt;

	spin_lock(&gs_lock);
	hash_for_each_safe(gs_users, bkt, tmp, u, node) {
		if (!all && (kref_read(&u->ref) > 1 || !gs_bucket_full(&u->hold, cap, now)))
			continue;
		hash_del(&u->node);
		hlist_add_head(&u->node, &idle);
	}
	spin_unlock(&gs_lock);
	hlist_for_each_entry_safe(u, tmp, &idle, node)
		gs_user_put(u);
}

/* ---- the registry ---- */

static void gs_entry_free(struct rcu_head *rcu)
{
	struct gs_entry *e = container_of(rcu, struct gs_entry, rcu);

	if (e->cgrp)
		css_put(&e->cgrp->self);
	if (e->helper_task)
		put_task_struct(e->helper_task);
	put_pid(e->helper);
	put_pid(e->pid);
	put_cred(e->cred);
	gs_user_put(e->user);
	argv_free(e->argv);
	kfree(e->cmdline);
	kfree(e);
}

static void gs_entry_release(struct kref *ref)
{
	struct gs_entry *e = container_of(ref, struct gs_entry, ref);

	/* Readers of the registry may still be looking at it. */
	call_rcu(&e->rcu, gs_entry_free);
}

static void gs_entry_put(struct gs_entry *e)
{
	kref_put(&e->ref, gs_entry_release);
}

/* Under rcu_read_lock() or gs_lock. */
static struct gs_entry *gs_lookup(struct pid *pid)
{
	struct gs_entry *e;

	hash_for_each_possible_rcu(gs_registry, e, hnode, (unsigned long)pid)
		if (e->pid == pid)
			return e;
	return NULL;
}

static void gs_link(struct gs_entry *e)
{
	hash_add_rcu(gs_registry, &e->hnode, (unsigned long)e->pid);
	gs_count++;
	if (e->user)
		e->user->entries++;
}

/*
 * Take @e out of the registry if it is still in it; returns whether it was,
 * in which case the caller owns the registry's reference. Caller holds
 * gs_lock.
 */
static bool gs_unlink(struct gs_entry *e)
{
	if (hlist_unhashed(&e->hnode))
		return false;
	hlist_del_init_rcu(&e->hnode);
	gs_count--;
	if (e->user)
		e->user->entries--;
	return true;
}

static void gs_unlink_put(struct gs_entry *e)
{
	bool was_linked;

	spin_lock(&gs_lock);
	was_linked = gs_unlink(e);
	spin_unlock(&gs_lock);
	if (was_linked)
		gs_entry_put(e);
}

static bool gs_process_gone(struct pid *pid)
{
	bool gone;

	rcu_read_lock();
	gone = !pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	return gone;
}

/*
 * Drop the entries of exited processes, one at a time: the lock the OOM
 * path needs is never held for more than one entry.
 */
static void gs_prune(void)
{
	struct gs_entry *e;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(gs_registry, bkt, e, hnode) {
		if (!gs_process_gone(e->pid))
			continue;
		spin_lock(&gs_lock);
		if (gs_unlink(e)) {
			spin_unlock(&gs_lock);
			/* The registry's reference; freed after this grace period. */
			gs_entry_put(e);
			continue;
		}
		spin_unlock(&gs_lock);
	}
	rcu_read_unlock();
}

/* ---- the handler file ---- */

/*
 * A directory on a handler's path can be trusted if only root or @owner
 * can change what it holds: owned by one of them and writable by no one
 * else, or sticky (its entries can be replaced only by their owners).
 */
static bool gs_dir_trusted(const struct inode *inode, kuid_t owner)
{
	if (!uid_eq(inode->i_uid, GLOBAL_ROOT_UID) && !uid_eq(inode->i_uid, owner))
		return false;
	return !(inode->i_mode & 0022) || (inode->i_mode & S_ISVTX);
}

/* Every directory the path names on its way to the file, "/" first. */
static int gs_check_named_dirs(const char *path, kuid_t owner)
{
	struct path dir;
	char *buf, *slash;
	int err = 0;

	buf = kstrdup(path, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (slash = buf; slash && !err; slash = strchr(slash + 1, '/')) {
		char saved = slash[1];

		/* The prefix up to and including this slash. */
		slash[1] = '\0';
		err = kern_path(buf, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &dir);
		slash[1] = saved;
		if (err)
			break;
		if (!gs_dir_trusted(d_inode(dir.dentry), owner))
			err = -EPERM;
		path_put(&dir);
	}
	kfree(buf);
	return err;
}

/*
 * Every directory above the file itself, up to @root: where symbolic links
 * on the way led.
 */
static int gs_check_real_dirs(const struct path *file, const struct path *root,
			      kuid_t owner)
{
	struct dentry *parent;
	struct path p = *file;
	int err = 0;

	path_get(&p);
	while (!path_equal(&p, root)) {
		if (p.dentry == p.mnt->mnt_root) {
			/* A mount's root: go on from where it is mounted. */
			if (!follow_up(&p))
				break;
			continue;
		}
		parent = dget_parent(p.dentry);
		dput(p.dentry);
		p.dentry = parent;
		if (!gs_dir_trusted(d_inode(p.dentry), owner)) {
			err = -EPERM;
			break;
		}
	}
	path_put(&p);
	return err;
}

static int gs_path_may_exec(const struct path *path)
{
#ifdef GS_HAVE_PATH_PERMISSION
	return path_permission(path, MAY_EXEC);
#else
	return inode_permission(d_inode(path->dentry), MAY_EXEC);
#endif
}

/*
 * The handler must be an absolute path to a regular file the registrant
 * may execute; the file and every directory on the way to it, as named and
 * as reached, can be changed by root or the registrant only (sudo's rule
 * for what it runs). On success *@dev and *@ino name the file checked.
 * Resolved and checked with the registrant's credentials, from the
 * caller's root.
 */
static int gs_check_handler(const char *path, const struct cred *cred,
			    dev_t *dev, unsigned long *ino)
{
	const struct cred *old;
	struct inode *inode;
	struct path file, root;
	int err;

	if (path[0] != '/')
		return -EINVAL;
	old = override_creds(cred);
	err = kern_path(path, LOOKUP_FOLLOW, &file);
	if (err)
		goto out_creds;
	inode = d_inode(file.dentry);
	if (!S_ISREG(inode->i_mode) || (file.mnt->mnt_flags & MNT_NOEXEC)) {
		err = -EACCES;
		goto out_file;
	}
	err = gs_path_may_exec(&file);
	if (err)
		goto out_file;
	if (!gs_dir_trusted(inode, cred->euid) || (inode->i_mode & 0022)) {
		err = -EPERM;
		goto out_file;
	}
	err = gs_check_named_dirs(path, cred->euid);
	if (err)
		goto out_file;
	get_fs_root(current->fs, &root);
	err = gs_check_real_dirs(&file, &root, cred->euid);
	path_put(&root);
	if (err)
		goto out_file;
	*dev = inode->i_sb->s_dev;
	*ino = inode->i_ino;
out_file:
	path_put(&file);
out_creds:
	revert_creds(old);
	return err;
}

/*
 * Handlers run from the kernel's root directory: a writer under another
 * root (a chroot or a container's) would name a different file there.
 */
static bool gs_same_root_as_kernel(void)
{
	struct path mine, kernels;
	bool same;

	get_fs_root(current->fs, &mine);
	get_fs_root(init_task.fs, &kernels);
	same = path_equal(&mine, &kernels);
	path_put(&kernels);
	path_put(&mine);
	return same;
}

/* The handler cgroup's directory, or "" when none is set. */
static void gs_handler_cgroup(char *buf, size_t size)
{
	kernel_param_lock(THIS_MODULE);
	strscpy(buf, handler_cgroup, size);
	kernel_param_unlock(THIS_MODULE);
}

/* Is a handler cgroup set, and a cgroup v2 directory handlers can join? */
static int gs_check_handler_cgroup(void)
{
	char dir[GS_CGROUP_PATH_MAX];
	char procs[GS_CGROUP_PATH_MAX + 16];
	struct path p;
	int err;

	gs_handler_cgroup(dir, sizeof(dir));
	if (!dir[0])
		return -EOPNOTSUPP;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	err = kern_path(procs, LOOKUP_FOLLOW, &p);
	if (err)
		return -EOPNOTSUPP;
	if (p.mnt->mnt_sb->s_magic != CGROUP2_SUPER_MAGIC)
		err = -EOPNOTSUPP;
	path_put(&p);
	return err;
}

/* ---- the handler ---- */

static const char *gs_constraint_name(enum oom_constraint constraint)
{
	switch (constraint) {
	case CONSTRAINT_NONE:
		return "global";
	case CONSTRAINT_CPUSET:
		return "cpuset";
	case CONSTRAINT_MEMORY_POLICY:
		return "mempolicy";
	case CONSTRAINT_MEMCG:
		return "memcg";
	}
	return "unknown";
}

/* Append one "NAME=value" to the entry's environment block. */
static __printf(2, 3) void gs_env_add(struct gs_entry *e, const char *fmt, ...)
{
	size_t used = 0;
	va_list args;
	int n;

	for (n = 0; e->envp[n]; n++)
		used += strlen(e->envp[n]) + 1;
	if (n >= GS_ENV_MAX || used >= sizeof(e->env) - 1)
		return;
	va_start(args, fmt);
	vscnprintf(e->env + used, sizeof(e->env) - used, fmt, args);
	va_end(args);
	e->envp[n] = e->env + used;
}

/*
 * Describe the victim to the handler, and keep what the helper takes from
 * it (rlimits, OOM score adjustment). No allocation: the OOM path.
 */
static void gs_victim_snapshot(struct gs_entry *e, struct oom_control *oc,
			       unsigned int wait_ms)
{
	struct task_struct *victim = oc->chosen;
	unsigned long rss_kb = 0;
	char comm[TASK_COMM_LEN];
	char cgroup[256] = "";

	memset(e->envp, 0, sizeof(e->envp));
	task_lock(victim);
	if (victim->mm)
		rss_kb = get_mm_rss(victim->mm) << (PAGE_SHIFT - 10);
	strscpy(comm, victim->comm, sizeof(comm));
	task_unlock(victim);
	task_lock(victim->group_leader);
	memcpy(e->rlim, victim->signal->rlim, sizeof(e->rlim));
	task_unlock(victim->group_leader);
	e->oom_score_adj = victim->signal->oom_score_adj;
	e->oom_score_adj_min = victim->signal->oom_score_adj_min;
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	cgroup_path(task_dfl_cgroup(victim), cgroup, sizeof(cgroup));
	rcu_read_unlock();
#endif

	gs_env_add(e, "HOME=/");
	gs_env_add(e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	gs_env_add(e, "GS_PID=%d", e->victim_nr);
	gs_env_add(e, "GS_REGISTERED_PID=%d", pid_nr(e->pid));
	gs_env_add(e, "GS_COMM=%s", comm);
	gs_env_add(e, "GS_RSS_KB=%lu", rss_kb);
	gs_env_add(e, "GS_OOM_SCORE_ADJ=%d", e->oom_score_adj);
	gs_env_add(e, "GS_CONSTRAINT=%s", gs_constraint_name(oc->constraint));
	gs_env_add(e, "GS_CGROUP=%s", cgroup);
	gs_env_add(e, "GS_TIMEOUT_MS=%u", wait_ms);
	gs_env_add(e, "GS_CHOSEN_NS=%llu", e->start_ns);
}

/*
 * Give @new the whole identity of @reg: ids, capabilities, groups, user,
 * user namespace, process accounting and LSM label, each with its own
 * reference. A copy of @reg is made with prepare_creds() under
 * override_creds(), as only exported helpers may take those references
 * (the LSMs prepare the label for it); the two creds then trade what
 * identifies them and the copy, left with @new's old identity, is dropped.
 * The usermode-helper limits in @new (bounding and inheritable sets) stay:
 * the handler never gets more than a usermode helper may.
 */
static int gs_take_identity(struct cred *new, const struct cred *reg)
{
	const struct cred *saved;
	struct cred *copy;

	saved = override_creds(reg);
	copy = prepare_creds();
	revert_creds(saved);
	if (!copy)
		return -ENOMEM;

	swap(new->uid, copy->uid);
	swap(new->euid, copy->euid);
	swap(new->suid, copy->suid);
	swap(new->fsuid, copy->fsuid);
	swap(new->gid, copy->gid);
	swap(new->egid, copy->egid);
	swap(new->sgid, copy->sgid);
	swap(new->fsgid, copy->fsgid);
	swap(new->securebits, copy->securebits);
	swap(new->cap_inheritable, copy->cap_inheritable);
	swap(new->cap_permitted, copy->cap_permitted);
	swap(new->cap_effective, copy->cap_effective);
	swap(new->cap_bset, copy->cap_bset);
	swap(new->cap_ambient, copy->cap_ambient);
	swap(new->user, copy->user);
	swap(new->user_ns, copy->user_ns);
	swap(new->group_info, copy->group_info);
#ifdef GS_HAVE_CRED_UCOUNTS
	swap(new->ucounts, copy->ucounts);
#endif
#ifdef CONFIG_SECURITY
	swap(new->security, copy->security);
#endif

	new->cap_bset = cap_intersect(new->cap_bset, copy->cap_bset);
	new->cap_inheritable = cap_intersect(new->cap_inheritable, copy->cap_inheritable);
	new->cap_permitted = cap_intersect(new->cap_permitted, new->cap_bset);
	new->cap_effective = cap_intersect(new->cap_effective, new->cap_permitted);
	new->cap_ambient = cap_intersect(new->cap_ambient,
					 cap_intersect(new->cap_permitted, new->cap_inheritable));
	abort_creds(copy);
	return 0;
}

/*
 * Read one of the usermode-helper capability sysctls ("lo hi", two 32-bit
 * words) into @cap.
 */
static int gs_read_umh_caps(const char *path, kernel_cap_t *cap)
{
	struct file *file;
	char buf[48];
	loff_t pos = 0;
	u32 words[2];
	ssize_t n;
	int i;

	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	n = kernel_read(file, buf, sizeof(buf) - 1, &pos);
	fput(file);
	if (n < 0)
		return n;
	buf[n] = '\0';
	if (sscanf(buf, "%u %u", &words[0], &words[1]) != 2)
		return -EINVAL;
	cap_clear(*cap);
	for (i = 0; i <= CAP_LAST_CAP; i++)
		if (words[i / 32] & (1U << (i % 32)))
			cap_raise(*cap, i);
	return 0;
}

/*
 * A parked helper's bounding and inheritable sets were cut to the
 * usermode-helper ones when it was forked; an administrator may have
 * lowered those since. Cut them to the sets as they are now.
 */
static int gs_umh_caps_now(struct cred *new)
{
	kernel_cap_t cap;
	int err;

	err = gs_read_umh_caps("/proc/sys/kernel/usermodehelper/bset", &cap);
	if (err)
		return err;
	new->cap_bset = cap_intersect(new->cap_bset, cap);
	err = gs_read_umh_caps("/proc/sys/kernel/usermodehelper/inheritable", &cap);
	if (err)
		return err;
	new->cap_inheritable = cap_intersect(new->cap_inheritable, cap);
	return 0;
}

/*
 * Move the calling helper into the handler cgroup, and return that cgroup
 * with a reference. Written as root would write it: the helper still has
 * the kernel's credentials.
 */
static struct cgroup *gs_join_handler_cgroup(void)
{
	char dir[GS_CGROUP_PATH_MAX];
	char procs[GS_CGROUP_PATH_MAX + 16];
	struct cgroup *cgrp;
	struct file *file;
	loff_t pos = 0;
	ssize_t n;

	gs_handler_cgroup(dir, sizeof(dir));
	if (!dir[0])
		return ERR_PTR(-EOPNOTSUPP);
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	file = filp_open(procs, O_WRONLY, 0);
	if (IS_ERR(file))
		return ERR_CAST(file);
	/*
	 * A helper forked by a workqueue worker on older kernels inherits
	 * PF_NO_SETAFFINITY, which cgroup.procs refuses; exec would clear it.
	 */
	current->flags &= ~PF_NO_SETAFFINITY;
	n = kernel_write(file, "0", 1, &pos);
	fput(file);
	if (n < 0)
		return ERR_PTR(n);

	rcu_read_lock();
	cgrp = task_dfl_cgroup(current);
	css_get(&cgrp->self);
	rcu_read_unlock();
	if (!cgroup_parent(cgrp)) {	/* still in the root cgroup */
		css_put(&cgrp->self);
		return ERR_PTR(-EINVAL);
	}
	return cgrp;
}

/* Runs in the helper: fail with @err for @why. */
static int gs_helper_fail(struct gs_entry *e, int err, const char *why)
{
	e->why = why;
	return err;
}

/*
 * Runs in the new helper process, before its credentials are committed and
 * before exec. Join the handler cgroup, check that the handler path still
 * leads to the file that was checked at registration, take the victim's
 * limits and the registrant's identity; on a kernel that allows it, let
 * the process tree use the victim's memory reserves for its run.
 */
static int gs_helper_start(struct gs_entry *e, struct cred *new)
{
	struct cgroup *cgrp;
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

	if (e->global)
		set_user_nice(current, clamp_t(int, READ_ONCE(global_nice), MIN_NICE, MAX_NICE));

	cgrp = gs_join_handler_cgroup();
	if (IS_ERR(cgrp))
		return gs_helper_fail(e, PTR_ERR(cgrp), "handler_cgroup");
	spin_lock(&e->helper_lock);
	e->cgrp = cgrp;
	spin_unlock(&e->helper_lock);

	err = gs_check_handler(e->argv[0], e->cred, &dev, &ino);
	if (err)
		return gs_helper_fail(e, err, "handler_check");
	if (dev != e->dev || ino != e->ino)
		return gs_helper_fail(e, -ESTALE, "handler_replaced");

	task_lock(current->group_leader);
	memcpy(current->signal->rlim, e->rlim, sizeof(e->rlim));
	task_unlock(current->group_leader);
	current->signal->oom_score_adj = e->oom_score_adj;
	current->signal->oom_score_adj_min = e->oom_score_adj_min;
	if (e->no_new_privs)
		task_set_no_new_privs(current);

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

/*
 * ---- the parked helper ----
 *
 * Forking a helper at the OOM is its weakest step in a global OOM: the
 * fork runs in a shared kworker, at its priority and with no access to the
 * reserves, against every allocating task (seen on 6.12 with 8 allocators:
 * the kworker's copy_process() in direct reclaim for the whole start
 * timeout). So one helper is forked ahead of time and parked in its init
 * callback, before credentials and exec; the OOM path hands it an entry
 * and wakes it, and it goes on exactly as a freshly forked one would.
 * Another is parked after each OOM that used one. Without one at hand (not
 * parked yet, parking off), the OOM path forks as before.
 *
 * It is started with UMH_NO_WAIT, so that no worker sits in an
 * uninterruptible wait for as long as it is parked; the OOM path watches
 * its pid for the exit instead. It waits interruptibly: a signal, the
 * freezer's included, sends it away unless it was claimed.
 *
 * Nothing of the module may run after it is unloaded: gs_park_live counts
 * the helpers that may still run its code (until the cleanup callback
 * after exec); the unload waits for them, and then for each to have left
 * the callback's last instructions, which only a tasks-RCU grace period
 * (or, on a kernel that cannot preempt, the unload's own RCU grace
 * period) guarantees. On a preemptible kernel without tasks RCU, no
 * helper is parked.
 */
/*
 * Park only with this much memory available (MemAvailable): the fork is
 * an ordinary GFP_KERNEL one, and parking must never be what drives a
 * machine into an OOM kill of its own.
 */
#define GS_PARK_MIN_AVAILABLE	(16L << (20 - PAGE_SHIFT))
#define GS_PARK_WAIT		HZ
/*
 * Helpers kept parked: one per registration, up to this many. Global OOMs
 * with several allocators come back to back, faster than a helper is
 * parked again after a kill; those that found none forked at the OOM
 * (spawn=fork), in the worker that forks for usermode helpers, which has
 * no access to the reserves, and one in about ten such boots with 8
 * allocators never started (6.1). A parked helper costs a task and its
 * kernel stack.
 */
#define GS_PARK_MAX		8

#if defined(CONFIG_TASKS_RCU) || !defined(CONFIG_PREEMPTION)
#define GS_CAN_PARK	!IS_ENABLED(CONFIG_STATIC_USERMODEHELPER)
#else
#define GS_CAN_PARK	false
#endif

struct gs_parked {
	struct list_head node;		/* in gs_parked, under gs_park_lock */
	bool reached;			/* it got as far as parking: no longer gs_park_busy's */
	struct completion go;
	struct gs_entry *e;		/* set when claimed, under gs_park_lock */
	/* The kernel's root when it was forked (compared, never dereferenced). */
	struct vfsmount *root_mnt;
	struct dentry *root_dentry;
};

static DEFINE_SPINLOCK(gs_park_lock);
/* Under gs_park_lock: the parked helpers, whether to park, whether one is on its way. */
static LIST_HEAD(gs_parked);
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

/* How many helpers to keep parked: one per registration, at least one. */
static unsigned int gs_park_wanted(void)
{
	return clamp_t(unsigned int, READ_ONCE(gs_count), 1, GS_PARK_MAX);
}

/* Park another helper after @delay, if parking is on. */
static void gs_park_again(unsigned long delay)
{
	bool on;

	spin_lock(&gs_park_lock);
	on = gs_park_enabled;
	spin_unlock(&gs_park_lock);
	if (on)
		queue_delayed_work(gs_wq, &gs_park_next, delay);
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
static int gs_park_init(struct subprocess_info *info, struct cred *new)
{
	struct gs_parked *p = info->data;
	struct gs_entry *e;
	unsigned int wanted;
	bool more;
	int err;

	/* A copy of the kernel's fs_struct, made at the fork. */
	spin_lock(&current->fs->lock);
	p->root_mnt = current->fs->root.mnt;
	p->root_dentry = current->fs->root.dentry;
	spin_unlock(&current->fs->lock);

	spin_lock(&gs_park_lock);
	gs_park_busy = false;
	p->reached = true;
	wanted = gs_park_enabled ? gs_park_wanted() : 0;
	if (gs_parked_count < wanted) {
		list_add_tail(&p->node, &gs_parked);
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
	e = p->e;
	spin_unlock(&gs_park_lock);
	if (!e)
		return err ?: -ECANCELED;
	info->path = e->argv[0];
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
	struct gs_parked *p = info->data;
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
	kfree(p);
	if (atomic_dec_and_test(&gs_park_live))
		wake_up_all(&gs_park_wq);
}

static void gs_park_work(struct work_struct *work)
{
	struct subprocess_info *info;
	struct gs_parked *p;
	bool go;

	if (si_mem_available() < GS_PARK_MIN_AVAILABLE) {
		gs_park_again(GS_PARK_WAIT);
		return;
	}
	spin_lock(&gs_park_lock);
	go = gs_park_enabled && !gs_park_busy && gs_parked_count < gs_park_wanted();
	if (go)
		gs_park_busy = true;
	spin_unlock(&gs_park_lock);
	if (!go)
		return;

	p = kzalloc(sizeof(*p), GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
	info = p ? call_usermodehelper_setup(gs_park_argv[0], gs_park_argv, gs_park_envp,
					     GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
					     gs_park_init, gs_park_cleanup, p) : NULL;
	if (!info) {
		kfree(p);
		gs_park_retry_later();
		return;
	}
	INIT_LIST_HEAD(&p->node);
	init_completion(&p->go);
	atomic_inc(&gs_park_live);
	/* Every way this can fail calls gs_park_cleanup(). */
	call_usermodehelper_exec(info, UMH_NO_WAIT);
}

/*
 * Whether the kernel's root is still the one @p copied. It moves when init
 * changes root (switch_root out of an initramfs): a helper forked before
 * would not find handler paths where the registrant and the check see them.
 */
static bool gs_park_root_current(const struct gs_parked *p)
{
	struct fs_struct *fs = init_task.fs;
	bool same;

	spin_lock(&fs->lock);
	same = fs->root.mnt == p->root_mnt && fs->root.dentry == p->root_dentry;
	spin_unlock(&fs->lock);
	return same;
}

/* Under gs_park_lock: send every parked helper away (they run nothing). */
static void gs_park_dismiss(void)
{
	struct gs_parked *p, *next;

	list_for_each_entry_safe(p, next, &gs_parked, node) {
		list_del_init(&p->node);
		complete(&p->go);
	}
	gs_parked_count = 0;
}

/* Hand @e to a parked helper and wake it; false if none is parked. */
static bool gs_park_claim(struct gs_entry *e)
{
	struct gs_parked *p;

	spin_lock(&gs_park_lock);
	p = list_first_entry_or_null(&gs_parked, struct gs_parked, node);
	if (p && !gs_park_root_current(p)) {
		/* Stale, and so are the others: send them away (others are parked later) and fork this time. */
		gs_park_dismiss();
		p = NULL;
	}
	if (p) {
		list_del_init(&p->node);
		gs_parked_count--;
		kref_get(&e->ref);	/* the helper's, put by gs_park_cleanup() */
		e->parked = true;
		p->e = e;
		complete(&p->go);
	}
	spin_unlock(&gs_park_lock);
	return p;
}

/* Keep a helper parked from now on. */
static void gs_park_start(void)
{
	if (!GS_CAN_PARK)
		return;
	spin_lock(&gs_park_lock);
	gs_park_enabled = true;
	spin_unlock(&gs_park_lock);
	queue_delayed_work(gs_wq, &gs_park_next, 0);
}

/* Send the parked helpers away and park no more. */
static void gs_park_stop(void)
{
	spin_lock(&gs_park_lock);
	gs_park_enabled = false;
	gs_park_dismiss();
	spin_unlock(&gs_park_lock);
}

/* Unload: no helper left that may still run the module's code. */
static void gs_park_exit(void)
{
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

/*
 * A helper's exit, seen from its pid (parked helpers are nobody's child
 * we can wait for): gone, or a zombie with no thread left.
 */
static bool gs_helper_exited(struct pid *pid)
{
	struct task_struct *task;
	bool exited;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_PID);
	exited = !task || (READ_ONCE(task->exit_state) && thread_group_empty(task));
	rcu_read_unlock();
	return exited;
}

/* Its exit status, as wait() would report it. */
static int gs_helper_status(struct task_struct *task)
{
	return (task->signal->flags & SIGNAL_GROUP_EXIT) ?
	       task->signal->group_exit_code : task->exit_code;
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

/*
 * Watermark boosting, an anti-fragmentation heuristic, raises every
 * watermark of a zone by up to 150% of its high one after a fallback, and
 * only kswapd resets it, once the zone is balanced: in an OOM it never is.
 * The pages lent for the helper would then sit below the boosted minimum,
 * out of reach of the worker that forks it (seen on 6.1: 4 MiB lent, boost
 * 4 MiB, the helper never forked). Drop the boost, as kswapd would. The
 * helper's movable pages then come from the lent pages' blocks, a fallback
 * that raises it again: a global OOM's wait drops it each GS_BOOST_SLICE
 * (seen on the 6.12 debug kernel in stock mode: 4 MiB boost again, free
 * pages under the boosted minimum, the parked helper stuck before exec).
 */
static void gs_drop_watermark_boost(void)
{
	unsigned long flags;
	int nid, i;

	for_each_online_node(nid) {
		pg_data_t *pgdat = NODE_DATA(nid);

		for (i = 0; i < MAX_NR_ZONES; i++) {
			struct zone *zone = &pgdat->node_zones[i];

			if (!populated_zone(zone) || !READ_ONCE(zone->watermark_boost))
				continue;
			spin_lock_irqsave(&zone->lock, flags);
			zone->watermark_boost = 0;
			spin_unlock_irqrestore(&zone->lock, flags);
		}
	}
}

/*
 * Kill every process in the handler cgroup @cgrp, and the helper @helper
 * should it not have joined it yet; take back their access to the memory
 * reserves. A process can leave that cgroup only with root's help, so a
 * double fork, setsid() or a re-parented orphan stays in reach. Passes
 * repeat until one finds no live process left unkilled: a process killed
 * cannot fork again, so each pass can meet only children forked before
 * the last. Returns how many processes were killed.
 */
static unsigned int gs_kill_handler_tree(struct cgroup *cgrp, struct pid *helper)
{
	struct task_struct *p;
	unsigned int killed = 0, fresh;
	int pass;

	rcu_read_lock();
	p = helper ? pid_task(helper, PIDTYPE_PID) : NULL;
	if (p && !p->exit_state &&
	    (!cgrp || !cgroup_is_descendant(task_dfl_cgroup(p), cgrp))) {
#ifdef GS_HAVE_OOM_RESERVES
		/* It may have them from its first step (gs_helper_init()). */
		oom_set_reserves(p, false);
#endif
		if (!send_sig(SIGKILL, p, 1))
			killed++;
	}
	rcu_read_unlock();
	if (!cgrp)
		return killed;

	for (pass = 0; pass < GS_KILL_PASSES; pass++) {
		fresh = 0;
		rcu_read_lock();
		for_each_process(p) {
			if (p->exit_state || !cgroup_is_descendant(task_dfl_cgroup(p), cgrp))
				continue;
#ifdef GS_HAVE_OOM_RESERVES
			oom_set_reserves(p, false);
#endif
			if (__fatal_signal_pending(p) || (p->signal->flags & SIGNAL_GROUP_EXIT))
				continue;
			if (!send_sig(SIGKILL, p, 1))
				fresh++;
		}
		rcu_read_unlock();
		killed += fresh;
		if (!fresh)
			break;
	}
	if (fresh)
		pr_warn("event=kill_incomplete passes=%d\n", GS_KILL_PASSES);
	return killed;
}

/* Where the helper of a timed-out handler is stuck, before it is killed. */
static void gs_show_stuck(struct pid *helper)
{
	struct task_struct *task = get_pid_task(helper, PIDTYPE_PID);
	struct task_struct *g, *t;

	if (task) {
		sched_show_task(task);
		put_task_struct(task);
		return;
	}
	/* Not forked yet: whoever is running or blocked may be what holds the fork up. */
	rcu_read_lock();
	for_each_process_thread(g, t) {
		unsigned int state = task_state_index(t);

		if (state == 0 || state == 2)	/* R or D */
			sched_show_task(t);
	}
	rcu_read_unlock();
}

static unsigned long gs_jiffies_left(unsigned long deadline)
{
	return time_before(jiffies, deadline) ? deadline - jiffies : 0;
}

/*
 * The next stretch of a wait for the handler of @e with @left jiffies to
 * go. In a global OOM, first drop the watermark boost that the helper's
 * allocations may have raised again since the last stretch, and keep the
 * stretch short so that it does not stand for long.
 */
static unsigned long gs_wait_slice(struct gs_entry *e, unsigned long left)
{
	if (!e->global)
		return left;
	gs_drop_watermark_boost();
	if (e->metered)
		gs_reserve_meter();
	return min(left, GS_BOOST_SLICE);
}

/* Wait until @deadline for @c, which @e's helper completes; false if it did not. */
static bool gs_wait_completion(struct gs_entry *e, struct completion *c,
			       unsigned long deadline)
{
	unsigned long left;

	while ((left = gs_jiffies_left(deadline)))
		if (wait_for_completion_timeout(c, gs_wait_slice(e, left)))
			return true;
	return try_wait_for_completion(c);
}

/*
 * Wait until @deadline for the exit of the parked helper that started for
 * @e; false if it is still running. Its status is the error that stopped
 * it before it ran the handler, if any, else its exit status.
 */
static bool gs_wait_exit(struct gs_entry *e, unsigned long deadline)
{
	struct task_struct *task = NULL;
	struct pid *pid;
	bool exited;

	spin_lock(&e->helper_lock);
	pid = get_pid(e->helper);
	if (e->helper_task)
		task = get_task_struct(e->helper_task);
	spin_unlock(&e->helper_lock);
	if (!pid) {			/* it failed before it was named */
		e->end_ns = ktime_get_ns();
		return true;
	}
	do {
		exited = wait_event_timeout(pid->wait_pidfd, gs_helper_exited(pid),
					    gs_wait_slice(e, gs_jiffies_left(deadline)));
	} while (!exited && gs_jiffies_left(deadline));
	if (exited) {
		e->end_ns = ktime_get_ns();
		if (!e->status)
			e->status = gs_helper_status(task);
	}
	put_task_struct(task);
	put_pid(pid);
	return exited;
}

/*
 * Start the handler of @e for the victim in @oc and wait for it, at most
 * @wait_ms; then nothing it started is left. Called from the OOM killer
 * with oom_lock held: every wait here is bounded.
 */
static void gs_fire(struct gs_entry *e, struct oom_control *oc, unsigned int wait_ms)
{
	unsigned long deadline, start_deadline, released = 0;
	struct cgroup *cgrp;
	bool abandoned, started, parked;
	struct pid *helper;
	unsigned int killed;

	e->global = !oc->memcg;
	e->victim_nr = task_tgid_nr(oc->chosen);
	gs_victim_snapshot(e, oc, wait_ms);
	init_completion(&e->started);
	init_completion(&e->done);
	spin_lock_init(&e->helper_lock);
	INIT_WORK(&e->work, gs_helper_work);

	parked = gs_park_claim(e);

	/*
	 * A global OOM has no memory for the handler: lend the reserve. Only
	 * a parked helper has the OOM reserves from its first step; a fork
	 * is the usermode-helper worker's, which has not, so then give it
	 * all back at once, within reach of every allocation.
	 */
	if (e->global) {
		gs_drop_watermark_boost();
		e->metered = GS_HANDLER_RESERVES && parked;
		released = e->metered ? gs_reserve_meter() : gs_reserve_release();
	}
	if (!parked) {
		e->info = call_usermodehelper_setup(e->argv[0], e->argv, e->envp,
						    GFP_ATOMIC | __GFP_NOWARN,
						    gs_helper_init, NULL, e);
		if (!e->info) {
			pr_warn("event=error victim=%d handler=%s errno=%d reason=nomem duration_ms=0\n",
				e->victim_nr, e->argv[0], ENOMEM);
			goto out;
		}
	}
	pr_info("event=start victim=%d registered=%d comm=%s handler=%s uid=%u constraint=%s timeout_ms=%u reserve_kb=%lu spawn=%s\n",
		e->victim_nr, pid_nr(e->pid), oc->chosen->comm, e->argv[0],
		from_kuid(&init_user_ns, e->cred->euid),
		gs_constraint_name(oc->constraint), wait_ms,
		released << (PAGE_SHIFT - 10), parked ? "parked" : "fork");
	if (!parked) {
		kref_get(&e->ref);
		queue_work(gs_wq, &e->work);
	}
	/*
	 * A helper that cannot even be forked (a global OOM with no memory
	 * left) would hold up the kill for its whole wait: give up on it after
	 * start_timeout_ms.
	 */
	deadline = jiffies + msecs_to_jiffies(wait_ms);
	start_deadline = jiffies + msecs_to_jiffies(min(READ_ONCE(start_timeout_ms), wait_ms));
	started = gs_wait_completion(e, &e->started, start_deadline);
	if (!started)
		abandoned = true;
	else if (parked)
		abandoned = !gs_wait_exit(e, deadline);
	else
		abandoned = !gs_wait_completion(e, &e->done, deadline);

	spin_lock(&e->helper_lock);
	e->abandoned = abandoned;
	helper = get_pid(e->helper);
	cgrp = e->cgrp;
	if (cgrp)
		css_get(&cgrp->self);
	spin_unlock(&e->helper_lock);

	if (abandoned && READ_ONCE(show_stuck))
		gs_show_stuck(helper);
	killed = gs_kill_handler_tree(cgrp, abandoned ? helper : NULL);
	if (abandoned)
		pr_warn("event=timeout victim=%d handler=%s helper=%d timeout_ms=%u phase=%s killed=%u\n",
			e->victim_nr, e->argv[0], pid_nr(helper), wait_ms,
			started ? "run" : "start", killed);
	else if (e->status < 0)
		pr_warn("event=error victim=%d handler=%s errno=%d reason=%s duration_ms=%llu killed=%u\n",
			e->victim_nr, e->argv[0], -e->status, e->why ?: "exec",
			div_u64(e->end_ns - e->start_ns, NSEC_PER_MSEC), killed);
	else if (e->status & 0x7f)
		pr_info("event=exit victim=%d handler=%s helper=%d signal=%d duration_ms=%llu killed=%u\n",
			e->victim_nr, e->argv[0], pid_nr(helper), e->status & 0x7f,
			div_u64(e->end_ns - e->start_ns, NSEC_PER_MSEC), killed);
	else
		pr_info("event=exit victim=%d handler=%s helper=%d status=%d duration_ms=%llu killed=%u\n",
			e->victim_nr, e->argv[0], pid_nr(helper), (e->status >> 8) & 0xff,
			div_u64(e->end_ns - e->start_ns, NSEC_PER_MSEC), killed);
	if (cgrp)
		css_put(&cgrp->self);
	put_pid(helper);
out:
	if (e->global && gs_reserve_target())
		queue_delayed_work(system_wq, &gs_reserve_work, GS_REFILL_DELAY);
	/* Park the next helper once the kill has given memory back. */
	if (parked)
		gs_park_again(GS_REFILL_DELAY);
}

/* Whether @euid owns the process with credentials @tcred, wholly. */
static bool gs_owns(kuid_t euid, const struct cred *tcred)
{
	return uid_eq(euid, tcred->uid) && uid_eq(euid, tcred->euid) &&
	       uid_eq(euid, tcred->suid);
}

/*
 * Whether the handler of @e may act for @victim: an admin's for any
 * process, a user's for the user's own only. Checked at the OOM as at
 * registration: since then the victim may have run a setuid program, or
 * be a descendant of a "+<pid>" registration that became another user.
 * Under rcu_read_lock().
 */
static bool gs_entry_covers(const struct gs_entry *e, struct task_struct *victim)
{
	return !e->user || gs_owns(e->cred->euid, __task_cred(victim));
}

/* The stable line for a registration whose handler does not run for @victim. */
static void gs_log_skip(struct task_struct *victim, const struct gs_entry *e,
			const char *why)
{
	pr_warn("event=skip victim=%d registered=%d handler=%s uid=%u reason=%s\n",
		task_tgid_nr(victim), pid_nr(e->pid), e->argv[0],
		from_kuid(&init_user_ns, e->cred->euid), why);
}

/*
 * The entry for @victim, taken out of the registry (it fires once): the
 * victim's own, else the nearest ancestor's "+<pid>" registration, among
 * those whose registrant may act for it. A registration passed over for
 * that is logged, and stays.
 */
static struct gs_entry *gs_claim(struct task_struct *victim)
{
	struct task_struct *p;
	struct gs_entry *e = NULL, *refused = NULL;

	rcu_read_lock();
	for (p = victim; p->pid; p = rcu_dereference(p->real_parent)) {
		e = gs_lookup(task_tgid(p));
		if (e && (p == victim || e->tree)) {
			if (gs_entry_covers(e, victim))
				break;
			if (!refused)
				refused = e;
		}
		e = NULL;
	}
	if (!e && refused)
		gs_log_skip(victim, refused, "not_owner");
	if (e && (test_and_set_bit(GS_FIRED, &e->flags) || !kref_get_unless_zero(&e->ref)))
		e = NULL;
	rcu_read_unlock();
	if (e)
		gs_unlink_put(e);
	return e;
}

/*
 * How long the handler of @e may hold the OOM killer: its registrant's
 * timeout, within what is left of the budgets. 0, and why in *@why: not
 * at all.
 */
static unsigned int gs_wait_budget(struct gs_entry *e, u64 now, const char **why)
{
	s64 wait = READ_ONCE(timeout_ms), left;

	if (e->user)
		wait = min_t(s64, wait, READ_ONCE(user_timeout_ms));
	spin_lock(&gs_lock);
	left = gs_bucket_level(&gs_hold, READ_ONCE(hold_budget_ms), now);
	*why = "budget";
	if (e->user && gs_bucket_level(&e->user->hold, READ_ONCE(user_hold_budget_ms), now) < left) {
		left = e->user->hold.left_ms;
		*why = "user_budget";
	}
	spin_unlock(&gs_lock);
	wait = min(wait, left);
	return wait < GS_MIN_WAIT_MS ? 0 : wait;
}

static void gs_charge(struct gs_entry *e, u64 since)
{
	s64 held = div_u64(ktime_get_ns() - since, NSEC_PER_MSEC);

	spin_lock(&gs_lock);
	gs_hold.left_ms -= held;
	if (e->user)
		e->user->hold.left_ms -= held;
	spin_unlock(&gs_lock);
}

/*
 * The OOM killer has chosen oc->chosen and will kill it when this returns:
 * run its handler first. Called with oom_lock held, in process context.
 */
void gs_victim_chosen(struct oom_control *oc)
{
	unsigned int wait_ms;
	struct gs_entry *e;
	const char *why;

	e = gs_claim(oc->chosen);
	if (!e)
		return;

	e->start_ns = ktime_get_ns();
	wait_ms = gs_wait_budget(e, e->start_ns, &why);
	/* No allocation here (no path lookup): the helper checks the cgroup itself. */
	kernel_param_lock(THIS_MODULE);
	if (!handler_cgroup[0]) {
		wait_ms = 0;
		why = "no_handler_cgroup";
	}
	kernel_param_unlock(THIS_MODULE);
	if (!wait_ms) {
		gs_log_skip(oc->chosen, e, why);
	} else {
		gs_fire(e, oc, wait_ms);
		gs_charge(e, e->start_ns);
	}
	gs_entry_put(e);
}

/* ---- /proc/graceful_shutdown ---- */

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
 * Caller holds gs_write_mutex, so only the OOM path can change the registry
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
	fits = grow <= 0 || gs_count + grow <= READ_ONCE(max_entries);
	if (fits && user_grow > 0 &&
	    user->entries + user_grow > READ_ONCE(user_max_entries)) {
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

/*
 * The registry as the reader may see it. Walked under RCU: a reader never
 * holds up the OOM path, however many entries there are.
 */
static int gs_proc_show(struct seq_file *m, void *v)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct file *file = m->private;
	bool admin = gs_is_admin(file);
	struct gs_entry *e;
	pid_t nr;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(gs_registry, bkt, e, hnode) {
		if (test_bit(GS_FIRED, &e->flags) || gs_process_gone(e->pid))
			continue;
		if (!admin && !uid_eq(e->cred->euid, file->f_cred->euid))
			continue;
		nr = pid_nr_ns(e->pid, ns);
		if (nr)
			seq_printf(m, "%s%d %s\n", e->tree ? "+" : "", nr, e->cmdline);
	}
	rcu_read_unlock();
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

static void gs_registry_clear(void)
{
	struct gs_entry *e;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(gs_registry, bkt, e, hnode)
		gs_unlink_put(e);
	rcu_read_unlock();
}

static int __init gs_init(void)
{
	int err;

	gs_bucket_init(&gs_hold, hold_budget_ms);
	gs_wq = alloc_workqueue("graceful_shutdown", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!gs_wq)
		return -ENOMEM;
	if (!gs_reserve_fill(GFP_KERNEL | __GFP_NOWARN)) {
		err = -ENOMEM;
		goto err_reserve;
	}
	if (!proc_create(GS_PROC_NAME, GS_PROC_MODE, NULL, &gs_proc_ops)) {
		err = -ENOMEM;
		goto err_reserve;
	}
	err = gs_hook_init();
	if (err)
		goto err_proc;
	err = register_pm_notifier(&gs_park_pm_nb);
	if (err)
		goto err_hook;
	gs_park_start();
	pr_info("loaded: hook=%s timeout_ms=%u user_timeout_ms=%u start_timeout_ms=%u max_entries=%u user_max_entries=%u hold_budget_ms=%u user_hold_budget_ms=%u reserve_kb=%u global_nice=%d handler_cgroup=%s reserves=%s parked=%s\n",
		gs_hook_mode(), timeout_ms, user_timeout_ms, start_timeout_ms, max_entries,
		user_max_entries, hold_budget_ms, user_hold_budget_ms, reserve_kb, global_nice,
		handler_cgroup[0] ? handler_cgroup : "(none)",
		GS_RESERVES_ACCESS, GS_CAN_PARK ? "yes" : "no");
	return 0;

err_hook:
	gs_hook_exit();
err_proc:
	remove_proc_entry(GS_PROC_NAME, NULL);
err_reserve:
	gs_reserve_release();
	destroy_workqueue(gs_wq);
	return err;
}

static void __exit gs_exit(void)
{
	unregister_pm_notifier(&gs_park_pm_nb);
	remove_proc_entry(GS_PROC_NAME, NULL);
	/* Waits for OOM callbacks in flight; each waits for its helper, bounded. */
	gs_hook_exit();
	/* The parked helpers leave without running anything; no other is parked. */
	gs_park_exit();
	/* Waits for helpers still running (those past their time were killed). */
	destroy_workqueue(gs_wq);
	cancel_delayed_work_sync(&gs_reserve_work);
	gs_reserve_release();
	mutex_lock(&gs_write_mutex);
	gs_registry_clear();
	mutex_unlock(&gs_write_mutex);
	/* Entries are freed after a grace period; their users with them. */
	rcu_barrier();
	gs_users_sweep(true);
	pr_info("unloaded\n");
}

module_init(gs_init);
module_exit(gs_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("gs-kit developers");
MODULE_DESCRIPTION("Run a registered handler before the OOM killer kills its process");
