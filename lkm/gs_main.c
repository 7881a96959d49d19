// SPDX-License-Identifier: GPL-2.0
/*
 * proc_create_module - run a process's graceful-shutdown handler before the
 * OOM killer kills it.
 *
 * Userspace registers "<pid> <handler> [args...]" in /proc/graceful_shutdown
 * ("+<pid>" for the process and every process descended from it). When the
 * OOM killer chooses a registered process as its victim, the module hears
 * of it (gs_hook.c: the gs-kit patch's notifier, or on a stock kernel an
 * ftrace direct call), starts the handler as a user-mode helper with the
 * registrant's identity, in the handler cgroup, with an environment that
 * describes the victim, and holds the kill until the handler exits or its
 * time is up; then nothing the handler started is left. Each registration
 * fires at most once. Every start, exit, timeout and skip goes to the
 * kernel log as a "graceful_shutdown: event=..." line (gs_log.c).
 *
 * This file loads and unloads the module; gs_internal.h is the map of the
 * others and of the locks.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "gs_internal.h"

static int __init gs_init(void)
{
	char cgroup[GS_CGROUP_PATH_MAX];
	int err;

	gs_principal_init();
	err = gs_cgroup_init();
	if (err)
		return err;
	err = gs_leftover_init();
	if (err)
		goto err_cgroup;
	err = gs_helper_wq_init();
	if (err)
		goto err_leftover;
	if (!gs_reserve_fill(GFP_KERNEL | __GFP_NOWARN)) {
		err = -ENOMEM;
		goto err_reserve;
	}
	err = gs_proc_init();
	if (err)
		goto err_reserve;
	err = gs_killer_init();
	if (err)
		goto err_proc;
	err = gs_hook_init();
	if (err)
		goto err_killer;
	err = gs_park_init();
	if (err)
		goto err_hook;
	gs_handler_cgroup(cgroup, sizeof(cgroup));
	pr_info("loaded: hook=%s timeout_ms=%u user_timeout_ms=%u start_timeout_ms=%u max_entries=%u users_max_entries=%u user_max_entries=%u hold_budget_ms=%u users_hold_budget_ms=%u user_hold_budget_ms=%u user_handler_memory_kb=%u reserve_kb=%u global_nice=%d handler_cgroup=%s reserves=%s parked=%s\n",
		gs_hook_mode(), gs_timeout_ms, gs_user_timeout_ms, gs_start_timeout_ms,
		gs_max_entries, gs_users_max_entries, gs_user_max_entries, gs_hold_budget_ms,
		gs_users_hold_budget_ms, gs_user_hold_budget_ms, gs_user_handler_memory_kb,
		gs_reserve_kb, gs_global_nice,
		cgroup[0] ? cgroup : "(none)",
		gs_handler_reserves() ? "yes" : "no", gs_can_park ? "yes" : "no");
	return 0;

err_hook:
	gs_hook_exit();
err_killer:
	gs_killer_exit();
err_proc:
	gs_proc_exit();
err_reserve:
	gs_reserve_release();
	gs_helper_wq_exit();
err_leftover:
	gs_leftover_exit();
err_cgroup:
	gs_cgroup_exit();
	return err;
}

static void __exit gs_exit(void)
{
	/* Waiters blocked in a read would hold up the proc file's removal. */
	gs_waiters_shutdown();
	gs_proc_exit();
	/* Waits for user-space killers' requests in flight, each bounded. */
	gs_killer_exit();
	/* Waits for OOM callbacks in flight; each waits for its helper, bounded. */
	gs_hook_exit();
	/* The parked helpers leave without running anything; no other is parked. */
	gs_park_exit();
	/* Waits for helpers still running (those past their time were killed). */
	gs_helper_wq_exit();
	gs_reserve_exit();
	gs_proc_clear();
	/* Entries are freed after a grace period; their principals with them. */
	rcu_barrier();
	gs_principals_sweep(true);
	/* Leftover checks still pending hold handler cgroups. */
	gs_leftover_exit();
	gs_cgroup_exit();
	pr_info("unloaded\n");
}

module_init(gs_init);
module_exit(gs_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("gs-kit developers");
MODULE_DESCRIPTION("Run a registered handler before the OOM killer kills its process");
MODULE_ALIAS("graceful_shutdown");
