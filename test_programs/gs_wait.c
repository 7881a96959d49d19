// SPDX-License-Identifier: GPL-2.0
/*
 * gs_wait - be the handler of a process's OOM, from wherever this runs (a
 * container included): register "[+]PID @wait", block reading the proc
 * file, and when PID is the OOM killer's victim run HANDLER with the
 * victim's description as its environment.
 *
 *   gs_wait [--done] [+]PID HANDLER [ARG...]
 *
 * Prints "ok" once registered (or "err <ERRNO>" and exits 1). By default
 * it execs HANDLER, keeping the descriptor, so the handler's exit ends the
 * run. With --done it runs HANDLER as a child, writes "done" when it
 * exits, and sleeps: the module ends the run on "done" and kills it.
 * Exits 0 without running anything when the registration ends first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graceful_shutdown.h"
#include "gs_wake.h"

int main(int argc, char **argv)
{
	char line[64], text[4096];
	int argi = 1, done_mode = 0, fd, status;
	size_t used = 0;
	ssize_t n;
	pid_t child;

	if (argc > 1 && !strcmp(argv[1], "--done")) {
		done_mode = 1;
		argi++;
	}
	if (argc - argi < 2) {
		fprintf(stderr, "usage: %s [--done] [+]PID HANDLER [ARG...]\n", argv[0]);
		return 2;
	}
	fd = open(GS_PROC_PATH, O_RDWR);
	if (fd < 0) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	snprintf(line, sizeof(line), "%s " GS_WAIT_HANDLER "\n", argv[argi]);
	if (write(fd, line, strlen(line)) < 0) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("ok " GS_WAIT_HANDLER "\n");
	fflush(stdout);

	while ((n = read(fd, text + used, sizeof(text) - 1 - used)) > 0)
		used += n;
	if (n < 0) {
		fprintf(stderr, "gs_wait: read: %s\n", strerror(errno));
		return 1;
	}
	if (!used)
		return 0;	/* the registration ended without an OOM */
	text[used] = '\0';
	gs_set_env(text);

	if (!done_mode) {
		execv(argv[argi + 1], argv + argi + 1);
		perror(argv[argi + 1]);
		return 127;
	}
	child = fork();
	if (child < 0)
		return 1;
	if (!child) {
		close(fd);
		execv(argv[argi + 1], argv + argi + 1);
		_exit(127);
	}
	waitpid(child, &status, 0);
	if (write(fd, GS_WAIT_DONE "\n", strlen(GS_WAIT_DONE) + 1) < 0)
		fprintf(stderr, "gs_wait: done: %s\n", strerror(errno));
	for (;;)
		pause();
}
