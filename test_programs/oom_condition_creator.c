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

#include "alloc_loop.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

int main(int argc, char **argv)
{
	long chunk_kb = 1024, rate_mb_s = 0;
	volatile unsigned long total_kb = 0;
	int wait = 0, i;

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

	alloc_loop(chunk_kb, rate_mb_s, &total_kb);
}
