// SPDX-License-Identifier: GPL-2.0
/*
 * The registry: a hash of registrations keyed by the registered process's
 * struct pid (never its number, which is reused while references live).
 * Readers, the OOM path among them, walk it under RCU; links change under
 * gs_lock, one entry at a time. An entry is taken out when it fires, when
 * it is replaced or removed, and when its process has exited.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/lockdep.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "gs_internal.h"

#define GS_HASH_BITS	10

static DEFINE_HASHTABLE(gs_registry, GS_HASH_BITS);
/* Linked entries; under gs_lock. */
static unsigned int gs_count;

static void gs_entry_free(struct rcu_head *rcu)
{
	struct gs_entry *e = container_of(rcu, struct gs_entry, rcu);

	if (e->helper_task)
		put_task_struct(e->helper_task);
	if (e->waiter) {
		gs_waiter_unbind(e->waiter);
		gs_waiter_put(e->waiter);
	}
	put_pid(e->helper);
	put_pid(e->pid);
	if (e->cred)
		put_cred(e->cred);
	gs_hcg_put(e->hcg);
	gs_principal_put(e->principal);
	argv_free(e->argv);
	kfree(e->exec_path);
	kfree(e->cmdline);
	kfree(e);
}

static void gs_entry_release(struct kref *ref)
{
	struct gs_entry *e = container_of(ref, struct gs_entry, ref);

	/* Readers of the registry may still be looking at it. */
	call_rcu(&e->rcu, gs_entry_free);
}

/**
 * gs_entry_put - drop a reference to a registration
 * @e: the entry
 *
 * The last reference frees it after an RCU grace period.
 *
 * Context: any context.
 */
void gs_entry_put(struct gs_entry *e)
{
	kref_put(&e->ref, gs_entry_release);
}

/**
 * gs_lookup - the registration of a process
 * @pid: the process's TGID pid
 *
 * Context: under rcu_read_lock() or gs_lock.
 * Return: the entry, or NULL.
 */
struct gs_entry *gs_lookup(struct pid *pid)
{
	struct gs_entry *e;

	hash_for_each_possible_rcu(gs_registry, e, hnode, (unsigned long)pid)
		if (e->pid == pid)
			return e;
	return NULL;
}

/**
 * gs_link - put an entry in the registry, which takes over its reference
 * @e: the entry
 *
 * Context: caller holds gs_lock.
 */
void gs_link(struct gs_entry *e)
{
	lockdep_assert_held(&gs_lock);
	hash_add_rcu(gs_registry, &e->hnode, (unsigned long)e->pid);
	gs_count++;
	gs_principal_linked(e->principal, 1);
}

/**
 * gs_unlink - take an entry out of the registry if it is still in it
 * @e: the entry
 *
 * Context: caller holds gs_lock.
 * Return: whether it was linked, in which case the caller owns the
 * registry's reference.
 */
bool gs_unlink(struct gs_entry *e)
{
	lockdep_assert_held(&gs_lock);
	if (hlist_unhashed(&e->hnode))
		return false;
	hlist_del_init_rcu(&e->hnode);
	gs_count--;
	gs_principal_linked(e->principal, -1);
	return true;
}

/**
 * gs_unlink_put - take an entry out, and drop the registry's reference
 * @e: the entry
 *
 * Context: process context; takes gs_lock.
 */
void gs_unlink_put(struct gs_entry *e)
{
	bool was_linked;

	spin_lock(&gs_lock);
	was_linked = gs_unlink(e);
	spin_unlock(&gs_lock);
	if (was_linked)
		gs_entry_put(e);
}

/**
 * gs_registry_count_locked - how many registrations there are
 *
 * Context: caller holds gs_lock.
 * Return: the count.
 */
unsigned int gs_registry_count_locked(void)
{
	lockdep_assert_held(&gs_lock);
	return gs_count;
}

/**
 * gs_registry_count - how many registrations there are, without a lock
 *
 * Context: any; the value may be stale at once.
 * Return: the count.
 */
unsigned int gs_registry_count(void)
{
	return READ_ONCE(gs_count);
}

/**
 * gs_process_gone - whether the process @pid names has exited
 * @pid: a TGID pid
 *
 * Context: any.
 * Return: true if no process has that pid any more (a thread id is not one).
 */
bool gs_process_gone(struct pid *pid)
{
	bool gone;

	rcu_read_lock();
	gone = !pid_task(pid, PIDTYPE_TGID);
	rcu_read_unlock();
	return gone;
}

/**
 * gs_prune - drop the entries of exited processes
 *
 * One at a time: the lock the OOM path needs is never held for more than
 * one entry.
 *
 * Context: process context.
 */
void gs_prune(void)
{
	struct gs_entry *e;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(gs_registry, bkt, e, hnode) {
		if (!gs_process_gone(e->pid))
			continue;
		spin_lock(&gs_lock);
		if (gs_unlink(e)) {
			spin_unlock(&gs_lock);
			/* The registry's reference; freed after this grace period. */
			gs_entry_put(e);
			continue;
		}
		spin_unlock(&gs_lock);
	}
	rcu_read_unlock();
}

/**
 * gs_registry_clear - take every entry out (unload)
 *
 * Context: process context, no writer left.
 */
void gs_registry_clear(void)
{
	struct gs_entry *e;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(gs_registry, bkt, e, hnode)
		gs_unlink_put(e);
	rcu_read_unlock();
}

/**
 * gs_registry_for_each - call @fn for every linked entry, under RCU
 * @fn: called with each entry and @data; may not sleep
 * @data: passed on
 *
 * Context: process context; @fn runs under rcu_read_lock().
 */
void gs_registry_for_each(void (*fn)(struct gs_entry *e, void *data), void *data)
{
	struct gs_entry *e;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(gs_registry, bkt, e, hnode)
		fn(e, data);
	rcu_read_unlock();
}

/**
 * gs_owns - whether @euid owns a process wholly
 * @euid: a registrant's effective uid
 * @tcred: the process's credentials
 *
 * Context: any.
 * Return: true if the process's real, effective and saved uids are @euid.
 */
bool gs_owns(kuid_t euid, const struct cred *tcred)
{
	return uid_eq(euid, tcred->uid) && uid_eq(euid, tcred->euid) &&
	       uid_eq(euid, tcred->suid);
}

/*
 * Whether the handler of @e may act for @victim: an admin's for any
 * process, a user's for the user's own only. Checked at the OOM as at
 * registration: since then the victim may have run a setuid program, or
 * be a descendant of a "+<pid>" registration that became another user.
 */
static bool gs_entry_covers(const struct gs_entry *e, struct task_struct *victim)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "a victim's credentials read without RCU");
	return e->principal->admin || gs_owns(e->cred->euid, __task_cred(victim));
}

/**
 * gs_log_skip - log that a registration's handler does not run for a victim
 * @k: the victim, and who is about to kill it
 * @e: the registration
 * @why: the reason, a word
 *
 * Context: process context.
 */
void gs_log_skip(const struct gs_kill *k, const struct gs_entry *e, const char *why)
{
	struct gs_log_fields f = {
		.victim = task_tgid_nr(k->victim),
		.registered = pid_nr(e->pid),
		.handler = e->argv[0],
		.uid = from_kuid(&init_user_ns, e->cred->euid),
		.reason = why,
		.killer = gs_killer_name(k->killer),
	};

	gs_log(GS_EVENT_SKIP, &f);
}

/**
 * gs_claim - take the registration for a victim out of the registry
 * @k: the victim, and who is about to kill it
 *
 * The victim's own registration, else the nearest ancestor's "+<pid>"
 * one, among those whose registrant may act for it. A registration passed
 * over for that is logged, and stays. An entry fires once: the claim takes
 * it out, whichever killer comes first.
 *
 * Context: process context (the OOM path, or a user-space killer's request).
 * Return: the entry with a reference for the caller, or NULL.
 */
struct gs_entry *gs_claim(const struct gs_kill *k)
{
	struct task_struct *victim = k->victim;
	struct task_struct *p;
	struct gs_entry *e = NULL, *refused = NULL;

	rcu_read_lock();
	for (p = victim; p->pid; p = rcu_dereference(p->real_parent)) {
		e = gs_lookup(task_tgid(p));
		if (e && (p == victim || e->tree)) {
			/*
			 * A user-space killer names every process of a
			 * cgroup it kills, a "+<pid>" registration's own
			 * waiter among them: that one is the handler, not
			 * a victim to run it for.
			 */
			if (k->killer != GS_KILLER_KERNEL && e->waiter &&
			    gs_waiter_is(e->waiter, task_tgid(victim))) {
				e = NULL;
				break;
			}
			if (gs_entry_covers(e, victim))
				break;
			if (!refused)
				refused = e;
		}
		e = NULL;
	}
	if (!e && refused)
		gs_log_skip(k, refused, "not_owner");
	if (e && (test_and_set_bit(GS_FIRED, &e->flags) || !kref_get_unless_zero(&e->ref)))
		e = NULL;
	rcu_read_unlock();
	if (e)
		gs_unlink_put(e);
	return e;
}
