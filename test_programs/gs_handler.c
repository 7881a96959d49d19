// SPDX-License-Identifier: GPL-2.0
/*
 * gs_handler - graceful-shutdown handlers for the tests, one binary whose
 * behaviour is chosen by the name it is run as:
 *
 *   gs_handler_record DIR      record what the handler saw, then exit 0
 *   gs_handler_sleep DIR MS    record, sleep MS milliseconds, exit 0
 *   gs_handler_hang DIR        record, then never exit
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
	if (!strcmp(name, "gs_handler_hang")) {
		if (record(argv[1], "hang"))
			return 1;
		for (;;)
			pause();
	}
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
