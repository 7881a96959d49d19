// SPDX-License-Identifier: GPL-2.0
/*
 * userns_run - run a command as uid INNER of a user namespace that user
 * OWNER made, with the namespace's uids 0..65535 mapped to BASE..BASE+65535
 * outside, as newuidmap does for a user's subordinate uids. Run as root:
 *
 *   userns_run OWNER BASE INNER COMMAND [ARG...]
 *
 * The child becomes OWNER, makes the namespace, and waits; the parent (root)
 * writes its uid and gid maps; the child then becomes INNER (kuid
 * BASE+INNER) and execs COMMAND. Exits with the command's status.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "id_maps.h"

int main(int argc, char **argv)
{
	int made[2], mapped[2], status;
	char map[64], c;
	uid_t owner, inner;
	unsigned long base;
	pid_t pid;

	if (argc < 5) {
		fprintf(stderr, "usage: %s OWNER BASE INNER COMMAND [ARG...]\n", argv[0]);
		return 125;
	}
	owner = (uid_t)atol(argv[1]);
	base = strtoul(argv[2], NULL, 10);
	inner = (uid_t)atol(argv[3]);
	if (pipe(made) || pipe(mapped))
		return 125;
	pid = fork();
	if (pid < 0)
		return 125;
	if (!pid) {
		close(made[0]);
		close(mapped[1]);
		if (setresgid(owner, owner, owner) || setresuid(owner, owner, owner) ||
		    unshare(CLONE_NEWUSER)) {
			perror("userns_run: owner or unshare");
			_exit(125);
		}
		if (write(made[1], "x", 1) != 1 || read(mapped[0], &c, 1) != 1)
			_exit(125);
		if (setresgid(inner, inner, inner) || setresuid(inner, inner, inner)) {
			perror("userns_run: inner ids");
			_exit(125);
		}
		execvp(argv[4], argv + 4);
		perror(argv[4]);
		_exit(127);
	}
	close(made[1]);
	close(mapped[0]);
	if (read(made[0], &c, 1) != 1)
		return 125;
	snprintf(map, sizeof(map), "0 %lu 65536\n", base);
	if (write_id_maps(pid, map, 0))
		return 125;
	if (write(mapped[1], "x", 1) != 1)
		return 125;
	if (waitpid(pid, &status, 0) < 0)
		return 125;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
