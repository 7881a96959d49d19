// SPDX-License-Identifier: GPL-2.0
/*
 * oom_condition_creator - print our PID, then allocate and touch memory
 * until the OOM killer kills us.
 *
 * Usage: oom_condition_creator [--wait] [--chunk-kb N] [--rate-mb-s N]
 *   --wait        after printing the PID, wait for SIGUSR1 before allocating
 *                 (so a test can register us first)
 *   --chunk-kb N  allocate in chunks of N KiB (default 1024)
 *   --rate-mb-s N allocate at most N MiB per second (default: no limit)
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long chunk_kb = 1024, rate_mb_s = 0, page = sysconf(_SC_PAGESIZE);
	unsigned long total_kb = 0;
	int wait = 0, i;
	double start;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else if (!strcmp(argv[i], "--chunk-kb") && i + 1 < argc)
			chunk_kb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rate-mb-s") && i + 1 < argc)
			rate_mb_s = atol(argv[++i]);
		else {
			fprintf(stderr, "usage: %s [--wait] [--chunk-kb N] [--rate-mb-s N]\n", argv[0]);
			return 2;
		}
	}
	if (chunk_kb <= 0 || rate_mb_s < 0) {
		fprintf(stderr, "%s: sizes must be positive\n", argv[0]);
		return 2;
	}
	if (wait) {
		sigset_t mask, old;

		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		sigprocmask(SIG_BLOCK, &mask, &old);
		signal(SIGUSR1, on_usr1);
		printf("%d\n", getpid());
		fflush(stdout);
		while (!go)
			sigsuspend(&old);
	} else {
		printf("%d\n", getpid());
		fflush(stdout);
	}

	start = now_s();
	for (;;) {
		char *p = malloc(chunk_kb * 1024);
		long off;

		if (!p) {
			usleep(1000);
			continue;
		}
		/* Touch every page so the memory is really charged to us. */
		for (off = 0; off < chunk_kb * 1024; off += page)
			p[off] = 1;
		total_kb += chunk_kb;
		if (rate_mb_s) {
			double due = start + total_kb / 1024.0 / rate_mb_s;
			double left = due - now_s();

			if (left > 0)
				usleep((useconds_t)(left * 1e6));
		}
	}
}
