// SPDX-License-Identifier: GPL-2.0
/*
 * Method discovery: for each file the daemon holds open, copy the operation
 * tables of its inode, superblock, dentry and mapping as raw bytes, and the
 * vm_operations of the daemon's mappings of those files.
 *
 * The daemon decodes the bytes with the running kernel's BTF, member by
 * member, and maps each function pointer to its symbol. So nothing here, nor
 * in the daemon, names a filesystem or its functions: whatever a mounted
 * filesystem installs is what gets traced.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "vfslock_abi.h"
#include "core_fixes.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vl_disc_rec);
} disc_scratch SEC(".maps");

static __always_inline __u32 clamp_size(__u32 size)
{
	return size > VL_OPS_BYTES ? VL_OPS_BYTES : size;
}

static __always_inline void copy_ops(struct vl_disc_rec *r, int k, const void *ops,
				     __u32 size)
{
	r->ops_ptr[k] = (__u64)ops;
	r->ops_size[k] = 0;
	if (!ops)
		return;
	size = clamp_size(size);
	if (!bpf_probe_read_kernel(r->ops[k], size, ops))
		r->ops_size[k] = size;
}

/* The superblock's xattr handlers: a NULL-terminated array of pointers. */
static __always_inline void copy_xattr_handlers(struct vl_disc_rec *r, struct super_block *sb)
{
	const void *const *handlers = (const void *const *)BPF_CORE_READ(sb, s_xattr);
	__u32 size = bpf_core_type_size(struct xattr_handler);
	const void *h;
	int i;

	r->nxattr = 0;
	r->xattr_size = size > VL_XATTR_BYTES ? VL_XATTR_BYTES : size;
	if (!handlers)
		return;
	for (i = 0; i < VL_DISC_MAX_XATTR; i++) {
		h = NULL;
		if (bpf_probe_read_kernel(&h, sizeof(h), &handlers[i]) || !h)
			break;
		if (bpf_probe_read_kernel(r->xattr[i], VL_XATTR_BYTES, h))
			break;
		r->nxattr = i + 1;
	}
}

SEC("iter/task_file")
int dump_ops(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct super_block *sb;
	struct vl_disc_rec *r;
	struct inode *inode;
	__u32 zero = 0;

	if (!task || !file || BPF_CORE_READ(task, tgid) != target_tgid)
		return 0;
	r = bpf_map_lookup_elem(&disc_scratch, &zero);
	if (!r)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	if (!inode)
		return 0;
	sb = BPF_CORE_READ(inode, i_sb);

	r->fd = ctx->fd;
	r->file = (__u64)file;
	r->dev = BPF_CORE_READ(sb, s_dev);
	r->sb = (__u64)sb;
	r->s_type = (__u64)BPF_CORE_READ(sb, s_type);
	r->ino = BPF_CORE_READ(inode, i_ino);
	r->i_mode = BPF_CORE_READ(inode, i_mode);
	bpf_probe_read_kernel_str(r->fstype, sizeof(r->fstype), BPF_CORE_READ(sb, s_type, name));

	copy_ops(r, VL_OPS_INODE, BPF_CORE_READ(inode, i_op),
		 bpf_core_type_size(struct inode_operations));
	copy_ops(r, VL_OPS_FILE, BPF_CORE_READ(file, f_op),
		 bpf_core_type_size(struct file_operations));
	copy_ops(r, VL_OPS_SUPER, BPF_CORE_READ(sb, s_op),
		 bpf_core_type_size(struct super_operations));
	copy_ops(r, VL_OPS_DENTRY, BPF_CORE_READ(file, f_path.dentry, d_op),
		 bpf_core_type_size(struct dentry_operations));
	copy_ops(r, VL_OPS_AOPS, BPF_CORE_READ(inode, i_mapping, a_ops),
		 bpf_core_type_size(struct address_space_operations));
	r->ops_size[VL_OPS_VM] = r->ops_size[VL_OPS_LM] = 0;
	copy_ops(r, VL_OPS_FSTYPE, BPF_CORE_READ(sb, s_type),
		 bpf_core_type_size(struct file_system_type));
	{
		struct file_lock_context *flc = BPF_CORE_READ(inode, i_flctx);

		/* lease methods are a kernel-wide table: 128 bytes hold it */
		if (flc)
			copy_ops(r, VL_OPS_LM, first_lease_lmops(flc), 128);
	}

	copy_xattr_handlers(r, sb);

	bpf_seq_write(ctx->meta->seq, r, sizeof(*r));
	return 0;
}

/* One mapping of @file: its vm_operations, the record's only table. */
static __always_inline void emit_vm_ops(struct seq_file *seq, struct file *file,
					const struct vm_operations_struct *vm_ops)
{
	struct vl_disc_rec *r;
	__u32 zero = 0;
	int k;

	r = bpf_map_lookup_elem(&disc_scratch, &zero);
	if (!r)
		return;
	r->fd = VL_DISC_VMA;
	r->file = (__u64)file;
	r->nxattr = 0;
	for (k = 0; k < VL_OPS_MAX; k++)
		r->ops_size[k] = 0;
	copy_ops(r, VL_OPS_VM, vm_ops, bpf_core_type_size(struct vm_operations_struct));
	bpf_seq_write(seq, r, sizeof(*r));
}

/*
 * vm_ops are set by ->mmap on each mapping, not kept with the file: the
 * daemon maps its sample files, and this reads what their mappings got.
 */
SEC("iter/task_vma")
int dump_vm_ops(struct bpf_iter__task_vma *ctx)
{
	struct task_struct *task = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	struct file *file;

	if (!task || !vma || BPF_CORE_READ(task, tgid) != target_tgid)
		return 0;
	file = BPF_CORE_READ(vma, vm_file);
	if (file)
		emit_vm_ops(ctx->meta->seq, file, BPF_CORE_READ(vma, vm_ops));
	return 0;
}

/*
 * Before the task_vma iterator ("bpf: Introduce task_vma bpf_iter", v5.12)
 * the same mappings are found on the mm's list of vmas, which "mm: remove
 * the vma linked list" (v6.1) took away: the loader picks one of the two.
 */
struct vm_area_struct___list {
	struct vm_area_struct___list *vm_next;
	struct file *vm_file;
	const struct vm_operations_struct *vm_ops;
} __attribute__((preserve_access_index));

struct mm_struct___list {
	struct vm_area_struct___list *mmap;
} __attribute__((preserve_access_index));

#define VL_DISC_MAX_VMAS	1024

SEC("iter/task")
int dump_vm_ops_list(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct vm_area_struct___list *vma;
	struct mm_struct___list *mm;
	struct file *file;
	int i;

	/* the group leader only: its threads share its mm */
	if (!task || BPF_CORE_READ(task, tgid) != target_tgid ||
	    BPF_CORE_READ(task, pid) != target_tgid)
		return 0;
	mm = (void *)BPF_CORE_READ(task, mm);
	if (!mm)
		return 0;
	vma = BPF_CORE_READ(mm, mmap);
	for (i = 0; i < VL_DISC_MAX_VMAS && vma; i++) {
		file = BPF_CORE_READ(vma, vm_file);
		if (file)
			emit_vm_ops(ctx->meta->seq, file, BPF_CORE_READ(vma, vm_ops));
		vma = BPF_CORE_READ(vma, vm_next);
	}
	return 0;
}
