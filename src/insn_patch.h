/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Writing a value into loaded BPF instructions: the method templates load
 * a marker immediate where each clone's own function address goes.
 */
#ifndef VFSLOCK_INSN_PATCH_H
#define VFSLOCK_INSN_PATCH_H

#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

/*
 * Every plain 64-bit immediate load (BPF_LD | BPF_IMM | BPF_DW, no pseudo
 * source: not a map or a BTF id) of @mark in @v gets @val instead; how many.
 */
size_t patch_imm64(struct bpf_insn *v, size_t n, uint64_t mark, uint64_t val);

#endif
