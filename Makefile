# SPDX-License-Identifier: GPL-2.0
#
# make            build/vfslock with its CO-RE BPF objects and skeletons
# make deps       install the Debian packages needed (idempotent, quiet when done)
# make check-unit unit tests (host only, fast)
# make test       deps + build + unit tests + VM tests on Debian 6.1 and 6.12
# make run        the main job: `vfslock check` on a stress-ng mix, in the VM
#                 when this host refuses fentry
# V=1 shows the commands.

OUTPUT    ?= build
CLANG     ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL   ?= bpftool
CC        ?= gcc
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

CFLAGS    ?= -O2 -g
WARNINGS  := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	     -Wmissing-prototypes -Wstrict-prototypes -Wformat=2
ALL_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -D_GNU_SOURCE \
	      -Iinclude -I$(OUTPUT) -Isrc
LDLIBS    := -lbpf -lelf -lz -lzstd -ljson-c -lncurses -lseccomp

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))

RULE_DOCS := $(sort $(wildcard rules/locking-*.rst))

SRCS      := $(wildcard src/*.c)
OBJS      := $(patsubst src/%.c,$(OUTPUT)/obj/%.o,$(SRCS)) $(OUTPUT)/obj/rules_embed.o
LIB_OBJS  := $(filter-out $(OUTPUT)/obj/main.o,$(OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.PHONY: all deps check-unit test test-vm run bench clean vmlinux-h fuzz
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUTPUT)/vfslock $(OUTPUT)/vl_fight

deps:
	$(Q)scripts/deps

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# ---- BPF ------------------------------------------------------------------
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.h) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp -o $@ && rm -f $@.tmp

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# ---- userspace --------------------------------------------------------------
$(OUTPUT)/obj/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/vfslock_*.h) $(SKELS) | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# The locking.rst copies are linked in, so the binary needs no file at run time.
$(OUTPUT)/rules_embed.S: $(RULE_DOCS) scripts/embed-rules | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)scripts/embed-rules $(RULE_DOCS) > $@

$(OUTPUT)/obj/rules_embed.o: $(OUTPUT)/rules_embed.S | $(OUTPUT)/obj
	$(call msg,AS,$@)
	$(Q)$(CC) -c $< -o $@

$(OUTPUT)/vfslock: $(OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LDLIBS) -o $@

# ---- tests -------------------------------------------------------------------
$(OUTPUT)/tests/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/unit -DTEST_DATA_DIR='"$(CURDIR)"' $< $(LIB_OBJS) \
		$(LDLIBS) -lcmocka -o $@

# a workload for the VM tests of `vfslock top`: processes fighting over one directory
$(OUTPUT)/vl_fight: tests/top/fight.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< -o $@

# a large trace for bench/offline
$(OUTPUT)/trace-gen: bench/trace-gen.c $(LIB_OBJS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

# ---- fuzzing ------------------------------------------------------------------
# The trace reader and everything a trace feeds, under libFuzzer with ASan and
# UBSan: `make fuzz` (FUZZ_SECONDS, default 120) from tests/fuzz/mkseed's seeds;
# the corpus it finds stays in $(OUTPUT)/fuzz/corpus for the next run.
FUZZ_SECONDS ?= 120
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined \
	       -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE -Wall \
	       -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	       -Iinclude -I$(OUTPUT) -Isrc
FUZZ_OBJS := $(patsubst src/%.c,$(OUTPUT)/fuzz/obj/%.o,$(filter-out src/main.c,$(SRCS))) \
	     $(OUTPUT)/obj/rules_embed.o

$(OUTPUT)/fuzz/obj/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/vfslock_*.h) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(OUTPUT)/fuzz/fuzz_trace: tests/fuzz/fuzz_trace.c $(FUZZ_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

$(OUTPUT)/fuzz/mkseed: tests/fuzz/mkseed.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

fuzz: $(OUTPUT)/fuzz/fuzz_trace $(OUTPUT)/fuzz/mkseed
	$(Q)mkdir -p $(OUTPUT)/fuzz/seeds $(OUTPUT)/fuzz/corpus
	$(Q)$(OUTPUT)/fuzz/mkseed $(OUTPUT)/fuzz/seeds
	$(Q)cd $(OUTPUT)/fuzz && ./fuzz_trace -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
		-timeout=20 -rss_limit_mb=2048 -print_final_stats=1 corpus seeds

check-unit: $(UNIT_BINS)
	$(Q)tests/run-unit $(UNIT_BINS)

test-vm: all
	$(Q)VFSLOCK_TEST_SUITES=vm tests/run-all

test: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/trace-gen
	$(Q)tests/run-all

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/run-demo

# Figures for docs/performance.md: stress-ng with and without vfslock, in the VM.
bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)for k in 6.1 6.12; do for fs in /mnt/ext4 /mnt/tmp; do \
	for ev in readers all; do \
		bench/overhead --kernel $$k --fs $$fs --seconds 10 --rounds 6 \
			--check-opts "--lock-events $$ev" || exit 1; echo; \
	done; \
	for tool in top daemon; do \
		bench/overhead --kernel $$k --fs $$fs --seconds 10 --rounds 6 --tool $$tool || exit 1; \
		echo; \
	done; done; done

vmlinux-h:
	$(Q)scripts/gen-vmlinux-h

clean:
	$(Q)rm -rf $(OUTPUT)/*.o $(OUTPUT)/*.h $(OUTPUT)/obj $(OUTPUT)/tests \
		$(OUTPUT)/vfslock $(OUTPUT)/rules_embed.S
