// SPDX-License-Identifier: GPL-2.0
#include "insn_patch.h"

size_t patch_imm64(struct bpf_insn *v, size_t n, uint64_t mark, uint64_t val)
{
	size_t i, found = 0;

	for (i = 0; i + 1 < n; i++) {
		if (v[i].code != (BPF_LD | BPF_IMM | BPF_DW))
			continue;
		/* the pair's second half is no instruction of its own */
		if (!v[i].src_reg && (uint32_t)v[i].imm == (uint32_t)mark &&
		    (uint32_t)v[i + 1].imm == (uint32_t)(mark >> 32)) {
			v[i].imm = (int32_t)(uint32_t)val;
			v[i + 1].imm = (int32_t)(uint32_t)(val >> 32);
			found++;
		}
		i++;
	}
	return found;
}
