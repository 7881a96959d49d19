// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel log's event lines: "graceful_shutdown: event=<name>" and then
 * the fields that event carries, always in the order of enum gs_field.
 * Programs parse these lines (gs-kit's tests, bench and soak; an operator's
 * log scraper), so this file is the only place that writes them, and the
 * table below is the protocol: one row per event, naming its fields.
 */
#define pr_fmt(fmt) "graceful_shutdown: " fmt

#include <linux/ctype.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include <linux/string.h>

#include "gs_internal.h"

enum gs_field {
	GS_F_VICTIM,
	GS_F_REGISTERED,
	GS_F_COMM,
	GS_F_HANDLER,
	GS_F_HELPER,
	GS_F_UID,
	GS_F_CONSTRAINT,
	GS_F_TIMEOUT_MS,
	GS_F_RESERVE_KB,
	GS_F_SPAWN,
	GS_F_PHASE,
	GS_F_STATUS,
	GS_F_SIGNAL,
	GS_F_ERRNO,
	GS_F_REASON,
	GS_F_DURATION_MS,
	GS_F_KILLED,
	GS_F_PASSES,
	GS_F_CGROUP,
	GS_F_LEFTOVER_KB,
	GS_F_KILLER,
};

#define F(x)	BIT(GS_F_##x)

static const struct {
	const char *name;
	bool warn;		/* KERN_WARNING, else KERN_INFO */
	u32 fields;
} gs_events[GS_EVENT_NR] = {
	[GS_EVENT_START] = { "start", false,
		F(VICTIM) | F(REGISTERED) | F(COMM) | F(HANDLER) | F(UID) |
		F(CONSTRAINT) | F(TIMEOUT_MS) | F(RESERVE_KB) | F(SPAWN) | F(KILLER) },
	[GS_EVENT_EXIT_STATUS] = { "exit", false,
		F(VICTIM) | F(HANDLER) | F(HELPER) | F(STATUS) | F(DURATION_MS) | F(KILLED) |
		F(KILLER) },
	[GS_EVENT_EXIT_SIGNAL] = { "exit", false,
		F(VICTIM) | F(HANDLER) | F(HELPER) | F(SIGNAL) | F(DURATION_MS) | F(KILLED) |
		F(KILLER) },
	[GS_EVENT_TIMEOUT] = { "timeout", true,
		F(VICTIM) | F(HANDLER) | F(HELPER) | F(TIMEOUT_MS) | F(PHASE) | F(KILLED) |
		F(KILLER) },
	[GS_EVENT_ERROR] = { "error", true,
		F(VICTIM) | F(HANDLER) | F(ERRNO) | F(REASON) | F(DURATION_MS) | F(KILLED) |
		F(KILLER) },
	[GS_EVENT_SKIP] = { "skip", true,
		F(VICTIM) | F(REGISTERED) | F(HANDLER) | F(UID) | F(REASON) | F(KILLER) },
	[GS_EVENT_KILL_INCOMPLETE] = { "kill_incomplete", true, F(PASSES) },
	[GS_EVENT_LEFTOVER] = { "leftover", false,
		F(VICTIM) | F(UID) | F(CGROUP) | F(LEFTOVER_KB) },
};

#undef F

/* Longer than any line's fields; the kernel log cuts a record at about 1 KiB. */
#define GS_LOG_LINE	1024
/* At most this much of a value, before escaping. */
#define GS_LOG_VALUE	192

static DEFINE_SPINLOCK(gs_log_lock);
static char gs_log_line[GS_LOG_LINE];

static bool gs_log_plain(unsigned char c)
{
	return isalnum(c) || strchr("._/+:@,-", c);
}

/* Append " key=value", @value escaped so that one field stays one word. */
static size_t gs_log_str(char *buf, size_t len, size_t size, const char *key,
			 const char *value)
{
	size_t i;

	len += scnprintf(buf + len, size - len, " %s=", key);
	for (i = 0; value && value[i] && i < GS_LOG_VALUE; i++) {
		unsigned char c = value[i];

		if (gs_log_plain(c))
			len += scnprintf(buf + len, size - len, "%c", c);
		else
			len += scnprintf(buf + len, size - len, "\\x%02x", c);
	}
	return len;
}

/**
 * gs_log - write one event line to the kernel log
 * @event: what happened
 * @f: its fields; only those gs_events[] lists for @event are written
 *
 * Context: process context; takes gs_log_lock; no allocation.
 */
void gs_log(enum gs_event event, const struct gs_log_fields *f)
{
	u32 want = gs_events[event].fields;
	size_t size = sizeof(gs_log_line), n;
	char *buf = gs_log_line;

	spin_lock(&gs_log_lock);
	n = scnprintf(buf, size, "event=%s", gs_events[event].name);
	if (want & BIT(GS_F_VICTIM))
		n += scnprintf(buf + n, size - n, " victim=%d", f->victim);
	if (want & BIT(GS_F_REGISTERED))
		n += scnprintf(buf + n, size - n, " registered=%d", f->registered);
	if (want & BIT(GS_F_COMM))
		n = gs_log_str(buf, n, size, "comm", f->comm);
	if (want & BIT(GS_F_HANDLER))
		n = gs_log_str(buf, n, size, "handler", f->handler);
	if (want & BIT(GS_F_HELPER))
		n += scnprintf(buf + n, size - n, " helper=%d", f->helper);
	if (want & BIT(GS_F_UID))
		n += scnprintf(buf + n, size - n, " uid=%u", f->uid);
	if (want & BIT(GS_F_CONSTRAINT))
		n = gs_log_str(buf, n, size, "constraint", f->constraint);
	if (want & BIT(GS_F_TIMEOUT_MS))
		n += scnprintf(buf + n, size - n, " timeout_ms=%u", f->timeout_ms);
	if (want & BIT(GS_F_RESERVE_KB))
		n += scnprintf(buf + n, size - n, " reserve_kb=%lu", f->reserve_kb);
	if (want & BIT(GS_F_SPAWN))
		n = gs_log_str(buf, n, size, "spawn", f->spawn);
	if (want & BIT(GS_F_PHASE))
		n = gs_log_str(buf, n, size, "phase", f->phase);
	if (want & BIT(GS_F_STATUS))
		n += scnprintf(buf + n, size - n, " status=%d", f->status);
	if (want & BIT(GS_F_SIGNAL))
		n += scnprintf(buf + n, size - n, " signal=%d", f->signal);
	if (want & BIT(GS_F_ERRNO))
		n += scnprintf(buf + n, size - n, " errno=%d", f->err);
	if (want & BIT(GS_F_REASON))
		n = gs_log_str(buf, n, size, "reason", f->reason);
	if (want & BIT(GS_F_DURATION_MS))
		n += scnprintf(buf + n, size - n, " duration_ms=%llu", f->duration_ms);
	if (want & BIT(GS_F_KILLED))
		n += scnprintf(buf + n, size - n, " killed=%u", f->killed);
	if (want & BIT(GS_F_PASSES))
		n += scnprintf(buf + n, size - n, " passes=%u", f->passes);
	if (want & BIT(GS_F_CGROUP))
		n = gs_log_str(buf, n, size, "cgroup", f->cgroup);
	if (want & BIT(GS_F_LEFTOVER_KB))
		n += scnprintf(buf + n, size - n, " leftover_kb=%lu", f->leftover_kb);
	if (want & BIT(GS_F_KILLER))
		n = gs_log_str(buf, n, size, "killer", f->killer);
	if (gs_events[event].warn)
		pr_warn("%s\n", buf);
	else
		pr_info("%s\n", buf);
	spin_unlock(&gs_log_lock);
}

/**
 * gs_killer_name - who kills, as the log and the handler's environment say it
 * @killer: an enum gs_killer
 *
 * Context: any.
 * Return: a GS_KILLER_NAME_* string.
 */
const char *gs_killer_name(enum gs_killer killer)
{
	switch (killer) {
	case GS_KILLER_SYSTEMD_OOMD:
		return GS_KILLER_NAME_OOMD;
	case GS_KILLER_EARLYOOM:
		return GS_KILLER_NAME_EARLYOOM;
	default:
		return GS_KILLER_NAME_KERNEL;
	}
}
