// SPDX-License-Identifier: GPL-2.0
/*
 * gs-kit-killer: what user-space OOM killers call before they kill, so
 * that a gs-kit registration runs its handler whichever killer comes
 * first. Each request becomes a write of "<pid> <killer>" to
 * /proc/graceful_shutdown_fire, which returns once that process's handler
 * has run (the module runs it exactly as at a kernel OOM, once).
 *
 *   gs-kit-killer oomd            systemd-oomd's pre-kill hook: a varlink
 *                                 service (io.systemd.oom.Prekill) on
 *                                 stdin/stdout, one connection, started by
 *                                 a socket unit with Accept=yes. Notify
 *                                 names a cgroup: every process in it and
 *                                 below is announced, then the reply goes.
 *   gs-kit-killer earlyoom-listen earlyoom's requests, as root, one after
 *                                 another on the socket systemd passes
 *                                 (gs-kit-earlyoom.socket): "<pid>\n" in,
 *                                 "ok\n" or "err <errno name>\n" out.
 *   gs-kit-killer earlyoom-serve  one such request on stdin/stdout.
 *   gs-kit-earlyoom               earlyoom's -P program (this binary under
 *                                 that name): runs as earlyoom's own
 *                                 unprivileged user, so it hands the pid in
 *                                 EARLYOOM_PID to earlyoom-listen through
 *                                 its socket, and waits for the answer.
 *
 * Static and small, since earlyoom kills 200 ms after it starts -P.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "graceful_shutdown.h"

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define EARLYOOM_SOCKET	"/run/gs-kit/earlyoom.sock"
/* One varlink message: systemd-oomd's Notify is a cgroup path and little else. */
#define MESSAGE_MAX	(64 * 1024)
/* How long -P waits for earlyoom-listen's answer (a handler's longest run, and more). */
#define EARLYOOM_WAIT_MS	30000

static const char *prog = "gs-kit-killer";

static void say(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static bool write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

/* ---- announcing a victim to the module ---- */

/* The module's request file, or -1 (and said why) when it cannot be opened. */
static int open_fire(void)
{
	int fd = open(GS_FIRE_PATH, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		say("%s: %s%s", GS_FIRE_PATH, strerror(errno),
		    errno == ENOENT ? " (the gs-kit module is not loaded: no handler runs)" : "");
	return fd;
}

/* What the module answered a request for @pid on @fd: 0, or an errno. */
static int announce(int fd, pid_t pid, const char *killer)
{
	char line[64];

	snprintf(line, sizeof(line), "%d %s\n", (int)pid, killer);
	return write(fd, line, strlen(line)) < 0 ? errno : 0;
}

/* The victims of one kill, and how their requests went. */
struct tally {
	unsigned int ran;		/* a handler ran (or the module said why not) */
	unsigned int unregistered;	/* no registration (or it fired already) */
	unsigned int gone;		/* exited meanwhile */
	unsigned int failed;		/* any other error */
	int first_err;
	char ran_pids[256];
};

static void tally_one(struct tally *t, pid_t pid, int err)
{
	size_t len = strlen(t->ran_pids);

	if (!err) {
		t->ran++;
		snprintf(t->ran_pids + len, sizeof(t->ran_pids) - len, "%s%d", len ? "," : "", (int)pid);
	} else if (err == ENOENT) {
		t->unregistered++;
	} else if (err == ESRCH) {
		t->gone++;
	} else {
		t->failed++;
		if (!t->first_err)
			t->first_err = err;
	}
}

/*
 * Announce every process in the cgroup directory @dir and below. Depth is
 * bounded by the path length; a cgroup that vanishes meanwhile is skipped.
 */
static void announce_cgroup(int fd, const char *dir, const char *killer, struct tally *t)
{
	char path[PATH_MAX];
	struct dirent *d;
	FILE *procs;
	DIR *sub;
	int pid;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return;
	procs = fopen(path, "re");
	if (procs) {
		while (fscanf(procs, "%d", &pid) == 1)
			tally_one(t, pid, announce(fd, pid, killer));
		fclose(procs);
	}
	sub = opendir(dir);
	if (!sub)
		return;
	while ((d = readdir(sub))) {
		if (d->d_type != DT_DIR || d->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, d->d_name) >= (int)sizeof(path))
			continue;
		announce_cgroup(fd, path, killer, t);
	}
	closedir(sub);
}

/* ---- a small JSON reader, for the varlink messages systemd-oomd sends ---- */

struct json {
	const char *p, *end;
	bool bad;
};

static void json_space(struct json *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p))
		j->p++;
}

static bool json_eat(struct json *j, char c)
{
	json_space(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

/*
 * A string into @out (NUL-terminated; bytes beyond @size make it bad).
 * Escapes are decoded; \u only for ASCII, which is all a cgroup path of
 * systemd's uses (unit names escape everything else as \xHH themselves).
 */
static void json_string(struct json *j, char *out, size_t size)
{
	size_t n = 0;

	if (!json_eat(j, '"')) {
		j->bad = true;
		return;
	}
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;

		if ((unsigned char)c < 0x20) {
			j->bad = true;
			return;
		}
		if (c == '\\') {
			if (j->p >= j->end) {
				j->bad = true;
				return;
			}
			c = *j->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u': {
				char hex[5] = "";
				unsigned long v;
				char *stop;

				if (j->end - j->p < 4) {
					j->bad = true;
					return;
				}
				memcpy(hex, j->p, 4);
				j->p += 4;
				v = strtoul(hex, &stop, 16);
				if (*stop || v == 0 || v > 0x7f) {
					j->bad = true;
					return;
				}
				c = (char)v;
				break;
			}
			default:
				j->bad = true;
				return;
			}
		}
		if (out) {
			if (n + 1 >= size) {
				j->bad = true;
				return;
			}
			out[n++] = c;
		}
	}
	if (!json_eat(j, '"'))
		j->bad = true;
	if (out)
		out[n] = '\0';
}

static void json_skip(struct json *j, int depth);

/* An object's members: @member is called with each key, and must consume its value. */
static void json_object(struct json *j, void (*member)(struct json *j, const char *key, void *ctx),
			void *ctx)
{
	char key[64];

	if (!json_eat(j, '{')) {
		j->bad = true;
		return;
	}
	if (json_eat(j, '}'))
		return;
	do {
		json_string(j, key, sizeof(key));
		if (j->bad || !json_eat(j, ':')) {
			j->bad = true;
			return;
		}
		member(j, key, ctx);
		if (j->bad)
			return;
	} while (json_eat(j, ','));
	if (!json_eat(j, '}'))
		j->bad = true;
}

static void json_skip_member(struct json *j, const char *key, void *ctx)
{
	(void)key;
	json_skip(j, *(int *)ctx);
}

/* Any value, checked and passed over; nesting bounded. */
static void json_skip(struct json *j, int depth)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i;

	json_space(j);
	if (j->p >= j->end || depth > 16) {
		j->bad = true;
		return;
	}
	if (*j->p == '"') {
		json_string(j, NULL, 0);
	} else if (*j->p == '{') {
		int next = depth + 1;

		json_object(j, json_skip_member, &next);
	} else if (*j->p == '[') {
		j->p++;
		if (json_eat(j, ']'))
			return;
		do {
			json_skip(j, depth + 1);
		} while (!j->bad && json_eat(j, ','));
		if (!json_eat(j, ']'))
			j->bad = true;
	} else if (*j->p == '-' || isdigit((unsigned char)*j->p)) {
		j->p++;
		while (j->p < j->end && (isdigit((unsigned char)*j->p) || strchr(".eE+-", *j->p)))
			j->p++;
	} else {
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			size_t n = strlen(words[i]);

			if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, words[i], n)) {
				j->p += n;
				return;
			}
		}
		j->bad = true;
	}
}

/* ---- systemd-oomd's pre-kill hook (varlink) ---- */

#define PREKILL_INTERFACE	"io.systemd.oom.Prekill"
#define PREKILL_NOTIFY		PREKILL_INTERFACE ".Notify"

struct call {
	char method[128];
	char cgroup[PATH_MAX];
	bool has_cgroup;
	bool oneway;
};

static void call_parameter(struct json *j, const char *key, void *ctx)
{
	struct call *c = ctx;
	int depth = 1;

	if (!strcmp(key, "cgroup")) {
		json_string(j, c->cgroup, sizeof(c->cgroup));
		c->has_cgroup = true;
	} else {
		json_skip(j, depth);
	}
}

static void call_member(struct json *j, const char *key, void *ctx)
{
	struct call *c = ctx;

	if (!strcmp(key, "method")) {
		json_string(j, c->method, sizeof(c->method));
	} else if (!strcmp(key, "parameters")) {
		json_space(j);
		if (j->p < j->end && *j->p == '{')
			json_object(j, call_parameter, c);
		else
			json_skip(j, 1);
	} else if (!strcmp(key, "oneway")) {
		json_space(j);
		c->oneway = j->end - j->p >= 4 && !memcmp(j->p, "true", 4);
		json_skip(j, 1);
	} else {
		json_skip(j, 1);
	}
}

/* A varlink reply: @body and its NUL, unless the call was oneway. */
static bool reply(const struct call *c, const char *body)
{
	if (c->oneway)
		return true;
	return write_all(1, body, strlen(body) + 1);
}

/*
 * Where @cgroup is in the cgroup v2 hierarchy: systemd-oomd names it from
 * the hierarchy's root; a path under /sys/fs/cgroup is taken too. Nothing
 * that climbs out of it (no "." or ".." component).
 */
static bool cgroup_dir(const char *cgroup, char *dir, size_t size)
{
	const char *rel = cgroup, *s;

	if (!strncmp(rel, CGROUP_ROOT "/", sizeof(CGROUP_ROOT)))
		rel += sizeof(CGROUP_ROOT) - 1;
	if (rel[0] != '/')
		return false;
	for (s = rel; *s; ) {
		size_t n;

		while (*s == '/')
			s++;
		n = strcspn(s, "/");
		if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
	}
	return snprintf(dir, size, "%s%s", CGROUP_ROOT, rel) < (int)size;
}

static void prekill(struct call *c)
{
	char dir[PATH_MAX], body[PATH_MAX + 128];
	struct tally t = { 0 };
	struct timespec a, b;
	int fd;

	if (!c->has_cgroup || !cgroup_dir(c->cgroup, dir, sizeof(dir))) {
		say("systemd-oomd: a Notify without a cgroup path; nothing announced");
		reply(c, "{\"error\":\"org.varlink.service.InvalidParameter\",\"parameters\":{\"parameter\":\"cgroup\"}}");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	fd = open_fire();
	if (fd >= 0) {
		announce_cgroup(fd, dir, GS_KILLER_NAME_OOMD, &t);
		close(fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	say("systemd-oomd kills %s: %u handler(s) run%s%s%s, %u process(es) not registered, %u gone, %u failed%s%s, in %ld ms",
	    c->cgroup, t.ran, t.ran ? " (pid " : "", t.ran_pids, t.ran ? ")" : "",
	    t.unregistered, t.gone, t.failed, t.failed ? ": " : "",
	    t.failed ? strerror(t.first_err) : "",
	    (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
	/* The kill goes ahead whatever happened here: the reply only says so sooner. */
	snprintf(body, sizeof(body), "{\"parameters\":{}}");
	reply(c, body);
}

/* Serve one connection: varlink calls, each ended by a NUL, until EOF. */
static int serve_oomd(void)
{
	static char buf[MESSAGE_MAX];
	size_t used = 0;

	for (;;) {
		char *nul = memchr(buf, '\0', used);
		ssize_t n;

		if (nul) {
			struct json j = { buf, nul, false };
			struct call c = { 0 };
			size_t len = nul - buf + 1;

			json_object(&j, call_member, &c);
			json_space(&j);
			if (j.bad || j.p != j.end || !c.method[0]) {
				say("a malformed varlink message; closing the connection");
				return 1;
			}
			if (!strcmp(c.method, PREKILL_NOTIFY)) {
				prekill(&c);
			} else {
				char body[256];

				/* Named back only when it needs no escaping. */
				snprintf(body, sizeof(body),
					 "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"%s\"}}",
					 strspn(c.method, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._") ==
					 strlen(c.method) ? c.method : "");
				reply(&c, body);
			}
			memmove(buf, buf + len, used - len);
			used -= len;
			continue;
		}
		if (used == sizeof(buf)) {
			say("a varlink message longer than %d bytes; closing the connection", MESSAGE_MAX);
			return 1;
		}
		n = read(0, buf + used, sizeof(buf) - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			say("reading the connection: %s", strerror(errno));
			return 1;
		}
		if (!n)
			return used ? 1 : 0;
		used += n;
	}
}

/* ---- earlyoom ---- */

/* A pid, as decimal digits only. */
static bool parse_pid(const char *s, pid_t *pid)
{
	char *end;
	long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return false;
	*pid = (pid_t)v;
	return true;
}

/*
 * One request from earlyoom's -P program on @fd: "<pid>\n" in, "ok\n" or
 * "err <errno name>\n" out. A client that says nothing for a second is
 * dropped, so that it cannot hold up the next.
 */
static int serve_earlyoom(int in, int out)
{
	char line[32], answer[64];
	struct pollfd pfd = { .fd = in, .events = POLLIN };
	size_t used = 0;
	pid_t pid;
	int fd, err;

	while (used < sizeof(line) - 1 && poll(&pfd, 1, 1000) > 0) {
		ssize_t n = read(in, line + used, sizeof(line) - 1 - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += n;
		if (memchr(line, '\n', used))
			break;
	}
	line[used] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (!parse_pid(line, &pid)) {
		write_all(out, "err EINVAL\n", 11);
		say("earlyoom: a request that is not a pid");
		return 1;
	}
	fd = open_fire();
	err = fd < 0 ? ENXIO : announce(fd, pid, GS_KILLER_NAME_EARLYOOM);
	if (fd >= 0)
		close(fd);
	if (!err)
		snprintf(answer, sizeof(answer), "ok\n");
	else
		snprintf(answer, sizeof(answer), "err %s\n", strerrorname_np(err) ?: "unknown");
	write_all(out, answer, strlen(answer));
	if (err != ENOENT)
		say("earlyoom kills %d: %s", (int)pid, err ? strerror(err) : "its handler ran");
	return err && err != ENOENT ? 1 : 0;
}

/*
 * earlyoom-listen: earlyoom's requests, one after another, on the socket
 * systemd passes (fd 3, LISTEN_FDS=1), for as long as it runs. Resident,
 * so that a request costs no process start: earlyoom kills 200 ms after
 * it starts -P, and a service started per connection took most of that
 * under emulation.
 */
static int listen_earlyoom(void)
{
	const char *fds = getenv("LISTEN_FDS"), *owner = getenv("LISTEN_PID");

	if (!fds || strcmp(fds, "1") || !owner || atoi(owner) != getpid()) {
		say("earlyoom-listen: no socket from systemd (LISTEN_FDS=1): run it from gs-kit-earlyoom.socket");
		return 2;
	}
	for (;;) {
		int c = accept4(3, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			say("accept: %s", strerror(errno));
			return 1;
		}
		serve_earlyoom(c, c);
		close(c);
	}
}

/*
 * earlyoom's -P: hand EARLYOOM_PID to earlyoom-listen and wait for its
 * answer. earlyoom kills once -P exits, or 200 ms after it started it:
 * exiting when the handler is done lets the kill come no later than that.
 */
static int earlyoom_prekill(void)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char line[32], answer[64] = "";
	struct pollfd pfd;
	size_t used = 0;
	pid_t pid;
	int fd;

	if (!parse_pid(getenv("EARLYOOM_PID"), &pid)) {
		say("EARLYOOM_PID is not a pid: run me as earlyoom's -P program");
		return 2;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("socket: %s", strerror(errno));
		return 1;
	}
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", EARLYOOM_SOCKET);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		say("%s: %s (is gs-kit-earlyoom.socket running? gs-kit configure sets it up)",
		    EARLYOOM_SOCKET, strerror(errno));
		return 1;
	}
	snprintf(line, sizeof(line), "%d\n", (int)pid);
	if (!write_all(fd, line, strlen(line))) {
		say("%s: %s", EARLYOOM_SOCKET, strerror(errno));
		return 1;
	}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (used < sizeof(answer) - 1 && poll(&pfd, 1, EARLYOOM_WAIT_MS) > 0) {
		ssize_t n = read(fd, answer + used, sizeof(answer) - 1 - used);

		if (n <= 0)
			break;
		used += n;
	}
	answer[used] = '\0';
	answer[strcspn(answer, "\n")] = '\0';
	close(fd);
	if (strcmp(answer, "ok") && strcmp(answer, "err ENOENT")) {
		say("earlyoom kills %d: %s", (int)pid, answer[0] ? answer : "no answer");
		return 1;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: gs-kit-killer oomd | earlyoom-listen | earlyoom-serve | earlyoom\n"
		"  oomd             systemd-oomd's pre-kill varlink hook, on stdin/stdout\n"
		"  earlyoom-listen  earlyoom's requests, as root, on the socket systemd passes\n"
		"  earlyoom-serve   one such request on stdin/stdout\n"
		"  earlyoom         earlyoom's -P program (also as gs-kit-earlyoom)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	/* As earlyoom's -P, whatever name it runs us by. */
	if (!strcmp(base, "gs-kit-earlyoom") || (argc == 1 && getenv("EARLYOOM_PID"))) {
		prog = "gs-kit-earlyoom";
		return earlyoom_prekill();
	}
	if (argc != 2)
		return usage();
	if (!strcmp(argv[1], "oomd"))
		return serve_oomd();
	if (!strcmp(argv[1], "earlyoom-serve"))
		return serve_earlyoom(0, 1);
	if (!strcmp(argv[1], "earlyoom-listen"))
		return listen_earlyoom();
	if (!strcmp(argv[1], "earlyoom"))
		return earlyoom_prekill();
	return usage();
}
