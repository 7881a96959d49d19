// SPDX-License-Identifier: GPL-2.0
/*
 * gs_save - a graceful-shutdown handler that saves a checkpoint of MB MiB,
 * the way a handler that must not fail in an OOM would:
 *
 *   gs_save DIR MB RECDIR
 *
 * Writes DIR/<GS_PID>.ckpt in 1 MiB writes from one buffer locked in
 * memory, with O_DIRECT where DIR's file system takes it (no page cache to
 * allocate: a disk), else through the page cache (tmpfs), then syncs it and
 * writes RECDIR/<GS_PID>.saved ("mb=MB ms=MS direct=0|1 inplace=0|1") once
 * the checkpoint is all there. Exits 0 then, 1 on any failure.
 *
 * A checkpoint file that exists already, at least MB MiB long (written
 * ahead, before any OOM), is overwritten in place and fdatasync()ed: on a
 * journalling file system that needs no new blocks and no journal commit,
 * whose thread (jbd2) has no access to the memory reserves in a global
 * OOM. A new file is fsync()ed.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	(1 << 20)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const char *victim = getenv("GS_PID");
	char path[4096], rec[4096], tmp[4096];
	long long start = now_ms();
	int fd, flags, direct = 1, inplace;
	struct stat st;
	long mb, i;
	FILE *f;
	void *buf;

	if (argc != 4 || (mb = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s DIR MB RECDIR\n", argv[0]);
		return 2;
	}
	if (!victim)
		victim = "unknown";
	if (posix_memalign(&buf, 4096, CHUNK))
		return 1;
	memset(buf, 'c', CHUNK);
	mlock(buf, CHUNK);
	snprintf(path, sizeof(path), "%s/%s.ckpt", argv[1], victim);
	inplace = !stat(path, &st) && st.st_size >= (off_t)mb * CHUNK;
	flags = O_WRONLY | O_CREAT | (inplace ? 0 : O_TRUNC);
	fd = open(path, flags | O_DIRECT, 0600);
	if (fd < 0) {
		direct = 0;
		fd = open(path, flags, 0600);
	}
	if (fd < 0)
		return 1;
	for (i = 0; i < mb; i++)
		if (write(fd, buf, CHUNK) != CHUNK)
			return 1;
	if ((inplace ? fdatasync(fd) : fsync(fd)) || close(fd))
		return 1;
	snprintf(rec, sizeof(rec), "%s/%s.saved", argv[3], victim);
	snprintf(tmp, sizeof(tmp), "%s/.%s.saved", argv[3], victim);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "mb=%ld ms=%lld direct=%d inplace=%d\n", mb, now_ms() - start, direct, inplace);
	if (fclose(f) || rename(tmp, rec))
		return 1;
	return 0;
}
