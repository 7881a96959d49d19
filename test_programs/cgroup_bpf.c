// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup_bpf - attach a cgroup BPF program to a cgroup v2 directory, as
 * systemd does for IPAddressDeny= (this one lets every packet out):
 *
 *   cgroup_bpf CGROUP_DIR
 *
 * The program stays attached while the cgroup exists. Exits 125 if the
 * kernel has no BPF system call or no cgroup BPF.
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

int main(int argc, char **argv)
{
	struct bpf_insn pass[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;
	int prog, cg;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CGROUP_DIR\n", argv[0]);
		return 125;
	}
	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_SKB;
	attr.insns = (unsigned long)pass;
	attr.insn_cnt = 2;
	attr.license = (unsigned long)"GPL";
	prog = bpf(BPF_PROG_LOAD, &attr);
	if (prog < 0) {
		perror("cgroup_bpf: load");
		return 125;
	}
	cg = open(argv[1], O_RDONLY | O_DIRECTORY);
	if (cg < 0) {
		perror(argv[1]);
		return 1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = cg;
	attr.attach_bpf_fd = prog;
	attr.attach_type = BPF_CGROUP_INET_EGRESS;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (bpf(BPF_PROG_ATTACH, &attr)) {
		perror("cgroup_bpf: attach");
		return 125;
	}
	return 0;
}
