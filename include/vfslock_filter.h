/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The in-kernel filter's test of one compiled requirement, shared by the BPF
 * programs and by the unit tests that prove it never hides a deviation the
 * engine would find. Types from vfslock_abi.h only.
 */
#ifndef VFSLOCK_FILTER_H
#define VFSLOCK_FILTER_H

#include "vfslock_abi.h"

#ifndef __VMLINUX_H__
#include <stdbool.h>
#endif

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * The slot of a watched superblock in the filter's summary of them
 * (sb_bloom, one byte per slot): a rwsem whose would-be superblock's slot
 * is clear is no s_umount of theirs, without a lookup. Superblocks are at
 * least 1 KiB apart; the fold mixes in higher bits. Bytes, not the bits of
 * a word: setting a byte is a plain store, where setting a bit would need
 * an atomic OR, which kernels before 5.12 ("bpf: Add instructions for
 * atomic_[cmp]xchg", "...atomic_fetch_[and|or|xor]") refuse.
 */
#define VL_SB_BLOOM_SLOTS	64

static __always_inline __u32 vl_sb_bloom_slot(__u64 sb)
{
	return ((sb >> 10) ^ (sb >> 16)) & (VL_SB_BLOOM_SLOTS - 1);
}

/*
 * Whether need @n, read at return, binds for the return value @ret (every
 * need read at entry binds). The kernel filter, the programs and the engine
 * all decide it here.
 */
static __always_inline bool vl_need_binds(const struct vl_need *n, __u64 ret)
{
	switch (n->at) {
	case VL_AT_EXIT_RET0:
		return VL_RET32(ret) == 0;
	case VL_AT_EXIT_RET_FLAG:
		return (VL_RET32(ret) & n->flag_mask) != 0;
	case VL_AT_EXIT_ERR_UNLOCKED:
		return VL_RET32(ret) != 0;
	default:
		return true;
	}
}

/* Whether need @n asks for its folio unlocked, rather than a lock held. */
static __always_inline bool vl_need_unlocked(const struct vl_need *n)
{
	return n->at == VL_AT_EXIT_UNLOCKED || n->at == VL_AT_EXIT_ERR_UNLOCKED;
}

/*
 * Whether need @n, the @idx-th of its method, is unmet by the call @e: an
 * entry record for needs read at entry, an exit record for the others.
 */
static __always_inline bool vl_need_unmet(const struct vl_ev_method *e, const struct vl_need *n,
					  int idx)
{
	__u8 a = n->arg, held;

	if (a >= VL_MAX_ARGS || idx < 0 || idx >= VL_MAX_NEEDS)
		return false;
	if (!vl_need_binds(n, e->ret))
		return false;
	if (vl_need_unlocked(n)) {
		held = e->need_held[idx];
		return held != VL_HELD_NA && held != VL_MODE_NONE;
	}
	if (n->differ[0] != n->differ[1] && n->differ[0] < VL_MAX_ARGS &&
	    n->differ[1] < VL_MAX_ARGS &&
	    e->obj[n->differ[0]].inode == e->obj[n->differ[1]].inode)
		return false;
	if (n->at == VL_AT_ENTRY && n->flag_mask) {
		__u8 fa = n->flag_arg;

		if (fa >= VL_MAX_ARGS || !(e->args[fa] & n->flag_mask))
			return false;
	}
	if (n->cls == VL_LOCK_I_RWSEM) {
		if (!e->obj[a].inode)
			return false;
		held = e->obj[a].held;
	} else {
		held = e->need_held[idx];
		/* per-VMA lock faults: the kernel chose which to send */
		if (held == VL_HELD_NA || held == VL_HELD_VMA_LOCK)
			return false;
	}
	return held < n->mode;
}

#endif
