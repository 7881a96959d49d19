// SPDX-License-Identifier: GPL-2.0
/*
 * stateful_workload - a process that keeps state and must persist it when
 * it is about to be killed, for the graceful-save benchmark; and the gs-kit
 * handler that asks it to.
 *
 * Workload:
 *   stateful_workload --dir DIR [--rate-mb-s N] [--chunk-kb N] [--wait] [--meminfo]
 *
 *   Prints its pid, then "go_ns=<CLOCK_MONOTONIC ns>" when it starts
 *   allocating, then allocates and touches memory (at most N MiB/s;
 *   default no limit) until it is killed. Its state file DIR/<pid>.state
 *   is written in full at start ("status=empty"), so that saving it later
 *   overwrites pages it already has and needs no new memory: a process at
 *   its memory limit cannot get any. For the same reason it locks its
 *   code and data in memory (mlockall) and touches the saver's stack. A thread of its own waits for SIGUSR1
 *   or SIGTERM (the allocating thread blocks both, so the signal reaches
 *   the waiting thread even while the allocating one is stuck in the
 *   kernel's OOM path); it then writes the state ("status=saved", when,
 *   which signal, how much was allocated) and fsyncs it. After SIGTERM it
 *   exits 0 once saved; after SIGUSR1 it goes on, as the kernel kills it.
 *   --wait: wait for SIGUSR2 before allocating (to be registered first).
 *   --meminfo: note MemAvailable when the signal comes (not for a memcg
 *   OOM, where reading a proc file would need memory the cgroup has not).
 *
 * Handler (registered with gs-kit; GS_PID and GS_CGROUP from the kernel):
 *   stateful_workload --notify DIR WAIT_MS
 *
 *   Notes the memory left (memory.max - memory.current of GS_CGROUP, and
 *   MemAvailable), sends SIGUSR1 to GS_PID, waits at most WAIT_MS for its
 *   state file to say "status=saved", writes DIR/<GS_PID>.hrec and exits
 *   0 if it was saved, 1 if not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alloc_loop.h"

#define STATE_SIZE	(64 * 1024)
#define HEADER_SIZE	4096
#define SAVED		"status=saved\n"

static int state_fd = -1;
static int want_meminfo;
static volatile unsigned long allocated_kb;
static char state_buf[STATE_SIZE];
static char meminfo_buf[8192];

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A "Key: N kB" value of a /proc/meminfo-like file, or -1. */
static long long meminfo_kb(const char *path, const char *key)
{
	ssize_t n;
	char *p;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, meminfo_buf, sizeof(meminfo_buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	meminfo_buf[n] = '\0';
	p = strstr(meminfo_buf, key);
	if (!p)
		return -1;
	return atoll(p + strlen(key) + 1);
}

/* A file holding one number ("max" is -1), or -2. */
static long long file_number(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -2;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -2;
	buf[n] = '\0';
	if (!strncmp(buf, "max", 3))
		return -1;
	return atoll(buf);
}

/* Write the whole state: the body first, then the header that says saved. */
static int save_state(int sig, long long sig_ns, long long mem_available_kb)
{
	unsigned long kb = allocated_kb;
	int len;

	memset(state_buf, 's', sizeof(state_buf));
	if (pwrite(state_fd, state_buf + HEADER_SIZE, STATE_SIZE - HEADER_SIZE,
		   HEADER_SIZE) != STATE_SIZE - HEADER_SIZE)
		return -1;
	memset(state_buf, ' ', HEADER_SIZE);
	len = snprintf(state_buf, HEADER_SIZE,
		       SAVED "signal=%s\nsignal_ns=%lld\nsaved_ns=%lld\nallocated_kb=%lu\nmem_available_kb=%lld\n",
		       sig == SIGTERM ? "TERM" : "USR1", sig_ns, now_ns(), kb,
		       mem_available_kb);
	state_buf[len] = ' ';
	state_buf[HEADER_SIZE - 1] = '\n';
	if (pwrite(state_fd, state_buf, HEADER_SIZE, 0) != HEADER_SIZE)
		return -1;
	return fsync(state_fd);
}

/*
 * Touch the stack the saver will use now: at the memory limit, even a page
 * fault on its own stack would wait for the OOM killer.
 */
static void prefault_stack(void)
{
	volatile char pad[64 * 1024];
	size_t i;

	for (i = 0; i < sizeof(pad); i += 512)
		pad[i] = 0;
}

static void *saver(void *arg)
{
	sigset_t *set = arg;
	long long sig_ns, avail;
	int sig;

	prefault_stack();
	for (;;) {
		if (sigwait(set, &sig))
			continue;
		sig_ns = now_ns();
		avail = want_meminfo ? meminfo_kb("/proc/meminfo", "MemAvailable:") : -1;
		if (save_state(sig, sig_ns, avail))
			perror("save state");
		if (sig == SIGTERM)
			_exit(0);
	}
	return NULL;
}

static int open_state(const char *dir)
{
	char path[4096];
	int len;

	snprintf(path, sizeof(path), "%s/%d.state", dir, getpid());
	state_fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (state_fd < 0) {
		perror(path);
		return -1;
	}
	memset(state_buf, ' ', sizeof(state_buf));
	len = snprintf(state_buf, HEADER_SIZE, "status=empty\n");
	state_buf[len] = ' ';
	if (write(state_fd, state_buf, sizeof(state_buf)) != sizeof(state_buf) ||
	    fsync(state_fd)) {
		perror(path);
		return -1;
	}
	return 0;
}

static int workload(const char *dir, long rate_mb_s, long chunk_kb, int wait)
{
	static sigset_t set;
	pthread_t thread;
	int sig;

	if (open_state(dir))
		return 1;
	/*
	 * Lock what is mapped now (code, data, the state buffer), before the
	 * saver's stack exists: at a memcg limit even faulting in a page of
	 * our own code not run before (the save path) would wait for the OOM
	 * killer, as the page cache it needs is charged to the full cgroup.
	 */
	if (mlockall(MCL_CURRENT))
		perror("mlockall");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGUSR2);
	if (pthread_create(&thread, NULL, saver, &set)) {
		fprintf(stderr, "cannot start the saver thread\n");
		return 1;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	if (wait) {
		sigset_t go;

		sigemptyset(&go);
		sigaddset(&go, SIGUSR2);
		while (sigwait(&go, &sig))
			;
	}

	printf("go_ns=%lld\n", now_ns());
	fflush(stdout);
	alloc_loop(chunk_kb, rate_mb_s, &allocated_kb);
}

static int notify(const char *dir, long wait_ms)
{
	const char *victim = getenv("GS_PID");
	const char *cgroup = getenv("GS_CGROUP");
	long long started = now_ns(), current = -2, max = -2, avail, deadline;
	char path[4096], head[sizeof(SAVED)];
	int fd, saved = 0, len;

	if (!victim)
		return 2;
	if (cgroup && *cgroup) {
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current", cgroup);
		current = file_number(path);
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", cgroup);
		max = file_number(path);
	}
	avail = meminfo_kb("/proc/meminfo", "MemAvailable:");

	snprintf(path, sizeof(path), "%s/%s.state", dir, victim);
	fd = open(path, O_RDONLY);
	kill(atoi(victim), SIGUSR1);
	deadline = started + wait_ms * 1000000LL;
	while (fd >= 0 && now_ns() < deadline) {
		if (pread(fd, head, sizeof(head) - 1, 0) == sizeof(head) - 1 &&
		    !memcmp(head, SAVED, sizeof(head) - 1)) {
			saved = 1;
			break;
		}
		usleep(1000);
	}
	if (fd >= 0)
		close(fd);

	snprintf(path, sizeof(path), "%s/%s.hrec", dir, victim);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		len = snprintf(meminfo_buf, sizeof(meminfo_buf),
			       "started_ns=%lld\nmemory_current=%lld\nmemory_max=%lld\nmem_available_kb=%lld\nsaved=%d\nwaited_ns=%lld\n",
			       started, current, max, avail, saved, now_ns() - started);
		if (write(fd, meminfo_buf, len) != len)
			saved = 0;
		close(fd);
	}
	return saved ? 0 : 1;
}

int main(int argc, char **argv)
{
	long rate_mb_s = 0, chunk_kb = 1024;
	const char *dir = NULL;
	int wait = 0, i;

	if (argc == 4 && !strcmp(argv[1], "--notify"))
		return notify(argv[2], atol(argv[3]));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--rate-mb-s") && i + 1 < argc)
			rate_mb_s = atol(argv[++i]);
		else if (!strcmp(argv[i], "--chunk-kb") && i + 1 < argc)
			chunk_kb = atol(argv[++i]);
		else if (!strcmp(argv[i], "--wait"))
			wait = 1;
		else if (!strcmp(argv[i], "--meminfo"))
			want_meminfo = 1;
		else
			goto usage;
	}
	if (!dir || rate_mb_s < 0 || chunk_kb <= 0)
		goto usage;
	return workload(dir, rate_mb_s, chunk_kb, wait);
usage:
	fprintf(stderr,
		"usage: %s --dir DIR [--rate-mb-s N] [--chunk-kb N] [--wait] [--meminfo]\n"
		"       %s --notify DIR WAIT_MS\n", argv[0], argv[0]);
	return 2;
}
