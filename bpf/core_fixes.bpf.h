/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CO-RE shims for kernel changes include/vmlinux.h does not show. Each
 * names the change it handles; the programs test for the thing itself
 * (bpf_core_*_exists), never for a version number.
 */
#ifndef VFSLOCK_CORE_FIXES_BPF_H
#define VFSLOCK_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * "mm: add FAULT_FLAG_VMA_LOCK flag" (v6.4): page faults may run under
 * their vma's own lock, taken for read, instead of mmap_lock; vmf->flags
 * says which. Absent before: 0, and every fault holds mmap_lock.
 */
enum fault_flag___vma_lock {
	FAULT_FLAG_VMA_LOCK = 1 << 12,
};

static __always_inline __u32 fault_flag_vma_lock(void)
{
	if (!bpf_core_enum_value_exists(enum fault_flag___vma_lock, FAULT_FLAG_VMA_LOCK))
		return 0;
	return bpf_core_enum_value(enum fault_flag___vma_lock, FAULT_FLAG_VMA_LOCK);
}

#endif
