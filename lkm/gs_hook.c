// SPDX-License-Identifier: GPL-2.0
/*
 * How proc_create_module hears that the OOM killer chose a victim.
 *
 * On a kernel with the gs-kit patch: its oom_victim notifier, called at the
 * end of select_bad_process().
 *
 * On a stock kernel (no patch, nothing rebuilt): an ftrace direct call at
 * the entry of oom_kill_process(struct oom_control *oc, const char *msg),
 * which out_of_memory() calls with the chosen victim in oc->chosen and
 * oom_lock held. A small trampoline calls gs_stock_entry() with @oc and
 * returns into the unmodified function: the original is never called
 * through a pointer, so it is safe under IBT. The module refuses to load in
 * stock mode where it cannot set the hook up as verified: another kernel
 * series, no direct-call support, oom_kill_process() not traceable (inlined
 * or notrace), or another direct caller already on it.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/oom.h>
#include <generated/utsrelease.h>

#include "gs_internal.h"

#ifdef GS_HAVE_OOM_VICTIM_NOTIFIER

const char *gs_hook_mode(void)
{
	return "patched";
}

static int gs_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	gs_victim_chosen(data);
	return NOTIFY_OK;
}

static struct notifier_block gs_oom_nb = {
	.notifier_call = gs_notify,
};

int gs_hook_init(void)
{
	return register_oom_victim_notifier(&gs_oom_nb);
}

void gs_hook_exit(void)
{
	/* Waits for callbacks in flight. */
	unregister_oom_victim_notifier(&gs_oom_nb);
}

#else /* a stock kernel */

const char *gs_hook_mode(void)
{
	return "stock";
}

/*
 * GS_STOCK_VERIFIED (from Kbuild): a series where oom_kill_process() has
 * the signature the trampoline relies on and the direct-call API is the
 * one below: the series kernels.json names (GS_STOCK_RANGE). Elsewhere
 * the module does not guess.
 */
#if defined(CONFIG_X86_64) && defined(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS) && defined(GS_STOCK_VERIFIED)

#include <linux/atomic.h>
#include <linux/ftrace.h>
#include <linux/rcupdate.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>

#ifndef CALL_DEPTH_ACCOUNT
#define CALL_DEPTH_ACCOUNT ""
#endif

#define GS_HOOKED_FUNCTION "oom_kill_process"

/* Tasks inside gs_stock_entry(): unload waits for them. */
static atomic_t gs_inflight = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(gs_inflight_wq);
/* oom_lock is held in the hook, so one task at a time: a flag catches recursion. */
static bool gs_in_hook;
static struct ftrace_ops gs_ops;

/*
 * Called at the entry of oom_kill_process(), with its arguments in %rdi
 * and %rsi, which the trampoline keeps for the function.
 */
asm(
"	.pushsection	.text, \"ax\", @progbits\n"
"	.type		gs_stock_trampoline, @function\n"
"	.globl		gs_stock_trampoline\n"
"gs_stock_trampoline:\n"
	ASM_ENDBR
"	pushq %rbp\n"
"	movq %rsp, %rbp\n"
	CALL_DEPTH_ACCOUNT
"	pushq %rdi\n"
"	pushq %rsi\n"
"	call gs_stock_entry\n"
"	popq %rsi\n"
"	popq %rdi\n"
"	leave\n"
	ASM_RET
"	.size		gs_stock_trampoline, .-gs_stock_trampoline\n"
"	.popsection\n"
);

void gs_stock_entry(struct oom_control *oc)
{
	atomic_inc(&gs_inflight);
	if (READ_ONCE(gs_in_hook)) {
		pr_warn_once("event=skip reason=recursion\n");
	} else if (oc->chosen && oc->chosen != (void *)-1UL) {
		WRITE_ONCE(gs_in_hook, true);
		gs_victim_chosen(oc);
		WRITE_ONCE(gs_in_hook, false);
	}
	if (atomic_dec_and_test(&gs_inflight))
		wake_up_all(&gs_inflight_wq);
}

#ifdef GS_HAVE_FTRACE_DIRECT_OPS	/* 6.5 and later */
#define gs_register_direct(ops, addr) register_ftrace_direct(ops, addr)
#define gs_unregister_direct(ops, addr) unregister_ftrace_direct(ops, addr, true)
#else					/* 5.16 to 6.4 */
#define gs_register_direct(ops, addr) register_ftrace_direct_multi(ops, addr)
#define gs_unregister_direct(ops, addr) unregister_ftrace_direct_multi(ops, addr)
#endif

int gs_hook_init(void)
{
	unsigned char name[] = GS_HOOKED_FUNCTION;
	int err;

	/* By name: the kernel resolves it only if it can trace it. */
	err = ftrace_set_filter(&gs_ops, name, strlen(name), 1);
	if (err) {
		pr_err("stock mode: %s cannot be hooked here (errno %d): it is not traceable on this kernel; use a kernel with the gs-kit patch\n",
		       GS_HOOKED_FUNCTION, -err);
		return -ENOENT;
	}
	err = gs_register_direct(&gs_ops, (unsigned long)gs_stock_trampoline);
	if (err) {
		pr_err("stock mode: cannot attach to %s (errno %d)%s\n", GS_HOOKED_FUNCTION, -err,
		       err == -EBUSY ? ": another direct caller (a BPF trampoline?) is on it" : "");
		ftrace_free_filter(&gs_ops);
		return err;
	}
	pr_info("stock mode: hooked the entry of %s with an ftrace direct call\n", GS_HOOKED_FUNCTION);
	return 0;
}

void gs_hook_exit(void)
{
	gs_unregister_direct(&gs_ops, (unsigned long)gs_stock_trampoline);
#ifdef CONFIG_TASKS_RCU
	/*
	 * No new calls now. A task may have entered the trampoline before and
	 * been preempted there, before gs_stock_entry() counted it in flight:
	 * a tasks-RCU grace period waits until each such task has been through
	 * a voluntary switch, which it can make only inside the module's wait
	 * (counted by then) or after it has left the module.
	 */
	synchronize_rcu_tasks();
#endif
	/* A call in flight may be waiting for its handler (bounded). */
	wait_event(gs_inflight_wq, !atomic_read(&gs_inflight));
#ifdef CONFIG_TASKS_RCU
	/* ... and may still be on its way out through the trampoline. */
	synchronize_rcu_tasks();
#endif
	/*
	 * Without TASKS_RCU the kernel is not preemptible: the way in and out
	 * has no schedule point, and module unload waits for an RCU grace
	 * period (a context switch on every CPU) before it frees our text.
	 */
}

#else /* stock mode cannot be verified here */

int gs_hook_init(void)
{
	pr_err("stock mode: this kernel (%s) has no gs-kit patch, and the ftrace direct-call hook is verified only on x86-64 Linux %s with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS; refusing to load\n",
	       UTS_RELEASE, GS_STOCK_RANGE);
	return -EOPNOTSUPP;
}

void gs_hook_exit(void)
{
}

#endif
#endif /* GS_HAVE_OOM_VICTIM_NOTIFIER */

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
