// SPDX-License-Identifier: GPL-2.0
/*
 * mempolicy_run - run a command with its memory bound to one NUMA node
 * (MPOL_BIND), so that running out there is an OOM of the memory policy,
 * not a global one:
 *
 *   mempolicy_run NODE COMMAND [ARG...]
 *
 * Exits 125 if the kernel has no NUMA or no such node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_BIND	2

int main(int argc, char **argv)
{
	unsigned long mask;
	int node;

	if (argc < 3) {
		fprintf(stderr, "usage: %s NODE COMMAND [ARG...]\n", argv[0]);
		return 125;
	}
	node = atoi(argv[1]);
	if (node < 0 || node >= (int)(8 * sizeof(mask))) {
		fprintf(stderr, "mempolicy_run: node %d out of range\n", node);
		return 125;
	}
	mask = 1UL << node;
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, 8 * sizeof(mask) + 1)) {
		perror("mempolicy_run: set_mempolicy");
		return 125;
	}
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
