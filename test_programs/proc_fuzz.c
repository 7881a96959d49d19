// SPDX-License-Identifier: GPL-2.0
/*
 * proc_fuzz - fuzz /proc/graceful_shutdown and check it against a model of
 * its contract.
 *
 * Usage: proc_fuzz [--writes N] [--seed S] [--writers K]
 *
 * Makes N write(2) calls (default 10000) to /proc/graceful_shutdown: valid
 * lines, valid lines with one field broken, overlong lines, binary bytes
 * (NUL included), valid lines split across two writes or without a newline,
 * writes of many lines mixing good and bad ones, a pid named twice,
 * removals of pids that are not registered, writes at the 64 KiB bound,
 * the listing written back. A model written from the contract predicts the
 * result of every write (success, or the exact errno) and what the registry
 * then holds; the registry is read back and compared after every batch of
 * writes. Between batches a target process may be killed (its entry must
 * vanish) and max_entries may change (so that ENOSPC is exercised).
 *
 * The targets are children it forks itself (they pause()), one of them with
 * a second thread, whose id names its process; the handlers are files it makes
 * in /tmp/fz with the modes and owners each class needs.
 *
 * The first three quarters of the writes come from one writer, whose model
 * is exact. The rest come from K concurrent writers (default 4, the last
 * one running as uid 1000), each with its own targets and model: the
 * registry restricted to a writer's pids must equal that writer's model.
 *
 * It prints "@gs KEY VALUE" lines (the guest protocol): fuzz_seed,
 * fuzz_writes, fuzz_batches, fuzz_mismatches (registry differs from the
 * model), fuzz_errno_mismatches (a write's result differs from the model),
 * fuzz_class NAME COUNT (how often each result was seen), fuzz_ms and,
 * for the first few mismatches, fuzz_mismatch DESCRIPTION. Exits 0 once it
 * ran; 1 if it could not start (no module, not root).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "graceful_shutdown.h"

#define PROC_FILE	GS_PROC_PATH
#define PARAM_MAX	"/sys/module/" GS_MODULE_NAME "/parameters/max_entries"
#define FZ_DIR		"/tmp/fz"
#define USER_ID		1000

/* The contract's bounds. */
#define WRITE_MAX	GS_WRITE_MAX
#define LINE_MAX_LEN	GS_LINE_MAX
/*
 * Words in a line after the pid that the module accepts: the handler and
 * up to 64 arguments (E2BIG beyond).
 */
#ifndef FZ_ARGC_MAX
#define FZ_ARGC_MAX	65
#endif

#define MAX_TARGETS	40
#define MAX_DEAD	512
#define MAX_MODEL	512
#define MAX_MSGS	10
#define MSG_LEN		400
#define MAX_WRITERS	8

enum {
	C_OK, C_EINVAL, C_ESRCH, C_ENOENT, C_EACCES, C_EPERM, C_ENAMETOOLONG,
	C_EILSEQ, C_E2BIG, C_ENOSPC, C_ENOTDIR, C_OTHER, NCLASSES
};

static const char *const class_names[NCLASSES] = {
	"OK", "EINVAL", "ESRCH", "ENOENT", "EACCES", "EPERM", "ENAMETOOLONG",
	"EILSEQ", "E2BIG", "ENOSPC", "ENOTDIR", "OTHER",
};

/* One writer's counts, in memory shared with the parent. */
struct stats {
	long writes;
	long batches;
	long mismatches;
	long errno_mismatches;
	long classes[NCLASSES];
	int nmsgs;
	char msgs[MAX_MSGS][MSG_LEN];
};

struct entry {
	int pid;
	bool tree;		/* "+<pid>": its descendants too */
	char *cmd;		/* "handler arg...", as listed */
};

struct model {
	int n;
	struct entry e[MAX_MODEL];
};

/* One line of a write, as the model parsed it. */
struct op {
	int pid;
	bool add;
	bool tree;
	char *cmd;
};

struct fz {
	uint64_t rng;
	int id;			/* 0: the single writer, 1..K: concurrent */
	bool concurrent;
	uid_t euid;
	int fd;
	long max_entries;	/* as the model believes it is */
	long pid_max;
	pid_t targets[MAX_TARGETS];
	int ntargets;
	pid_t dead[MAX_DEAD];
	int ndead;
	pid_t tid;		/* a thread (not a leader) of targets[0] */
	pid_t foreign[4];	/* live processes that are not ours */
	int nforeign;
	struct model m;
	struct stats *st;
};

/* A growable byte buffer. */
struct sbuf {
	char *p;
	size_t n, cap;
};

struct handler {
	const char *path;
	int root_err;		/* what a root writer must get */
	int user_err;		/* what uid 1000 must get */
};

#define LONG_NAME FZ_DIR "/" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* The first four are the good ones for root, h_user is good for uid 1000. */
static const struct handler handlers[] = {
	{ FZ_DIR "/h_ok",	0,		0 },
	{ FZ_DIR "/h_555",	0,		0 },
	{ FZ_DIR "/link_ok",	0,		0 },
	{ "/gs/gs_handler_record", 0,		0 },
	{ FZ_DIR "/h_700",	0,		EACCES },
	{ FZ_DIR "/h_user",	EPERM,		0 },
	{ FZ_DIR "/h_644",	EACCES,		EACCES },
	{ FZ_DIR "/h_gw",	EPERM,		EPERM },
	{ FZ_DIR "/h_ww",	EPERM,		EPERM },
	{ FZ_DIR "/dir",	EACCES,		EACCES },
	{ FZ_DIR "/fifo",	EACCES,		EACCES },
	{ "/dev/null",		EACCES,		EACCES },
	{ FZ_DIR "/dangling",	ENOENT,		ENOENT },
	{ FZ_DIR "/missing",	ENOENT,		ENOENT },
	{ FZ_DIR "/h_ok/sub",	ENOTDIR,	ENOTDIR },
	{ "tmp/fz/h_ok",	EINVAL,		EINVAL },
	{ "./h_ok",		EINVAL,		EINVAL },
	{ LONG_NAME,		ENAMETOOLONG,	ENAMETOOLONG },
};

#define NHANDLERS	((int)(sizeof(handlers) / sizeof(handlers[0])))

/* ---- randomness: xorshift64*, deterministic for a seed ---- */

static uint64_t next_rand(struct fz *fz)
{
	uint64_t x = fz->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	fz->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* A number in [0, n). */
static unsigned int rnd(struct fz *fz, unsigned int n)
{
	return n ? (unsigned int)((next_rand(fz) >> 16) % n) : 0;
}

static bool chance(struct fz *fz, unsigned int percent)
{
	return rnd(fz, 100) < percent;
}

/* ---- small helpers ---- */

static void die(const char *what)
{
	printf("@gs fuzz_error %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static void sb_grow(struct sbuf *b, size_t more)
{
	if (b->n + more + 1 <= b->cap)
		return;
	b->cap = (b->n + more + 1) * 2;
	b->p = realloc(b->p, b->cap);
	if (!b->p)
		die("realloc");
}

static void sb_mem(struct sbuf *b, const void *p, size_t n)
{
	sb_grow(b, n);
	memcpy(b->p + b->n, p, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_mem(b, s, strlen(s));
}

static void sb_chr(struct sbuf *b, char c)
{
	sb_mem(b, &c, 1);
}

static __attribute__((format(printf, 2, 3)))
void sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_mem(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* @len bytes of @p as one printable line, at most @max of them. */
static void escape(char *out, size_t size, const char *p, size_t len, size_t max)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < max && o + 5 < size; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 0x21 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else if (c == ' ')
			out[o++] = '_';
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
	}
	if (i < len && o + 16 < size)
		o += (size_t)snprintf(out + o, size - o, "...(%zu)", len);
	out[o] = '\0';
}

static const char *errname(int err)
{
	static char buf[32];
	const char *name;

	if (!err)
		return "OK";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static int class_of(int err)
{
	switch (err) {
	case 0: return C_OK;
	case EINVAL: return C_EINVAL;
	case ESRCH: return C_ESRCH;
	case ENOENT: return C_ENOENT;
	case EACCES: return C_EACCES;
	case EPERM: return C_EPERM;
	case ENAMETOOLONG: return C_ENAMETOOLONG;
	case EILSEQ: return C_EILSEQ;
	case E2BIG: return C_E2BIG;
	case ENOSPC: return C_ENOSPC;
	case ENOTDIR: return C_ENOTDIR;
	}
	return C_OTHER;
}

static __attribute__((format(printf, 2, 3)))
void note(struct fz *fz, const char *fmt, ...)
{
	struct stats *st = fz->st;
	va_list ap;
	int n;

	if (st->nmsgs >= MAX_MSGS)
		return;
	n = snprintf(st->msgs[st->nmsgs], MSG_LEN, "writer=%d batch=%ld ",
		     fz->id, st->batches);
	va_start(ap, fmt);
	vsnprintf(st->msgs[st->nmsgs] + n, MSG_LEN - n, fmt, ap);
	va_end(ap);
	st->nmsgs++;
}

static long read_long(const char *path)
{
	char buf[64] = "";
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtol(buf, NULL, 10);
		fclose(f);
	}
	return v;
}

static void write_param(long value)
{
	char buf[32];
	int fd = open(PARAM_MAX, O_WRONLY);
	int n = snprintf(buf, sizeof(buf), "%ld\n", value);

	if (fd < 0 || write(fd, buf, (size_t)n) != n)
		die(PARAM_MAX);
	close(fd);
}

/* ---- the kernel's view of text: ctype isspace() has 0xa0 too ---- */

static bool k_isspace(char c)
{
	unsigned char u = (unsigned char)c;

	return u == ' ' || (u >= '\t' && u <= '\r') || u == 0xa0;
}

static char *k_skip_spaces(char *s)
{
	while (k_isspace(*s))
		s++;
	return s;
}

static char *k_strim(char *s)
{
	size_t len = strlen(s);

	while (len && k_isspace(s[len - 1]))
		s[--len] = '\0';
	return k_skip_spaces(s);
}

/* ---- what the system says about a pid and a handler ---- */

static bool is_target(struct fz *fz, long nr)
{
	int i;

	for (i = 0; i < fz->ntargets; i++)
		if (fz->targets[i] == nr)
			return true;
	return false;
}

/*
 * A process (thread group leader) with that number exists, seen from
 * /proc: uids[] gets its real, effective and saved uid.
 */
static bool proc_leader(long nr, long uids[3])
{
	char path[64], line[256];
	long tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", nr);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Tgid:", 5))
			tgid = strtol(line + 5, NULL, 10);
		else if (!strncmp(line, "Uid:", 4) && uids)
			sscanf(line + 4, "%ld %ld %ld", &uids[0], &uids[1], &uids[2]);
	}
	fclose(f);
	return tgid == nr;
}

/* The process a thread of that number belongs to (itself for a leader), or -1. */
static long tgid_of(long nr)
{
	char path[64], line[256];
	long tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", nr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5))
			tgid = strtol(line + 5, NULL, 10);
	fclose(f);
	return tgid;
}

static bool pid_live(struct fz *fz, long nr)
{
	return is_target(fz, nr) || proc_leader(nr, NULL);
}

/*
 * May this writer act on @nr? In a concurrent run, a live process that is
 * not ours and that we may act on belongs to another writer (or to no
 * one): the write is not made, *foreign says so.
 */
static int may_act_on(struct fz *fz, long nr, bool *foreign)
{
	long uids[3] = { -1, -1, -1 };
	bool allowed;

	if (is_target(fz, nr))
		return 0;
	if (!proc_leader(nr, uids))
		return ESRCH;
	allowed = fz->euid == 0 ||
		  (uids[0] == fz->euid && uids[1] == fz->euid && uids[2] == fz->euid);
	if (allowed && fz->concurrent)
		*foreign = true;
	return allowed ? 0 : EPERM;
}

/* The handler rules, checked from userspace with the writer's own ids. */
static int handler_oracle(struct fz *fz, const char *path)
{
	struct statvfs sv;
	struct stat st;

	if (path[0] != '/')
		return EINVAL;
	if (stat(path, &st))
		return errno;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	if (!statvfs(path, &sv) && (sv.f_flag & ST_NOEXEC))
		return EACCES;
	if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS))
		return errno;
	if ((st.st_mode & 022) || (st.st_uid != 0 && st.st_uid != fz->euid))
		return EPERM;
	return 0;
}

/* ---- the model ---- */

static struct entry *model_find(struct model *m, int pid)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (m->e[i].pid == pid)
			return &m->e[i];
	return NULL;
}

static void model_del(struct model *m, struct entry *e)
{
	free(e->cmd);
	*e = m->e[--m->n];
}

static void model_clear(struct model *m)
{
	while (m->n)
		model_del(m, &m->e[0]);
}

/* Entries of processes that are gone vanish. */
static void model_prune(struct fz *fz)
{
	int i;

	for (i = fz->m.n - 1; i >= 0; i--)
		if (!pid_live(fz, fz->m.e[i].pid))
			model_del(&fz->m, &fz->m.e[i]);
}

/* Decimal digits only, below @limit; EINVAL for anything else. */
static int parse_decimal(const char *s, long limit, long *nr)
{
	long v = 0;

	if (*s < '0' || *s > '9')
		return EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		v = v * 10 + (*s - '0');
		if (v >= limit)
			return EINVAL;
	}
	*nr = v;
	return 0;
}

/* "<pid>" or "-<pid>": a positive int without sign, spaces or junk. */
static int parse_pid(const char *s, long *nr)
{
	int err = parse_decimal(s, (long)INT_MAX + 1, nr);

	return err ? err : *nr > 0 ? 0 : EINVAL;
}

/* "<uid>" before a ':': a uid_t, (uid_t)-1 aside. */
static int parse_uid(const char *s, long *uid)
{
	return parse_decimal(s, 4294967295L, uid);
}

/* One trimmed, non-empty line. */
static int model_line(struct fz *fz, char *line, struct op *ops, int *nops,
		      bool *foreign)
{
	char *pidstr = line, *rest = NULL, *sep, *p;
	char *argv[FZ_ARGC_MAX + 1];
	struct sbuf cmd = { 0 };
	int argc = 0, err, i;
	bool neg, plus, named = false;
	long nr, owner;

	sep = strpbrk(line, " \t");
	if (sep) {
		*sep = '\0';
		rest = k_skip_spaces(sep + 1);
	}
	/* "<uid>:...": the registrant, when it is not the writer. */
	sep = strchr(pidstr, ':');
	if (sep) {
		*sep = '\0';
		if (parse_uid(pidstr, &owner))
			return EINVAL;
		pidstr = sep + 1;
		named = owner != fz->euid;
	}
	neg = pidstr[0] == '-';
	plus = pidstr[0] == '+';
	/* "-<pid>" alone and without a registrant; the others with a handler. */
	if (neg == (rest && *rest) || (neg && named))
		return EINVAL;
	/* Only root names another registrant. */
	if (named && fz->euid != 0)
		return EPERM;
	err = parse_pid(pidstr + (neg || plus), &nr);
	if (err)
		return err;
	/* A thread's id names its process. */
	if (!is_target(fz, nr) && tgid_of(nr) > 0)
		nr = tgid_of(nr);
	if (!pid_live(fz, nr))
		return ESRCH;
	err = may_act_on(fz, nr, foreign);
	if (err)
		return err;
	for (i = 0; i < *nops; i++)
		if (ops[i].pid == nr)
			return EINVAL;	/* a pid named twice in one write */
	/*
	 * Root naming another registrant: only for a process wholly that
	 * user's, and every target of a root writer is root's.
	 */
	if (named)
		return EPERM;
	if (!neg) {
		for (p = rest; *p; ) {
			p = k_skip_spaces(p);
			if (!*p)
				break;
			if (argc == FZ_ARGC_MAX)
				return E2BIG;
			argv[argc++] = p;
			while (*p && !k_isspace(*p))
				p++;
			if (*p)
				*p++ = '\0';
		}
		if (argc < 1)
			return EINVAL;
		err = handler_oracle(fz, argv[0]);
		if (err)
			return err;
		for (i = 0; i < argc; i++) {
			if (i)
				sb_chr(&cmd, ' ');
			sb_str(&cmd, argv[i]);
		}
	}
	ops[*nops].pid = (int)nr;
	ops[*nops].add = !neg;
	ops[*nops].tree = plus;
	ops[*nops].cmd = cmd.p;
	(*nops)++;
	return 0;
}

static void ops_free(struct op *ops, int nops)
{
	int i;

	for (i = 0; i < nops; i++)
		free(ops[i].cmd);
	free(ops);
}

/*
 * What the module must answer to a write of @buf: 0 or an errno. On 0,
 * *opsp holds what to apply. All or nothing: the first bad line decides.
 */
static int model_eval(struct fz *fz, const char *buf, size_t len,
		      struct op **opsp, int *nops, bool *foreign)
{
	char *copy, *cursor, *line, *nl;
	struct op *ops;
	long count;
	int err = 0, i;

	*nops = 0;
	*opsp = NULL;
	if (len > WRITE_MAX)
		return E2BIG;
	if (memchr(buf, '\0', len))
		return EILSEQ;
	copy = malloc(len + 1);
	ops = calloc(len / 2 + 2, sizeof(*ops));
	if (!copy || !ops)
		die("malloc");
	memcpy(copy, buf, len);
	copy[len] = '\0';
	for (cursor = copy; !err && cursor; ) {
		line = cursor;
		nl = strchr(cursor, '\n');
		if (nl) {
			*nl = '\0';
			cursor = nl + 1;
		} else {
			cursor = NULL;
		}
		if (strlen(line) > LINE_MAX_LEN)
			err = ENAMETOOLONG;
		else if (*k_strim(line))
			err = model_line(fz, k_strim(line), ops, nops, foreign);
	}
	free(copy);
	if (!err) {
		/* Against the registry: removals of what is there, room. */
		model_prune(fz);
		count = fz->m.n;
		for (i = 0; i < *nops && !err; i++) {
			bool there = model_find(&fz->m, ops[i].pid);

			if (!ops[i].add && !there)
				err = ENOENT;
			else if (ops[i].add && !there)
				count++;
			else if (!ops[i].add)
				count--;
		}
		/*
		 * Only a write that grows the registry can overflow it: after
		 * max_entries was lowered below the count, removals, replacements
		 * and empty writes still succeed.
		 */
		if (!err && count > fz->m.n && count > fz->max_entries)
			err = ENOSPC;
	}
	if (err) {
		ops_free(ops, *nops);
		*nops = 0;
		return err;
	}
	*opsp = ops;
	return 0;
}

static void model_commit(struct fz *fz, struct op *ops, int nops)
{
	struct entry *e;
	int i;

	for (i = 0; i < nops; i++) {
		e = model_find(&fz->m, ops[i].pid);
		if (e)
			model_del(&fz->m, e);
		if (ops[i].add) {
			if (fz->m.n == MAX_MODEL)
				die("model full");
			fz->m.e[fz->m.n].pid = ops[i].pid;
			fz->m.e[fz->m.n].tree = ops[i].tree;
			fz->m.e[fz->m.n].cmd = ops[i].cmd;
			ops[i].cmd = NULL;
			fz->m.n++;
		}
	}
}

/* ---- the registry as read back ---- */

static bool owned(struct fz *fz, long pid)
{
	int i;

	if (!fz->concurrent)
		return true;
	if (is_target(fz, pid))
		return true;
	for (i = 0; i < fz->ndead; i++)
		if (fz->dead[i] == pid)
			return true;
	return false;
}

static void read_registry(struct sbuf *b)
{
	char chunk[8192];
	ssize_t n;
	int fd = open(PROC_FILE, O_RDONLY);

	if (fd < 0)
		die(PROC_FILE);
	b->n = 0;
	sb_grow(b, 0);
	b->p[0] = '\0';
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		sb_mem(b, chunk, (size_t)n);
	if (n < 0)
		die("read " PROC_FILE);
	close(fd);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The registry lines of this writer's pids, sorted. */
static int registry_lines(struct fz *fz, struct sbuf *b, char ***linesp)
{
	char **lines = NULL, *p, *nl;
	int n = 0;

	for (p = b->p; p && *p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		if (owned(fz, strtol(p, NULL, 10))) {
			lines = realloc(lines, sizeof(*lines) * (n + 1));
			if (!lines)
				die("realloc");
			lines[n++] = p;
		}
	}
	qsort(lines, n, sizeof(*lines), cmp_str);
	*linesp = lines;
	return n;
}

static int model_lines(struct fz *fz, char ***linesp)
{
	char **lines = calloc(fz->m.n + 1, sizeof(*lines));
	int i;

	if (!lines)
		die("calloc");
	for (i = 0; i < fz->m.n; i++) {
		if (asprintf(&lines[i], "%s%d %s", fz->m.e[i].tree ? "+" : "",
			     fz->m.e[i].pid, fz->m.e[i].cmd) < 0)
			die("asprintf");
	}
	qsort(lines, fz->m.n, sizeof(*lines), cmp_str);
	*linesp = lines;
	return fz->m.n;
}

/* After a mismatch, believe the registry, so one fault is counted once. */
static void model_resync(struct fz *fz, char **got, int ngot)
{
	char *sp;
	int i;

	model_clear(&fz->m);
	for (i = 0; i < ngot && fz->m.n < MAX_MODEL; i++) {
		sp = strchr(got[i], ' ');
		fz->m.e[fz->m.n].pid = (int)strtol(got[i], NULL, 10);
		fz->m.e[fz->m.n].tree = got[i][0] == '+';
		fz->m.e[fz->m.n].cmd = strdup(sp ? sp + 1 : "");
		fz->m.n++;
	}
}

static void check_registry(struct fz *fz, const char *when)
{
	struct sbuf b = { 0 };
	char **got, **want, e1[160], e2[160];
	int ngot, nwant, i;

	model_prune(fz);
	read_registry(&b);
	ngot = registry_lines(fz, &b, &got);
	nwant = model_lines(fz, &want);
	for (i = 0; i < ngot && i < nwant; i++)
		if (strcmp(got[i], want[i]))
			break;
	if (i < ngot || i < nwant) {
		fz->st->mismatches++;
		escape(e1, sizeof(e1), i < nwant ? want[i] : "(none)",
		       strlen(i < nwant ? want[i] : "(none)"), 60);
		escape(e2, sizeof(e2), i < ngot ? got[i] : "(none)",
		       strlen(i < ngot ? got[i] : "(none)"), 60);
		note(fz, "registry %s: %d entries, model %d; first difference: model %s registry %s",
		     when, ngot, nwant, e1, e2);
		model_resync(fz, got, ngot);
	}
	for (i = 0; i < nwant; i++)
		free(want[i]);
	free(want);
	free(got);
	free(b.p);
}

/* ---- writing ---- */

/* One write(2), judged by the model. Returns false if it was not made. */
static bool do_write(struct fz *fz, const char *buf, size_t len)
{
	struct op *ops;
	bool foreign = false;
	char shown[200];
	int want, got, nops;
	ssize_t ret;

	want = model_eval(fz, buf, len, &ops, &nops, &foreign);
	if (foreign) {
		ops_free(ops, nops);
		return false;
	}
	ret = write(fz->fd, buf, len);
	got = ret < 0 ? errno : 0;
	fz->st->writes++;
	fz->st->classes[class_of(got)]++;
	if (ret >= 0 && (size_t)ret != len)
		got = -1;
	if (want != got) {
		fz->st->errno_mismatches++;
		escape(shown, sizeof(shown), buf, len, 100);
		note(fz, "write of %zu bytes: model %s, module %s%s: %s", len,
		     errname(want), got < 0 ? "short count " : "",
		     got < 0 ? "" : errname(got), shown);
	} else if (!got) {
		model_commit(fz, ops, nops);
	}
	ops_free(ops, nops);
	return true;
}

static void write_sb(struct fz *fz, struct sbuf *b)
{
	do_write(fz, b->p ? b->p : "", b->n);
	b->n = 0;
}

/* ---- what to write ---- */

static const char spaces[] = " \t\v\f\r\xa0";

static void add_space(struct fz *fz, struct sbuf *b, bool any)
{
	int n = 1 + (int)rnd(fz, 3);

	while (n--)
		sb_chr(b, any ? spaces[rnd(fz, sizeof(spaces) - 1)] : (rnd(fz, 3) ? ' ' : '\t'));
}

/* Blanks the kernel trims: before and after a line, sometimes. */
static void add_pad(struct fz *fz, struct sbuf *b)
{
	if (chance(fz, 15))
		add_space(fz, b, true);
}

static void add_eol(struct fz *fz, struct sbuf *b)
{
	unsigned int r = rnd(fz, 10);

	if (r < 7)
		sb_chr(b, '\n');
	else if (r < 8)
		sb_str(b, "\r\n");
	/* else: no newline at all */
}

static pid_t pick_target(struct fz *fz)
{
	return fz->targets[rnd(fz, fz->ntargets)];
}

/* A live pid of ours, or (single writer) init or ourselves. */
static pid_t pick_pid(struct fz *fz)
{
	if (fz->nforeign && chance(fz, 5))
		return fz->foreign[rnd(fz, fz->nforeign)];
	return pick_target(fz);
}

static void add_pid(struct fz *fz, struct sbuf *b, long pid)
{
	if (chance(fz, 5))
		sb_fmt(b, "%0*ld", 2 + (int)rnd(fz, 8), pid);	/* leading zeros */
	else
		sb_fmt(b, "%ld", pid);
}

static const char *good_handler(struct fz *fz)
{
	const struct handler *h;

	do
		h = &handlers[rnd(fz, NHANDLERS)];
	while ((fz->euid ? h->user_err : h->root_err) != 0);
	return h->path;
}

static const char *bad_handler(struct fz *fz)
{
	const struct handler *h;

	do
		h = &handlers[rnd(fz, NHANDLERS)];
	while ((fz->euid ? h->user_err : h->root_err) == 0);
	return h->path;
}

static void add_token(struct fz *fz, struct sbuf *b, bool binary)
{
	int n = 1 + (int)rnd(fz, 12);

	while (n--) {
		if (binary && chance(fz, 10))
			sb_chr(b, (char)(0x80 + rnd(fz, 0x80)));
		else
			sb_chr(b, (char)('!' + rnd(fz, '~' - '!' + 1)));
	}
}

static void add_args(struct fz *fz, struct sbuf *b, int nargs)
{
	bool binary = chance(fz, 20);

	while (nargs--) {
		add_space(fz, b, chance(fz, 30));
		add_token(fz, b, binary);
	}
}

/* "<pid> <handler> [args]" or "+<pid> ...", valid. */
static void line_add(struct fz *fz, struct sbuf *b, long pid)
{
	add_pad(fz, b);
	if (chance(fz, 20))
		sb_chr(b, '+');
	add_pid(fz, b, pid);
	add_space(fz, b, false);
	if (chance(fz, 10))
		add_space(fz, b, true);	/* blanks of any kind after the first */
	sb_str(b, good_handler(fz));
	add_args(fz, b, chance(fz, 40) ? 0 : (int)rnd(fz, 6));
	add_pad(fz, b);
	add_eol(fz, b);
}

/* "-<pid>", mostly of a registered pid. */
static void line_remove(struct fz *fz, struct sbuf *b)
{
	long pid;

	if (fz->m.n && chance(fz, 75))
		pid = fz->m.e[rnd(fz, fz->m.n)].pid;
	else
		pid = pick_pid(fz);
	add_pad(fz, b);
	sb_chr(b, '-');
	add_pid(fz, b, pid);
	add_pad(fz, b);
	add_eol(fz, b);
}

static void bad_pid(struct fz *fz, struct sbuf *b)
{
	long pid = pick_target(fz);

	switch (rnd(fz, 16)) {
	case 0:
		sb_str(b, "0");
		break;
	case 1:
		sb_str(b, "000");
		break;
	case 2:
		sb_fmt(b, "+-%ld", pid);
		break;
	case 3:
		sb_fmt(b, "%ldx", pid);
		break;
	case 4:
		sb_fmt(b, "0x%lx", pid);
		break;
	case 5:
		sb_str(b, "99999999999");
		break;
	case 6:
		sb_str(b, "2147483648");
		break;
	case 7:		/* INT_MAX: parses, no such process */
		sb_str(b, "2147483647");
		break;
	case 8:
		sb_fmt(b, "%ld", fz->pid_max + rnd(fz, 1000));
		break;
	case 9:
	case 10:
		if (fz->ndead)
			sb_fmt(b, "%d", fz->dead[rnd(fz, fz->ndead)]);
		else
			sb_fmt(b, "%ld", fz->pid_max + 1);
		break;
	case 11:
	case 12:	/* a thread's id: its process */
		sb_fmt(b, "%d", fz->tid);
		break;
	case 13:
		sb_fmt(b, "%ld.0", pid);
		break;
	case 14:
		sb_fmt(b, "1e%u", rnd(fz, 5));
		break;
	default:
		sb_fmt(b, "--%ld", pid);
		break;
	}
}

/* A valid line with one thing broken. */
static void line_broken(struct fz *fz, struct sbuf *b)
{
	long pid = pick_pid(fz);
	char path[300];
	size_t len;

	add_pad(fz, b);
	switch (rnd(fz, 12)) {
	case 0:
	case 1:		/* the pid */
		bad_pid(fz, b);
		add_space(fz, b, false);
		sb_str(b, good_handler(fz));
		break;
	case 2:
	case 3:		/* the handler: a bad one */
		add_pid(fz, b, pid);
		add_space(fz, b, false);
		sb_str(b, bad_handler(fz));
		break;
	case 4:		/* the handler: a good one with a byte changed */
		add_pid(fz, b, pid);
		add_space(fz, b, false);
		snprintf(path, sizeof(path), "%s", good_handler(fz));
		len = strlen(path);
		switch (rnd(fz, 4)) {
		case 0:
			path[rnd(fz, len)] = (char)('!' + rnd(fz, 94));
			break;
		case 1:
			path[len - 1 - rnd(fz, 3)] = '\0';
			break;
		case 2:
			strcat(path, "/");
			break;
		default:
			strcat(path, "/..");
			break;
		}
		sb_str(b, path);
		break;
	case 5:		/* a blank the pid is not split at */
		add_pid(fz, b, pid);
		sb_chr(b, "\v\f\r\xa0/"[rnd(fz, 5)]);
		sb_str(b, good_handler(fz));
		break;
	case 6:		/* no handler */
		add_pid(fz, b, pid);
		break;
	case 7:		/* a removal with arguments */
		sb_chr(b, '-');
		add_pid(fz, b, pid);
		add_space(fz, b, false);
		sb_str(b, good_handler(fz));
		break;
	case 8:		/* a removal of something not registered */
		sb_chr(b, '-');
		if (chance(fz, 50)) {
			bad_pid(fz, b);
		} else {
			int tries = 8;

			while (tries-- && model_find(&fz->m, (int)pid))
				pid = pick_target(fz);
			add_pid(fz, b, pid);
		}
		break;
	case 9:		/* arguments around the bound */
		add_pid(fz, b, pid);
		add_space(fz, b, false);
		sb_str(b, good_handler(fz));
		add_args(fz, b, FZ_ARGC_MAX - 2 + (int)rnd(fz, 4));
		break;
	case 10:	/* a bare dash, or a dash, a blank and the pid */
		sb_chr(b, '-');
		if (chance(fz, 50)) {
			sb_chr(b, ' ');
			add_pid(fz, b, pid);
		}
		break;
	default:	/* a pid and only blanks and a dash */
		add_pid(fz, b, pid);
		sb_str(b, " -");
		break;
	}
	add_pad(fz, b);
	add_eol(fz, b);
}

/* Several lines, good and bad, sometimes naming a pid twice. */
static void lines_mixed(struct fz *fz, struct sbuf *b, int n)
{
	long last = -1;

	while (n--) {
		unsigned int r = rnd(fz, 100);

		if (r < 50) {
			long pid = (last > 0 && chance(fz, 8)) ? last : pick_pid(fz);

			line_add(fz, b, pid);
			last = pid;
		} else if (r < 65) {
			line_remove(fz, b);
		} else if (r < 85) {
			line_broken(fz, b);
		} else {
			add_pad(fz, b);
		}
		/* Lines are joined by a newline, whatever each ended with. */
		if (b->n && b->p[b->n - 1] != '\n' && n)
			sb_chr(b, '\n');
	}
}

static void case_overlong(struct fz *fz, struct sbuf *b)
{
	static const size_t lens[] = { 4094, 4095, 4096, 4097, 4098, 4200, 5000, 9000 };
	size_t want = lens[rnd(fz, sizeof(lens) / sizeof(lens[0]))];
	size_t start = b->n;

	if (chance(fz, 15)) {
		/* Only blanks: too long even though it trims to nothing. */
		while (b->n - start < want)
			sb_chr(b, ' ');
	} else {
		add_pid(fz, b, pick_pid(fz));
		sb_chr(b, ' ');
		sb_str(b, good_handler(fz));
		sb_chr(b, ' ');
		while (b->n - start < want)
			sb_chr(b, 'a');
	}
	if (chance(fz, 70))
		sb_chr(b, '\n');
}

static void case_binary(struct fz *fz, struct sbuf *b)
{
	int n = (int)rnd(fz, 300);

	while (n--) {
		unsigned int r = rnd(fz, 100);

		if (r < 30)
			sb_chr(b, (char)('0' + rnd(fz, 10)));
		else if (r < 45)
			sb_chr(b, rnd(fz, 2) ? ' ' : '\t');
		else if (r < 55)
			sb_chr(b, '/');
		else if (r < 62)
			sb_chr(b, '-');
		else if (r < 68)
			sb_chr(b, '\n');
		else if (r < 71)
			sb_chr(b, '\0');
		else if (r < 74)
			sb_chr(b, '\xa0');
		else
			sb_chr(b, (char)(1 + rnd(fz, 255)));
	}
}

/* Valid lines, then a few bytes flipped, inserted or deleted. */
static void case_mutated(struct fz *fz, struct sbuf *b)
{
	int n = 1 + (int)rnd(fz, 4);
	size_t at;

	lines_mixed(fz, b, 1 + (int)rnd(fz, 3));
	while (n-- && b->n) {
		at = rnd(fz, (unsigned int)b->n);
		switch (rnd(fz, 4)) {
		case 0:
			b->p[at] = (char)rnd(fz, 256);
			break;
		case 1:
			b->p[at] ^= (char)(1 << rnd(fz, 8));
			break;
		case 2:
			memmove(b->p + at, b->p + at + 1, b->n - at - 1);
			b->n--;
			break;
		default:
			sb_chr(b, 0);
			memmove(b->p + at + 1, b->p + at, b->n - at - 1);
			b->p[at] = "\n \t0-/\xa0"[rnd(fz, 7)];
			break;
		}
	}
}

/* Around the 64 KiB bound: a valid line and blank lines. */
static void case_big(struct fz *fz, struct sbuf *b)
{
	static const size_t lens[] = { 65535, 65536, 65536, 65537, 70000, 131072 };
	size_t want = lens[rnd(fz, sizeof(lens) / sizeof(lens[0]))];
	bool nul = chance(fz, 20);

	line_add(fz, b, pick_pid(fz));
	if (b->p[b->n - 1] != '\n')
		sb_chr(b, '\n');
	while (b->n < want)
		sb_chr(b, chance(fz, 90) ? '\n' : ' ');
	if (nul)
		b->p[rnd(fz, (unsigned int)b->n)] = '\0';
}

static void one_case(struct fz *fz)
{
	struct sbuf b = { 0 };
	unsigned int r = rnd(fz, 100);
	size_t cut;

	if (r < 18) {
		line_add(fz, &b, pick_pid(fz));
	} else if (r < 26) {
		line_remove(fz, &b);
	} else if (r < 44) {
		line_broken(fz, &b);
	} else if (r < 58) {
		lines_mixed(fz, &b, 2 + (int)rnd(fz, 7));
	} else if (r < 64) {
		/* A valid line split across two writes. */
		if (chance(fz, 70))
			line_add(fz, &b, pick_pid(fz));
		else
			line_remove(fz, &b);
		if (b.n >= 2) {
			cut = 1 + rnd(fz, (unsigned int)b.n - 1);
			do_write(fz, b.p, cut);
			do_write(fz, b.p + cut, b.n - cut);
			b.n = 0;
			free(b.p);
			return;
		}
	} else if (r < 70) {
		case_overlong(fz, &b);
	} else if (r < 80) {
		case_binary(fz, &b);
	} else if (r < 90) {
		case_mutated(fz, &b);
	} else if (r < 93) {
		case_big(fz, &b);
	} else if (r < 96) {
		/* What is read can be written back. */
		read_registry(&b);
		if (!fz->concurrent || fz->euid) {
			write_sb(fz, &b);
			free(b.p);
			return;
		}
		b.n = 0;	/* other writers' entries: not ours to write */
		line_add(fz, &b, pick_pid(fz));
	} else if (r < 98) {
		/* Empty and blank-only writes. */
		if (chance(fz, 50))
			add_space(fz, &b, true);
	} else {
		lines_mixed(fz, &b, 20 + (int)rnd(fz, 40));
	}
	write_sb(fz, &b);
	free(b.p);
}

/* ---- processes ---- */

static void pause_forever(void)
{
	for (;;)
		pause();
}

static pid_t spawn_target(void)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		pause_forever();
	}
	return pid;
}

static void *thread_main(void *arg)
{
	pid_t tid = gettid();

	if (write(*(int *)arg, &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	pause_forever();
	return NULL;
}

/* A target with a second thread: *tid gets the thread's id. */
static pid_t spawn_threaded(pid_t *tid)
{
	pthread_t thread;
	int pfd[2];
	pid_t pid;

	if (pipe(pfd))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (pthread_create(&thread, NULL, thread_main, &pfd[1]))
			_exit(1);
		pause_forever();
	}
	if (read(pfd[0], tid, sizeof(*tid)) != sizeof(*tid))
		die("thread id");
	close(pfd[0]);
	close(pfd[1]);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Kill one target (not the threaded one) and start another. */
static void replace_target(struct fz *fz)
{
	int i = 1 + (int)rnd(fz, fz->ntargets - 1);

	reap(fz->targets[i]);
	if (fz->ndead < MAX_DEAD)
		fz->dead[fz->ndead++] = fz->targets[i];
	fz->targets[i] = spawn_target();
}

static void start_targets(struct fz *fz, int n)
{
	fz->targets[0] = spawn_threaded(&fz->tid);
	for (fz->ntargets = 1; fz->ntargets < n; fz->ntargets++)
		fz->targets[fz->ntargets] = spawn_target();
}

static void stop_targets(struct fz *fz)
{
	while (fz->ntargets) {
		pid_t pid = fz->targets[--fz->ntargets];

		reap(pid);
		if (fz->ndead < MAX_DEAD)
			fz->dead[fz->ndead++] = pid;
	}
}

/* ---- setup ---- */

static void make_file(const char *path, mode_t mode, uid_t uid)
{
	static const char script[] = "#!/bin/sh\nexit 0\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, script, sizeof(script) - 1) < 0)
		die(path);
	if (fchown(fd, uid, uid) || fchmod(fd, mode))
		die(path);
	close(fd);
}

static void make_handlers(void)
{
	mkdir(FZ_DIR, 0755);
	if (chmod(FZ_DIR, 0755))
		die(FZ_DIR);
	make_file(FZ_DIR "/h_ok", 0755, 0);
	make_file(FZ_DIR "/h_555", 0555, 0);
	make_file(FZ_DIR "/h_700", 0700, 0);
	make_file(FZ_DIR "/h_user", 0755, USER_ID);
	make_file(FZ_DIR "/h_644", 0644, 0);
	make_file(FZ_DIR "/h_gw", 0775, 0);
	make_file(FZ_DIR "/h_ww", 0757, 0);
	mkdir(FZ_DIR "/dir", 0755);
	unlink(FZ_DIR "/fifo");
	if (mkfifo(FZ_DIR "/fifo", 0755))
		die("mkfifo");
	unlink(FZ_DIR "/link_ok");
	unlink(FZ_DIR "/dangling");
	if (symlink(FZ_DIR "/h_ok", FZ_DIR "/link_ok") ||
	    symlink(FZ_DIR "/nowhere", FZ_DIR "/dangling"))
		die("symlink");
}

/* The oracle must agree with the table, which is the contract. */
static void check_handlers(struct fz *fz)
{
	int i, want, got;

	for (i = 0; i < NHANDLERS; i++) {
		want = fz->euid ? handlers[i].user_err : handlers[i].root_err;
		got = handler_oracle(fz, handlers[i].path);
		if (want != got) {
			fz->st->mismatches++;
			note(fz, "setup: handler %.60s should give %s, the filesystem says %s",
			     handlers[i].path, errname(want), errname(got));
		}
	}
}

static void fz_init(struct fz *fz, int id, uint64_t seed, struct stats *st)
{
	memset(fz, 0, sizeof(*fz));
	fz->id = id;
	fz->rng = (seed ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1))) | 1;
	fz->st = st;
	fz->euid = geteuid();
	fz->pid_max = read_long("/proc/sys/kernel/pid_max");
	if (fz->pid_max <= 0)
		fz->pid_max = 32768;
	fz->fd = open(PROC_FILE, O_WRONLY);
	if (fz->fd < 0)
		die(PROC_FILE);
}

/* Batches of writes, the registry checked after each. */
static void run_batches(struct fz *fz, long writes, bool events)
{
	static const long maxes[] = { 0, 1, 2, 3, 5, 8, 16, 24, 32, 40, 64, 64, 64, 128 };
	long target = fz->st->writes + writes;
	int n;

	while (fz->st->writes < target) {
		for (n = 1 + (int)rnd(fz, 24); n-- && fz->st->writes < target; )
			one_case(fz);
		check_registry(fz, "after batch");
		fz->st->batches++;
		if (chance(fz, 10))
			replace_target(fz);
		if (events && chance(fz, 12)) {
			fz->max_entries = maxes[rnd(fz, sizeof(maxes) / sizeof(maxes[0]))];
			write_param(fz->max_entries);
		}
	}
}

/* Remove what is left on processes that stay, through the model. */
static void remove_all(struct fz *fz)
{
	struct sbuf b = { 0 };
	int tries = 2 * MAX_MODEL;

	model_prune(fz);
	while (fz->m.n && tries--) {
		sb_fmt(&b, "-%d\n", fz->m.e[fz->m.n - 1].pid);
		write_sb(fz, &b);
		check_registry(fz, "after removal");
	}
	free(b.p);
}

/* One of several concurrent writers: a process of its own. */
static void writer(int id, uint64_t seed, long writes, bool as_user, struct stats *st)
{
	struct fz *fz = calloc(1, sizeof(*fz));

	if (!fz)
		die("calloc");
	if (as_user && (setgroups(0, NULL) || setresgid(USER_ID, USER_ID, USER_ID) ||
			setresuid(USER_ID, USER_ID, USER_ID)))
		die("setresuid");
	fz_init(fz, id, seed, st);
	fz->concurrent = true;
	fz->max_entries = LONG_MAX;	/* the parent raised it for everyone */
	if (as_user) {
		fz->foreign[0] = 1;	/* init: not ours, EPERM */
		fz->nforeign = 1;
	}
	check_handlers(fz);
	start_targets(fz, 8);
	run_batches(fz, writes, false);
	remove_all(fz);
	stop_targets(fz);
	check_registry(fz, "after the writer's targets exited");
	_exit(0);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--writes N] [--seed S] [--writers K]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	long writes = 10000, k = 4, total, ms, max0;
	uint64_t seed = 1;
	struct stats *st, sum = { 0 };
	struct timespec t0, t1;
	struct fz *fz;
	int i, j;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage(argv[0]);
		if (!strcmp(argv[i], "--writes"))
			writes = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--writers"))
			k = strtol(argv[++i], NULL, 10);
		else
			usage(argv[0]);
	}
	if (writes < 0 || k < 0 || k > MAX_WRITERS)
		usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("@gs fuzz_seed %llu\n", (unsigned long long)seed);
	printf("@gs fuzz_writers %ld\n", k);
	clock_gettime(CLOCK_MONOTONIC, &t0);

	st = mmap(NULL, sizeof(*st) * (MAX_WRITERS + 1), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	fz = calloc(1, sizeof(*fz));
	if (st == MAP_FAILED || !fz)
		die("memory");
	max0 = read_long(PARAM_MAX);
	if (max0 < 0)
		die(PARAM_MAX);
	umask(0);
	make_handlers();

	/* One writer: the model predicts every errno, max_entries varies. */
	fz_init(fz, 0, seed, &st[0]);
	fz->max_entries = max0;
	fz->foreign[fz->nforeign++] = 1;
	fz->foreign[fz->nforeign++] = getpid();
	check_handlers(fz);
	start_targets(fz, MAX_TARGETS);
	check_registry(fz, "at start");
	run_batches(fz, k ? writes - writes / 4 : writes, true);
	fz->max_entries = max0;
	write_param(max0);
	remove_all(fz);
	stop_targets(fz);
	check_registry(fz, "after the targets exited");

	/* Concurrent writers, each on its own processes. */
	if (k) {
		write_param(1024);
		total = writes / 4;
		for (i = 1; i <= k; i++) {
			pid_t pid = fork();

			if (pid < 0)
				die("fork");
			if (!pid)
				writer(i, seed, total / k + (i <= total % k),
				       k >= 2 && i == k, &st[i]);
		}
		for (i = 1; i <= k; i++)
			if (wait(NULL) < 0)
				die("wait");
		write_param(max0);
		fz->concurrent = false;
		model_clear(&fz->m);
		check_registry(fz, "after every writer");
	}

	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	for (i = 0; i <= k; i++) {
		sum.writes += st[i].writes;
		sum.batches += st[i].batches;
		sum.mismatches += st[i].mismatches;
		sum.errno_mismatches += st[i].errno_mismatches;
		for (j = 0; j < NCLASSES; j++)
			sum.classes[j] += st[i].classes[j];
	}
	printf("@gs fuzz_writes %ld\n", sum.writes);
	printf("@gs fuzz_batches %ld\n", sum.batches);
	printf("@gs fuzz_mismatches %ld\n", sum.mismatches);
	printf("@gs fuzz_errno_mismatches %ld\n", sum.errno_mismatches);
	for (j = 0; j < NCLASSES; j++)
		printf("@gs fuzz_class %s %ld\n", class_names[j], sum.classes[j]);
	printf("@gs fuzz_ms %ld\n", ms);
	for (i = 0, j = 0; i <= k; i++) {
		int m;

		for (m = 0; m < st[i].nmsgs && j < MAX_MSGS; m++, j++)
			printf("@gs fuzz_mismatch %s\n", st[i].msgs[m]);
	}
	return 0;
}
