// SPDX-License-Identifier: GPL-2.0
/*
 * The registrant's identity, given to the helper before it execs the
 * handler: its ids, groups, capabilities, user namespace and LSM label,
 * each with a reference of its own, within the usermode-helper limits.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/uidgid.h>

#include "gs_internal.h"

#define GS_UMH_BSET		"/proc/sys/kernel/usermodehelper/bset"
#define GS_UMH_INHERITABLE	"/proc/sys/kernel/usermodehelper/inheritable"

/**
 * gs_take_identity - give @new the whole identity of @reg
 * @new: the helper's credentials, not yet committed
 * @reg: the registrant's
 *
 * A copy of @reg is made with prepare_creds() under override_creds(), as
 * only exported helpers may take those references (the LSMs prepare the
 * label for it); the two creds then trade what identifies them and the
 * copy, left with @new's old identity, is dropped. The usermode-helper
 * limits in @new (bounding and inheritable sets) stay: the handler never
 * gets more than a usermode helper may.
 *
 * Context: process context (the helper's init callback); may sleep.
 * Return: 0, or -ENOMEM.
 */
int gs_take_identity(struct cred *new, const struct cred *reg)
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

/**
 * gs_umh_caps_now - cut @new to the usermode-helper sets as they are now
 * @new: a parked helper's credentials
 *
 * A parked helper's bounding and inheritable sets were cut to the
 * usermode-helper ones when it was forked; an administrator may have
 * lowered those since.
 *
 * Context: process context (the helper's init callback); may sleep.
 * Return: 0, or the error reading the sysctls.
 */
int gs_umh_caps_now(struct cred *new)
{
	kernel_cap_t cap;
	int err;

	err = gs_read_umh_caps(GS_UMH_BSET, &cap);
	if (err)
		return err;
	new->cap_bset = cap_intersect(new->cap_bset, cap);
	err = gs_read_umh_caps(GS_UMH_INHERITABLE, &cap);
	if (err)
		return err;
	new->cap_inheritable = cap_intersect(new->cap_inheritable, cap);
	return 0;
}
