// SPDX-License-Identifier: GPL-2.0
/*
 * gs_handler - graceful-shutdown handlers for the tests, one binary whose
 * behaviour is chosen by the name it is run as:
 *
 *   gs_handler_record DIR      record what the handler saw, then exit 0
 *   gs_handler_sleep DIR MS    record, sleep MS milliseconds, exit 0
 *   gs_handler_hang DIR        start a child in a new session that starts
 *                              a grandchild (as a script's background job
 *                              would), record once both exist, then never
 *                              exit, nor do they
 *   gs_handler_fail DIR CODE   record, then exit with CODE
 *   gs_handler_crash DIR       record, then die of SIGSEGV
 *
 * The record is DIR/<GS_PID>.rec, one "key=value" per line: the time the
 * handler started (CLOCK_MONOTONIC ns), its uid and gid, whether
 * /proc/<GS_PID> existed when it started, and every GS_* variable. It is
 * written to DIR/.<GS_PID>.tmp, synced and renamed, so a reader sees all
 * of it or nothing.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

int main(int argc, char **argv)
{
	const char *name = basename(argv[0]);

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [ARG]\n", name);
		return 2;
	}
	if (!strcmp(name, "gs_handler_record"))
		return record(argv[1], "record") ? 1 : 0;
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
	if (!strcmp(name, "gs_handler_crash")) {
		record(argv[1], "crash");
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
		return 1;
	}
	fprintf(stderr, "%s: unknown handler name or arguments\n", name);
	return 2;
}
