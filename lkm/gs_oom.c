// SPDX-License-Identifier: GPL-2.0
/*
 * The OOM path: the OOM killer has chosen a victim and kills it once
 * gs_victim_chosen() returns. If the victim is registered, start its
 * handler (waking a parked helper, or forking one), wait for it within its
 * bounds, then kill everything the handler left. Called with oom_lock held:
 * every wait here is bounded, and nothing here sleeps on a lock that a
 * task allocating memory could hold.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/completion.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/oom.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "gs_internal.h"

/* Passes over the handler cgroup; each kills all it finds, so forks die out. */
#define GS_KILL_PASSES	16
/*
 * A global OOM's wait for its handler drops the watermark boost, and tops
 * up the lent reserve, this often (see gs_drop_watermark_boost()).
 */
#define GS_BOOST_SLICE	msecs_to_jiffies(20)
/* A wait(2) status: the signal that ended the process, or its exit code. */
#define GS_WTERMSIG(status)	((status) & 0x7f)
#define GS_WEXITSTATUS(status)	(((status) >> 8) & 0xff)

/*
 * Kill every process in the handler cgroup @cgrp, and the helper @helper
 * wherever it is; take back their access to the memory reserves. A
 * process can leave that cgroup only with root's help, so a double fork,
 * setsid() or a re-parented orphan stays in reach. The walk is by thread,
 * since a process whose leader has exited (a thread group whose first
 * thread called exit()) lives on in its other threads, and a thread
 * dumping core has no SIGKILL pending until it is sent one. Parked helpers
 * waiting in the same cgroup have no memory of their own yet (no mm) and
 * are passed over. Passes repeat until one finds no live thread left
 * unkilled: a process killed cannot fork again, so each pass can meet only
 * children forked before the last. No lock but RCU: cgroup.kill would take
 * cgroup_mutex, which a task allocating memory may hold while it waits for
 * this OOM to end. Returns how many kills were sent, one per process.
 */
static unsigned int gs_kill_handler_tree(struct cgroup *cgrp, struct pid *helper)
{
	struct task_struct *g, *t;
	unsigned int killed = 0, fresh;
	int pass;

	rcu_read_lock();
	t = helper ? pid_task(helper, PIDTYPE_PID) : NULL;
	if (t && !t->exit_state) {
#ifdef GS_HAVE_OOM_RESERVES
		/* It may have them from its first step (gs_helper_start()). */
		oom_set_reserves(t, false);
#endif
		if (!__fatal_signal_pending(t) && !send_sig(SIGKILL, t, 1))
			killed++;
	}
	rcu_read_unlock();
	if (!cgrp)
		return killed;

	for (pass = 0; pass < GS_KILL_PASSES; pass++) {
		fresh = 0;
		rcu_read_lock();
		for_each_process_thread(g, t) {
			if (t->exit_state || !READ_ONCE(t->mm) ||
			    !cgroup_is_descendant(task_dfl_cgroup(t), cgrp))
				continue;
#ifdef GS_HAVE_OOM_RESERVES
			oom_set_reserves(t, false);
#endif
			if (__fatal_signal_pending(t))
				continue;
			/* To the thread group: every thread of it gets SIGKILL. */
			if (!send_sig(SIGKILL, t, 1))
				fresh++;
		}
		rcu_read_unlock();
		killed += fresh;
		if (!fresh)
			break;
	}
	if (fresh) {
		struct gs_log_fields f = { .passes = GS_KILL_PASSES };

		gs_log(GS_EVENT_KILL_INCOMPLETE, &f);
	}
	return killed;
}

/* Where the helper of a timed-out handler is stuck, before it is killed. */
static void gs_print_stuck(struct pid *helper)
{
	struct task_struct *task = get_pid_task(helper, PIDTYPE_PID);
	struct task_struct *g, *t;

	if (task) {
		sched_show_task(task);
		put_task_struct(task);
		return;
	}
	/* Not forked yet: whoever runs or is blocked may be what holds the fork up. */
	rcu_read_lock();
	for_each_process_thread(g, t) {
		char state = task_state_to_char(t);

		if (state == 'R' || state == 'D')
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
 * @e, or of its waiter (or the waiter's "done"); false if it is still
 * running. Its status is the error that stopped it before it ran the
 * handler, if any, else its exit status (0 for "done").
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
		exited = wait_event_timeout(pid->wait_pidfd, gs_helper_exited(pid) ||
					    (e->waiter && gs_waiter_is_done(e->waiter)),
					    gs_wait_slice(e, gs_jiffies_left(deadline)));
	} while (!exited && gs_jiffies_left(deadline));
	if (exited) {
		e->end_ns = ktime_get_ns();
		if (!e->status && gs_helper_exited(pid))
			e->status = gs_helper_status(task);
	}
	put_task_struct(task);
	put_pid(pid);
	return exited;
}

/* The line that ends a run: timed out, failed to start, or exited. */
static void gs_log_end(struct gs_entry *e, struct pid *helper, unsigned int wait_ms,
		       bool abandoned, bool started, unsigned int killed)
{
	struct gs_log_fields f = {
		.victim = e->victim_nr,
		.handler = e->argv[0],
		.helper = pid_nr(helper),
		.timeout_ms = wait_ms,
		.phase = started ? "run" : "start",
		.err = -e->status,
		.reason = e->why ?: "exec",
		.duration_ms = div_u64(e->end_ns - e->start_ns, NSEC_PER_MSEC),
		.killed = killed,
		.signal = GS_WTERMSIG(e->status),
		.status = GS_WEXITSTATUS(e->status),
		.killer = gs_killer_name(e->killer),
	};

	if (abandoned)
		gs_log(GS_EVENT_TIMEOUT, &f);
	else if (e->status < 0)
		gs_log(GS_EVENT_ERROR, &f);
	else if (GS_WTERMSIG(e->status))
		gs_log(GS_EVENT_EXIT_SIGNAL, &f);
	else
		gs_log(GS_EVENT_EXIT_STATUS, &f);
}

/*
 * Start the handler of @e, whose environment is filled in: wake its
 * waiter, let the parked helper claimed for it go on, or fork one. Returns
 * how it started, for the log, or NULL if it could not.
 */
static const char *gs_start(struct gs_entry *e, const struct gs_victim *v, bool parked)
{
	if (e->waiter) {
		if (gs_waiter_fire(e->waiter, e, v))
			return "waiter";
		e->why = "waiter_gone";
		return NULL;
	}
	if (parked)
		return "parked";
	if (gs_helper_setup(e)) {
		e->why = "nomem";
		return NULL;
	}
	return "fork";
}

/*
 * Start the handler of @e for the victim @k names and wait for it, at most
 * @wait_ms; then nothing it started is left.
 */
static void gs_fire(struct gs_entry *e, const struct gs_kill *k, unsigned int wait_ms)
{
	unsigned long deadline, start_deadline, released = 0;
	struct cgroup *cgrp;
	bool abandoned, started, parked;
	struct pid *helper;
	unsigned int killed;
	struct gs_log_fields f = {};
	struct gs_victim v;
	const char *spawn;

	e->global = k->global;
	e->killer = k->killer;
	e->victim_nr = task_tgid_nr(k->victim);
	gs_victim_take(&v, e, k, wait_ms);
	init_completion(&e->started);
	init_completion(&e->done);
	spin_lock_init(&e->helper_lock);

	/*
	 * A waiter is its own helper, already running. A parked helper execs
	 * as soon as it is claimed: its environment is complete before then.
	 */
	if (!e->waiter)
		gs_victim_env(e, &v);
	parked = !e->waiter && gs_park_claim(e);

	/*
	 * A global OOM has no memory for the handler: lend the reserve. Only
	 * a parked helper has the OOM reserves from its first step; a fork is
	 * the usermode-helper worker's, and a waiter's move is a kworker's,
	 * which have not, so then give it all back at once, within reach of
	 * every allocation.
	 */
	if (e->global) {
		gs_drop_watermark_boost();
		e->metered = gs_handler_reserves() && parked;
		released = e->metered ? gs_reserve_meter() : gs_reserve_release();
	}
	f.victim = e->victim_nr;
	f.handler = e->argv[0];
	f.killer = gs_killer_name(e->killer);
	spawn = gs_start(e, &v, parked);
	gs_victim_put(&v);
	if (!spawn) {
		f.err = e->waiter ? EPIPE : ENOMEM;
		f.reason = e->why;
		gs_log(GS_EVENT_ERROR, &f);
		goto out;
	}
	f.registered = pid_nr(e->pid);
	f.comm = k->victim->comm;
	f.uid = from_kuid(&init_user_ns, e->cred->euid);
	f.constraint = k->constraint;
	f.timeout_ms = wait_ms;
	f.reserve_kb = released << (PAGE_SHIFT - 10);
	f.spawn = spawn;
	gs_log(GS_EVENT_START, &f);
	if (!parked && !e->waiter)
		gs_helper_fork(e);
	/*
	 * A helper that cannot even be forked (a global OOM with no memory
	 * left), or a waiter that does not read, would hold up the kill for
	 * its whole wait: give up on it after start_timeout_ms.
	 */
	deadline = jiffies + msecs_to_jiffies(wait_ms);
	start_deadline = jiffies + msecs_to_jiffies(min(READ_ONCE(gs_start_timeout_ms), wait_ms));
	started = gs_wait_completion(e, &e->started, start_deadline);
	if (!started)
		abandoned = true;
	else if (parked || e->waiter)
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

	if (abandoned && READ_ONCE(gs_show_stuck))
		gs_print_stuck(helper);
	/* A waiter's process is the handler's: it ends with the run, wherever it is. */
	killed = gs_kill_handler_tree(cgrp, abandoned || e->waiter ? helper : NULL);
	if (e->waiter)
		gs_waiter_over(e->waiter);
	gs_log_end(e, helper, wait_ms, abandoned, started, killed);
	if (started)
		gs_hcg_leftover_later(e->hcg, e->victim_nr,
				      from_kuid(&init_user_ns, e->principal->uid));
	if (cgrp)
		css_put(&cgrp->self);
	put_pid(helper);
out:
	if (e->global)
		gs_reserve_refill_later();
	/* Park the next helper once the kill has given memory back. */
	if (parked)
		gs_park_again(GS_REFILL_DELAY);
}

/*
 * One handler run at a time. Runs for one principal share its handler
 * cgroup, and the end of a run kills everything in it: two at once would
 * end each other. The kernel's OOM killer fires one at a time under
 * oom_lock; a user-space killer's request takes its turn beside it.
 */
#define GS_RUNNING	0
static unsigned long gs_running;
static DECLARE_WAIT_QUEUE_HEAD(gs_run_wq);

static bool gs_run_trylock(void)
{
	return !test_and_set_bit_lock(GS_RUNNING, &gs_running);
}

static void gs_run_unlock(void)
{
	clear_bit_unlock(GS_RUNNING, &gs_running);
	wake_up_all(&gs_run_wq);
}

/*
 * The OOM path's turn, bounded: a user-space killer's run ends within its
 * registrant's timeout, and then its kill passes. False if it did not come.
 */
static bool gs_run_lock_oom(void)
{
	unsigned int most = max(READ_ONCE(gs_timeout_ms), READ_ONCE(gs_user_timeout_ms));

	return wait_event_timeout(gs_run_wq, gs_run_trylock(),
				  msecs_to_jiffies(most + MSEC_PER_SEC)) > 0;
}

/*
 * Run the handler of the claimed registration @e for the victim @k names,
 * within its registrant's time and budgets, and drop the claim's reference.
 */
static void gs_victim_run(const struct gs_kill *k, struct gs_entry *e)
{
	unsigned int wait_ms;
	const char *why;

	e->start_ns = ktime_get_ns();
	wait_ms = gs_wait_budget(e->principal, e->start_ns, &why);
	if (gs_handler_cgroup_none()) {
		wait_ms = 0;
		why = "no_handler_cgroup";
	}
	if (!wait_ms) {
		gs_log_skip(k, e, why);
	} else {
		gs_fire(e, k, wait_ms);
		gs_charge(e->principal, e->start_ns);
	}
	gs_entry_put(e);
}

/**
 * gs_victim_chosen - run the victim's handler before the OOM killer kills it
 * @oc: the OOM killer's control, with oc->chosen the victim
 *
 * The OOM killer kills oc->chosen once this returns. If the victim (or an
 * ancestor, for a "+<pid>" registration) is registered, its handler runs
 * first, for at most its registrant's timeout within the budgets.
 *
 * Context: process context, oom_lock held; may sleep, every wait bounded.
 */
void gs_victim_chosen(struct oom_control *oc)
{
	struct gs_kill k = {
		.victim = oc->chosen,
		.killer = GS_KILLER_KERNEL,
		.constraint = gs_constraint_name(oc->constraint),
		/* Only a global OOM leaves the handler no memory: not a cpuset or mempolicy one. */
		.global = oc->constraint == CONSTRAINT_NONE,
	};
	struct gs_entry *e;

	e = gs_claim(&k);
	if (!e)
		return;
	if (!gs_run_lock_oom()) {
		gs_log_skip(&k, e, "busy");
		gs_entry_put(e);
		return;
	}
	gs_victim_run(&k, e);
	gs_run_unlock();
}

/**
 * gs_victim_announced - run a victim's handler before a user-space killer kills it
 * @victim: the process (a thread group leader) the killer is about to kill
 * @killer: who the killer is
 *
 * As gs_victim_chosen(), with the machine not out of memory: no reserve is
 * lent and the handler runs at its usual priority. The registration fires
 * once, whichever killer comes first.
 *
 * Context: process context, no lock held; waits killably for a run of
 * another victim's handler to end, then as gs_victim_chosen() does.
 * Return: 0 once the handler ran (or was skipped, and logged why), -ENOENT
 * if no registration covers @victim, -EINTR if killed while waiting.
 */
int gs_victim_announced(struct task_struct *victim, enum gs_killer killer)
{
	struct gs_kill k = {
		.victim = victim,
		.killer = killer,
		.constraint = "userspace",
		.global = false,
	};
	struct gs_entry *e;

	/* The turn first: a claim is never given back, so nothing may come between. */
	if (wait_event_killable(gs_run_wq, gs_run_trylock()))
		return -EINTR;
	e = gs_claim(&k);
	if (e)
		gs_victim_run(&k, e);
	gs_run_unlock();
	return e ? 0 : -ENOENT;
}
