// SPDX-License-Identifier: GPL-2.0
/*
 * run_as - run a command as another uid and gid: the tests' stand-in for su
 * in a guest without /etc/passwd.
 *
 * Usage: run_as UID GID COMMAND [ARG...]
 *
 * With no supplementary groups, unless RUN_AS_GROUPS lists them
 * ("4242,4243"). RUN_AS_LABEL=LABEL first takes that LSM label (written to
 * /proc/self/attr/current, which needs CAP_MAC_ADMIN); RUN_AS_NNP=1 sets
 * no_new_privs before the command runs; RUN_AS_NICE=N sets its nice value
 * (busybox-static has no nice).
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_GROUPS 16

static int parse_groups(const char *list, gid_t *groups)
{
	int n = 0;

	while (list && *list && n < MAX_GROUPS) {
		groups[n++] = (gid_t)strtoul(list, NULL, 10);
		list = strchr(list, ',');
		if (list)
			list++;
	}
	return n;
}

static int take_label(const char *label)
{
	FILE *f = fopen("/proc/self/attr/current", "w");

	if (!f)
		return -1;
	if (fputs(label, f) == EOF) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	gid_t groups[MAX_GROUPS];
	const char *label = getenv("RUN_AS_LABEL");
	int ngroups = parse_groups(getenv("RUN_AS_GROUPS"), groups);
	uid_t uid;
	gid_t gid;

	if (argc < 4) {
		fprintf(stderr, "usage: %s UID GID COMMAND [ARG...]\n", argv[0]);
		return 2;
	}
	uid = (uid_t)atol(argv[1]);
	gid = (gid_t)atol(argv[2]);
	if (label && *label && take_label(label)) {
		perror("run_as: label");
		return 126;
	}
	if (setgroups(ngroups, groups) || setgid(gid) || setuid(uid)) {
		perror("run_as");
		return 126;
	}
	if (getenv("RUN_AS_NICE") && setpriority(PRIO_PROCESS, 0, atoi(getenv("RUN_AS_NICE")))) {
		perror("run_as: nice");
		return 126;
	}
	if (getenv("RUN_AS_NNP") && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		perror("run_as: no_new_privs");
		return 126;
	}
	unsetenv("RUN_AS_LABEL");
	unsetenv("RUN_AS_GROUPS");
	unsetenv("RUN_AS_NNP");
	unsetenv("RUN_AS_NICE");
	execvp(argv[3], argv + 3);
	perror(argv[3]);
	return 127;
}
