// SPDX-License-Identifier: GPL-2.0
/*
 * The registrant's confinement, carried to its handler or refused. A
 * handler is started by the kernel, outside everything the registrant is
 * in; it runs with the registrant's identity (gs_cred.c) and with what is
 * taken here: its nice value, rlimits, no_new_privs and audit login uid
 * and session. What cannot be carried that way (another root directory,
 * namespaces other than a user namespace, a seccomp filter, cgroup BPF
 * programs such as systemd's IPAddressDeny=) makes the registration fail
 * with EXDEV: a handler must never run wider than its registrant.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/audit.h>
#include <linux/bpf.h>
#include <linux/cgroup.h>
#include <linux/fs_struct.h>
#include <linux/kernel.h>
#include <linux/nsproxy.h>
#include <linux/path.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seccomp.h>

#include "gs_internal.h"

/**
 * gs_same_root_as_kernel - whether a task's root directory is the kernel's
 * @task: the registrant
 *
 * Handlers run from the root directory usermode helpers get (gs_user_fs()):
 * a registrant under another root (a chroot or a container's) would name a
 * different file there.
 *
 * Context: process context.
 * Return: true if @task has that root.
 */
bool gs_same_root_as_kernel(struct task_struct *task)
{
	struct path theirs = {}, kernels;
	bool same;

	task_lock(task);
	if (task->fs)
		get_fs_root(task->fs, &theirs);
	task_unlock(task);
	if (!theirs.mnt)
		return false;
	get_fs_root(gs_user_fs(), &kernels);
	same = path_equal(&theirs, &kernels);
	path_put(&kernels);
	path_put(&theirs);
	return same;
}

/* Whether @task is in a namespace the kernel's helpers are not in (its user namespace aside). */
static bool gs_other_namespaces(struct task_struct *task)
{
	const struct nsproxy *init = init_task.nsproxy;
	const struct nsproxy *ns;
	bool other;

	task_lock(task);
	ns = task->nsproxy;
	other = !ns || ns->uts_ns != init->uts_ns || ns->ipc_ns != init->ipc_ns ||
		ns->mnt_ns != init->mnt_ns || ns->net_ns != init->net_ns ||
		ns->pid_ns_for_children != init->pid_ns_for_children ||
		ns->cgroup_ns != init->cgroup_ns;
#ifdef CONFIG_TIME_NS
	other = other || ns->time_ns != init->time_ns;
#endif
	task_unlock(task);
	return other || task_active_pid_ns(task) != &init_pid_ns;
}

/**
 * gs_cgroup_bpf_rules - whether cgroup BPF programs filter what @task does
 * @task: a task
 *
 * Programs attached to its cgroup or an ancestor (systemd's IPAddressDeny=,
 * a container's device rules) act on it only while it stays there.
 *
 * Context: any.
 * Return: true if any are in effect.
 */
bool gs_cgroup_bpf_rules(struct task_struct *task)
{
	bool rules = false;
#ifdef CONFIG_CGROUP_BPF
	struct bpf_prog_array *progs;
	struct cgroup *cgrp;
	int i;

	rcu_read_lock();
	cgrp = task_dfl_cgroup(task);
	for (i = 0; i < ARRAY_SIZE(cgrp->bpf.effective) && !rules; i++) {
		progs = rcu_dereference(cgrp->bpf.effective[i]);
		rules = progs && progs->items[0].prog;
	}
	rcu_read_unlock();
#endif
	return rules;
}

/**
 * gs_confinement_check - whether a handler can carry all of @task's confinement
 * @task: the registrant
 *
 * Context: process context.
 * Return: 0, or -EXDEV if @task has a root directory, namespaces, a
 * seccomp filter or cgroup BPF programs that a handler cannot carry.
 */
int gs_confinement_check(struct task_struct *task)
{
	if (!gs_same_root_as_kernel(task) || gs_other_namespaces(task))
		return -EXDEV;
#ifdef CONFIG_SECCOMP
	if (READ_ONCE(task->seccomp.mode) != SECCOMP_MODE_DISABLED)
		return -EXDEV;
#endif
	if (gs_cgroup_bpf_rules(task))
		return -EXDEV;
	return 0;
}

/**
 * gs_confinement_take - what of @task a handler runs with
 * @c: where to keep it
 * @task: the registrant
 *
 * Context: process context.
 */
void gs_confinement_take(struct gs_confinement *c, struct task_struct *task)
{
	c->nice = task_nice(task);
	c->no_new_privs = task_no_new_privs(task);
	task_lock(task->group_leader);
	memcpy(c->rlim, task->signal->rlim, sizeof(c->rlim));
	task_unlock(task->group_leader);
	c->loginuid = audit_get_loginuid(task);
	c->sessionid = audit_get_sessionid(task);
}

/**
 * gs_confinement_apply - give the calling helper its registrant's confinement
 * @c: what gs_confinement_take() kept
 * @global: the handler runs in a global OOM
 * @admin: its registrant is an admin
 *
 * An admin's handler in a global OOM may run at global_nice, to finish
 * before the allocating tasks that wait for the kill; a user's keeps its
 * registrant's nice value, never a lower one.
 *
 * Context: a helper, before exec.
 */
void gs_confinement_apply(const struct gs_confinement *c, bool global, bool admin)
{
	int nice = c->nice;

	if (global && admin)
		nice = min(nice, clamp_t(int, READ_ONCE(gs_global_nice), MIN_NICE, MAX_NICE));
	set_user_nice(current, nice);
	task_lock(current->group_leader);
	memcpy(current->signal->rlim, c->rlim, sizeof(c->rlim));
	task_unlock(current->group_leader);
	if (c->no_new_privs)
		task_set_no_new_privs(current);
#ifdef CONFIG_AUDIT
	current->loginuid = c->loginuid;
	current->sessionid = c->sessionid;
#endif
}
