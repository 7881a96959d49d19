/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a parent writes for a child that made a user namespace: its uid and
 * gid maps (and, for a map a user could not write alone, "deny" to
 * setgroups first), as newuidmap and container runtimes do.
 */
#ifndef ID_MAPS_H
#define ID_MAPS_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Map @map ("inside outside count\n") for both uids and gids of @pid. */
static int write_id_maps(pid_t pid, const char *map, int deny_setgroups)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	if (write_file(path, map))
		return -1;
	if (deny_setgroups) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
		if (write_file(path, "deny"))
			return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	return write_file(path, map);
}

#endif /* ID_MAPS_H */
