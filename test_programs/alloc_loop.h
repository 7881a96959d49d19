/* SPDX-License-Identifier: GPL-2.0 */
/*
 * alloc_loop.h - allocate and touch memory until killed, at most
 * rate_mb_s MiB per second (0: as fast as possible). Shared by the test
 * programs that play memory hogs.
 */
#ifndef ALLOC_LOOP_H
#define ALLOC_LOOP_H

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline double alloc_loop_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs until the process is killed; *allocated_kb counts what it holds. */
static inline void __attribute__((noreturn))
alloc_loop(long chunk_kb, long rate_mb_s, volatile unsigned long *allocated_kb)
{
	long page = sysconf(_SC_PAGESIZE);
	double start = alloc_loop_now_s();

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
		*allocated_kb += chunk_kb;
		if (rate_mb_s) {
			double due = start + *allocated_kb / 1024.0 / rate_mb_s;
			double left = due - alloc_loop_now_s();

			if (left > 0)
				usleep((useconds_t)(left * 1e6));
		}
	}
}

#endif
