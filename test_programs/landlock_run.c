// SPDX-License-Identifier: GPL-2.0
/*
 * landlock_run - run a command confined by Landlock: it may write only
 * under the directories listed. A test's stand-in for a sandboxed service:
 * the LSM state a handler must inherit from its registrant where Smack is
 * not built (the distribution's kernels).
 *
 * Usage: landlock_run DIR[:DIR...] COMMAND [ARG...]
 * Exits 125 when Landlock is not available (the kernel lacks it or it is
 * not started), without running the command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const __u64 writes = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
			     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
			     LANDLOCK_ACCESS_FS_REMOVE_DIR;
	struct landlock_ruleset_attr ruleset = { .handled_access_fs = writes };
	struct landlock_path_beneath_attr beneath = { .allowed_access = writes };
	char *dir;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DIR COMMAND [ARG...]\n", argv[0]);
		return 2;
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &ruleset, sizeof(ruleset), 0);
	if (fd < 0) {
		perror("landlock_run: landlock_create_ruleset");
		return 125;
	}
	for (dir = strtok(argv[1], ":"); dir; dir = strtok(NULL, ":")) {
		beneath.parent_fd = open(dir, O_PATH | O_CLOEXEC);
		if (beneath.parent_fd < 0 ||
		    syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0)) {
			perror(dir);
			return 126;
		}
		close(beneath.parent_fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_landlock_restrict_self, fd, 0)) {
		perror("landlock_run");
		return 126;
	}
	close(fd);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
