// SPDX-License-Identifier: GPL-2.0
/*
 * registry_bench - what a registration, a replacement, a removal and a
 * full read of /proc/graceful_shutdown cost with N entries registered.
 *
 * Usage: registry_bench PROC_FILE HANDLER N REPEATS
 *
 * Forks N + 1 sleepers, registers the first N ("<pid> HANDLER /tmp/rec",
 * several hundred lines per write), then REPEATS times each of:
 * registering the last sleeper (add), registering it again with another
 * argument (replace), removing it (remove) and reading the whole file
 * (read); then REPEATS registrations again while a child reads the whole
 * file in a loop (add_reading: on a guest with two CPUs, whether a reader
 * holds up the lock registrations and the OOM path take). Prints the count
 * it read back, then one line per operation with every sample in
 * nanoseconds:
 *
 *   registry N entries <lines read back>
 *   registry N add|replace|remove|read|add_reading <ns> <ns> ...
 *
 * The sleepers die with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH		500
#define READ_BUF	(1024 * 1024)

enum { OP_ADD, OP_REPLACE, OP_REMOVE, OP_READ, OP_ADD_READING, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
	"add", "replace", "remove", "read", "add_reading"
};

static char read_buf[READ_BUF];

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One write(2) of @text to @path; returns its duration in ns, or -1. */
static long long timed_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	long long t0, t1;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	t0 = now_ns();
	n = write(fd, text, len);
	t1 = now_ns();
	if (n != (ssize_t)len) {
		fprintf(stderr, "write \"%.60s\": %s\n", text, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return t1 - t0;
}

/* Open, read to the end and close @path; sets *lines; returns ns or -1. */
static long long timed_read(const char *path, int *lines)
{
	long long t0, t1;
	size_t total = 0;
	ssize_t n;
	size_t i;
	int fd;

	t0 = now_ns();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((n = read(fd, read_buf + total, sizeof(read_buf) - total)) > 0)
		total += n;
	close(fd);
	t1 = now_ns();
	if (n < 0)
		return -1;
	*lines = 0;
	for (i = 0; i < total; i++)
		*lines += read_buf[i] == '\n';
	return t1 - t0;
}

/* A child that reads @path to the end, over and over, until killed. */
static pid_t reader(const char *path)
{
	pid_t pid = fork();
	int lines;

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			if (timed_read(path, &lines) < 0)
				_exit(1);
	}
	return pid;
}

static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	return pid;
}

int main(int argc, char **argv)
{
	const char *proc, *handler;
	long long (*samples)[OP_COUNT];
	int n, repeats, i, j, lines;
	pid_t *pids, extra, busy;
	struct timespec settle = { 0, 50 * 1000 * 1000 };
	char line[4200];
	char *batch;
	size_t used;

	n = argc == 5 ? atoi(argv[3]) : 0;
	repeats = argc == 5 ? atoi(argv[4]) : 0;
	if (n <= 0 || repeats <= 0) {
		fprintf(stderr, "usage: %s PROC_FILE HANDLER N REPEATS\n", argv[0]);
		return 2;
	}
	proc = argv[1];
	handler = argv[2];
	pids = calloc(n, sizeof(*pids));
	samples = calloc(repeats, sizeof(*samples));
	batch = malloc(BATCH * 4200);
	if (!pids || !samples || !batch)
		return 1;

	for (i = 0; i < n; i++) {
		pids[i] = sleeper();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
	}
	extra = sleeper();
	if (extra < 0) {
		perror("fork");
		return 1;
	}

	for (i = 0; i < n; i += BATCH) {
		used = 0;
		for (j = i; j < n && j < i + BATCH; j++)
			used += sprintf(batch + used, "%d %s /tmp/rec\n", pids[j], handler);
		if (timed_write(proc, batch) < 0)
			return 1;
	}
	if (timed_read(proc, &lines) < 0)
		return 1;
	printf("registry %d entries %d\n", n, lines);

	for (i = 0; i < repeats; i++) {
		snprintf(line, sizeof(line), "%d %s /tmp/rec\n", extra, handler);
		samples[i][OP_ADD] = timed_write(proc, line);
		snprintf(line, sizeof(line), "%d %s /tmp/rec2\n", extra, handler);
		samples[i][OP_REPLACE] = timed_write(proc, line);
		snprintf(line, sizeof(line), "-%d\n", extra);
		samples[i][OP_REMOVE] = timed_write(proc, line);
		samples[i][OP_READ] = timed_read(proc, &lines);
		for (j = 0; j <= OP_READ; j++)
			if (samples[i][j] < 0)
				return 1;
	}
	busy = reader(proc);
	if (busy < 0) {
		perror("fork");
		return 1;
	}
	nanosleep(&settle, NULL);
	for (i = 0; i < repeats; i++) {
		snprintf(line, sizeof(line), "%d %s /tmp/rec\n", extra, handler);
		samples[i][OP_ADD_READING] = timed_write(proc, line);
		snprintf(line, sizeof(line), "-%d\n", extra);
		if (samples[i][OP_ADD_READING] < 0 || timed_write(proc, line) < 0)
			return 1;
	}
	kill(busy, SIGKILL);
	for (j = 0; j < OP_COUNT; j++) {
		printf("registry %d %s", n, op_names[j]);
		for (i = 0; i < repeats; i++)
			printf(" %lld", samples[i][j]);
		printf("\n");
	}
	fflush(stdout);

	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	kill(extra, SIGKILL);
	while (wait(NULL) > 0)
		;
	return 0;
}
