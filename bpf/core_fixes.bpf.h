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
 * arch/x86/mm/maccess.c, copy_from_kernel_nofault_allowed(): later kernels
 * refuse a non-canonical address before reading it; 6.1's (Debian
 * 6.1.0-56) lets it through to a general protection fault, which the
 * exception fixup survives but WARNs about (ex_handler_uaccess). A pointer
 * read out of an object that may be changing under us (list poison such as
 * 0xdead000000000100, a torn value) is followed only if it lies where x86-64
 * puts kernel memory: at or above 0xff00000000000000 (5-level paging; 4-level
 * starts higher still). Elsewhere, above the user half.
 */
static __always_inline __u64 kptr(__u64 p)
{
#if defined(__TARGET_ARCH_x86)
	return p >= 0xff00000000000000ULL ? p : 0;
#else
	return p >= 0x8000000000000000ULL ? p : 0;
#endif
}

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

/*
 * The same change's lock: vma->vm_lock->lock, a rwsem taken for read by
 * lock_vma_under_rcu(). ->page_mkwrite cannot tell by its flags, which
 * do_page_mkwrite() replaces for the call. Whether it has readers, or
 * false where the kernel has no such lock (before 6.4; 6.15 made it a
 * reference count).
 */
struct vma_lock___vl {
	struct rw_semaphore lock;
} __attribute__((preserve_access_index));

struct vm_area_struct___vl {
	struct vma_lock___vl *vm_lock;
} __attribute__((preserve_access_index));

static __always_inline bool vma_lock_has_readers(const void *vma)
{
	struct vm_area_struct___vl *v = (void *)vma;
	long count;

	if (!bpf_core_field_exists(struct vm_area_struct___vl, vm_lock))
		return false;
	count = BPF_CORE_READ(v, vm_lock, lock.count.counter);
	return (count >> 8) > 0;	/* RWSEM_READER_SHIFT */
}

/*
 * "filelock: split struct file_lock into file_lock_core, file_lock and
 * file_lease" (v6.9): the file and the list link moved into a first member
 * `c` shared by both, and leases got their own struct, with their methods
 * in struct lease_manager_operations. Before: struct file_lock's fl_file,
 * fl_list, fl_lmops (vmlinux.h).
 */
struct file_lock_core___split {
	struct list_head flc_list;
	struct file *flc_file;
} __attribute__((preserve_access_index));

struct file_lock___split {
	struct file_lock_core___split c;
} __attribute__((preserve_access_index));

struct file_lease___split {
	struct file_lock_core___split c;
	const void *fl_lmops;
} __attribute__((preserve_access_index));

static __always_inline bool file_lock_split(void)
{
	return bpf_core_type_exists(struct file_lease___split);
}

/* The file a lock or a lease is on: `c` comes first in both since the split. */
static __always_inline struct file *file_lock_file(const void *fl)
{
	if (file_lock_split())
		return BPF_CORE_READ((struct file_lock___split *)fl, c.flc_file);
	return BPF_CORE_READ((struct file_lock *)fl, fl_file);
}

/* The lease methods of the first lease on @ctx's list, or NULL. */
static __always_inline const void *first_lease_lmops(struct file_lock_context *ctx)
{
	struct list_head *first = BPF_CORE_READ(ctx, flc_lease.next);
	void *head = (void *)ctx + bpf_core_field_offset(struct file_lock_context, flc_lease);

	if (!first || (void *)first == head)
		return NULL;
	if (file_lock_split())
		return BPF_CORE_READ((struct file_lease___split *)((void *)first -
			bpf_core_field_offset(struct file_lease___split, c.flc_list)), fl_lmops);
	return BPF_CORE_READ((struct file_lock *)((void *)first -
			     bpf_core_field_offset(struct file_lock, fl_list)), fl_lmops);
}

#endif
