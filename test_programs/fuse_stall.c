// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_stall - a FUSE file system whose daemon stops answering, as a user's
 * FUSE mount does when its daemon is stopped or hung: every lookup under
 * the mount point then waits for an answer that does not come. Run as root:
 *
 *   fuse_stall MOUNTPOINT UID
 *
 * Mounts with allow_other, owned by UID, answers the kernel's INIT, prints
 * "ready" and then reads nothing more until it is killed, which aborts the
 * connection (waiting lookups then fail). Exits 125 without FUSE.
 */
#include <fcntl.h>
#include <linux/fuse.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

/* The kernel refuses reads into less than FUSE_MIN_READ_BUFFER. */
static char buf[1 << 18];

int main(int argc, char **argv)
{
	struct fuse_in_header *in = (struct fuse_in_header *)buf;
	struct fuse_init_in *init = (struct fuse_init_in *)(in + 1);
	struct {
		struct fuse_out_header h;
		struct fuse_init_out o;
	} out;
	char opts[128];
	ssize_t n;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s MOUNTPOINT UID\n", argv[0]);
		return 125;
	}
	fd = open("/dev/fuse", O_RDWR);
	if (fd < 0) {
		perror("/dev/fuse");
		return 125;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40755,user_id=%s,group_id=%s,allow_other",
		 fd, argv[2], argv[2]);
	if (mount("fuse_stall", argv[1], "fuse", MS_NOSUID | MS_NODEV, opts)) {
		perror("fuse_stall: mount");
		return 125;
	}
	n = read(fd, buf, sizeof(buf));
	/* An older kernel's INIT carries major, minor, max_readahead and flags only. */
	if (n < (ssize_t)(sizeof(*in) + offsetof(struct fuse_init_in, flags) + sizeof(init->flags)) ||
	    in->opcode != FUSE_INIT) {
		fprintf(stderr, "fuse_stall: no INIT from the kernel\n");
		return 1;
	}
	memset(&out, 0, sizeof(out));
	out.h.len = sizeof(out);
	out.h.unique = in->unique;
	out.o.major = FUSE_KERNEL_VERSION;
	out.o.minor = init->minor < FUSE_KERNEL_MINOR_VERSION ? init->minor : FUSE_KERNEL_MINOR_VERSION;
	out.o.max_readahead = init->max_readahead;
	out.o.max_write = 4096;
	if (write(fd, &out, sizeof(out)) != sizeof(out)) {
		perror("fuse_stall: INIT reply");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
