// SPDX-License-Identifier: GPL-2.0
/*
 * proc_write - write bytes to a file in one write(2) and report the result,
 * so that a test can see the exact errno a proc file returns.
 *
 * Usage: proc_write FILE DATA
 *   DATA understands \n, \t, \\, \0 and \xHH escapes, so embedded NUL and
 *   binary bytes can be written.
 * Prints "ok N" (N bytes written) or "err NAME" (e.g. "err EINVAL") and
 * exits 0 or 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t unescape(const char *in, char *out)
{
	size_t n = 0;

	while (*in) {
		if (*in != '\\' || !in[1]) {
			out[n++] = *in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'n':
			out[n++] = '\n';
			in++;
			break;
		case 't':
			out[n++] = '\t';
			in++;
			break;
		case '0':
			out[n++] = '\0';
			in++;
			break;
		case 'x': {
			char hex[3] = { in[1], in[1] ? in[2] : 0, 0 };

			out[n++] = (char)strtol(hex, NULL, 16);
			in += 1 + strlen(hex);
			break;
		}
		default:
			out[n++] = *in++;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	char *buf;
	ssize_t ret;
	size_t len;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: %s FILE DATA\n", argv[0]);
		return 2;
	}
	buf = malloc(strlen(argv[2]) + 1);
	if (!buf)
		return 2;
	len = unescape(argv[2], buf);
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	ret = write(fd, buf, len);
	if (ret < 0) {
		printf("err %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("ok %zd\n", ret);
	return 0;
}
