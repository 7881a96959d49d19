# gs-kit: top-level entry points. `make demo` shows a process saved by its
# handler before the OOM kill; `make test` runs the unit tests and the QEMU
# guest suite on the oldest and newest kernel of each mode. Every target
# installs what it needs (through gs-kit setup-vm) before it builds
# anything.
SHELL := /bin/bash
GS := node dist/cli/src/bin.js
# System packages and sources: listed, confirmed on a TTY (--yes under CI),
# installed with apt-get; no "Next:" line meant for a person at the prompt.
SETUP := $(GS) setup-vm --kernel distro --no-hints $(if $(CI),--yes,)
CHECKPATCH_DIR := $(HOME)/.cache/gs-kit/checkpatch
CHECKPATCH_SRC := /usr/src/linux-source-6.12.tar.xz

.PHONY: all deps suite-deps demo test test-unit test-vm test-debug test-kernels test-system test-containers soak lint bench clean

all: deps

# npm ci also compiles the CLI (the "prepare" script).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci

dist/cli/src/bin.js: node_modules/.package-lock.json $(shell find cli/src -name '*.ts')
	npx tsc -p tsconfig.json

# The build and QEMU packages and the distribution's kernel sources.
deps: dist/cli/src/bin.js
	$(SETUP)

# The same, and the guest suite's Linux 5.4.1 (GS_SOURCE_5_4, the copy in
# ../shared next to the checkout, or kernel.org's, verified).
suite-deps: dist/cli/src/bin.js
	$(SETUP) --suite

demo: deps
	$(GS) demo

test-unit: dist/cli/src/bin.js
	npm test

test-vm: suite-deps
	npm run test:vm

test: test-unit test-vm

# The guest suite on the debug kernels (KASAN, lockdep, atomic-sleep and
# hung-task checks, kmemleak): the patched suites, and the stock-mode module
# on our debug 6.1 and 6.12 (Debian has no debug kernel to boot). Not part
# of `make test`: each debug build adds minutes.
test-debug: suite-deps
	GS_PROFILE=debug npm run test:vm

# The host flow on a Debian system with systemd in QEMU (mmdebstrap image,
# install-kernel --deb, configure, reboot, run-with-gs as a user): the
# patched flow on the patched 5.4.1 and 6.12, then the stock-mode flow
# (install-module on Debian's own kernel), on Debian 13, the current
# stable. Not part of `make test`: see docs/testing.md. DEBIAN=12 for a
# Debian 12 image; SERIES="7.3" for other patched series; STOCK=1 for the
# stock flow alone, PATCHED=1 for the patched flows alone. Its image needs
# mmdebstrap, and the patched flow's packages bindeb-pkg's tools:
# installed first, not found missing after a ten-minute build. With the
# stock flow, the killers test: systemd-oomd and earlyoom on Debian
# unstable (the first with their pre-kill hooks), each killing a protected
# workload, then the kernel; bench/killers.json says how long each handler
# ran and how much room was left before each kill.
DEBIAN ?= 13
test-system: dist/cli/src/bin.js
	$(SETUP) --system $(if $(STOCK),,--package deb)
	$(if $(STOCK),,for s in $(or $(SERIES),5.4 6.12); do \
		$(GS) vm system --debian $(DEBIAN) --series $$s || exit 1; \
	done)
	$(if $(PATCHED),,$(GS) vm system --debian $(DEBIAN) --stock)
	$(if $(PATCHED),,$(GS) vm killers --out bench/killers.json)

# Containers on a Debian 13 system in QEMU (mmdebstrap image with Podman,
# Docker and containerd from Debian's archive), stock mode on its own
# kernel: a protected container on rootful and rootless Podman, Docker
# and containerd (ctr), each limited to 64 MiB and filled past it, a
# handler path only the host has, and a global OOM; then what the hook
# costs a container's start, written to bench/containers.json. Not part
# of `make test`: see docs/testing.md.
test-containers: dist/cli/src/bin.js
	$(SETUP) --system
	$(GS) vm containers --debian $(DEBIAN) --out bench/containers.json

# Every kernel, where make test boots the oldest and the newest of each
# mode (lkm/kernels.json's *_tested): the guest suite on every patched
# series (5.4.1, 6.1, 6.12, 7.3), on every Debian kernel in stock mode
# (bookworm's 6.1 and 6.12, trixie's 6.12, unstable's 7.2, backports'
# 7.3), then on the PREEMPT_RT and cloud flavours of Debian 13's 6.12, 7.2
# and 7.3. Not part of `make test`: about two hours. FLAVOURS="rt" for one
# flavour, FLAVOURED="7.3" for one kernel's flavours, PARTS="flavours" to
# run the flavours alone.
FLAVOURED ?= 6.12-deb13 7.2 7.3
PARTS ?= patched stock flavours
test-kernels: suite-deps
	$(if $(filter patched,$(PARTS)),$(GS) vm test,)
	$(if $(filter stock,$(PARTS)),$(GS) vm test --stock,)
	$(if $(filter flavours,$(PARTS)),for s in $(FLAVOURED); do \
		for f in $(or $(FLAVOURS),rt cloud); do \
			$(GS) vm test --stock --series $$s --flavour $$f || exit 1; \
		done; \
	done,)

# OOM soak: the trials and lifecycle boots on the debug kernel (README
# figures: 200 trials on 6.12; COUNT=N and SERIES=6.1 to change), then the
# global OOM with 4 and with 8 registered allocators booted RUNS times
# (default 20) each on every patched series. Summaries in bench/.
SOAK_SERIES := $(or $(SERIES),6.12)
soak: suite-deps
	$(GS) soak --profile debug --parts trials,lifecycle --series $(SOAK_SERIES) \
		--count $(or $(COUNT),200) --out bench/soak-debug-$(SOAK_SERIES).json
	for s in 5.4 6.1 6.12; do \
		$(GS) soak --parts global --global-runs $(or $(RUNS),20) --series $$s \
			--out bench/soak-global-$$s.json || exit 1; \
	done

# Benchmarks: a table on stdout, and every bench/ file the docs quote
# written anew from the one run: results.json (every part), save-6.1.json
# (latency, save, stock), registry-6.1.json (lib/bench.ts BENCH_FILES).
# Then the newest series, 7.3: start latency, kill delay, graceful save and
# hold time patched and on Debian's own 7.3 (save-7.3.json), and the same
# in stock mode on its PREEMPT_RT flavour (stock-7.3-rt.json).
bench: dist/cli/src/bin.js
	$(SETUP) --bench --suite
	$(GS) bench
	$(GS) bench --series 7.3 --parts latency,save,stock --trials 20 --out bench/save-7.3.json
	$(GS) bench --series 7.3 --flavour rt --parts stock --trials 20 --out bench/stock-7.3-rt.json

# checkpatch comes from the distribution's 6.12 source package.
$(CHECKPATCH_SRC): | dist/cli/src/bin.js
	$(SETUP)

$(CHECKPATCH_DIR)/scripts/checkpatch.pl: | $(CHECKPATCH_SRC)
	mkdir -p $(CHECKPATCH_DIR)
	tar -xJf $(CHECKPATCH_SRC) -C $(CHECKPATCH_DIR) --strip-components=1 --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'

# Kernel style for the module and every patch (0 errors, 0 warnings), and
# the TypeScript type check (the tests too: ava runs them untyped).
lint: dist/cli/src/bin.js $(CHECKPATCH_DIR)/scripts/checkpatch.pl
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p tsconfig.test.json
	$(CHECKPATCH_DIR)/scripts/checkpatch.pl --no-tree -f $(CURDIR)/lkm/*.[ch]
	# Absolute paths: given a path git tracks, checkpatch reads it as a
	# file to check rather than as a patch. --strict, as linux-mm reviews
	# them; a series' cover letter has no diff to check.
	for p in $(CURDIR)/kernel/patches/*/*.patch; do \
		case "$$p" in *-cover-letter.patch) continue ;; esac; \
		$(CHECKPATCH_DIR)/scripts/checkpatch.pl --strict --no-tree "$$p" || exit 1; \
	done

clean:
	rm -rf dist
	$(MAKE) -C test_programs clean
