// SPDX-License-Identifier: GPL-2.0
/*
 * oom_watch - what the handlers are doing during an OOM, for diagnosing
 * a handler that timed out. Locks itself in memory first, so that it keeps
 * reporting when no page can be had.
 *
 * Usage: oom_watch CGROUP_DIR INTERVAL_MS
 *
 * Every INTERVAL_MS, for each process in CGROUP_DIR/cgroup.procs, prints
 *   @gs watch <ms> pid=P state=S wchan=W stack=frame|frame|...
 * then the same as "@gs watch_blocked" for every other task in state D (a
 * helper stuck before it joined the handler cgroup is one of those), and
 * once per round the free and min pages of each zone:
 *   @gs watch_zones <ms> DMA:free/min DMA32:free/min ...
 * Runs until killed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static char buf[65536];
static char line[8192];

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read @path into buf; returns its length, or -1. */
static ssize_t slurp(const char *path)
{
	ssize_t n, total = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return total;
}

static void one(const char *tag, long long t, const char *pid)
{
	char path[128], state = '?', wchan[128] = "?", *p, *q;
	size_t used;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	p = slurp(path) > 0 ? strrchr(buf, ')') : NULL;
	if (p && p[1] == ' ')
		state = p[2];
	snprintf(path, sizeof(path), "/proc/%s/wchan", pid);
	if (slurp(path) > 0)
		snprintf(wchan, sizeof(wchan), "%.100s", buf);
	used = snprintf(line, sizeof(line), "@gs %s %lld pid=%s state=%c wchan=%s stack=", tag, t, pid, state, wchan);
	snprintf(path, sizeof(path), "/proc/%s/stack", pid);
	if (slurp(path) > 0) {
		/* "[<0>] func+0x1/0x2" per line: keep the function names. */
		for (p = buf; *p && used < sizeof(line) - 128; p = q + 1) {
			q = strchr(p, '\n');
			if (!q)
				break;
			*q = '\0';
			p = strchr(p, ' ');
			if (p)
				used += snprintf(line + used, sizeof(line) - used, "%s|", p + 1);
		}
	}
	puts(line);
}

/* Every task in state D whose pid is not in @seen ("\n"-separated pids). */
static void blocked(long long t, const char *seen)
{
	char path[128], key[32];
	struct dirent *d;
	DIR *dir = opendir("/proc");
	char *p;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/stat", d->d_name);
		p = slurp(path) > 0 ? strrchr(buf, ')') : NULL;
		if (!p || p[1] != ' ' || p[2] != 'D')
			continue;
		snprintf(key, sizeof(key), "\n%.20s\n", d->d_name);
		if (!strstr(seen, key))
			one("watch_blocked", t, d->d_name);
	}
	closedir(dir);
}

static void zones(long long t)
{
	size_t used = snprintf(line, sizeof(line), "@gs watch_zones %lld", t);
	char *p, *zone = NULL;
	long free_pages = -1;

	if (slurp("/proc/zoneinfo") <= 0)
		return;
	for (p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, "Node ", 5)) {
			zone = strstr(p, "zone");
			zone = zone ? zone + 4 : NULL;
			while (zone && *zone == ' ')
				zone++;
		} else if (zone && !strncmp(p, "pages free", 10)) {
			free_pages = atol(p + 10);
		} else if (zone && !strncmp(p, "min ", 4) && used < sizeof(line) - 64) {
			used += snprintf(line + used, sizeof(line) - used, " %s:%ld/%ld", zone, free_pages, atol(p + 4));
			zone = NULL;
		}
	}
	puts(line);
}

int main(int argc, char **argv)
{
	char procs[256], pids[4096], seen[4100], *p;
	struct timespec gap;
	long interval;

	interval = argc == 3 ? atol(argv[2]) : 0;
	if (interval <= 0) {
		fprintf(stderr, "usage: %s CGROUP_DIR INTERVAL_MS\n", argv[0]);
		return 2;
	}
	gap.tv_sec = interval / 1000;
	gap.tv_nsec = (interval % 1000) * 1000000;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		perror("mlockall");
	for (;;) {
		long long t = now_ms();

		zones(t);
		seen[0] = '\0';
		if (slurp(procs) >= 0) {
			snprintf(pids, sizeof(pids), "%.4000s", buf);
			snprintf(seen, sizeof(seen), "\n%s", pids);
			for (p = strtok(pids, "\n"); p; p = strtok(NULL, "\n"))
				one("watch", t, p);
		}
		blocked(t, seen);
		nanosleep(&gap, NULL);
	}
}
