// SPDX-License-Identifier: GPL-2.0
/*
 * gs_handler - graceful-shutdown handlers for the tests, one binary whose
 * behaviour is chosen by the name it is run as:
 *
 *   gs_handler_record DIR [F]  record what the handler saw (and whether it
 *                              may create file F: probe_write=ok|ERRNO),
 *                              then exit 0
 *   gs_handler_sleep DIR MS    record, sleep MS milliseconds, exit 0
 *   gs_handler_hang DIR        start a child in a new session that starts
 *                              a grandchild (as a script's background job
 *                              would), record once both exist, then never
 *                              exit, nor do they
 *   gs_handler_fail DIR CODE   record, then exit with CODE
 *   gs_handler_crash DIR       record, then die of SIGSEGV
 *   gs_handler_alloc DIR MB    touch MB MiB of memory, then record and exit 0
 *   gs_handler_thread DIR      record, start a thread that appends a line to
 *                              DIR/<GS_PID>.beat every 20 ms, then end the
 *                              main thread alone (exit(2), not exit_group):
 *                              the process lives on in the other thread
 *   gs_thread_sleeper          not a handler: start a thread, print its
 *                              thread id, and sleep (a thread to register)
 *
 * The record is DIR/<GS_PID>.rec, one "key=value" per line: the time the
 * handler started (CLOCK_MONOTONIC ns), its uid and gid, whether
 * /proc/<GS_PID> existed when it started, what it runs with (LSM label,
 * capability bounding and effective sets, no_new_privs, supplementary
 * groups, oom_score_adj, cgroup, audit login uid, RLIMIT_NOFILE, nice),
 * and every GS_*
 * variable.
 * It is written to DIR/.<GS_PID>.tmp, synced and renamed, so a reader sees
 * all of it or nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The first line of @path, without its newline, or "none". */
static void first_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, (int)size, f))
		snprintf(buf, size, "none");
	if (f)
		fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* The value of a "Key:\tvalue" line of /proc/self/status, blanks squeezed to ','. */
static void status_field(const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key), n = 0;
	char line[512], *v;
	FILE *f;

	snprintf(buf, size, "none");
	f = fopen("/proc/self/status", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		for (v = line + klen + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (; *v && *v != '\n' && n + 1 < size; v++) {
			if (*v == ' ' || *v == '\t') {
				if (n && buf[n - 1] != ',')
					buf[n++] = ',';
			} else {
				buf[n++] = *v;
			}
		}
		if (n && buf[n - 1] == ',')
			n--;
		buf[n] = '\0';
		break;
	}
	fclose(f);
}

/* What the handler runs with, one "key=value" line each. */
static void describe_self(FILE *f)
{
	static const char *const fields[][2] = {
		{ "CapBnd", "cap_bnd" }, { "CapEff", "cap_eff" },
		{ "NoNewPrivs", "no_new_privs" }, { "Groups", "groups" },
	};
	struct rlimit rl;
	char buf[512];
	size_t i;
	int nice;

	first_line("/proc/self/attr/current", buf, sizeof(buf));
	fprintf(f, "label=%s\n", buf);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		status_field(fields[i][0], buf, sizeof(buf));
		fprintf(f, "%s=%s\n", fields[i][1], buf);
	}
	first_line("/proc/self/oom_score_adj", buf, sizeof(buf));
	fprintf(f, "oom_score_adj=%s\n", buf);
	first_line("/proc/self/cgroup", buf, sizeof(buf));
	fprintf(f, "cgroup=%s\n", buf);
	first_line("/proc/self/loginuid", buf, sizeof(buf));
	fprintf(f, "loginuid=%s\n", buf);
	if (!getrlimit(RLIMIT_NOFILE, &rl))
		fprintf(f, "rlimit_nofile=%llu\n", (unsigned long long)rl.rlim_cur);
	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (!errno)
		fprintf(f, "nice=%d\n", nice);
}

/* Set by main: a file the record says whether the handler may create. */
static const char *probe_file;

static int record(const char *dir, const char *mode)
{
	const char *victim = getenv("GS_PID");
	char path[4096], tmp[4096], proc[64];
	struct timespec ts;
	struct stat st;
	char **env;
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (!victim)
		victim = "unknown";
	snprintf(proc, sizeof(proc), "/proc/%s", victim);
	snprintf(path, sizeof(path), "%s/%s.rec", dir, victim);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, victim);
	f = fopen(tmp, "w");
	if (!f) {
		perror(tmp);
		return -1;
	}
	fprintf(f, "started_ns=%lld\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fprintf(f, "mode=%s\n", mode);
	fprintf(f, "uid=%d\neuid=%d\ngid=%d\n", getuid(), geteuid(), getgid());
	fprintf(f, "handler_pid=%d\n", getpid());
	fprintf(f, "victim_alive=%d\n", stat(proc, &st) == 0);
	describe_self(f);
	if (probe_file) {
		int fd = open(probe_file, O_WRONLY | O_CREAT, 0644);

		fprintf(f, "probe_write=%s\n", fd >= 0 ? "ok" : strerrorname_np(errno));
		if (fd >= 0)
			close(fd);
	}
	for (env = environ; *env; env++)
		if (!strncmp(*env, "GS_", 3))
			fprintf(f, "%s\n", *env);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
	return rename(tmp, path);
}

/*
 * The record is written only once the child and the grandchild exist, so a
 * test that sees it knows the whole tree of three was there to be killed.
 */
static int hang(const char *dir)
{
	int ready[2];
	char c;

	if (pipe(ready))
		return 1;
	switch (fork()) {
	case -1:
		return 1;
	case 0:
		/* Out of the handler's session: only ancestry links it. */
		setsid();
		switch (fork()) {
		case -1:
			_exit(1);
		case 0:
			break;
		default:
			if (write(ready[1], "x", 1) != 1)
				_exit(1);
		}
		for (;;)
			pause();
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1 || record(dir, "hang"))
		return 1;
	for (;;)
		pause();
}

/* The heartbeat of gs_handler_thread's second thread: a line every 20 ms. */
static void *beat(void *path)
{
	const struct timespec tick = { 0, 20 * 1000 * 1000 };
	FILE *f;

	for (;;) {
		f = fopen(path, "a");
		if (f) {
			fputs("x\n", f);
			fclose(f);
		}
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void *sleeper(void *unused)
{
	(void)unused;
	printf("%ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *name = basename(argv[0]);

	if (!strcmp(name, "gs_thread_sleeper")) {
		pthread_t t;

		if (pthread_create(&t, NULL, sleeper, NULL))
			return 1;
		for (;;)
			pause();
	}

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [ARG]\n", name);
		return 2;
	}
	if (!strcmp(name, "gs_handler_record")) {
		probe_file = argc > 2 ? argv[2] : NULL;
		return record(argv[1], "record") ? 1 : 0;
	}
	if (!strcmp(name, "gs_handler_sleep") && argc == 3) {
		long ms = atol(argv[2]);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		if (record(argv[1], "sleep"))
			return 1;
		nanosleep(&ts, NULL);
		return 0;
	}
	if (!strcmp(name, "gs_handler_hang"))
		return hang(argv[1]);
	if (!strcmp(name, "gs_handler_fail") && argc == 3) {
		record(argv[1], "fail");
		return atoi(argv[2]);
	}
	if (!strcmp(name, "gs_handler_alloc") && argc == 3) {
		size_t len = (size_t)atol(argv[2]) << 20, off;
		char *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (mem == MAP_FAILED)
			return 1;
		for (off = 0; off < len; off += 4096)
			mem[off] = 1;
		return record(argv[1], "alloc") ? 1 : 0;
	}
	if (!strcmp(name, "gs_handler_thread")) {
		static char path[4096];
		pthread_t t;

		snprintf(path, sizeof(path), "%s/%s.beat", argv[1], getenv("GS_PID") ?: "unknown");
		if (record(argv[1], "thread") || pthread_create(&t, NULL, beat, path))
			return 1;
		/* This thread alone: the process lives on, its leader a zombie. */
		syscall(SYS_exit, 0);
	}
	if (!strcmp(name, "gs_handler_crash")) {
		record(argv[1], "crash");
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 1;
	}
	fprintf(stderr, "%s: unknown handler name or arguments\n", name);
	return 2;
}
