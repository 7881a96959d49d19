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
 * Memory: the hook splits the container's cgroup into "gs-workload",
 * which holds this process, PROGRAM and the container's own limit, and
 * "gs-handler", where its poststart stage moves the waiter (named
 * "gs-waiter" for it to find), so that an OOM of the workload leaves the
 * handler the reserve the hook added to the container.
 *
 * Where registration fails (no module on the host, an old module), it
 * says why on stderr and runs PROGRAM unprotected: a container is not
 * kept from starting by the absence of its safety net.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graceful_shutdown.h"
#include "gs_wake.h"

/* What the hook's poststart stage looks for among this process's children. */
#define WAITER_NAME	"gs-waiter"
/* Where the hook's split put the waiter, as the container sees its cgroup. */
#define HANDLER_PROCS	"/sys/fs/cgroup/gs-handler/cgroup.procs"
#define SWEEP_PASSES	10
/* The split's two sides (the hook's createRuntime and poststart stages). */
#define WORKLOAD_CGROUP	"gs-workload"
#define HANDLER_CGROUP	"gs-handler"
/* How long the program waits for the hook to finish the split: 10 ms polls. */
#define SPLIT_POLLS	1000

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

/* Whether @pid's cgroup v2 path ends in /@name. */
static int in_cgroup(pid_t pid, const char *name)
{
	char path[64], line[4096];
	size_t n = strlen(name), len;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		len = strlen(line);
		found = !strncmp(line, "0::", 3) && len > n && line[len - n - 1] == '/' &&
			!strcmp(line + len - n, name);
	}
	fclose(f);
	return found;
}

/*
 * Where the hook split the container's cgroup (this process is in
 * gs-workload), its last stage moves the waiter to gs-handler and sets the
 * handler's reserve beside the container's limit, from the host after the
 * container starts. The program waits for that: started at once, it could
 * fill its limit first, and leave its handler nothing. Bounded: past it,
 * the program starts without the reserve, and says so.
 */
static void await_split(pid_t waiter, const char *program)
{
	int i;

	if (!in_cgroup(getpid(), WORKLOAD_CGROUP))
		return;
	for (i = 0; i < SPLIT_POLLS; i++) {
		if (in_cgroup(waiter, HANDLER_CGROUP) || kill(waiter, 0))
			return;
		usleep(10000);
	}
	note("%s starts without its handler's reserve: the hook did not move the waiter within %d s",
	     program, SPLIT_POLLS / 100);
}

/* The waiter: block until the victim is chosen, then become the handler. */
static void run_waiter(int fd, char **handler, const sigset_t *old)
{
	char text[4096];
	size_t used = 0;
	ssize_t n;

	sigprocmask(SIG_SETMASK, old, NULL);
	prctl(PR_SET_NAME, WAITER_NAME);
	while ((n = read(fd, text + used, sizeof(text) - 1 - used)) > 0)
		used += n;
	if (n < 0) {
		note("waiter: %s", strerror(errno));
		_exit(1);
	}
	if (!used)
		_exit(0);	/* the registration ended without an OOM */
	text[used] = '\0';
	gs_set_env(text);
	/* The descriptor stays open: the handler's exit ends the run. */
	execvp(handler[0], handler);
	note("%s: %s", handler[0], strerror(errno));
	_exit(127);
}

/*
 * The end of a run: nothing the handler started outlives it. The module
 * kills the waiter; what the handler left behind (a daemon that forked
 * away) is still in the waiter's cgroup, which the hook's split made for
 * it alone, and is killed from here (the container mounts its cgroups
 * read-only, so cgroup.kill cannot be written; each pid is signalled).
 * Bounded: a few passes, for what forks while it is being killed.
 */
static void sweep_handler_cgroup(void)
{
	char line[32];
	int pass, left = 1;
	FILE *f;

	for (pass = 0; pass < SWEEP_PASSES && left; pass++) {
		f = fopen(HANDLER_PROCS, "re");
		if (!f)
			return;
		left = 0;
		while (fgets(line, sizeof(line), f)) {
			pid_t pid = (pid_t)atoi(line);

			if (pid > 1 && pid != getpid() && !kill(pid, SIGKILL))
				left = 1;
		}
		fclose(f);
		if (left)
			usleep(10000);
	}
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
	int release[2], fd, status, sig, sep;
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
	program = fork();
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
		} else {
			await_split(waiter, argv[sep + 1]);
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
			if (pid == waiter) {
				waiter = -1;
				sweep_handler_cgroup();
			}
			if (pid != program)
				continue;
			/* The registration ends with its descriptor; then the waiter. */
			if (waiter > 0)
				kill(waiter, SIGKILL);
			return exit_status(status);
		}
	}
}
