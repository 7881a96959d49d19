/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * graceful_shutdown.h - what userspace sees of proc_create_module: the proc
 * file and its limits, the handler's environment, and the kernel log lines
 * the module writes. The test programs include this file and the gs-kit CLI
 * checks its own constants against it; the module builds with it.
 */
#ifndef _UAPI_GRACEFUL_SHUTDOWN_H
#define _UAPI_GRACEFUL_SHUTDOWN_H

/* The module, and the file it owns under /proc. */
#define GS_MODULE_NAME		"proc_create_module"
#define GS_PROC_NAME		"graceful_shutdown"
#define GS_PROC_PATH		"/proc/" GS_PROC_NAME

/*
 * A killer in user space (systemd-oomd, earlyoom) about to kill a process:
 * root writes "<pid> <killer>" to this file (mode 0600), and the write
 * returns once that process's registration has run its handler, as at a
 * kernel OOM, within the same bounds. It fires once: a later kill, the
 * kernel's included, finds it gone. The pid is read in the writer's pid
 * namespace. Errors: EINVAL (malformed, or an unknown killer), ESRCH (no
 * such process), ENOENT (not registered, or fired already), EPERM (not
 * CAP_SYS_ADMIN in the initial user namespace).
 */
#define GS_FIRE_NAME		"graceful_shutdown_fire"
#define GS_FIRE_PATH		"/proc/" GS_FIRE_NAME
/* Who kills: the kernel's OOM killer, or one of the user-space killers above. */
#define GS_KILLER_NAME_KERNEL	"kernel"
#define GS_KILLER_NAME_OOMD	"systemd-oomd"
#define GS_KILLER_NAME_EARLYOOM	"earlyoom"

/* A write: at most this many bytes, one registration or removal a line. */
#define GS_WRITE_MAX		(64 * 1024)
/* One line: pid, handler path and its arguments. */
#define GS_LINE_MAX		4096
/* Arguments after the handler path. */
#define GS_ARGS_MAX		64

/*
 * "<pid> @wait": the writer is the handler. It reads the descriptor it
 * wrote to, which blocks until <pid> is the OOM killer's victim and then
 * returns the handler environment below as "NAME=value" lines (bytes
 * outside printable ASCII, and backslashes, as \xHH), with pids as the
 * reader's pid namespace sees them (0 where it cannot) and the cgroup as its
 * cgroup namespace does. Its run ends when its process exits or when it
 * writes "done"; a read returns 0 once the registration is gone.
 */
#define GS_WAIT_HANDLER		"@wait"
#define GS_WAIT_DONE		"done"

/*
 * The handler's environment, besides HOME and PATH: the victim's pid (as
 * the kernel's init pid namespace sees it), the registered process's pid
 * (an ancestor's, for a "+<pid>" registration), the victim's comm, resident
 * memory and oom_score_adj, the kind of OOM ("global", "memcg", "cpuset",
 * "mempolicy"; "userspace" when a user-space killer asked), the victim's
 * cgroup v2 path, how long the handler may run, CLOCK_MONOTONIC when the
 * victim was chosen, and who is about to kill it (GS_KILLER_NAME_*).
 */
#define GS_ENV_PID		"GS_PID"
#define GS_ENV_REGISTERED_PID	"GS_REGISTERED_PID"
#define GS_ENV_COMM		"GS_COMM"
#define GS_ENV_RSS_KB		"GS_RSS_KB"
#define GS_ENV_OOM_SCORE_ADJ	"GS_OOM_SCORE_ADJ"
#define GS_ENV_CONSTRAINT	"GS_CONSTRAINT"
#define GS_ENV_CGROUP		"GS_CGROUP"
#define GS_ENV_TIMEOUT_MS	"GS_TIMEOUT_MS"
#define GS_ENV_CHOSEN_NS	"GS_CHOSEN_NS"
#define GS_ENV_KILLER		"GS_KILLER"

/*
 * Every line the module writes to the kernel log starts with this prefix;
 * a line about one handler's run then says "event=<name>" followed by
 * "key=value" fields separated by single spaces. Values that are not
 * [A-Za-z0-9._/+:@,-] bytes are written as \xHH.
 */
#define GS_LOG_PREFIX		"graceful_shutdown: "

#endif /* _UAPI_GRACEFUL_SHUTDOWN_H */
