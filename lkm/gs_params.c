// SPDX-License-Identifier: GPL-2.0
/*
 * proc_create_module's parameters, under /sys/module/proc_create_module/
 * parameters/: every bound the module keeps (waits, registrations, budgets,
 * the reserve) and the handler cgroup. (The read-only "hook" is gs_hook.c's.)
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

#include "gs_internal.h"

unsigned int gs_timeout_ms = 5000;
module_param_named(timeout_ms, gs_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms,
		 "Longest wait for a handler before the kill (ms, default 5000)");

unsigned int gs_start_timeout_ms = 1000;
module_param_named(start_timeout_ms, gs_start_timeout_ms, uint, 0644);
MODULE_PARM_DESC(start_timeout_ms,
		 "Longest wait for a handler to start, within its wait (ms, default 1000)");

unsigned int gs_user_timeout_ms = 2000;
module_param_named(user_timeout_ms, gs_user_timeout_ms, uint, 0644);
MODULE_PARM_DESC(user_timeout_ms,
		 "Longest wait for the handler of a non-root registrant (ms, default 2000)");

unsigned int gs_max_entries = 1024;
module_param_named(max_entries, gs_max_entries, uint, 0644);
MODULE_PARM_DESC(max_entries, "Most registrations in all (default 1024)");

/* What users may hold together: the rest of max_entries is root's. */
unsigned int gs_users_max_entries = 768;
module_param_named(users_max_entries, gs_users_max_entries, uint, 0644);
MODULE_PARM_DESC(users_max_entries,
		 "Most registrations all non-root users hold together; the rest of max_entries stays root's (default 768)");

unsigned int gs_user_max_entries = 64;
module_param_named(user_max_entries, gs_user_max_entries, uint, 0644);
MODULE_PARM_DESC(user_max_entries,
		 "Most registrations one non-root user holds, counted by its uid outside every user namespace (default 64)");

unsigned int gs_hold_budget_ms = 10000;
module_param_named(hold_budget_ms, gs_hold_budget_ms, uint, 0644);
MODULE_PARM_DESC(hold_budget_ms,
		 "Most time root's handlers together may hold the OOM killer; spent time comes back at this much per minute (ms, default 10000, 0 no limit)");

unsigned int gs_users_hold_budget_ms = 10000;
module_param_named(users_hold_budget_ms, gs_users_hold_budget_ms, uint, 0644);
MODULE_PARM_DESC(users_hold_budget_ms,
		 "The same budget for all non-root users' handlers together, never root's (ms, default 10000, 0 no limit)");

unsigned int gs_user_hold_budget_ms = 4000;
module_param_named(user_hold_budget_ms, gs_user_hold_budget_ms, uint, 0644);
MODULE_PARM_DESC(user_hold_budget_ms,
		 "The same budget for the handlers of one non-root user (ms, default 4000, 0 no limit)");

unsigned int gs_user_handler_memory_kb = 32768;
module_param_named(user_handler_memory_kb, gs_user_handler_memory_kb, uint, 0644);
MODULE_PARM_DESC(user_handler_memory_kb,
		 "memory.max of each non-root user's handler cgroup, which holds what its handlers leave charged (KiB, default 32768)");

unsigned int gs_reserve_kb = 4096;
module_param_named(reserve_kb, gs_reserve_kb, uint, 0444);
MODULE_PARM_DESC(reserve_kb,
		 "Memory held back for forking handlers in a global OOM (KiB, default 4096, 0 disables)");

/*
 * In a global OOM every task that wants a page loops in reclaim while the
 * OOM killer waits for the handler, and at an equal share of the CPU the
 * handler is the slowest to finish. It acts for the victim whose memory
 * they wait for, for a bounded time: let it go first.
 */
int gs_global_nice = -10;
module_param_named(global_nice, gs_global_nice, int, 0644);
MODULE_PARM_DESC(global_nice,
		 "Nice value of a handler's process tree in a global OOM, for its bounded run (-20 to 19, default -10)");

bool gs_show_stuck;
module_param_named(show_stuck, gs_show_stuck, bool, 0644);
MODULE_PARM_DESC(show_stuck,
		 "At a handler's timeout, print its helper's kernel stack first, or every running and blocked task's if it was not forked (diagnosis; default off)");

/* Read and written under kernel_param_lock(THIS_MODULE). */
static char handler_cgroup[GS_CGROUP_PATH_MAX];
/* Counts the values handler_cgroup has had: a principal's cgroup is made anew for a new one. */
static unsigned int handler_cgroup_gen;
/* Whether it is empty, for the OOM path, which takes no mutex. */
static bool handler_cgroup_none = true;

static int gs_set_cgroup(const char *val, const struct kernel_param *kp)
{
	size_t len = strcspn(val, "\n");

	if (len && val[0] != '/')
		return -EINVAL;
	if (len >= sizeof(handler_cgroup))
		return -ENAMETOOLONG;
	if (len != strlen(handler_cgroup) || memcmp(handler_cgroup, val, len))
		handler_cgroup_gen++;
	memcpy(handler_cgroup, val, len);
	handler_cgroup[len] = '\0';
	WRITE_ONCE(handler_cgroup_none, !len);
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

/**
 * gs_handler_cgroup - the handler cgroup's directory, the parent of every
 * principal's handler cgroup
 * @buf: where to copy it ("" when none is set)
 * @size: size of @buf
 *
 * Context: process context, never the OOM path: takes the module's
 * parameter lock (a mutex).
 * Return: the generation of the value, which changes with every write.
 */
unsigned int gs_handler_cgroup(char *buf, size_t size)
{
	unsigned int gen;

	kernel_param_lock(THIS_MODULE);
	strscpy(buf, handler_cgroup, size);
	gen = handler_cgroup_gen;
	kernel_param_unlock(THIS_MODULE);
	return gen;
}

/**
 * gs_handler_cgroup_none - whether handler_cgroup is empty now
 *
 * Context: any, the OOM path included: takes no lock.
 * Return: true if no handler cgroup is named (no handler may run).
 */
bool gs_handler_cgroup_none(void)
{
	return READ_ONCE(handler_cgroup_none);
}
