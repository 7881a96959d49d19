// SPDX-License-Identifier: GPL-2.0
/*
 * proc_create_module - run a process's graceful-shutdown handler before the
 * OOM killer kills it.
 *
 * Userspace registers "<pid> <handler> [args...]" in /proc/graceful_shutdown.
 * When the OOM killer chooses a registered process as its victim (the
 * oom_victim notifier added to mm/oom_kill.c by the gs-kit patch), the
 * handler is started as a user-mode helper with the registrant's credentials
 * and an environment describing the victim, and the OOM killer waits for it
 * at most timeout_ms before going on with the kill. Each registration fires
 * at most once. Every start, exit and timeout is logged to the kernel log
 * with the prefix "graceful_shutdown: ".
 *
 * The registry lives in memory only: nothing is read from disk, parsed or
 * allocated while choosing what to do for an OOM victim (apart from the
 * small user-mode helper request, which is GFP_ATOMIC). For a global OOM a
 * reserve of pages, taken at load, is given back to the page allocator just
 * before the helper is started so that it can fork and exec, and is taken
 * again once memory is available.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/hashtable.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/umh.h>
#include <linux/workqueue.h>

#define GS_PROC_NAME	"graceful_shutdown"
/* One write may carry many lines; bound it so a write cannot pin memory. */
#define GS_WRITE_MAX	(64 * 1024)
/* One line: pid, handler path and its arguments. */
#define GS_LINE_MAX	4096
/* Arguments after the handler path. */
#define GS_ARGS_MAX	64
#define GS_ENV_MAX	12
#define GS_ENV_SIZE	1024
#define GS_HASH_BITS	10
/*
 * Retake the handler reserve soon after a global OOM (the kill frees
 * memory right after the hook returns), so that a second OOM close behind
 * the first still finds it; retry at the same pace while memory is short.
 */
#define GS_REFILL_DELAY	(HZ / 10)
/*
 * World-writable on purpose: any user may register its own processes.
 * gs_may_act_on() decides, line by line, what a writer may register.
 */
#define GS_PROC_MODE	0666

static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "How long the OOM killer waits for a handler before killing (ms, default 5000)");

static unsigned int start_timeout_ms = 1000;
module_param(start_timeout_ms, uint, 0644);
MODULE_PARM_DESC(start_timeout_ms,
		 "How long the OOM killer waits for a handler to start, within timeout_ms (ms, default 1000)");

static unsigned int max_entries = 1024;
module_param(max_entries, uint, 0644);
MODULE_PARM_DESC(max_entries, "Maximum number of registered processes (default 1024)");

static unsigned int reserve_kb = 4096;
module_param(reserve_kb, uint, 0444);
MODULE_PARM_DESC(reserve_kb,
		 "Memory held back for starting handlers in a global OOM (KiB, default 4096, 0 disables)");

/*
 * A registration. It is in the registry until it fires, is removed or
 * replaced, or its process is found gone; from then on it is owned by
 * whoever unlinked it, through its reference count.
 */
struct gs_entry {
	struct hlist_node hnode;	/* in gs_registry, under gs_lock */
	struct kref ref;
	struct pid *pid;		/* the registered process (its TGID) */
	const struct cred *cred;	/* the registrant's, for the handler */
	char *cmdline;			/* "handler arg...", as listed */
	char **argv;
	int argc;

	/* Used once, when the entry fires. */
	struct subprocess_info *info;
	struct work_struct work;
	struct completion started;	/* the helper exists */
	struct completion done;		/* the helper has exited */
	spinlock_t helper_lock;		/* protects helper and abandoned */
	struct pid *helper;		/* set by the helper as it starts */
	bool abandoned;			/* the OOM killer stopped waiting */
	pid_t victim_nr;
	u64 start_ns;
	char *envp[GS_ENV_MAX + 1];
	char env[GS_ENV_SIZE];
};

static DEFINE_HASHTABLE(gs_registry, GS_HASH_BITS);
static unsigned int gs_count;
/* Taken in the OOM path: hold it briefly, never allocate or sleep under it. */
static DEFINE_SPINLOCK(gs_lock);
/* Serialises writers, so that a multi-line write is checked and applied as one. */
static DEFINE_MUTEX(gs_write_mutex);
static struct workqueue_struct *gs_wq;

/* The handler reserve: order-0 pages chained through page->lru. */
static LIST_HEAD(gs_reserve);
static unsigned long gs_reserve_count;
static DEFINE_SPINLOCK(gs_reserve_lock);
static void gs_reserve_refill(struct work_struct *work);
static DECLARE_DELAYED_WORK(gs_reserve_work, gs_reserve_refill);

static unsigned long gs_reserve_target(void)
{
	return ((unsigned long)reserve_kb * 1024) >> PAGE_SHIFT;
}

/* Take pages for the reserve until it is full or the allocator says no. */
static bool gs_reserve_fill(gfp_t gfp)
{
	unsigned long target = gs_reserve_target();
	struct page *page;

	for (;;) {
		spin_lock(&gs_reserve_lock);
		if (gs_reserve_count >= target) {
			spin_unlock(&gs_reserve_lock);
			return true;
		}
		spin_unlock(&gs_reserve_lock);

		page = alloc_page(gfp);
		if (!page)
			return false;
		spin_lock(&gs_reserve_lock);
		list_add(&page->lru, &gs_reserve);
		gs_reserve_count++;
		spin_unlock(&gs_reserve_lock);
	}
}

/* Give the whole reserve back to the page allocator. */
static unsigned long gs_reserve_release(void)
{
	struct page *page, *next;
	unsigned long freed;
	LIST_HEAD(pages);

	spin_lock(&gs_reserve_lock);
	list_splice_init(&gs_reserve, &pages);
	freed = gs_reserve_count;
	gs_reserve_count = 0;
	spin_unlock(&gs_reserve_lock);

	list_for_each_entry_safe(page, next, &pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return freed;
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

static void gs_entry_release(struct kref *ref)
{
	struct gs_entry *e = container_of(ref, struct gs_entry, ref);

	put_pid(e->helper);
	put_pid(e->pid);
	put_cred(e->cred);
	argv_free(e->argv);
	kfree(e->cmdline);
	kfree(e);
}

static void gs_entry_put(struct gs_entry *e)
{
	kref_put(&e->ref, gs_entry_release);
}

static void gs_entries_put(struct hlist_head *list)
{
	struct gs_entry *e;
	struct hlist_node *tmp;

	hlist_for_each_entry_safe(e, tmp, list, hnode) {
		hlist_del(&e->hnode);
		gs_entry_put(e);
	}
}

/* Caller holds gs_lock. */
static struct gs_entry *gs_lookup(struct pid *pid)
{
	struct gs_entry *e;

	hash_for_each_possible(gs_registry, e, hnode, (unsigned long)pid)
		if (e->pid == pid)
			return e;
	return NULL;
}

/* Caller holds gs_lock. */
static void gs_unlink(struct gs_entry *e, struct hlist_head *dead)
{
	hash_del(&e->hnode);
	gs_count--;
	hlist_add_head(&e->hnode, dead);
}

static bool gs_process_gone(struct pid *pid)
{
	bool gone;

	rcu_read_lock();
	gone = !pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	return gone;
}

/* Move the entries of exited processes to @dead. Caller holds gs_lock. */
static void gs_prune(struct hlist_head *dead)
{
	struct gs_entry *e;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(gs_registry, bkt, tmp, e, hnode)
		if (gs_process_gone(e->pid))
			gs_unlink(e, dead);
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

/* Describe the victim to the handler. No allocation: the OOM path. */
static void gs_env_fill(struct gs_entry *e, struct oom_control *oc)
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
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	cgroup_path(task_dfl_cgroup(victim), cgroup, sizeof(cgroup));
	rcu_read_unlock();
#endif

	gs_env_add(e, "HOME=/");
	gs_env_add(e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	gs_env_add(e, "GS_PID=%d", e->victim_nr);
	gs_env_add(e, "GS_COMM=%s", comm);
	gs_env_add(e, "GS_RSS_KB=%lu", rss_kb);
	gs_env_add(e, "GS_OOM_SCORE_ADJ=%d", victim->signal->oom_score_adj);
	gs_env_add(e, "GS_CONSTRAINT=%s", gs_constraint_name(oc->constraint));
	gs_env_add(e, "GS_CGROUP=%s", cgroup);
	gs_env_add(e, "GS_TIMEOUT_MS=%u", READ_ONCE(timeout_ms));
	gs_env_add(e, "GS_CHOSEN_NS=%llu", e->start_ns);
}

/*
 * Give @new the identity of @reg: ids, capabilities, groups, user and the
 * user's process accounting (ucounts), each with its own reference, so
 * that the helper is counted against the registrant like any process it
 * forks would be. A copy of @reg is made with prepare_creds() under
 * override_creds() (only exported helpers take those references); the two
 * creds then trade identities and the copy, now holding @new's old
 * references, is dropped.
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
	swap(new->ucounts, copy->ucounts);
	abort_creds(copy);
	return 0;
}

/*
 * Runs in the new helper process, before its credentials are committed and
 * before exec: record who it is, keep it out of the OOM killer's choice and
 * give it the registrant's credentials, never more.
 */
static int gs_helper_init(struct subprocess_info *info, struct cred *new)
{
	struct gs_entry *e = info->data;

	spin_lock(&e->helper_lock);
	if (e->abandoned) {
		spin_unlock(&e->helper_lock);
		return -ECANCELED;
	}
	e->helper = get_task_pid(current, PIDTYPE_PID);
	spin_unlock(&e->helper_lock);
	complete(&e->started);

	current->signal->oom_score_adj = OOM_SCORE_ADJ_MIN;
	current->signal->oom_score_adj_min = OOM_SCORE_ADJ_MIN;
	return gs_take_identity(new, e->cred);
}

static void gs_helper_work(struct work_struct *work)
{
	struct gs_entry *e = container_of(work, struct gs_entry, work);
	u64 ms;
	int ret;

	ret = call_usermodehelper_exec(e->info, UMH_WAIT_PROC);
	ms = div_u64(ktime_get_ns() - e->start_ns, NSEC_PER_MSEC);
	if (ret < 0)
		pr_warn("event=error victim=%d handler=%s errno=%d duration_ms=%llu\n",
			e->victim_nr, e->argv[0], -ret, ms);
	else if (ret & 0x7f)
		pr_info("event=exit victim=%d handler=%s helper=%d signal=%d duration_ms=%llu\n",
			e->victim_nr, e->argv[0], pid_nr(e->helper), ret & 0x7f,
			ms);
	else
		pr_info("event=exit victim=%d handler=%s helper=%d status=%d duration_ms=%llu\n",
			e->victim_nr, e->argv[0], pid_nr(e->helper),
			(ret >> 8) & 0xff, ms);
	complete_all(&e->done);
	gs_entry_put(e);
}

/* Under rcu_read_lock(): is @p the helper or one of its descendants? */
static bool gs_in_helper_tree(struct task_struct *p, struct task_struct *helper)
{
	for (; p->pid; p = rcu_dereference(p->real_parent))
		if (same_thread_group(p, helper))
			return true;
	return false;
}

/*
 * Send @sig to the helper and to every process descended from it; returns
 * how many processes were signalled. Ancestry rather than the process group
 * or session, which a handler's child can leave with setsid().
 */
static unsigned int gs_signal_helper_tree(struct pid *helper, int sig)
{
	struct task_struct *root, *p;
	unsigned int n = 0;

	rcu_read_lock();
	root = pid_task(helper, PIDTYPE_PID);
	if (root) {
		for_each_process(p) {
			if (gs_in_helper_tree(p, root) && !send_sig(sig, p, 1))
				n++;
		}
	}
	rcu_read_unlock();
	return n;
}

/*
 * A handler past its time may have started children of its own (a script's
 * pipeline, a background job): none may outlive it. Stop the whole tree
 * first, so that no member forks or exits while it is walked (an exit would
 * hand its children to init, out of reach), then kill it.
 */
static unsigned int gs_kill_helper_tree(struct pid *helper)
{
	gs_signal_helper_tree(helper, SIGSTOP);
	return gs_signal_helper_tree(helper, SIGKILL);
}

static unsigned long gs_jiffies_left(unsigned long deadline)
{
	return time_before(jiffies, deadline) ? deadline - jiffies : 0;
}

/*
 * Start the handler of @e for the victim in @oc and wait for it, at most
 * timeout_ms. Called from the OOM killer with oom_lock held: every wait
 * here is bounded.
 */
static void gs_fire(struct gs_entry *e, struct oom_control *oc)
{
	bool global = !oc->memcg;
	unsigned long released = 0;
	struct pid *helper;
	unsigned int killed = 0;
	unsigned int wait_ms = READ_ONCE(timeout_ms);
	unsigned long deadline, start_wait;

	e->start_ns = ktime_get_ns();
	e->victim_nr = pid_nr(e->pid);
	gs_env_fill(e, oc);
	init_completion(&e->started);
	init_completion(&e->done);
	spin_lock_init(&e->helper_lock);
	INIT_WORK(&e->work, gs_helper_work);

	/* A global OOM has no memory for fork and exec: lend the reserve. */
	if (global)
		released = gs_reserve_release();

	e->info = call_usermodehelper_setup(e->argv[0], e->argv, e->envp,
					    GFP_ATOMIC | __GFP_NOWARN,
					    gs_helper_init, NULL, e);
	if (!e->info) {
		pr_warn("event=error victim=%d handler=%s reason=nomem\n",
			e->victim_nr, e->argv[0]);
		goto out;
	}
	pr_info("event=start victim=%d comm=%s handler=%s uid=%u constraint=%s reserve_kb=%lu\n",
		e->victim_nr, oc->chosen->comm, e->argv[0],
		from_kuid(&init_user_ns, e->cred->euid),
		gs_constraint_name(oc->constraint), released << (PAGE_SHIFT - 10));

	kref_get(&e->ref);
	queue_work(gs_wq, &e->work);
	/*
	 * A helper that cannot even be forked (a global OOM with no reserve
	 * left) would hold up the kill for all of timeout_ms: give up on it
	 * after start_timeout_ms.
	 */
	deadline = jiffies + msecs_to_jiffies(wait_ms);
	start_wait = msecs_to_jiffies(min(READ_ONCE(start_timeout_ms), wait_ms));
	if (wait_for_completion_timeout(&e->started, start_wait) &&
	    wait_for_completion_timeout(&e->done, gs_jiffies_left(deadline)))
		goto out;

	spin_lock(&e->helper_lock);
	e->abandoned = true;
	helper = get_pid(e->helper);
	spin_unlock(&e->helper_lock);
	if (helper)
		killed = gs_kill_helper_tree(helper);
	pr_warn("event=timeout victim=%d handler=%s helper=%d timeout_ms=%u phase=%s killed=%u\n",
		e->victim_nr, e->argv[0], pid_nr(helper), wait_ms,
		helper ? "run" : "start", killed);
	put_pid(helper);
out:
	if (global && gs_reserve_target())
		queue_delayed_work(system_wq, &gs_reserve_work, GS_REFILL_DELAY);
}

static int gs_oom_victim(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	struct oom_control *oc = data;
	struct gs_entry *e;

	spin_lock(&gs_lock);
	e = gs_lookup(task_tgid(oc->chosen));
	if (e) {
		/* Fires at most once: the entry leaves the registry now. */
		hash_del(&e->hnode);
		gs_count--;
	}
	spin_unlock(&gs_lock);
	if (!e)
		return NOTIFY_DONE;

	gs_fire(e, oc);
	gs_entry_put(e);
	return NOTIFY_OK;
}

static struct notifier_block gs_oom_nb = {
	.notifier_call = gs_oom_victim,
};

/* ---- /proc/graceful_shutdown ---- */

static bool gs_is_admin(struct file *file)
{
	return file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN);
}

/* Root may act on any process; a user on its own processes only. */
static int gs_may_act_on(struct file *file, struct pid *pid)
{
	const struct cred *cred = file->f_cred;
	const struct cred *tcred;
	struct task_struct *task;
	int err = -ESRCH;

	if (gs_is_admin(file))
		return 0;
	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (task) {
		tcred = __task_cred(task);
		err = uid_eq(cred->euid, tcred->uid) &&
		      uid_eq(cred->euid, tcred->euid) &&
		      uid_eq(cred->euid, tcred->suid) ? 0 : -EPERM;
	}
	rcu_read_unlock();
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
 * The handler must be an absolute path to a regular file the registrant may
 * execute, owned by root or the registrant, and writable by no one else.
 */
static int gs_check_handler(struct file *file, const char *path)
{
	const struct cred *cred = file->f_cred;
	const struct cred *old;
	struct inode *inode;
	struct path p;
	int err;

	if (path[0] != '/')
		return -EINVAL;
	old = override_creds(cred);
	err = kern_path(path, LOOKUP_FOLLOW, &p);
	if (err)
		goto out_creds;
	inode = d_inode(p.dentry);
	if (!S_ISREG(inode->i_mode) || (p.mnt->mnt_flags & MNT_NOEXEC)) {
		err = -EACCES;
		goto out_path;
	}
	err = gs_path_may_exec(&p);
	if (err)
		goto out_path;
	if ((inode->i_mode & 0022) ||
	    !(uid_eq(inode->i_uid, GLOBAL_ROOT_UID) ||
	      uid_eq(inode->i_uid, cred->euid)))
		err = -EPERM;
out_path:
	path_put(&p);
out_creds:
	revert_creds(old);
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
	e->argv = argv_split(GFP_KERNEL, cmd, &e->argc);
	if (!e->argv) {
		kfree(e);
		return ERR_PTR(-ENOMEM);
	}
	e->pid = pid;
	e->cred = get_cred(file->f_cred);
	err = -EINVAL;
	if (e->argc < 1)
		goto fail;
	err = -E2BIG;
	if (e->argc > GS_ARGS_MAX + 1)
		goto fail;
	err = gs_check_handler(file, e->argv[0]);
	if (err)
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

/* Parse one non-empty line into @ops. */
static int gs_parse_line(struct file *file, char *line, struct list_head *ops)
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
	/* "-<pid>" has nothing after it; "<pid>" needs a handler. */
	if ((pidstr[0] == '-') == (rest && *rest))
		err = -EINVAL;
	else
		err = gs_parse_pid(pidstr + (pidstr[0] == '-'), &op->pid);
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
		op->add = e;
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
 * Apply every op, or none: check them all against the registry first.
 * Nothing here may fail for want of memory, as gs_lock is held.
 */
static int gs_apply(struct list_head *ops, struct hlist_head *dead)
{
	unsigned int count;
	struct gs_entry *old;
	struct gs_op *op;

	spin_lock(&gs_lock);
	gs_prune(dead);
	count = gs_count;
	list_for_each_entry(op, ops, node) {
		old = gs_lookup(op->pid);
		if (!op->add && !old) {
			spin_unlock(&gs_lock);
			return -ENOENT;
		}
		if (op->add && !old)
			count++;
		if (!op->add)
			count--;
	}
	/* Only a write that grows the registry can overflow it. */
	if (count > gs_count && count > READ_ONCE(max_entries)) {
		spin_unlock(&gs_lock);
		return -ENOSPC;
	}
	list_for_each_entry(op, ops, node) {
		old = gs_lookup(op->pid);
		if (old)
			gs_unlink(old, dead);
		if (op->add) {
			/* The registry takes over the op's entry and pid. */
			hash_add(gs_registry, &op->add->hnode,
				 (unsigned long)op->pid);
			gs_count++;
			op->add = NULL;
			op->pid = NULL;
		}
	}
	spin_unlock(&gs_lock);
	return 0;
}

static ssize_t gs_proc_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	char *buf, *cursor, *line;
	HLIST_HEAD(dead);
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
			err = gs_parse_line(file, strim(line), &ops);
	}
	if (!err)
		err = gs_apply(&ops, &dead);
	mutex_unlock(&gs_write_mutex);

	gs_ops_free(&ops);
	gs_entries_put(&dead);
	kfree(buf);
	return err ? err : count;
}

static int gs_proc_show(struct seq_file *m, void *v)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct file *file = m->private;
	bool admin = gs_is_admin(file);
	struct gs_entry *e;
	HLIST_HEAD(dead);
	pid_t nr;
	int bkt;

	spin_lock(&gs_lock);
	gs_prune(&dead);
	hash_for_each(gs_registry, bkt, e, hnode) {
		if (!admin && !uid_eq(e->cred->euid, file->f_cred->euid))
			continue;
		nr = pid_nr_ns(e->pid, ns);
		if (nr)
			seq_printf(m, "%d %s\n", nr, e->cmdline);
	}
	spin_unlock(&gs_lock);
	gs_entries_put(&dead);
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
	struct hlist_node *tmp;
	struct gs_entry *e;
	HLIST_HEAD(dead);
	int bkt;

	spin_lock(&gs_lock);
	hash_for_each_safe(gs_registry, bkt, tmp, e, hnode)
		gs_unlink(e, &dead);
	spin_unlock(&gs_lock);
	gs_entries_put(&dead);
}

static int __init gs_init(void)
{
	int err;

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
	err = register_oom_victim_notifier(&gs_oom_nb);
	if (err)
		goto err_proc;
	pr_info("loaded: timeout_ms=%u start_timeout_ms=%u max_entries=%u reserve_kb=%u\n",
		timeout_ms, start_timeout_ms, max_entries, reserve_kb);
	return 0;

err_proc:
	remove_proc_entry(GS_PROC_NAME, NULL);
err_reserve:
	gs_reserve_release();
	destroy_workqueue(gs_wq);
	return err;
}

static void __exit gs_exit(void)
{
	remove_proc_entry(GS_PROC_NAME, NULL);
	/* Waits for OOM callbacks in flight; each waits for its helper, bounded. */
	unregister_oom_victim_notifier(&gs_oom_nb);
	/* Waits for helpers still running (those past timeout_ms were killed). */
	destroy_workqueue(gs_wq);
	cancel_delayed_work_sync(&gs_reserve_work);
	gs_reserve_release();
	gs_registry_clear();
	pr_info("unloaded\n");
}

module_init(gs_init);
module_exit(gs_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("gs-kit developers");
MODULE_DESCRIPTION("Run a registered handler before the OOM killer kills its process");
