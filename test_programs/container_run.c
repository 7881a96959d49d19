// SPDX-License-Identifier: GPL-2.0
/*
 * container_run - start COMMAND as the init of a small container, the way
 * a container runtime does: in CGROUP, with its own mount, pid, network,
 * UTS, IPC and cgroup namespaces and ROOTFS as its root directory, and
 * either rootless (a user namespace whose root is UID outside, as rootless
 * Podman) or rootful (uid 0, no user namespace, CAP_SYS_ADMIN dropped, as
 * Docker). Run as root:
 *
 *   container_run rootless|rootful ROOTFS CGROUP UID COMMAND [ARG...]
 *
 * ROOTFS needs the directories proc and dev, and files dev/null and dev/zero
 * (the host's devices are bound there). The container's hostname is "ctr". Exits with
 * COMMAND's status.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "id_maps.h"

static int wait_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return 125;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Docker's default: no CAP_SYS_ADMIN, in any set. */
static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) ||
	    syscall(SYS_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1u << CAP_SYS_ADMIN);
	data[0].permitted &= ~(1u << CAP_SYS_ADMIN);
	data[0].inheritable &= ~(1u << CAP_SYS_ADMIN);
	return syscall(SYS_capset, &hdr, data) ? -1 : 0;
}

/* In the new namespaces: become the container's init under ROOTFS. */
static int container_init(const char *rootfs, int rootful, char **command)
{
	static const char *const devices[] = { "null", "zero" };
	char path[4096];
	unsigned int i;
	pid_t pid;

	pid = fork();		/* the first child in the pid namespace is its init */
	if (pid < 0)
		return 125;
	if (pid)
		return wait_status(pid);
	snprintf(path, sizeof(path), "%s/proc", rootfs);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) ||
	    mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		perror("container_run: mounts");
		_exit(125);
	}
	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		char host[32];

		snprintf(host, sizeof(host), "/dev/%s", devices[i]);
		snprintf(path, sizeof(path), "%s/dev/%s", rootfs, devices[i]);
		if (mount(host, path, NULL, MS_BIND, NULL)) {
			perror(path);
			_exit(125);
		}
	}
	if (chdir(rootfs) || chroot(".") || chdir("/") ||
	    sethostname("ctr", 3)) {
		perror("container_run: setup");
		_exit(125);
	}
	if (rootful && drop_sys_admin()) {
		perror("container_run: capabilities");
		_exit(125);
	}
	execv(command[0], command);
	perror(command[0]);
	_exit(127);
}

int main(int argc, char **argv)
{
	const int ns = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS |
		       CLONE_NEWIPC | CLONE_NEWCGROUP;
	int made[2], mapped[2], rootful;
	char path[64], map[64], pidstr[16], c;
	const char *rootfs, *cgroup;
	uid_t uid;
	pid_t pid;

	if (argc < 6 || (strcmp(argv[1], "rootless") && strcmp(argv[1], "rootful"))) {
		fprintf(stderr, "usage: %s rootless|rootful ROOTFS CGROUP UID COMMAND [ARG...]\n",
			argv[0]);
		return 125;
	}
	rootful = !strcmp(argv[1], "rootful");
	rootfs = argv[2];
	cgroup = argv[3];
	uid = (uid_t)atol(argv[4]);
	if (pipe(made) || pipe(mapped))
		return 125;
	pid = fork();
	if (pid < 0)
		return 125;
	if (!pid) {
		close(made[0]);
		close(mapped[1]);
		snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
		snprintf(pidstr, sizeof(pidstr), "%d", getpid());
		if (write_file(path, pidstr)) {
			perror("container_run: cgroup");
			_exit(125);
		}
		if (rootful) {
			if (unshare(ns)) {
				perror("container_run: unshare");
				_exit(125);
			}
			_exit(container_init(rootfs, 1, argv + 5));
		}
		if (setresgid(uid, uid, uid) || setresuid(uid, uid, uid) ||
		    unshare(CLONE_NEWUSER | ns)) {
			perror("container_run: unshare");
			_exit(125);
		}
		if (write(made[1], "x", 1) != 1 || read(mapped[0], &c, 1) != 1)
			_exit(125);
		if (setresgid(0, 0, 0) || setresuid(0, 0, 0)) {
			perror("container_run: root inside");
			_exit(125);
		}
		_exit(container_init(rootfs, 0, argv + 5));
	}
	close(made[1]);
	close(mapped[0]);
	if (!rootful) {
		if (read(made[0], &c, 1) != 1)
			return 125;
		snprintf(map, sizeof(map), "0 %u 1\n", uid);
		if (write_id_maps(pid, map, 1))
			return 125;
		if (write(mapped[1], "x", 1) != 1)
			return 125;
	}
	return wait_status(pid);
}
