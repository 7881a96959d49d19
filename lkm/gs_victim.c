// SPDX-License-Identifier: GPL-2.0
/*
 * The victim, as its handler is told of it: taken on the OOM path, then
 * given to a helper the kernel starts as its environment (the kernel's
 * namespaces), or to a waiter as "NAME=value" lines (its own namespaces).
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/ctype.h>
#include <linux/kernfs.h>
#include <linux/mm.h>
#include <linux/nsproxy.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>

#include "gs_internal.h"

/**
 * gs_constraint_name - the kind of OOM, as the handler's environment says it
 * @constraint: an enum oom_constraint
 *
 * Context: any.
 * Return: "global", "cpuset", "mempolicy", "memcg" or "unknown".
 */
const char *gs_constraint_name(int constraint)
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

/**
 * gs_victim_take - what a handler is told of a victim
 * @v: filled in; @v->cgrp gets a reference, put by gs_victim_put()
 * @e: the registration that fired; takes the victim's OOM score adjustment
 * @k: the victim, and who is about to kill it
 * @wait_ms: how long the handler may run
 *
 * Context: the OOM path; no allocation.
 */
void gs_victim_take(struct gs_victim *v, struct gs_entry *e, const struct gs_kill *k,
		    unsigned int wait_ms)
{
	struct task_struct *victim = k->victim;

	memset(v, 0, sizeof(*v));
	task_lock(victim);
	if (victim->mm)
		v->rss_kb = get_mm_rss(victim->mm) << (PAGE_SHIFT - 10);
	strscpy(v->comm, victim->comm, sizeof(v->comm));
	task_unlock(victim);
	v->pid = task_tgid(victim);
	v->registered = e->pid;
	v->oom_score_adj = victim->signal->oom_score_adj;
	v->constraint = k->constraint;
	v->killer = gs_killer_name(k->killer);
	v->timeout_ms = wait_ms;
	v->chosen_ns = e->start_ns;
#ifdef CONFIG_CGROUPS
	rcu_read_lock();
	v->cgrp = task_dfl_cgroup(victim);
	css_get(&v->cgrp->self);
	rcu_read_unlock();
#endif
	e->oom_score_adj = v->oom_score_adj;
	e->oom_score_adj_min = victim->signal->oom_score_adj_min;
}

/**
 * gs_victim_put - drop what gs_victim_take() took
 * @v: the victim
 *
 * Context: any.
 */
void gs_victim_put(struct gs_victim *v)
{
#ifdef CONFIG_CGROUPS
	if (v->cgrp)
		css_put(&v->cgrp->self);
#endif
}

/**
 * gs_victim_env - the environment of a helper the kernel starts for @e
 * @e: the registration that fired: its envp and env are filled in
 * @v: the victim
 *
 * Pids and the cgroup as the kernel's initial namespaces see them.
 *
 * Context: the OOM path; no allocation.
 */
void gs_victim_env(struct gs_entry *e, const struct gs_victim *v)
{
	char cgroup[GS_CGROUP_PATH_MAX] = "";

	memset(e->envp, 0, sizeof(e->envp));
#ifdef CONFIG_CGROUPS
	if (v->cgrp)
		cgroup_path(v->cgrp, cgroup, sizeof(cgroup));
#endif
	gs_env_add(e, "HOME=/");
	gs_env_add(e, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	gs_env_add(e, GS_ENV_PID "=%d", pid_nr(v->pid));
	gs_env_add(e, GS_ENV_REGISTERED_PID "=%d", pid_nr(v->registered));
	gs_env_add(e, GS_ENV_COMM "=%s", v->comm);
	gs_env_add(e, GS_ENV_RSS_KB "=%lu", v->rss_kb);
	gs_env_add(e, GS_ENV_OOM_SCORE_ADJ "=%d", v->oom_score_adj);
	gs_env_add(e, GS_ENV_CONSTRAINT "=%s", v->constraint);
	gs_env_add(e, GS_ENV_CGROUP "=%s", cgroup);
	gs_env_add(e, GS_ENV_TIMEOUT_MS "=%u", v->timeout_ms);
	gs_env_add(e, GS_ENV_CHOSEN_NS "=%llu", v->chosen_ns);
	gs_env_add(e, GS_ENV_KILLER "=%s", v->killer);
}

/* Append "NAME=value\n", @value's bytes outside [ -~] (and \\) written as \xHH. */
static size_t gs_victim_line(char *buf, size_t size, size_t len, const char *name,
			     const char *value)
{
	size_t i;

	len += scnprintf(buf + len, size - len, "%s=", name);
	for (i = 0; value[i]; i++) {
		unsigned char c = value[i];

		if (isprint(c) && c != '\\')
			len += scnprintf(buf + len, size - len, "%c", c);
		else
			len += scnprintf(buf + len, size - len, "\\x%02x", c);
	}
	return len + scnprintf(buf + len, size - len, "\n");
}

/**
 * gs_victim_text - the victim as a waiter reads it: "NAME=value" lines
 * @v: the victim
 * @buf: where the text goes
 * @size: its size
 *
 * The handler environment's names, with pids as the calling task's pid
 * namespace sees them (0 where it cannot) and the cgroup from its cgroup
 * namespace's root.
 *
 * Context: process context (the waiter).
 * Return: the length of the text.
 */
size_t gs_victim_text(const struct gs_victim *v, char *buf, size_t size)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	char num[32], cgroup[GS_CGROUP_PATH_MAX] = "";
	size_t len = 0;

#ifdef CONFIG_CGROUPS
	if (v->cgrp) {
		struct cgroup_namespace *cns = current->nsproxy->cgroup_ns;
		struct cgroup *root = cns->root_cset->dfl_cgrp;

		if (kernfs_path_from_node(v->cgrp->kn, root->kn, cgroup, sizeof(cgroup)) < 0)
			cgroup[0] = '\0';
	}
#endif
	snprintf(num, sizeof(num), "%d", pid_nr_ns(v->pid, ns));
	len = gs_victim_line(buf, size, len, GS_ENV_PID, num);
	snprintf(num, sizeof(num), "%d", pid_nr_ns(v->registered, ns));
	len = gs_victim_line(buf, size, len, GS_ENV_REGISTERED_PID, num);
	len = gs_victim_line(buf, size, len, GS_ENV_COMM, v->comm);
	snprintf(num, sizeof(num), "%lu", v->rss_kb);
	len = gs_victim_line(buf, size, len, GS_ENV_RSS_KB, num);
	snprintf(num, sizeof(num), "%d", v->oom_score_adj);
	len = gs_victim_line(buf, size, len, GS_ENV_OOM_SCORE_ADJ, num);
	len = gs_victim_line(buf, size, len, GS_ENV_CONSTRAINT, v->constraint);
	len = gs_victim_line(buf, size, len, GS_ENV_CGROUP, cgroup);
	snprintf(num, sizeof(num), "%u", v->timeout_ms);
	len = gs_victim_line(buf, size, len, GS_ENV_TIMEOUT_MS, num);
	snprintf(num, sizeof(num), "%llu", v->chosen_ns);
	len = gs_victim_line(buf, size, len, GS_ENV_CHOSEN_NS, num);
	len = gs_victim_line(buf, size, len, GS_ENV_KILLER, v->killer);
	return len;
}

