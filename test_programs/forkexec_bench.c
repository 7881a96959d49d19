// SPDX-License-Identifier: GPL-2.0
/*
 * forkexec_bench - how long a plain fork and exec of a handler takes, to
 * compare with how long the kernel takes to start a gs-kit handler.
 *
 * Usage: forkexec_bench HANDLER DIR COUNT
 *
 * COUNT times: take CLOCK_MONOTONIC, fork, and exec HANDLER DIR in the
 * child with GS_PID=fe<i> and GS_CHOSEN_NS=<that time> in its environment
 * (HANDLER is gs_handler_record, which writes DIR/fe<i>.rec with the time
 * it started); wait for it, then read the record. Prints one line per
 * trial:
 *
 *   forkexec <i> <started_ns - before_fork_ns>
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The started_ns of DIR/fe<i>.rec, or -1. */
static long long record_time(const char *dir, int i)
{
	char path[4096], line[256];
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/fe%d.rec", dir, i);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "started_ns=", 11))
			ns = atoll(line + 11);
	fclose(f);
	unlink(path);
	return ns;
}

int main(int argc, char **argv)
{
	char pid_env[64], chosen_env[64];
	int count, i, status;
	long long t0, t1;
	pid_t child;

	count = argc == 4 ? atoi(argv[3]) : 0;
	if (count <= 0) {
		fprintf(stderr, "usage: %s HANDLER DIR COUNT\n", argv[0]);
		return 2;
	}
	for (i = 0; i < count; i++) {
		t0 = now_ns();
		child = fork();
		if (child < 0) {
			perror("fork");
			return 1;
		}
		if (child == 0) {
			char *args[] = { argv[1], argv[2], NULL };
			char *envp[] = { pid_env, chosen_env, NULL };

			snprintf(pid_env, sizeof(pid_env), "GS_PID=fe%d", i);
			snprintf(chosen_env, sizeof(chosen_env), "GS_CHOSEN_NS=%lld", t0);
			execve(argv[1], args, envp);
			_exit(127);
		}
		if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			fprintf(stderr, "%s: trial %d: handler failed\n", argv[0], i);
			return 1;
		}
		t1 = record_time(argv[2], i);
		if (t1 < 0) {
			fprintf(stderr, "%s: trial %d: no record\n", argv[0], i);
			return 1;
		}
		printf("forkexec %d %lld\n", i, t1 - t0);
		fflush(stdout);
	}
	return 0;
}
