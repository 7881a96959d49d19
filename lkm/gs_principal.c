// SPDX-License-Identifier: GPL-2.0
/*
 * Registrants and their budgets: how long handlers may hold the OOM killer
 * (all of them together, and those of one non-root registrant), refilled
 * at their size per minute, and the registrants themselves (how many
 * registrations each holds). gs_lock, defined here, also guards the
 * registry's links (gs_registry.c): the OOM path takes it for a few
 * instructions at a time, never across an allocation.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/hashtable.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "gs_internal.h"

/* Time spent holding the OOM killer comes back at the budget per minute. */
#define GS_BUDGET_PERIOD_MS	60000U
/* Less than this is no time to run a handler in: skip it. */
#define GS_MIN_WAIT_MS		100U
#define GS_USER_HASH_BITS	6

DEFINE_SPINLOCK(gs_lock);
static DEFINE_HASHTABLE(gs_users, GS_USER_HASH_BITS);
/* Every handler's hold, whoever registered it; under gs_lock. */
static struct gs_bucket gs_hold;

static void gs_bucket_init(struct gs_bucket *b, unsigned int cap_ms)
{
	b->stamp_ns = ktime_get_ns();
	b->left_ms = cap_ms;
}

/* What is left of @b now, after refilling it for the time gone by. */
static s64 gs_bucket_level(struct gs_bucket *b, unsigned int cap_ms, u64 now)
{
	u64 elapsed_ms = div_u64(now - b->stamp_ns, NSEC_PER_MSEC);
	u64 gain;

	lockdep_assert_held(&gs_lock);
	if (!cap_ms)
		return S64_MAX;
	if (elapsed_ms >= GS_BUDGET_PERIOD_MS) {
		b->left_ms = cap_ms;
		b->stamp_ns = now;
	} else {
		gain = div_u64(elapsed_ms * cap_ms, GS_BUDGET_PERIOD_MS);
		if (gain) {
			b->left_ms += gain;
			b->stamp_ns += div_u64(gain * GS_BUDGET_PERIOD_MS, cap_ms) * NSEC_PER_MSEC;
		}
	}
	if (b->left_ms > cap_ms)
		b->left_ms = cap_ms;
	return b->left_ms;
}

static bool gs_bucket_full(struct gs_bucket *b, unsigned int cap_ms, u64 now)
{
	return gs_bucket_level(b, cap_ms, now) >= cap_ms;
}

/**
 * gs_budget_init - start with every budget whole
 *
 * Context: module load, before anything else runs.
 */
void gs_budget_init(void)
{
	gs_bucket_init(&gs_hold, gs_hold_budget_ms);
}

static void gs_user_release(struct kref *ref)
{
	kfree(container_of(ref, struct gs_user, ref));
}

/**
 * gs_user_put - drop a reference to a registrant
 * @u: the registrant, or NULL (an admin, who has none)
 *
 * Context: any context that may free memory.
 */
void gs_user_put(struct gs_user *u)
{
	if (u)
		kref_put(&u->ref, gs_user_release);
}

static struct gs_user *gs_user_lookup(kuid_t uid)
{
	struct gs_user *u;

	lockdep_assert_held(&gs_lock);
	hash_for_each_possible(gs_users, u, node, __kuid_val(uid))
		if (uid_eq(u->uid, uid))
			return u;
	return NULL;
}

/**
 * gs_user_get - the registrant @uid, made if new
 * @uid: its effective uid
 *
 * Context: process context; may sleep (allocates).
 * Return: the registrant with a reference for the caller, or NULL on ENOMEM.
 */
struct gs_user *gs_user_get(kuid_t uid)
{
	struct gs_user *u, *fresh;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return NULL;
	kref_init(&fresh->ref);		/* the hash's */
	fresh->uid = uid;
	gs_bucket_init(&fresh->hold, READ_ONCE(gs_user_hold_budget_ms));

	spin_lock(&gs_lock);
	u = gs_user_lookup(uid);
	if (!u) {
		hash_add(gs_users, &fresh->node, __kuid_val(uid));
		u = fresh;
		fresh = NULL;
	}
	kref_get(&u->ref);
	spin_unlock(&gs_lock);
	kfree(fresh);
	return u;
}

/**
 * gs_users_sweep - forget registrants that hold nothing
 * @all: every registrant (unload), not only those whose budget is whole
 *
 * One that spent its budget is kept until it has come back, so that
 * unregistering and registering again does not refill it. A registrant is
 * found and referenced under gs_lock, and dropped from the hash here only
 * while the hash's is its one reference, under the same lock.
 *
 * Context: process context.
 */
void gs_users_sweep(bool all)
{
	unsigned int cap = READ_ONCE(gs_user_hold_budget_ms);
	u64 now = ktime_get_ns();
	struct hlist_node *tmp;
	struct gs_user *u;
	HLIST_HEAD(idle);
	int bkt;

	spin_lock(&gs_lock);
	hash_for_each_safe(gs_users, bkt, tmp, u, node) {
		if (!all && (kref_read(&u->ref) > 1 || !gs_bucket_full(&u->hold, cap, now)))
			continue;
		hash_del(&u->node);
		hlist_add_head(&u->node, &idle);
	}
	spin_unlock(&gs_lock);
	hlist_for_each_entry_safe(u, tmp, &idle, node)
		gs_user_put(u);
}

/**
 * gs_wait_budget - how long a handler may hold the OOM killer
 * @u: its registrant, NULL for an admin
 * @now: ktime_get_ns() at the victim's choice
 * @why: set to the budget that limits it
 *
 * Its registrant's timeout, within what is left of the budgets.
 *
 * Context: process context; takes gs_lock.
 * Return: the wait in ms, or 0 if the handler must not run at all.
 */
unsigned int gs_wait_budget(struct gs_user *u, u64 now, const char **why)
{
	s64 wait = READ_ONCE(gs_timeout_ms), left;

	if (u)
		wait = min_t(s64, wait, READ_ONCE(gs_user_timeout_ms));
	spin_lock(&gs_lock);
	left = gs_bucket_level(&gs_hold, READ_ONCE(gs_hold_budget_ms), now);
	*why = "budget";
	if (u && gs_bucket_level(&u->hold, READ_ONCE(gs_user_hold_budget_ms), now) < left) {
		left = u->hold.left_ms;
		*why = "user_budget";
	}
	spin_unlock(&gs_lock);
	wait = min(wait, left);
	return wait < GS_MIN_WAIT_MS ? 0 : wait;
}

/**
 * gs_charge - count the time a handler held the OOM killer
 * @u: its registrant, NULL for an admin
 * @since: ktime_get_ns() when its hold began
 *
 * Context: process context; takes gs_lock.
 */
void gs_charge(struct gs_user *u, u64 since)
{
	s64 held = div_u64(ktime_get_ns() - since, NSEC_PER_MSEC);

	spin_lock(&gs_lock);
	gs_hold.left_ms -= held;
	if (u)
		u->hold.left_ms -= held;
	spin_unlock(&gs_lock);
}
