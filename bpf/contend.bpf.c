// SPDX-License-Identifier: GPL-2.0
/*
 * Lock contention for `vfslock top`: one record per wait, from the kernel's
 * contention_begin/contention_end tracepoints (tp_btf, so this loads where
 * fentry is refused; v5.19+), or before them from fentry/fexit on the
 * rwsem and mutex slow paths, and where fentry loads, the folio lock's.
 *
 * The lock's address is all the tracepoint gives. The programs name it the
 * way the VFS embeds it: an address is an inode's i_rwsem only if the word
 * where that inode's i_mapping would be points at its own i_data, a
 * superblock's only if its root dentry points back at it, and so on. Each
 * test compares values before anything read is dereferenced, and a pointer
 * is followed only if it is a kernel address, so a lock that is none of
 * these costs a few fault-safe reads, only when it is contended.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vfslock_abi.h"
#include "core_fixes.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the daemon between open and load. */
const volatile __u32 self_tgid = 0;
const volatile __u64 rename_lock_addr = 0;	/* &rename_lock from kallsyms, 0 unknown */
const volatile __u64 rename_lock_size = 0;
const volatile __u64 thread_size = 16384;	/* THREAD_SIZE: x86_64 without KASAN */
const volatile __u64 wakeup_bytes = 64 * 1024;
/* arguments of rwsem_down_read_slowpath(): its return value follows them */
const volatile __u32 rwsem_read_slow_nargs = 3;

/* Owner word flags: kernel/locking/rwsem.c and mutex.c, stable since 5.3 / 4.10 */
#define RWSEM_READER_OWNED	(1UL << 0)
#define OWNER_FLAGS_MASK	(7UL)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);	/* resized by the daemon */
} cevents SEC(".maps");

/* A wait under way, by task: what the lock is, and its owner at the start. */
struct wait {
	__u64 lock;
	__u64 ts;
	__u64 owner;
	__u32 flags;
	__u32 owner_tid;
	__s32 owner_syscall;
	__u8 owner_state;
	__u8 owner_flags;
	__u8 pad[2];
	char owner_comm[VL_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);		/* tid, or the CPU for the idle tasks */
	__type(value, struct wait);
} waits SEC(".maps");

/* Objects already named: a name record goes out once per object. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u8);
} named SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} cstats SEC(".maps");

/*
 * Wake the reader only once enough is pending: it polls on its own anyway,
 * and a wakeup per wait would make the tool a contender on a busy CPU.
 */
static __always_inline __u64 rb_flags(void)
{
	if (bpf_ringbuf_query(&cevents, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&cstats, &idx);

	if (v)
		(*v)++;
}

/* x86_64 and arm64 kernel addresses are the upper half: anything else is not a pointer to follow. */
static __always_inline bool kaddr(__u64 p)
{
	return p >= 0xffff800000000000ULL;
}

static __always_inline __u64 rd(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), (void *)addr);
	return v;
}

static __always_inline __u64 wait_key(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	/* every CPU's idle task is pid 0 */
	return tid ? tid : (1ULL << 32) | bpf_get_smp_processor_id();
}

/* An inode if @inode's i_mapping points at its own i_data. */
static __always_inline bool inode_shaped(__u64 inode)
{
	return rd(inode + bpf_core_field_offset(struct inode, i_mapping)) ==
	       inode + bpf_core_field_offset(struct inode, i_data);
}

/* A superblock if its root dentry's d_sb is @sb. */
static __always_inline bool sb_shaped(__u64 sb)
{
	__u64 root = rd(sb + bpf_core_field_offset(struct super_block, s_root));

	return kaddr(root) && rd(root + bpf_core_field_offset(struct dentry, d_sb)) == sb;
}

/* A dentry if its superblock's root, and its parent, are on the same superblock. */
static __always_inline bool dentry_shaped(__u64 d)
{
	__u64 sb = rd(d + bpf_core_field_offset(struct dentry, d_sb));
	__u64 parent = rd(d + bpf_core_field_offset(struct dentry, d_parent));

	return kaddr(sb) && kaddr(parent) && sb_shaped(sb) &&
	       rd(parent + bpf_core_field_offset(struct dentry, d_sb)) == sb;
}

static __always_inline void inode_ids(__u64 inode, __u64 *ino, __u32 *dev)
{
	struct inode *i = (void *)inode;
	struct super_block *sb = BPF_CORE_READ(i, i_sb);

	*ino = BPF_CORE_READ(i, i_ino);
	*dev = sb ? BPF_CORE_READ(sb, s_dev) : 0;
}

/* What embeds @lock, given the kind of lock contention_begin says it is. */
static __always_inline __u8 lock_class(__u64 lock, __u32 flags, __u64 *obj, __u64 *ino,
				       __u32 *dev)
{
	__u64 c;

	if (flags & VL_LCB_F_MUTEX) {
		c = lock - bpf_core_field_offset(struct super_block, s_vfs_rename_mutex);
		if (sb_shaped(c)) {
			*obj = c;
			*dev = BPF_CORE_READ((struct super_block *)c, s_dev);
			return VL_LOCK_S_VFS_RENAME;
		}
		return VL_LOCK_NONE;
	}
	if (flags & VL_LCB_F_SPIN) {
		if (flags & (VL_LCB_F_READ | VL_LCB_F_WRITE))
			return VL_LOCK_NONE;	/* an rwlock_t: none the VFS rules name */
		if (rename_lock_addr && lock >= rename_lock_addr &&
		    lock < rename_lock_addr + rename_lock_size)
			return VL_LOCK_RENAME_SEQ;
		c = lock - bpf_core_field_offset(struct inode, i_lock);
		if (inode_shaped(c)) {
			*obj = c;
			inode_ids(c, ino, dev);
			return VL_LOCK_I_LOCK;
		}
		c = lock - bpf_core_field_offset(struct dentry, d_lockref);
		if (dentry_shaped(c)) {
			struct dentry *d = (void *)c;
			struct inode *i = BPF_CORE_READ(d, d_inode);

			*obj = c;
			*dev = BPF_CORE_READ(d, d_sb, s_dev);
			*ino = i ? BPF_CORE_READ(i, i_ino) : 0;
			return VL_LOCK_D_LOCK;
		}
		return VL_LOCK_NONE;
	}
	if (!(flags & (VL_LCB_F_READ | VL_LCB_F_WRITE)))
		return VL_LOCK_NONE;
	/* an rw_semaphore (or percpu one) */
	c = (__u64)BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm);
	if (c && lock == c + bpf_core_field_offset(struct mm_struct, mmap_lock)) {
		*obj = c;
		return VL_LOCK_MMAP;
	}
	c = lock - bpf_core_field_offset(struct inode, i_rwsem);
	if (inode_shaped(c)) {
		*obj = c;
		inode_ids(c, ino, dev);
		return VL_LOCK_I_RWSEM;
	}
	if (bpf_core_field_exists(struct address_space, invalidate_lock)) {
		/* an inode's own mapping: host is where i_data says */
		__u64 m = lock - bpf_core_field_offset(struct address_space, invalidate_lock);
		__u64 host = m - bpf_core_field_offset(struct inode, i_data);

		if (rd(m + bpf_core_field_offset(struct address_space, host)) == host) {
			*obj = host;
			inode_ids(host, ino, dev);
			return VL_LOCK_INVALIDATE;
		}
	}
	c = lock - bpf_core_field_offset(struct super_block, s_umount);
	if (sb_shaped(c)) {
		*obj = c;
		*dev = BPF_CORE_READ((struct super_block *)c, s_dev);
		return VL_LOCK_S_UMOUNT;
	}
	return VL_LOCK_NONE;
}

static __always_inline __u8 task_state(struct task_struct *t)
{
	unsigned int st = task_state_word(t);

	if (BPF_CORE_READ(t, on_cpu))
		return VL_TS_ON_CPU;
	switch (st) {
	case 0:
		return VL_TS_RUNNABLE;
	case 1:		/* TASK_INTERRUPTIBLE */
		return VL_TS_SLEEPING;
	case 2:		/* TASK_UNINTERRUPTIBLE, killable included */
	case 2 | 0x100:	/* | TASK_WAKEKILL */
	case 2 | 0x400:	/* | TASK_NOLOAD: idle kthreads */
		return VL_TS_BLOCKED;
	default:
		return VL_TS_OTHER;
	}
}

/* The owner of a sleeping lock, from its owner word. */
static __always_inline void owner_of(struct wait *w, __u64 lock, __u32 flags)
{
	struct task_struct *t;
	__u64 word;
	long orig_ax = -1;

	if (flags & VL_LCB_F_MUTEX)
		word = BPF_CORE_READ((struct mutex *)lock, owner.counter);
	else if ((flags & (VL_LCB_F_READ | VL_LCB_F_WRITE)) &&
		 !(flags & (VL_LCB_F_SPIN | VL_LCB_F_PERCPU)))
		word = BPF_CORE_READ((struct rw_semaphore *)lock, owner.counter);
	else
		return;
	if (word & RWSEM_READER_OWNED && !(flags & VL_LCB_F_MUTEX))
		w->owner_flags |= VL_OWN_READERS;
	word &= ~OWNER_FLAGS_MASK;
	if (!kaddr(word))
		return;
	t = (void *)word;
	w->owner = word;
	w->owner_tid = BPF_CORE_READ(t, pid);
	w->owner_state = task_state(t);
	BPF_CORE_READ_STR_INTO(&w->owner_comm, t, comm);
	if (!BPF_CORE_READ(t, mm)) {
		w->owner_flags |= VL_OWN_KTHREAD;
	} else {
		/* task_pt_regs(): the registers at kernel entry sit at the top of its stack */
		__u64 regs = (__u64)BPF_CORE_READ(t, stack) + thread_size - sizeof(struct pt_regs);

		bpf_probe_read_kernel(&orig_ax, sizeof(orig_ax),
				      (void *)(regs + bpf_core_field_offset(struct pt_regs, orig_ax)));
	}
	w->owner_syscall = (__s32)orig_ax;
}

static __always_inline int wait_begin(__u64 lock, __u32 flags)
{
	__u64 key = wait_key();
	struct wait *w, nw = {};

	if ((bpf_get_current_pid_tgid() >> 32) == self_tgid && self_tgid)
		return 0;
	w = bpf_map_lookup_elem(&waits, &key);
	if (w && w->lock) {
		/* the wait_lock of the lock we already wait for, or an interrupt's */
		stat_inc(VL_STAT_NESTED);
		return 0;
	}
	nw.lock = lock;
	nw.flags = flags;
	nw.owner_syscall = -1;
	owner_of(&nw, lock, flags);
	nw.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&waits, &key, &nw, BPF_ANY))
		stat_inc(VL_STAT_WAITS_FULL);
	return 0;
}

/* Once per object: the names from it up to its filesystem's root. */
static __always_inline void send_name(__u64 obj, __u8 cls, __u64 ino, __u32 dev)
{
	struct dentry *d = NULL, *parent;
	struct vl_ev_objname *e;
	__u8 one = 1;
	int i;

	if (!obj || bpf_map_lookup_elem(&named, &obj))
		return;
	bpf_map_update_elem(&named, &obj, &one, BPF_ANY);
	switch (cls) {
	case VL_LOCK_I_RWSEM:
	case VL_LOCK_I_LOCK:
	case VL_LOCK_INVALIDATE:
	case VL_LOCK_FOLIO: {
		/* any of its aliases: a hard-linked file has one name per link */
		struct hlist_node *first = BPF_CORE_READ((struct inode *)obj, i_dentry.first);

		if (first)
			d = (void *)((__u64)first - dentry_alias_offset());
		break;
	}
	case VL_LOCK_D_LOCK:
		d = (void *)obj;
		break;
	case VL_LOCK_S_UMOUNT:
	case VL_LOCK_S_VFS_RENAME:
		d = BPF_CORE_READ((struct super_block *)obj, s_root);
		break;
	default:
		return;
	}
	e = bpf_ringbuf_reserve(&cevents, sizeof(*e), 0);
	if (!e) {
		stat_inc(VL_STAT_LOST);
		return;
	}
	fill_hdr(&e->hdr, VL_EV_OBJ_NAME, sizeof(*e), bpf_get_current_pid_tgid());
	e->obj = obj;
	e->ino = ino;
	e->dev = dev;
	e->cls = cls;
	e->ncomp = 0;
	e->complete = 0;
	e->pad = 0;
	for (i = 0; i < VL_NAME_COMPS; i++) {
		const unsigned char *name;

		e->comp[i][0] = '\0';
		if (!d)
			break;
		parent = BPF_CORE_READ(d, d_parent);
		if (parent == d) {
			e->complete = 1;	/* the root: its name is "/" */
			break;
		}
		name = BPF_CORE_READ(d, d_name.name);
		bpf_probe_read_kernel_str(e->comp[i], VL_NAME_LEN, name);
		e->ncomp = i + 1;
		d = parent;
	}
	stat_inc(VL_STAT_EVENTS);
	bpf_ringbuf_submit(e, rb_flags());
}

static __always_inline int wait_end(void *ctx, __u64 lock, int ret, bool folio)
{
	__u64 key = wait_key(), now = bpf_ktime_get_ns(), pid_tgid = bpf_get_current_pid_tgid();
	struct vl_ev_contend *e;
	struct wait *w;
	__u64 obj = 0, ino = 0;
	__u32 dev = 0;
	__u8 cls;

	w = bpf_map_lookup_elem(&waits, &key);
	if (!w || w->lock != lock)
		return 0;
	if (folio) {
		/* a folio overlays its head page, and a 5.10 kernel has pages only */
		struct address_space *m = BPF_CORE_READ((struct page *)lock, mapping);

		cls = VL_LOCK_FOLIO;
		/* an anonymous folio's mapping is its anon_vma, tagged in bit 0 */
		if (m && !((__u64)m & 1)) {
			obj = (__u64)BPF_CORE_READ(m, host);
			if (obj)
				inode_ids(obj, &ino, &dev);
		}
	} else {
		cls = lock_class(lock, w->flags, &obj, &ino, &dev);
	}
	e = bpf_ringbuf_reserve(&cevents, sizeof(*e), 0);
	if (!e) {
		stat_inc(VL_STAT_LOST);
		goto out;
	}
	fill_hdr(&e->hdr, VL_EV_CONTEND, sizeof(*e), pid_tgid);
	e->hdr.ts = now;	/* the end of the wait its length is measured to */
	e->lock = lock;
	e->obj = obj;
	e->ino = ino;
	e->wait_ns = now - w->ts;
	e->owner = w->owner;
	e->dev = dev;
	e->flags = w->flags;
	e->ret = ret;
	e->owner_tid = w->owner_tid;
	e->owner_syscall = w->owner_syscall;
	e->cls = cls;
	e->mode = w->flags & (VL_LCB_F_READ) ? VL_MODE_SHARED : VL_MODE_EXCL;
	e->owner_state = w->owner_state;
	e->owner_flags = w->owner_flags;
	e->pad = 0;
	e->pad2 = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	__builtin_memcpy(e->owner_comm, w->owner_comm, sizeof(e->owner_comm));
	{
		long n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);

		e->nstack = n > 0 ? n / sizeof(__u64) : 0;
	}
	stat_inc(VL_STAT_EVENTS);
	bpf_ringbuf_submit(e, rb_flags());
	send_name(obj, cls, ino, dev);
out:
	bpf_map_delete_elem(&waits, &key);
	return 0;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(contention_begin, void *lock, unsigned int flags)
{
	return wait_begin((__u64)lock, flags);
}

SEC("tp_btf/contention_end")
int BPF_PROG(contention_end, void *lock, int ret)
{
	return wait_end(ctx, (__u64)lock, ret, false);
}

/*
 * folio_lock() calls these only when folio_trylock() failed: each call is
 * a wait. Loaded only where fentry is allowed; before "mm/filemap: Add
 * __folio_lock()" (v5.16) the same waits went through __lock_page().
 */
SEC("fentry/__folio_lock")
int BPF_PROG(folio_lock_e, struct folio *folio)
{
	return wait_begin((__u64)folio, VL_LCB_F_FOLIO);
}

SEC("fexit/__folio_lock")
int BPF_PROG(folio_lock_x, struct folio *folio)
{
	return wait_end(ctx, (__u64)folio, 0, true);
}

SEC("fentry/__folio_lock_killable")
int BPF_PROG(folio_lock_killable_e, struct folio *folio)
{
	return wait_begin((__u64)folio, VL_LCB_F_FOLIO);
}

SEC("fexit/__folio_lock_killable")
int BPF_PROG(folio_lock_killable_x, struct folio *folio, int ret)
{
	return wait_end(ctx, (__u64)folio, ret, true);
}

/*
 * A page's wait is its head's: the lock bit lives there. The page is
 * taken as a number (fn_arg()): the verifier allows no arithmetic on the
 * typed pointer.
 */
SEC("fentry/__lock_page")
int BPF_PROG(lock_page_e)
{
	return wait_begin(page_head(fn_arg(ctx, 0)), VL_LCB_F_FOLIO);
}

SEC("fexit/__lock_page")
int BPF_PROG(lock_page_x)
{
	return wait_end(ctx, page_head(fn_arg(ctx, 0)), 0, true);
}

SEC("fentry/__lock_page_killable")
int BPF_PROG(lock_page_killable_e)
{
	return wait_begin(page_head(fn_arg(ctx, 0)), VL_LCB_F_FOLIO);
}

SEC("fexit/__lock_page_killable")
int BPF_PROG(lock_page_killable_x)
{
	return wait_end(ctx, page_head(fn_arg(ctx, 0)), (int)fn_ret(ctx, 1, false), true);
}

/*
 * Before "locking: Add lock contention tracepoints" (v5.19): the slow
 * paths of rwsems and mutexes, entered only when the fast path failed,
 * as klockstat does; optimistic spinning counts as waiting, as it does for
 * contention_begin. The flags are the tracepoint's, so the records are
 * the same. An rwsem slow path returns the rwsem, or an error pointer for
 * a wait a signal ended.
 */
static __always_inline int rwsem_slow_end(__u64 *ctx, __u32 nargs)
{
	__s64 ret = (__s64)fn_ret(ctx, nargs, false);

	return wait_end(ctx, fn_arg(ctx, 0), ret < 0 && ret >= -4095 ? (int)ret : 0, false);
}

SEC("fentry/rwsem_down_read_slowpath")
int BPF_PROG(rwsem_read_slow_e)
{
	return wait_begin(fn_arg(ctx, 0), VL_LCB_F_READ);
}

SEC("fexit/rwsem_down_read_slowpath")
int BPF_PROG(rwsem_read_slow_x)
{
	return rwsem_slow_end(ctx, rwsem_read_slow_nargs);
}

SEC("fentry/rwsem_down_write_slowpath")
int BPF_PROG(rwsem_write_slow_e)
{
	return wait_begin(fn_arg(ctx, 0), VL_LCB_F_WRITE);
}

SEC("fexit/rwsem_down_write_slowpath")
int BPF_PROG(rwsem_write_slow_x)
{
	return rwsem_slow_end(ctx, 2);	/* (sem, state) in every kernel that has it */
}

#define MUTEX_SLOWPATH(fn, name, ret_expr)					\
SEC("fentry/" #fn)								\
int BPF_PROG(name##_e)								\
{										\
	return wait_begin(fn_arg(ctx, 0), VL_LCB_F_MUTEX);			\
}										\
SEC("fexit/" #fn)								\
int BPF_PROG(name##_x)								\
{										\
	return wait_end(ctx, fn_arg(ctx, 0), ret_expr, false);			\
}

MUTEX_SLOWPATH(__mutex_lock_slowpath, mutex_slow, 0)
MUTEX_SLOWPATH(__mutex_lock_killable_slowpath, mutex_killable_slow, (int)fn_ret(ctx, 1, false))
MUTEX_SLOWPATH(__mutex_lock_interruptible_slowpath, mutex_intr_slow,
	       (int)fn_ret(ctx, 1, false))
