/* SPDX-License-Identifier: GPL-2.0 */
/*
 * proc_create_module's internal map: one concern per file, and what each
 * file offers the others. Calls between files run one way only, down this
 * list's arrows:
 *
 *   gs_main.c       load and unload                 -> every file below
 *   gs_hook.c       hearing of a victim (patch or ftrace) -> gs_oom.c
 *   gs_killer.c     hearing of a user-space killer's victim
 *                   (/proc/graceful_shutdown_fire)  -> gs_oom.c, parse
 *                                                      (gs_is_admin), log
 *   gs_proc.c       /proc/graceful_shutdown         -> parse, registry,
 *                                                      principal, park,
 *                                                      waiter, waiter_run
 *   gs_parse.c      the lines of a write            -> registry, principal,
 *                                                      confine, trust
 *   gs_oom.c        the OOM path: fire, wait, kill  -> registry, principal,
 *                                                      park, waiter, victim,
 *                                                      reserve, helper, cgroup,
 *                                                      leftover, log
 *   gs_waiter_run.c a waiter's reads, wake and "done" -> waiter, victim,
 *                                                      helper, confine, cgroup,
 *                                                      registry
 *   gs_park.c       helpers forked ahead of time    -> helper, registry,
 *                                                      principal, cgroup
 *   gs_helper.c     the helper's start, before exec -> trust, cred, confine,
 *                                                      cgroup, registry
 *   gs_registry.c   registrations                   -> principal, cgroup,
 *                                                      waiter, log
 *   gs_principal.c  who answers for a registration: its share of the table
 *                   and of the time handlers may hold the OOM killer
 *                                                   -> cgroup
 *   gs_leftover.c   what a run left charged          -> cgroup, log
 *   gs_cgroup.c     handler cgroups, one per principal
 *   gs_waiter.c     handlers their registrant starts: their state
 *   gs_victim.c     the victim, as a handler is told of it
 *   gs_confine.c    the registrant's confinement, carried or refused
 *   gs_trust.c      which handler files may run
 *   gs_cred.c       the registrant's identity for the helper
 *   gs_reserve.c    memory held back for a global OOM
 *   gs_log.c        the kernel log's event lines
 *   gs_params.c     module parameters (data every file reads)
 *
 * Lock order (outermost first; a lock not listed under another is never
 * taken while holding it):
 *
 *   gs_running (gs_oom.c)     one handler run at a time, a bit lock: a
 *                             user-space killer's request waits for it
 *                             killably; the OOM path, under oom_lock,
 *                             for at most the longest timeout and 1 s
 *   gs_write_mutex            writers of /proc/graceful_shutdown, applying
 *     rcu_read_lock()
 *       gs_lock               registry links, counts, principals, budgets
 *   principal->cg_mutex       making a principal's handler cgroup
 *   oom_lock (the kernel's, held by every OOM-path caller)
 *     gs_lock
 *     gs_park_lock            the parked helpers
 *     gs_reserve_lock         the reserve's pages
 *       zone->lock            (inside __free_pages())
 *     entry->helper_lock      one run's helper, cgroup, abandoned flag
 *     waiter->lock            one waiter's state (taken alone)
 *     gs_leftover_lock        the leftover checks waiting for a run to end
 *     gs_log_lock             the log line buffer
 *
 * The OOM path takes no mutex and never waits for a lock that a task
 * allocating memory could hold: it takes spinlocks for a few instructions
 * at a time, and reads the registry under RCU.
 */
#ifndef GS_INTERNAL_H
#define GS_INTERNAL_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#include "graceful_shutdown.h"

/*
 * The system workqueues the module queues on: from 6.18 the unbound one is
 * system_dfl_wq and the per-CPU one system_percpu_wq, and work queued on
 * the old names is reported as deprecated.
 */
#ifdef GS_HAVE_SYSTEM_DFL_WQ
#define gs_unbound_wq	system_dfl_wq
#define gs_percpu_wq	system_percpu_wq
#else
#define gs_unbound_wq	system_unbound_wq
#define gs_percpu_wq	system_wq
#endif

/*
 * User space's root. From 7.3 kernel threads, init_task first, start in
 * an empty root (nullfs), and usermode helpers copy PID 1's fs_struct,
 * userspace_init_fs: the cgroup files a kworker opens are user space's,
 * so it opens them inside scoped_with_init_fs(), and registrants and
 * parked helpers are compared with gs_user_fs(). Before 7.3 kernel
 * threads share user space's root: there is nothing to enter.
 */
#ifdef GS_HAVE_USERSPACE_INIT_FS
#include <linux/fs_struct.h>
#define gs_user_fs()	(userspace_init_fs)
#else
#define gs_user_fs()	(init_task.fs)
#define scoped_with_init_fs()
#endif

struct cgroup;
struct file;
struct gs_waiter;
struct oom_control;
struct pid;
struct subprocess_info;
struct task_struct;

#define GS_ENV_MAX		14
#define GS_ENV_SIZE		1024
#define GS_CGROUP_PATH_MAX	256

/* ---- gs_params.c: module parameters ---- */

extern unsigned int gs_timeout_ms;
extern unsigned int gs_start_timeout_ms;
extern unsigned int gs_user_timeout_ms;
extern unsigned int gs_max_entries;
extern unsigned int gs_users_max_entries;
extern unsigned int gs_user_max_entries;
extern unsigned int gs_hold_budget_ms;
extern unsigned int gs_users_hold_budget_ms;
extern unsigned int gs_user_hold_budget_ms;
extern unsigned int gs_user_handler_memory_kb;
extern unsigned int gs_reserve_kb;
extern int gs_global_nice;
extern bool gs_show_stuck;

unsigned int gs_handler_cgroup(char *buf, size_t size);
bool gs_handler_cgroup_none(void);

/* ---- gs_oom.c, gs_killer.c: who is about to kill a victim (named by gs_log.c) ---- */

enum gs_killer {
	GS_KILLER_KERNEL,		/* the kernel's OOM killer */
	GS_KILLER_SYSTEMD_OOMD,		/* systemd-oomd's pre-kill hook */
	GS_KILLER_EARLYOOM,		/* earlyoom's -P program */
	GS_KILLER_NR
};

/* A victim as the module hears of it, from the kernel or a user-space killer. */
struct gs_kill {
	struct task_struct *victim;
	enum gs_killer killer;
	const char *constraint;		/* gs_constraint_name(), or "userspace" */
	bool global;			/* a global OOM: no memory for the handler */
};

const char *gs_killer_name(enum gs_killer killer);

/* ---- gs_log.c ---- */

/* What the module logs about one registration's handler. */
enum gs_event {
	GS_EVENT_START,			/* the handler is being started */
	GS_EVENT_EXIT_STATUS,		/* it exited with a status */
	GS_EVENT_EXIT_SIGNAL,		/* it was ended by a signal */
	GS_EVENT_TIMEOUT,		/* its time was up: killed */
	GS_EVENT_ERROR,			/* it could not be started */
	GS_EVENT_SKIP,			/* it was not started */
	GS_EVENT_KILL_INCOMPLETE,	/* processes were left after every kill pass */
	GS_EVENT_LEFTOVER,		/* memory its run left charged, and to whom */
	GS_EVENT_NR
};

/* The fields of an event line; each event writes the ones gs_log.c lists for it. */
struct gs_log_fields {
	pid_t victim;
	pid_t registered;
	pid_t helper;
	const char *comm;
	const char *handler;
	uid_t uid;
	const char *constraint;
	unsigned int timeout_ms;
	unsigned long reserve_kb;
	const char *spawn;
	int status;
	int signal;
	int err;
	const char *reason;
	const char *phase;
	u64 duration_ms;
	unsigned int killed;
	unsigned int passes;
	const char *cgroup;
	unsigned long leftover_kb;
	const char *killer;
};

void gs_log(enum gs_event event, const struct gs_log_fields *f);

/* ---- gs_cgroup.c: handler cgroups, one per principal ---- */

/*
 * A principal's handler cgroup, as made for one value of handler_cgroup:
 * <handler_cgroup>/<name>/run, the leaf its handlers (and the helpers
 * parked for it) run in. Immutable once made; referenced by the principal,
 * by each registration made meanwhile, and by helpers parked in it.
 */
struct gs_hcg {
	struct kref ref;
	struct cgroup *run;		/* the leaf, with a css reference */
	unsigned int gen;		/* handler_cgroup's generation it was made for */
	char name[32];			/* "admin" or "user-<uid>" */
	char dir[GS_CGROUP_PATH_MAX];	/* <handler_cgroup>/<name> */
	char run_dir[GS_CGROUP_PATH_MAX + 8];	/* dir + "/run" */
};

int gs_cgroup_init(void);
void gs_cgroup_exit(void);
struct gs_hcg *gs_hcg_make(const char *name, bool admin, int *err);
struct gs_hcg *gs_hcg_get(struct gs_hcg *h);
void gs_hcg_put(struct gs_hcg *h);
int gs_hcg_join(struct gs_hcg *h);
bool gs_hcg_holds_current(const struct gs_hcg *h);
int gs_hcg_move(struct gs_hcg *h, struct pid *tgid);
int gs_cg_read_u64(const char *dir, const char *file, u64 *val);

/* ---- gs_leftover.c: what a run left charged ---- */

int gs_leftover_init(void);
void gs_leftover_exit(void);
void gs_hcg_leftover_later(struct gs_hcg *h, pid_t victim, uid_t uid);

/* ---- gs_principal.c: who answers for registrations, and their shares ---- */

/* A budget of time to hold the OOM killer, refilled at its size per minute. */
struct gs_bucket {
	u64 stamp_ns;
	s64 left_ms;
};

/*
 * Who answers for a registration: the admins together (CAP_SYS_ADMIN in
 * the initial user namespace), or one user, counted by its uid outside
 * every user namespace (the owner of the outermost one it is in), so that
 * the uids a user maps into its own namespaces are not more users.
 * Referenced by the principals' hash, by each registration and by each
 * helper parked for it.
 */
struct gs_principal {
	struct hlist_node node;		/* in gs_principals, under gs_lock */
	struct kref ref;
	kuid_t uid;			/* in init_user_ns */
	bool admin;
	unsigned int entries;		/* in the registry, under gs_lock */
	struct gs_bucket hold;		/* under gs_lock */
	atomic_t parked;		/* helpers parked for it */
	struct mutex cg_mutex;		/* making its handler cgroup */
	struct gs_hcg *hcg;		/* under cg_mutex */
};

extern spinlock_t gs_lock;

void gs_principal_init(void);
struct gs_principal *gs_principal_get(const struct cred *cred, bool admin);
struct gs_principal *gs_principal_ref(struct gs_principal *pr);
void gs_principal_put(struct gs_principal *pr);
struct gs_hcg *gs_principal_hcg(struct gs_principal *pr, int *err);
void gs_principals_sweep(bool all);
int gs_principal_may_grow(struct gs_principal *pr, int grow);
int gs_table_may_grow(unsigned int count, int total_grow, int users_grow);
struct gs_principal *gs_principal_to_park(void);
unsigned int gs_wait_budget(struct gs_principal *pr, u64 now, const char **why);
void gs_charge(struct gs_principal *pr, u64 since);
void gs_principal_linked(struct gs_principal *pr, int delta);

/* ---- gs_confine.c: the registrant's confinement ---- */

/* What of its registrant a handler runs with, besides its identity. */
struct gs_confinement {
	int nice;
	bool no_new_privs;
	struct rlimit rlim[RLIM_NLIMITS];
	kuid_t loginuid;
	unsigned int sessionid;
};

int gs_confinement_check(struct task_struct *task);
bool gs_cgroup_bpf_rules(struct task_struct *task);
void gs_confinement_take(struct gs_confinement *c, struct task_struct *task);
void gs_confinement_apply(const struct gs_confinement *c, bool global, bool admin);

/* ---- gs_registry.c: the registrations ---- */

enum { GS_FIRED };

/*
 * A registration. The registry holds one reference while it is linked;
 * the OOM path takes its own when it claims the entry. Freed after an RCU
 * grace period, as readers walk the registry without a lock.
 */
struct gs_entry {
	struct hlist_node hnode;	/* in the registry, under gs_lock */
	struct rcu_head rcu;
	struct kref ref;
	unsigned long flags;		/* GS_FIRED: claimed by the OOM path */
	struct pid *pid;		/* the registered process (its TGID) */
	const struct cred *cred;	/* the registrant's, for the handler */
	struct gs_principal *principal;	/* who answers for it */
	struct gs_hcg *hcg;		/* where its handler runs */
	struct gs_confinement confine;	/* the registrant's, for the handler */
	bool tree;			/* "+<pid>": its descendants too */
	dev_t dev;			/* the handler file that was checked */
	unsigned long ino;
	char *exec_path;		/* its path, without symbolic links: what runs */
	struct gs_waiter *waiter;	/* "@wait": the registrant runs its handler */
	char *cmdline;			/* "handler arg...", as listed */
	char **argv;
	int argc;

	/* Used once, when the entry fires. */
	struct subprocess_info *info;
	struct work_struct work;
	struct completion started;	/* about to exec, or failed to */
	struct completion done;		/* the forked helper has exited */
	spinlock_t helper_lock;		/* protects helper, helper_task, cgrp, abandoned */
	struct pid *helper;		/* set by the helper as it starts */
	struct task_struct *helper_task;	/* the same, for its exit status */
	struct cgroup *cgrp;		/* the handler cgroup it ran in */
	bool abandoned;			/* the OOM killer stopped waiting */
	bool global;			/* a global OOM (not memcg, cpuset or mempolicy) */
	enum gs_killer killer;		/* who is about to kill the victim */
	bool metered;			/* the reserve is lent a block at a time */
	bool parked;			/* run by a parked helper */
	int status;			/* wait(2) status, or a negative errno */
	const char *why;		/* why the helper did not exec */
	pid_t victim_nr;
	short oom_score_adj;		/* the victim's, for the helper */
	short oom_score_adj_min;
	u64 start_ns;
	u64 end_ns;
	char *envp[GS_ENV_MAX + 1];
	char env[GS_ENV_SIZE];
};

void gs_entry_put(struct gs_entry *e);
struct gs_entry *gs_lookup(struct pid *pid);
void gs_link(struct gs_entry *e);
bool gs_unlink(struct gs_entry *e);
void gs_unlink_put(struct gs_entry *e);
unsigned int gs_registry_count(void);
unsigned int gs_registry_count_locked(void);
bool gs_process_gone(struct pid *pid);
void gs_prune(void);
void gs_registry_clear(void);
void gs_registry_for_each(void (*fn)(struct gs_entry *e, void *data), void *data);
struct gs_entry *gs_claim(const struct gs_kill *k);
bool gs_owns(kuid_t euid, const struct cred *tcred);
void gs_log_skip(const struct gs_kill *k, const struct gs_entry *e, const char *why);

/* ---- gs_trust.c: which handler files may run ---- */

int gs_check_handler(const char *path, const struct cred *cred, dev_t *dev,
		     unsigned long *ino, char **real_path);
bool gs_same_root_as_kernel(struct task_struct *task);

/* ---- gs_cred.c: the registrant's identity, for the helper ---- */

int gs_take_identity(struct cred *new, const struct cred *reg);
int gs_umh_caps_now(struct cred *new);

/* ---- gs_helper.c: the helper process, from its fork to exec ---- */

int gs_helper_wq_init(void);
void gs_helper_wq_exit(void);
int gs_helper_start(struct gs_entry *e, struct cred *new);
int gs_helper_setup(struct gs_entry *e);
void gs_helper_fork(struct gs_entry *e);
bool gs_helper_exited(struct pid *pid);
int gs_helper_status(struct task_struct *task);
void gs_helper_queue_delayed(struct delayed_work *work, unsigned long delay);

/* ---- gs_park.c: helpers forked ahead of time ---- */

extern const bool gs_can_park;

int gs_park_init(void);
void gs_park_exit(void);
void gs_park_again(unsigned long delay);
bool gs_park_claim(struct gs_entry *e);

/* ---- gs_reserve.c: memory held back for a global OOM ---- */

/* Retry a refill, or a park, this long after memory was short. */
#define GS_REFILL_DELAY		(HZ / 10)

bool gs_reserve_fill(gfp_t gfp);
unsigned long gs_reserve_release(void);
unsigned long gs_reserve_meter(void);
void gs_reserve_refill_later(void);
void gs_reserve_exit(void);
void gs_drop_watermark_boost(void);
bool gs_handler_reserves(void);

/* ---- gs_oom.c: the OOM path ---- */

void gs_victim_chosen(struct oom_control *oc);
int gs_victim_announced(struct task_struct *victim, enum gs_killer killer);

/* ---- gs_victim.c: the victim, as its handler is told of it ---- */

/* The victim as the OOM killer chose it, for its handler. */
struct gs_victim {
	struct pid *pid;		/* its process */
	struct pid *registered;		/* the registered process (an ancestor's, for "+") */
	struct cgroup *cgrp;		/* its cgroup v2, with a css reference; or NULL */
	char comm[TASK_COMM_LEN];
	unsigned long rss_kb;
	short oom_score_adj;
	const char *constraint;		/* gs_constraint_name() */
	unsigned int timeout_ms;	/* how long its handler may run */
	u64 chosen_ns;			/* CLOCK_MONOTONIC */
	const char *killer;		/* gs_killer_name() */
};

const char *gs_constraint_name(int constraint);
void gs_victim_take(struct gs_victim *v, struct gs_entry *e, const struct gs_kill *k,
		    unsigned int wait_ms);
void gs_victim_put(struct gs_victim *v);
void gs_victim_env(struct gs_entry *e, const struct gs_victim *v);
size_t gs_victim_text(const struct gs_victim *v, char *buf, size_t size);

/* ---- gs_waiter.c, gs_waiter_run.c: handlers their registrant starts itself ---- */

#define GS_WAITER_TEXT	1024

enum gs_waiter_state {
	GS_WAITER_IDLE,		/* no registration yet */
	GS_WAITER_BOUND,	/* registered, waiting for an OOM */
	GS_WAITER_FIRED,	/* its process was chosen; not read yet */
	GS_WAITER_STARTING,	/* a reader takes the wake */
	GS_WAITER_RUNNING,	/* the waiter runs its handler */
	GS_WAITER_OVER,		/* the run ended */
	GS_WAITER_GONE,		/* the registration ended without an OOM */
};

struct gs_waiter {
	struct kref ref;
	spinlock_t lock;		/* protects state, done, e, victim */
	enum gs_waiter_state state;
	bool done;			/* it wrote "done" */
	struct pid *tgid;		/* the first reader's process: only it reads */
	kuid_t euid;			/* and only with its credentials */
	struct pid *registered;		/* the process it is registered for */
	struct gs_entry *e;		/* the registration being run, until gs_waiter_over() */
	struct gs_victim victim;	/* the victim, with references */
	struct mutex read_mutex;	/* the reading side */
	struct delayed_work move;	/* into the handler cgroup, from a kworker */
	struct gs_hcg *move_to;		/* that cgroup, for the kworker */
	struct completion moved;
	int move_err;
	char text[GS_WAITER_TEXT];
	size_t text_len;
};

extern wait_queue_head_t gs_waiter_wq;
extern bool gs_waiters_closing;

void gs_waiter_wake(void);

struct gs_waiter *gs_waiter_new(void);
struct gs_waiter *gs_waiter_get(struct gs_waiter *w);
void gs_waiter_put(struct gs_waiter *w);
int gs_waiter_bind(struct gs_waiter *w, struct pid *pid);
void gs_waiter_unbind(struct gs_waiter *w);
struct pid *gs_waiter_close(struct gs_waiter *w);
bool gs_waiter_is_bound(struct gs_waiter *w);
bool gs_waiter_is(struct gs_waiter *w, struct pid *tgid);
bool gs_waiter_fire(struct gs_waiter *w, struct gs_entry *e, const struct gs_victim *v);
void gs_waiter_over(struct gs_waiter *w);
bool gs_waiter_is_done(struct gs_waiter *w);
int gs_waiter_done(struct gs_waiter *w);
ssize_t gs_waiter_read(struct gs_waiter *w, char __user *buf, size_t count, loff_t *pos,
		       bool nonblock);
__poll_t gs_waiter_poll(struct gs_waiter *w, struct file *file, poll_table *pt);
void gs_waiters_shutdown(void);

/* ---- gs_parse.c: the lines of a write ---- */

/* One parsed line of a write. */
struct gs_op {
	struct list_head node;
	struct pid *pid;
	struct gs_entry *add;		/* a registration to make */
	bool remove;			/* "-<pid>" */
	/* neither: "<uid>:<pid> ..." naming a registration there already, kept */
};

bool gs_is_admin(struct file *file);
int gs_parse_line(struct file *file, struct gs_waiter *w, char *line, struct list_head *ops,
		  unsigned int *adds);
void gs_ops_free(struct list_head *ops);

/* ---- gs_proc.c: /proc/graceful_shutdown ---- */

int gs_proc_init(void);
void gs_proc_exit(void);
void gs_proc_clear(void);

/* ---- gs_killer.c: /proc/graceful_shutdown_fire ---- */

int gs_killer_init(void);
void gs_killer_exit(void);

/* ---- gs_hook.c: how the module hears of a victim ---- */

int gs_hook_init(void);
void gs_hook_exit(void);
const char *gs_hook_mode(void);
void gs_stock_trampoline(void);
void gs_stock_entry(struct oom_control *oc);

#endif /* GS_INTERNAL_H */
