// SPDX-License-Identifier: GPL-2.0
/*
 * Principals: who answers for a registration. The admins (CAP_SYS_ADMIN in
 * the initial user namespace) are one principal; every other registrant is
 * counted as the user it is outside every user namespace (the owner of the
 * outermost namespace it is in), so that the 65,536 uids a user may map
 * into namespaces of its own are one user here. Each principal has:
 *
 *   - a share of the table: max_entries in all, of which users together
 *     hold at most users_max_entries and each user user_max_entries, so
 *     that root can always register;
 *   - budgets of time its handlers may hold the OOM killer, refilled at
 *     their size per minute: root's (hold_budget_ms), all users' together
 *     (users_hold_budget_ms) and each user's (user_hold_budget_ms); users
 *     never spend root's;
 *   - a handler cgroup of its own (gs_cgroup.c).
 *
 * gs_lock, defined here, also guards the registry's links (gs_registry.c):
 * the OOM path takes it for a few instructions at a time, never across an
 * allocation.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/hashtable.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/user_namespace.h>

#include "gs_internal.h"

/* Time spent holding the OOM killer comes back at the budget per minute. */
#define GS_BUDGET_PERIOD_MS	60000U
/* Less than this is no time to run a handler in: skip it. */
#define GS_MIN_WAIT_MS		100U
#define GS_PRINCIPAL_HASH_BITS	6
/* Helpers parked for one user's registrations at most; root's take the rest. */
#define GS_PARK_PER_USER	2

DEFINE_SPINLOCK(gs_lock);
static DEFINE_HASHTABLE(gs_principals, GS_PRINCIPAL_HASH_BITS);
/* All users' handlers' hold, and their registrations; under gs_lock. */
static struct gs_bucket gs_users_hold;
static unsigned int gs_users_entries;
/*
 * Who registered last, with a reference; under gs_lock. A helper parked
 * when no registration lacks one waits in its handler cgroup, since its
 * next registration is the likeliest to fire.
 */
static struct gs_principal *gs_recent;

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

static unsigned int gs_hold_cap(const struct gs_principal *pr)
{
	return pr->admin ? READ_ONCE(gs_hold_budget_ms) : READ_ONCE(gs_user_hold_budget_ms);
}

/**
 * gs_principal_init - start with every budget whole
 *
 * Context: module load, before anything else runs.
 */
void gs_principal_init(void)
{
	gs_bucket_init(&gs_users_hold, gs_users_hold_budget_ms);
}

/* The uid that answers for @cred: outside every user namespace it is in. */
static kuid_t gs_outer_uid(const struct cred *cred)
{
	struct user_namespace *ns = cred->user_ns;
	kuid_t uid = cred->euid;

	for (; ns != &init_user_ns; ns = ns->parent)
		uid = ns->owner;
	return uid;
}

static void gs_principal_release(struct kref *ref)
{
	struct gs_principal *pr = container_of(ref, struct gs_principal, ref);

	gs_hcg_put(pr->hcg);
	kfree(pr);
}

/**
 * gs_principal_put - drop a reference to a principal
 * @pr: the principal, or NULL
 *
 * Context: any context that may free memory.
 */
void gs_principal_put(struct gs_principal *pr)
{
	if (pr)
		kref_put(&pr->ref, gs_principal_release);
}

/**
 * gs_principal_ref - take another reference to a principal
 * @pr: the principal
 *
 * Context: any.
 * Return: @pr.
 */
struct gs_principal *gs_principal_ref(struct gs_principal *pr)
{
	kref_get(&pr->ref);
	return pr;
}

static struct gs_principal *gs_principal_lookup(kuid_t uid, bool admin)
{
	struct gs_principal *pr;

	lockdep_assert_held(&gs_lock);
	hash_for_each_possible(gs_principals, pr, node, __kuid_val(uid))
		if (uid_eq(pr->uid, uid) && pr->admin == admin)
			return pr;
	return NULL;
}

/**
 * gs_principal_get - the principal that answers for a registrant, made if new
 * @cred: the registrant's credentials
 * @admin: whether the registrant is an admin
 *
 * Context: process context; may sleep (allocates).
 * Return: the principal with a reference for the caller, or NULL on ENOMEM.
 */
struct gs_principal *gs_principal_get(const struct cred *cred, bool admin)
{
	kuid_t uid = admin ? GLOBAL_ROOT_UID : gs_outer_uid(cred);
	struct gs_principal *pr, *fresh;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return NULL;
	kref_init(&fresh->ref);		/* the hash's */
	fresh->uid = uid;
	fresh->admin = admin;
	atomic_set(&fresh->parked, 0);
	mutex_init(&fresh->cg_mutex);
	gs_bucket_init(&fresh->hold, gs_hold_cap(fresh));

	spin_lock(&gs_lock);
	pr = gs_principal_lookup(uid, admin);
	if (!pr) {
		hash_add(gs_principals, &fresh->node, __kuid_val(uid));
		pr = fresh;
		fresh = NULL;
	}
	kref_get(&pr->ref);
	spin_unlock(&gs_lock);
	kfree(fresh);
	return pr;
}

/**
 * gs_principal_hcg - the principal's handler cgroup, made if new
 * @pr: the principal
 * @err: set on failure
 *
 * Made again when handler_cgroup has changed since.
 *
 * Context: process context, never the OOM path; takes pr->cg_mutex.
 * Return: the handler cgroup with a reference for the caller, or NULL.
 */
struct gs_hcg *gs_principal_hcg(struct gs_principal *pr, int *err)
{
	char name[32], dir[GS_CGROUP_PATH_MAX];
	unsigned int gen = gs_handler_cgroup(dir, sizeof(dir));
	struct gs_hcg *h;

	mutex_lock(&pr->cg_mutex);
	if (!pr->hcg || pr->hcg->gen != gen) {
		if (pr->admin)
			strscpy(name, "admin", sizeof(name));
		else
			snprintf(name, sizeof(name), "user-%u", from_kuid(&init_user_ns, pr->uid));
		h = gs_hcg_make(name, pr->admin, err);
		if (h) {
			gs_hcg_put(pr->hcg);
			pr->hcg = h;
		}
	}
	h = gs_hcg_get(pr->hcg);
	if (h && h->gen != gen) {	/* a stale one, and no new one could be made */
		gs_hcg_put(h);
		h = NULL;
	}
	mutex_unlock(&pr->cg_mutex);
	if (h)
		*err = 0;
	return h;
}

/**
 * gs_principals_sweep - forget principals that hold nothing
 * @all: every principal (unload), not only those whose budget is whole
 *
 * One that spent its budget is kept until it has come back, so that
 * unregistering and registering again does not refill it. A principal is
 * found and referenced under gs_lock, and dropped from the hash here only
 * while the hash's is its one reference, under the same lock.
 *
 * Context: process context.
 */
void gs_principals_sweep(bool all)
{
	struct gs_principal *pr, *recent = NULL;
	u64 now = ktime_get_ns();
	struct hlist_node *tmp;
	HLIST_HEAD(idle);
	int bkt;

	spin_lock(&gs_lock);
	if (all) {
		recent = gs_recent;
		gs_recent = NULL;
	}
	hash_for_each_safe(gs_principals, bkt, tmp, pr, node) {
		if (!all && (kref_read(&pr->ref) > 1 ||
			     gs_bucket_level(&pr->hold, gs_hold_cap(pr), now) < gs_hold_cap(pr)))
			continue;
		hash_del(&pr->node);
		hlist_add_head(&pr->node, &idle);
	}
	spin_unlock(&gs_lock);
	gs_principal_put(recent);
	hlist_for_each_entry_safe(pr, tmp, &idle, node)
		gs_principal_put(pr);
}

/**
 * gs_principal_linked - count registrations linked (@delta 1) or unlinked (-1)
 * @pr: their principal
 * @delta: the change
 *
 * Context: caller holds gs_lock.
 */
void gs_principal_linked(struct gs_principal *pr, int delta)
{
	lockdep_assert_held(&gs_lock);
	pr->entries += delta;
	if (!pr->admin)
		gs_users_entries += delta;
	if (delta > 0 && gs_recent != pr) {
		/* Never the last reference: the principals' hash holds one. */
		if (gs_recent)
			kref_put(&gs_recent->ref, gs_principal_release);
		gs_recent = gs_principal_ref(pr);
	}
}

/**
 * gs_principal_may_grow - whether a user's own share of the table fits more
 * @pr: the principal of some of a write's registrations
 * @grow: how many more of its registrations the write would leave
 *
 * Context: caller holds gs_lock.
 * Return: 0, or -EDQUOT (a user's share is full).
 */
int gs_principal_may_grow(struct gs_principal *pr, int grow)
{
	lockdep_assert_held(&gs_lock);
	if (pr->admin || grow <= 0)
		return 0;
	return pr->entries + grow > READ_ONCE(gs_user_max_entries) ? -EDQUOT : 0;
}

/**
 * gs_table_may_grow - whether the table, and the users' share of it, fit more
 * @count: the registrations there are
 * @total_grow: how many more registrations a write would leave in all
 * @users_grow: how many more of those would be users'
 *
 * Only a write that grows the table, or the users' share, can overflow it:
 * removals always work.
 *
 * Context: caller holds gs_lock.
 * Return: 0, or -ENOSPC.
 */
int gs_table_may_grow(unsigned int count, int total_grow, int users_grow)
{
	lockdep_assert_held(&gs_lock);
	if (total_grow > 0 && count + total_grow > READ_ONCE(gs_max_entries))
		return -ENOSPC;
	if (users_grow > 0 && gs_users_entries + users_grow > READ_ONCE(gs_users_max_entries))
		return -ENOSPC;
	return 0;
}

/**
 * gs_principal_to_park - the principal a helper should be parked for next
 *
 * The one whose registrations have the fewest helpers parked for them:
 * root's first, then a user's, at most GS_PARK_PER_USER each; when none
 * lacks one, the last to register, if no helper waits for it.
 *
 * Context: process context; takes gs_lock.
 * Return: the principal with a reference, or NULL.
 */
struct gs_principal *gs_principal_to_park(void)
{
	struct gs_principal *pr, *best = NULL;
	int want, best_want = 0, bkt;

	spin_lock(&gs_lock);
	hash_for_each(gs_principals, bkt, pr, node) {
		want = pr->admin ? pr->entries : min_t(unsigned int, pr->entries, GS_PARK_PER_USER);
		want -= atomic_read(&pr->parked);
		if (want <= 0)
			continue;
		if (pr->admin) {
			best = pr;
			break;
		}
		if (want > best_want) {
			best = pr;
			best_want = want;
		}
	}
	if (!best && gs_recent && !atomic_read(&gs_recent->parked))
		best = gs_recent;
	if (best)
		kref_get(&best->ref);
	spin_unlock(&gs_lock);
	return best;
}

/**
 * gs_wait_budget - how long a handler may hold the OOM killer
 * @pr: its principal
 * @now: ktime_get_ns() at the victim's choice
 * @why: set to the budget that limits it
 *
 * Its principal's timeout, within what is left of its budgets: root's
 * own, or the user's own and all users' together.
 *
 * Context: process context; takes gs_lock.
 * Return: the wait in ms, or 0 if the handler must not run at all.
 */
unsigned int gs_wait_budget(struct gs_principal *pr, u64 now, const char **why)
{
	s64 wait = READ_ONCE(gs_timeout_ms), left, users;

	spin_lock(&gs_lock);
	left = gs_bucket_level(&pr->hold, gs_hold_cap(pr), now);
	*why = pr->admin ? "budget" : "user_budget";
	if (!pr->admin) {
		wait = min_t(s64, wait, READ_ONCE(gs_user_timeout_ms));
		users = gs_bucket_level(&gs_users_hold, READ_ONCE(gs_users_hold_budget_ms), now);
		if (users < left) {
			left = users;
			*why = "users_budget";
		}
	}
	spin_unlock(&gs_lock);
	wait = min(wait, left);
	return wait < GS_MIN_WAIT_MS ? 0 : wait;
}

/**
 * gs_charge - count the time a handler held the OOM killer
 * @pr: its principal
 * @since: ktime_get_ns() when its hold began
 *
 * Context: process context; takes gs_lock.
 */
void gs_charge(struct gs_principal *pr, u64 since)
{
	s64 held = div_u64(ktime_get_ns() - since, NSEC_PER_MSEC);

	spin_lock(&gs_lock);
	pr->hold.left_ms -= held;
	if (!pr->admin)
		gs_users_hold.left_ms -= held;
	spin_unlock(&gs_lock);
}
