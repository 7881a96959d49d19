/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gs_wake.h - what a waiter reads when its process is the OOM killer's
 * victim, turned into the handler's environment: "NAME=value" lines, bytes
 * outside printable ASCII (and backslashes) as \xHH (graceful_shutdown.h).
 * Shared by gs-init and the test suite's gs_wait.
 */
#ifndef GS_WAKE_H
#define GS_WAKE_H

#include <stdlib.h>
#include <string.h>

/* "NAME=value" with \xHH escapes: set it in the environment. */
static inline void gs_set_env_line(char *line)
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

/* Every line of a wake's text (NUL-terminated, changed in place) into the environment. */
static inline void gs_set_env(char *text)
{
	char *cursor, *next;

	for (cursor = text; cursor && *cursor; cursor = next) {
		next = strchr(cursor, '\n');
		if (next)
			*next++ = '\0';
		gs_set_env_line(cursor);
	}
}

#endif
