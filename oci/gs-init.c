// SPDX-License-Identifier: GPL-2.0
/*
 * gs-init - a container's init that protects its program: the OCI hook
 * (gs-kit oci-hook) bind-mounts this static binary into a container whose
 * spec has the io.gs-kit.handler annotation and puts it in front of the
 * container's command, as Docker's --init does with tini.
 *
 *   gs-init HANDLER [ARG...] -- PROGRAM [ARG...]
 *
 * It starts PROGRAM, registers it and everything it starts ("+PID @wait")
 * before it runs, and keeps a waiter parked on /proc/graceful_shutdown:
 * when the OOM killer chooses PROGRAM (or a process it started), the
 * waiter runs HANDLER with the victim's description in its environment.
 * The waiter is a process of the container, so the handler has every
 * confinement the container has (namespaces, root, user, seccomp, LSM,
 * capabilities, cgroup rules) and nothing more.
 *
 * As an init it reaps every orphan, passes the signals a container is
 * stopped or told with on to PROGRAM, and exits with PROGRAM's status
 * (128 + the signal that killed it).
 *
 * Memory: when the hook split the container's cgroup (this process in
 * "gs-handler", beside "gs-workload" that holds the container's own
 * limit), PROGRAM is started in gs-workload (clone3 into that cgroup) and
 * the waiter stays here, so that an OOM of the workload leaves its handler
 * the reserve the hook added to the container.
 *
 * Where registration fails (no module on the host, an old module), it
 * says why on stderr and runs PROGRAM unprotected: a container is not
 * kept from starting by the absence of its safety net.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graceful_shutdown.h"

#define WORKLOAD_CGROUP	"gs-workload"
#define HANDLER_CGROUP	"gs-handler"

/* The signals passed on to the program. */
static const int forwarded[] = {
	SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT,
};

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("gs-init: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* "NAME=value" with \xHH escapes: set it in the environment. */
static void set_env_line(char *line)
{
	char *eq = strchr(line, '='), *in, *out;

	if (!eq)
		return;
	*eq = '\0';
	for (in = out = eq + 1; *in; out++) {
		if (in[0] == '\\' && in[1] == 'x' && in[2] && in[3]) {
			char hex[3] = { in[2], in[3], 0 };

			*out = (char)strtol(hex, NULL, 16);
			in += 4;
		} else {
			*out = *in++;
		}
	}
	*out = '\0';
	setenv(line, eq + 1, 1);
}

/* Whether @dir/gs-handler lists this process: @dir is the split cgroup. */
static int split_at(const char *dir)
{
	char path[8500], pid[32], line[32];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/" HANDLER_CGROUP "/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, pid);
	fclose(f);
	return found;
}

/*
 * The workload cgroup beside ours, when the hook made the split: a
 * descriptor for clone3(CLONE_INTO_CGROUP), or -1. Where the container has
 * a cgroup namespace, /sys/fs/cgroup plus /proc/self/cgroup's path is our
 * cgroup; where it has none, runc mounts the container's own cgroup at
 * /sys/fs/cgroup and /proc/self/cgroup gives the host's path. Whichever
 * directory lists this process in its gs-handler is the one.
 */
static int workload_cgroup(void)
{
	char line[4096], dirs[2][4200], path[8500];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int fd = -1, n = 0, i;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *own;

		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		own = line + 3;
		if (strcmp(basename(own), HANDLER_CGROUP))
			break;
		snprintf(dirs[n++], sizeof(dirs[0]), "/sys/fs/cgroup%s/..", own);
		snprintf(dirs[n++], sizeof(dirs[0]), "/sys/fs/cgroup");
		break;
	}
	fclose(f);
	for (i = 0; i < n; i++) {
		if (!split_at(dirs[i]))
			continue;
		snprintf(path, sizeof(path), "%s/" WORKLOAD_CGROUP, dirs[i]);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			note("%s: %s; the program shares the handler's cgroup",
			     path, strerror(errno));
		return fd;
	}
	if (n)
		note("the container's cgroup is not to be seen at /sys/fs/cgroup; the program shares the handler's cgroup");
	return -1;
}

/* fork(), or clone3() into @cgroup_fd when it is one. */
static pid_t start_child(int cgroup_fd)
{
	struct clone_args args;
	long pid;

	if (cgroup_fd < 0)
		return fork();
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP;
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)cgroup_fd;
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		note("cannot start the program in " WORKLOAD_CGROUP
		     ": %s; it shares the handler's cgroup", strerror(errno));
		return fork();
	}
	return (pid_t)pid;
}

/* The waiter: block until the victim is chosen, then become the handler. */
static void run_waiter(int fd, char **handler, const sigset_t *old)
{
	char text[4096], *cursor, *next;
	size_t used = 0;
	ssize_t n;

	sigprocmask(SIG_SETMASK, old, NULL);
	while ((n = read(fd, text + used, sizeof(text) - 1 - used)) > 0)
		used += n;
	if (n < 0) {
		note("waiter: %s", strerror(errno));
		_exit(1);
	}
	if (!used)
		_exit(0);	/* the registration ended without an OOM */
	text[used] = '\0';
	for (cursor = text; cursor && *cursor; cursor = next) {
		next = strchr(cursor, '\n');
		if (next)
			*next++ = '\0';
		set_env_line(cursor);
	}
	/* The descriptor stays open: the handler's exit ends the run. */
	execvp(handler[0], handler);
	note("%s: %s", handler[0], strerror(errno));
	_exit(127);
}

static int exit_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

int main(int argc, char **argv)
{
	int release[2], fd, cgroup_fd, status, sig, sep;
	pid_t program, waiter = -1, pid;
	char line[64], go = 0;
	sigset_t all, old;
	size_t i;

	for (sep = 1; sep < argc && strcmp(argv[sep], "--"); sep++)
		;
	if (sep < 2 || sep + 1 >= argc) {
		fprintf(stderr, "usage: gs-init HANDLER [ARG...] -- PROGRAM [ARG...]\n");
		return 2;
	}
	argv[sep] = NULL;
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1);

	/* Signals are taken with sigwaitinfo(): none is lost or acted on early. */
	sigemptyset(&all);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&all, forwarded[i]);
	sigaddset(&all, SIGCHLD);
	sigprocmask(SIG_BLOCK, &all, &old);

	if (pipe2(release, O_CLOEXEC)) {
		perror("gs-init: pipe");
		return 1;
	}
	fd = open(GS_PROC_PATH, O_RDWR);
	if (fd < 0)
		note("%s runs unprotected: " GS_PROC_PATH ": %s (is the gs-kit module loaded on the host?)",
		     argv[sep + 1], strerror(errno));
	cgroup_fd = workload_cgroup();

	program = start_child(cgroup_fd);
	if (program < 0) {
		perror("gs-init: fork");
		return 1;
	}
	if (!program) {
		/* Run only once registered, so that nothing it does goes unguarded. */
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (fd >= 0)
			close(fd);
		close(release[1]);
		if (read(release[0], &go, 1) != 1)
			_exit(1);
		execvp(argv[sep + 1], argv + sep + 1);
		note("%s: %s", argv[sep + 1], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (cgroup_fd >= 0)
		close(cgroup_fd);
	close(release[0]);

	if (fd >= 0) {
		snprintf(line, sizeof(line), "+%d " GS_WAIT_HANDLER "\n", program);
		if (write(fd, line, strlen(line)) < 0) {
			note("%s runs unprotected: the module refused its registration: %s",
			     argv[sep + 1], strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0) {
		waiter = fork();
		if (waiter < 0) {
			note("%s runs unprotected: cannot start its waiter: %s",
			     argv[sep + 1], strerror(errno));
		} else if (!waiter) {
			close(release[1]);
			run_waiter(fd, argv + 1, &old);
		}
	}
	go = 1;
	if (write(release[1], &go, 1) != 1) {
		perror("gs-init: release");
		return 1;
	}
	close(release[1]);

	for (;;) {
		sig = sigwaitinfo(&all, NULL);
		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(program, sig);
			continue;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			if (pid == waiter)
				waiter = -1;
			if (pid != program)
				continue;
			/* The registration ends with its descriptor; then the waiter. */
			if (waiter > 0)
				kill(waiter, SIGKILL);
			return exit_status(status);
		}
	}
}
