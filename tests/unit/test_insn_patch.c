// SPDX-License-Identifier: GPL-2.0
/* Writing each clone's function address into a method template's instructions. */
#include "unit.h"

#include "insn_patch.h"
#include "util.h"
#include "vfslock_abi.h"

#define LD64(reg, src, v)							\
	{ .code = BPF_LD | BPF_IMM | BPF_DW, .dst_reg = reg, .src_reg = src,	\
	  .imm = (int32_t)(uint32_t)(v) },					\
	{ .imm = (int32_t)(uint32_t)((uint64_t)(v) >> 32) }

static void test_marker_loads_patched(void **state)
{
	struct bpf_insn v[] = {
		LD64(6, 0, VL_FN_IP_MARK),
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		/* a map's address: same bits, but a pseudo source, left alone */
		LD64(1, BPF_PSEUDO_MAP_FD, VL_FN_IP_MARK),
		/* another immediate whose low half matches */
		LD64(2, 0, VL_FN_IP_MARK & 0xffffffffULL),
		LD64(7, 0, VL_FN_IP_MARK),
		{ .code = BPF_JMP | BPF_EXIT },
	};
	const uint64_t ip = 0xffffffffc0460d20ULL;

	(void)state;
	assert_int_equal(patch_imm64(v, ARRAY_SIZE(v), VL_FN_IP_MARK, ip), 2);
	assert_int_equal((uint32_t)v[0].imm, (uint32_t)ip);
	assert_int_equal((uint32_t)v[1].imm, (uint32_t)(ip >> 32));
	assert_int_equal((uint32_t)v[7].imm, (uint32_t)ip);
	assert_int_equal((uint32_t)v[8].imm, (uint32_t)(ip >> 32));
	assert_int_equal((uint32_t)v[3].imm, (uint32_t)VL_FN_IP_MARK);
	assert_int_equal((uint32_t)v[5].imm, (uint32_t)VL_FN_IP_MARK);
	assert_int_equal(v[6].imm, 0);
}

/*
 * The second half of a 64-bit load is not an instruction: a value in it
 * that looks like a marker's first half is not taken for one.
 */
static void test_second_half_not_an_instruction(void **state)
{
	struct bpf_insn v[] = {
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .imm = 1 },
		{ .code = BPF_LD | BPF_IMM | BPF_DW, .imm = (int32_t)(uint32_t)VL_FN_IP_MARK },
		{ .imm = (int32_t)(uint32_t)((uint64_t)VL_FN_IP_MARK >> 32) },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	(void)state;
	assert_int_equal(patch_imm64(v, ARRAY_SIZE(v), VL_FN_IP_MARK, 1), 0);
	assert_int_equal(patch_imm64(v, 1, VL_FN_IP_MARK, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marker_loads_patched),
		cmocka_unit_test(test_second_half_not_an_instruction),
	};

	return cmocka_run_group_tests_name("test_insn_patch", tests, NULL, NULL);
}
