// SPDX-License-Identifier: GPL-2.0
/*
 * Which handler files may run: an absolute path to a regular file the
 * registrant may execute, which only root or the registrant can change,
 * through directories only root or the registrant can change (sudo's rule
 * for what it runs), reached from the kernel's own root directory, and run
 * by its path without symbolic links.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/path.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "gs_internal.h"

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
 * The path of @file from the caller's root, with no symbolic link in it:
 * what the helper execs, so that the lookup at exec passes only through
 * the directories checked here, which only root or the registrant can
 * change. It must lead back to @file.
 */
static int gs_real_path(const struct path *file, char **real_path)
{
	struct path again;
	char *buf, *p;
	int err;

	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	p = d_path(file, buf, PATH_MAX);
	err = PTR_ERR_OR_ZERO(p);
	if (!err && p[0] != '/')	/* not reachable from our root */
		err = -EPERM;
	if (!err)
		err = kern_path(p, 0, &again);
	if (!err) {
		if (!path_equal(&again, file))
			err = -EPERM;
		path_put(&again);
	}
	if (!err) {
		*real_path = kstrdup(p, GFP_KERNEL);
		if (!*real_path)
			err = -ENOMEM;
	}
	kfree(buf);
	return err;
}

/**
 * gs_check_handler - whether a handler file may run for a registrant
 * @path: the handler path as registered
 * @cred: the registrant's credentials, which resolve and check it
 * @dev: set to the device of the file checked
 * @ino: set to its inode number
 * @real_path: if not NULL, set to the file's path without symbolic links
 *	(kmalloc'ed), which is what runs
 *
 * Resolved from the caller's root (the kernel's: gs_confinement_check()
 * refuses another); the file and every directory on the way to it, as
 * named and as reached through symbolic links, must be changeable by root
 * or the registrant only.
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL (not absolute), -ENOENT/-ENOTDIR (lookup),
 * -EACCES (not a regular executable file, or on a noexec mount), -EPERM
 * (someone else may change it), -ENOMEM.
 */
int gs_check_handler(const char *path, const struct cred *cred,
		     dev_t *dev, unsigned long *ino, char **real_path)
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
	if (real_path)
		err = gs_real_path(&file, real_path);
	*dev = inode->i_sb->s_dev;
	*ino = inode->i_ino;
out_file:
	path_put(&file);
out_creds:
	revert_creds(old);
	return err;
}
