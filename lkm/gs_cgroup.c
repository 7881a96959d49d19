// SPDX-License-Identifier: GPL-2.0
/*
 * Handler cgroups, one per principal, under the handler_cgroup directory:
 *
 *   <handler_cgroup>/admin/run       root's handlers (memory.min: max)
 *   <handler_cgroup>/user-<uid>/run  one user's (memory.max: user_handler_memory_kb)
 *
 * A handler's memory, and whatever its run leaves charged (tmpfs, shm and
 * memfd pages outlive the processes that made them), is charged to its
 * principal's cgroup: a user's handlers cannot take more than that user's
 * cap, and what they leave counts against that user's later handlers only,
 * never root's or another user's. The handlers run in the "run" leaf, so
 * that the principal's directory is never a leaf itself: systemd, which
 * may rewrite the subtree_control of a slice it manages, cannot turn the
 * memory controller off under a cgroup that uses it below.
 *
 * The cgroups are made at registration, never in the OOM path, as the
 * kernel (root) would make them; after each run, once its processes are
 * gone, what the principal's cgroup still holds is logged (gs_leftover.c).
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "gs_internal.h"

/* The kernel's own credentials: the handler cgroups are root's. */
static const struct cred *gs_kernel_cred;
/**
 * gs_cgroup_init - take the credentials the handler cgroups are made with
 *
 * Context: module load.
 * Return: 0, or -ENOMEM.
 */
int gs_cgroup_init(void)
{
	gs_kernel_cred = prepare_kernel_cred(&init_task);
	return gs_kernel_cred ? 0 : -ENOMEM;
}

/**
 * gs_cgroup_exit - drop the credentials the handler cgroups are made with
 *
 * Context: module unload, once no handler cgroup is made or read.
 */
void gs_cgroup_exit(void)
{
	put_cred(gs_kernel_cred);
}

static int gs_cg_path(char *buf, size_t size, const char *dir, const char *file)
{
	return snprintf(buf, size, "%s/%s", dir, file) >= size ? -ENAMETOOLONG : 0;
}

/*
 * Read (@write false) or write the file @dir/@file of a cgroup, as the
 * kernel: @len bytes of @buf at most. The bytes read or written, or an
 * error.
 */
static ssize_t gs_cg_io(const char *dir, const char *file, bool write, char *buf, size_t len)
{
	char path[GS_CGROUP_PATH_MAX + 32];
	const struct cred *old;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;

	n = gs_cg_path(path, sizeof(path), dir, file);
	if (n)
		return n;
	old = override_creds(gs_kernel_cred);
	scoped_with_init_fs()
		f = filp_open(path, write ? O_WRONLY : O_RDONLY, 0);
	if (IS_ERR(f)) {
		n = PTR_ERR(f);
	} else {
		n = write ? kernel_write(f, buf, len, &pos) : kernel_read(f, buf, len, &pos);
		fput(f);
	}
	revert_creds(old);
	return n;
}

/* Write @val to the file @dir/@file of a cgroup, as the kernel. */
static int gs_cg_write(const char *dir, const char *file, const char *val)
{
	ssize_t n = gs_cg_io(dir, file, true, (char *)val, strlen(val));

	return n < 0 ? n : 0;
}

/**
 * gs_cg_read_u64 - the number at the start of the file @dir/@file of a cgroup
 * @dir: the cgroup's directory
 * @file: the file in it
 * @val: the number
 *
 * Read as the kernel, from the kernel's root directory.
 *
 * Context: process context; may sleep.
 * Return: 0, or the error reading or parsing it.
 */
int gs_cg_read_u64(const char *dir, const char *file, u64 *val)
{
	char buf[32];
	ssize_t n = gs_cg_io(dir, file, false, buf, sizeof(buf) - 1);

	if (n < 0)
		return n;
	buf[n] = '\0';
	return kstrtoull(strim(buf), 10, val);
}

/* Make the directory @path, as the kernel; one that exists is fine. */
static int gs_cg_mkdir(const char *path)
{
	const struct cred *old;
	struct dentry *dentry;
	struct path parent;
	int err;

	old = override_creds(gs_kernel_cred);
	scoped_with_init_fs()
#ifdef GS_HAVE_START_CREATING_PATH
		dentry = start_creating_path(AT_FDCWD, path, &parent, LOOKUP_DIRECTORY);
#else
		dentry = kern_path_create(AT_FDCWD, path, &parent, LOOKUP_DIRECTORY);
#endif
	err = PTR_ERR_OR_ZERO(dentry);
	if (!err) {
		/* From 6.15 vfs_mkdir() returns the dentry to finish with, or an error. */
#if defined(GS_HAVE_MKDIR_DELEGATED)
		dentry = vfs_mkdir(&nop_mnt_idmap, d_inode(parent.dentry), dentry, 0755, NULL);
		err = PTR_ERR_OR_ZERO(dentry);
#elif defined(GS_HAVE_MKDIR_DENTRY)
		dentry = vfs_mkdir(&nop_mnt_idmap, d_inode(parent.dentry), dentry, 0755);
		err = PTR_ERR_OR_ZERO(dentry);
#elif defined(GS_HAVE_MKDIR_IDMAP)
		err = vfs_mkdir(&nop_mnt_idmap, d_inode(parent.dentry), dentry, 0755);
#elif defined(GS_HAVE_MKDIR_USERNS)
		err = vfs_mkdir(&init_user_ns, d_inode(parent.dentry), dentry, 0755);
#else
		err = vfs_mkdir(d_inode(parent.dentry), dentry, 0755);
#endif
#ifdef GS_HAVE_START_CREATING_PATH
		end_creating_path(&parent, dentry);
#else
		done_path_create(&parent, dentry);
#endif
	}
	revert_creds(old);
	return err == -EEXIST ? 0 : err;
}

/*
 * The cgroup at @dir, a directory of the cgroup v2 hierarchy as the caller
 * sees it, with a reference; or an ERR_PTR.
 */
static struct cgroup *gs_cg_get(const char *dir)
{
	struct cgroup *cgrp;
	struct path p;
	char *buf, *rel;
	int err;

	scoped_with_init_fs()
		err = kern_path(dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (err)
		return ERR_PTR(err);
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf) {
		cgrp = ERR_PTR(-ENOMEM);
	} else if (p.mnt->mnt_sb->s_magic != CGROUP2_SUPER_MAGIC) {
		cgrp = ERR_PTR(-EOPNOTSUPP);
	} else {
		/* Its path within the hierarchy, as cgroup_get_from_path() wants it. */
		rel = dentry_path_raw(p.dentry, buf, PATH_MAX);
		cgrp = IS_ERR(rel) ? ERR_CAST(rel) : cgroup_get_from_path(rel);
	}
	kfree(buf);
	path_put(&p);
	return cgrp;
}

/* gs_hcg_make(), in the calling (kernel) context. */
static struct gs_hcg *gs_hcg_make_here(const char *name, bool admin, int *err)
{
	char parent[GS_CGROUP_PATH_MAX], bytes[24];
	struct gs_hcg *h;
	int mem;

	h = kzalloc(sizeof(*h), GFP_KERNEL);
	if (!h) {
		*err = -ENOMEM;
		return NULL;
	}
	kref_init(&h->ref);
	h->gen = gs_handler_cgroup(parent, sizeof(parent));
	strscpy(h->name, name, sizeof(h->name));
	*err = -EOPNOTSUPP;
	if (!parent[0] || gs_cg_path(h->dir, sizeof(h->dir), parent, name) ||
	    gs_cg_path(h->run_dir, sizeof(h->run_dir), h->dir, "run"))
		goto fail;
	h->run = gs_cg_get(parent);	/* is it a cgroup v2 directory? */
	if (IS_ERR(h->run))
		goto fail_run;
	cgroup_put(h->run);

	mem = gs_cg_write(parent, "cgroup.subtree_control", "+memory");
	*err = gs_cg_mkdir(h->dir);
	if (*err)
		goto fail;
	if (!mem) {
		snprintf(bytes, sizeof(bytes), "%llu",
			 (unsigned long long)READ_ONCE(gs_user_handler_memory_kb) << 10);
		mem = admin ? gs_cg_write(h->dir, "memory.min", "max") :
			      gs_cg_write(h->dir, "memory.max", bytes);
	}
	if (!mem)
		mem = gs_cg_write(h->dir, "cgroup.subtree_control", "+memory");
	if (mem && !admin) {
		*err = -EOPNOTSUPP;
		goto fail;
	}
	*err = gs_cg_mkdir(h->run_dir);
	if (*err)
		goto fail;
	h->run = gs_cg_get(h->run_dir);
	if (IS_ERR(h->run))
		goto fail_run;
	*err = 0;
	return h;

fail_run:
	*err = PTR_ERR(h->run) == -ENOMEM ? -ENOMEM : -EOPNOTSUPP;
fail:
	h->run = NULL;
	gs_hcg_put(h);
	return NULL;
}

/* A gs_hcg_make() handed to a kworker. */
struct gs_hcg_making {
	struct work_struct work;
	struct completion made;
	const char *name;
	bool admin;
	int err;
	struct gs_hcg *h;
};

static void gs_hcg_make_work(struct work_struct *work)
{
	struct gs_hcg_making *m = container_of(work, struct gs_hcg_making, work);

	m->h = gs_hcg_make_here(m->name, m->admin, &m->err);
	complete(&m->made);
}

/**
 * gs_hcg_make - make a principal's handler cgroup under handler_cgroup
 * @name: its directory's name, "admin" or "user-<uid>"
 * @admin: root's (protected), else a user's (capped)
 * @err: set on failure
 *
 * The memory controller is turned on for handler_cgroup's children; a
 * user's cgroup gets memory.max user_handler_memory_kb, root's memory.min
 * max (all the protection handler_cgroup has). A user's handlers run only
 * where their memory is capped: without the memory controller, a user's
 * cgroup is refused (-EOPNOTSUPP), root's is not. Made by a kworker, in
 * the kernel's root directory and namespaces: the caller may be a waiter
 * in a container, which sees neither handler_cgroup's path nor its cgroup.
 *
 * Context: process context, never the OOM path; may sleep.
 * Return: the cgroup with a reference for the caller, or NULL.
 */
struct gs_hcg *gs_hcg_make(const char *name, bool admin, int *err)
{
	struct gs_hcg_making m = { .name = name, .admin = admin };

	INIT_WORK_ONSTACK(&m.work, gs_hcg_make_work);
	init_completion(&m.made);
	queue_work(gs_unbound_wq, &m.work);
	wait_for_completion(&m.made);
	destroy_work_on_stack(&m.work);
	*err = m.err;
	return m.h;
}

/**
 * gs_hcg_get - take a reference to a handler cgroup
 * @h: the cgroup, or NULL
 *
 * Context: any.
 * Return: @h.
 */
struct gs_hcg *gs_hcg_get(struct gs_hcg *h)
{
	if (h)
		kref_get(&h->ref);
	return h;
}

static void gs_hcg_release(struct kref *ref)
{
	struct gs_hcg *h = container_of(ref, struct gs_hcg, ref);

	if (h->run)
		cgroup_put(h->run);
	kfree(h);
}

/**
 * gs_hcg_put - drop a reference to a handler cgroup
 * @h: the cgroup, or NULL
 *
 * Context: any context that may free memory.
 */
void gs_hcg_put(struct gs_hcg *h)
{
	if (h)
		kref_put(&h->ref, gs_hcg_release);
}

/**
 * gs_hcg_holds_current - whether the caller is in @h's leaf already
 * @h: a handler cgroup
 *
 * Context: any.
 * Return: true if current's cgroup is h->run.
 */
bool gs_hcg_holds_current(const struct gs_hcg *h)
{
	bool in;

	rcu_read_lock();
	in = task_dfl_cgroup(current) == h->run;
	rcu_read_unlock();
	return in;
}

/**
 * gs_hcg_join - move the calling helper into @h's leaf
 * @h: a handler cgroup
 *
 * Written as root would write it: the helper still has the kernel's
 * credentials. Moving takes the cgroup hierarchy's thread-group lock for
 * writing, which waits for an RCU grace period: parked helpers do it
 * ahead of time.
 *
 * Context: a helper, before exec; may sleep.
 * Return: 0, or the error writing cgroup.procs.
 */
int gs_hcg_join(struct gs_hcg *h)
{
	if (gs_hcg_holds_current(h))
		return 0;
	/*
	 * A helper forked by a workqueue worker on older kernels inherits
	 * PF_NO_SETAFFINITY, which cgroup.procs refuses; exec would clear it.
	 */
	current->flags &= ~PF_NO_SETAFFINITY;
	return gs_cg_write(h->run_dir, "cgroup.procs", "0");
}

/**
 * gs_hcg_move - move a process into @h's leaf
 * @h: a handler cgroup
 * @tgid: the process
 *
 * Written as root would write it, from a kworker: the kernel's cgroup
 * namespace sees every cgroup, where the process's own may not.
 *
 * Context: a kworker; may sleep.
 * Return: 0, or the error writing cgroup.procs.
 */
int gs_hcg_move(struct gs_hcg *h, struct pid *tgid)
{
	char nr[16];

	snprintf(nr, sizeof(nr), "%d", pid_nr(tgid));
	return gs_cg_write(h->run_dir, "cgroup.procs", nr);
}
