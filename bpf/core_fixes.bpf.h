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

/* ---- helpers that came after 5.10 ------------------------------------- */

/*
 * "bpf: Add get_func_[arg|ret|arg_cnt] helpers" (v5.17). Before it a
 * tracing program has only its context, the trampoline's array of saved
 * argument registers, and those verifiers (btf_ctx_access) refuse a
 * direct read of an argument that is neither a scalar nor a struct
 * pointer (write_begin's struct page **). The array lies on the kernel
 * stack: a fault-safe read of slot @i works on every kernel.
 */
static __always_inline bool has_func_arg_helpers(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_func_arg);
}

static __always_inline __u64 fn_arg(__u64 *ctx, __u32 i)
{
	__u64 v = 0;

	if (has_func_arg_helpers())
		bpf_get_func_arg(ctx, i, &v);
	else
		bpf_probe_read_kernel(&v, sizeof(v), &ctx[i]);
	return v;
}

/*
 * The return value of an fexit program's function of @nargs arguments:
 * the trampoline stores it in the slot after the last argument, on every
 * kernel; the helper fails (0 stands) on a void function, and so must the
 * fallback: @is_void says so.
 */
static __always_inline __u64 fn_ret(__u64 *ctx, __u32 nargs, bool is_void)
{
	__u64 v = 0;

	if (has_func_arg_helpers())
		bpf_get_func_ret(ctx, &v);
	else if (!is_void)
		bpf_probe_read_kernel(&v, sizeof(v), &ctx[nargs & 7]);
	return v;
}

/*
 * The traced function's address, in a method program cloned onto many
 * functions: the loader writes each clone's own into this instruction
 * (src/live.c). "bpf: Add bpf_get_func_ip helper for tracing programs"
 * (v5.15) would read it, but only from then on, and a constant costs
 * nothing.
 */
static __always_inline __u64 traced_fn_ip(void)
{
	__u64 ip;

	asm volatile("%0 = " VL_STR(VL_FN_IP_MARK) " ll" : "=r"(ip));
	return ip;
}

/*
 * "bpf: Implement get_current_task_btf and RET_PTR_TO_BTF_ID" (v5.11):
 * where it is missing, the mm is read through the task's address.
 */
static __always_inline __u64 current_mm(void)
{
	struct task_struct *t;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		t = bpf_get_current_task_btf();
		return (__u64)t->mm;
	}
	t = (struct task_struct *)bpf_get_current_task();
	return (__u64)BPF_CORE_READ(t, mm);
}

/* ---- struct page ------------------------------------------------------- */

/*
 * "mm: introduce memdesc_flags_t" (v6.18): page->flags became a struct
 * around the word.
 */
struct page___memdesc {
	struct {
		unsigned long f;
	} flags;
} __attribute__((preserve_access_index));

static __always_inline unsigned long page_flags(const void *page)
{
	if (bpf_core_field_exists(struct page___memdesc, flags.f))
		return BPF_CORE_READ((struct page___memdesc *)page, flags.f);
	return BPF_CORE_READ((struct page *)page, flags);
}

/* PG_locked, bit 0 of the head page's flags so far: read from the kernel's own enum. */
static __always_inline unsigned long page_locked_mask(void)
{
	return 1UL << bpf_core_enum_value(enum pageflags, PG_locked);
}

/*
 * A tail page's link to its head, bit 0 set: page->compound_head, the
 * head's address. v7.1 renamed it compound_info, and with HugeTLB
 * vmemmap optimisation (CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP, on in
 * Debian's kernels) it holds instead the mask that turns the tail's own
 * address into the head's (_compound_head(), include/linux/page-flags.h):
 * high bits all set, low bits clear, which no page's address is.
 */
struct page___compound_info {
	unsigned long compound_info;
} __attribute__((preserve_access_index));

static __always_inline __u64 page_head(__u64 page)
{
	__u64 info, link;

	if (bpf_core_field_exists(struct page___compound_info, compound_info))
		info = BPF_CORE_READ((struct page___compound_info *)page, compound_info);
	else
		info = BPF_CORE_READ((struct page *)page, compound_head);
	if (!(info & 1))
		return page;
	link = info - 1;
	if ((~link & (~link + 1)) == 0)	/* ~link is 0...01...1: a mask */
		return page & link;
	return link;
}

/* ---- tasks, dentries, vmas ------------------------------------------------ */

/*
 * "sched: Change task_struct::state" (v5.14): renamed __state, and an
 * unsigned int since; a long before.
 */
struct task_struct___state {
	long state;
} __attribute__((preserve_access_index));

static __always_inline unsigned int task_state_word(const void *t)
{
	if (bpf_core_field_exists(struct task_struct, __state))
		return BPF_CORE_READ((struct task_struct *)t, __state);
	return (unsigned int)BPF_CORE_READ((struct task_struct___state *)t, state);
}

/*
 * Where a dentry's link in its inode's i_dentry list lies: d_u.d_alias,
 * until v7.1 took the union's name away (d_alias at top level).
 */
struct dentry___no_d_u {
	struct hlist_node d_alias;
} __attribute__((preserve_access_index));

static __always_inline __u32 dentry_alias_offset(void)
{
	if (bpf_core_field_exists(struct dentry___no_d_u, d_alias))
		return bpf_core_field_offset(struct dentry___no_d_u, d_alias);
	return bpf_core_field_offset(struct dentry, d_u.d_alias);
}

/*
 * "mm: replace vm_lock and detached flag with a reference count" (v6.15):
 * a reader of the vma's lock holds a reference beyond the one of being
 * attached; bit 30 (VM_REFCNT_EXCLUDE_READERS_FLAG, VMA_LOCK_OFFSET
 * before v7.1) marks a writer or a detached vma.
 */
struct vm_area_struct___refcnt {
	refcount_t vm_refcnt;
} __attribute__((preserve_access_index));

#define VMA_REFCNT_EXCLUDE_READERS	(1U << 30)

/*
 * The same change's lock: vma->vm_lock->lock, a rwsem taken for read by
 * lock_vma_under_rcu(). ->page_mkwrite cannot tell by its flags, which
 * do_page_mkwrite() replaces for the call. Whether it has readers (by the
 * rwsem, or since v6.15 by the reference count above), or false where
 * the kernel has no such lock (before 6.4).
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

	if (bpf_core_field_exists(struct vm_area_struct___refcnt, vm_refcnt)) {
		unsigned int refs = BPF_CORE_READ((struct vm_area_struct___refcnt *)vma,
						   vm_refcnt.refs.counter);

		return refs > 1 && !(refs & VMA_REFCNT_EXCLUDE_READERS);
	}
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
