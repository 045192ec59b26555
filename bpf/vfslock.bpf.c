// SPDX-License-Identifier: GPL-2.0
/*
 * Probes for `vfslock check`: i_rwsem acquire/release and VFS method entry.
 *
 * The programs stream what the daemon needs to rebuild, per task, the set of
 * i_rwsems held (the reader holds only, unless lock_events asks for all), and
 * the state of the locks at each method call. They filter
 * hard before writing anything: only watched tasks, only rwsems that are the
 * i_rwsem of an inode on a watched filesystem type, only configured methods.
 *
 * Method programs are templates: the daemon loads one per argument count and
 * clones it onto every implementation it attaches (see src/live.c), so they
 * find their configuration by the traced function's address.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vfslock_abi.h"
#include "vfslock_filter.h"
#include "core_fixes.bpf.h"
#include "events.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the daemon between open and load. */
const volatile bool watch_all = false;	/* every task but our own */
const volatile __u32 self_tgid = 0;
const volatile __u64 wakeup_bytes = 256 * 1024;
const volatile bool send_all_calls = false;	/* recording: compliant calls too */
const volatile __u8 lock_events = VL_LOCK_EVENTS_ALL;	/* enum vl_lock_events */
/*
 * nb_calls is task storage, or where the kernel has none for tracing
 * programs ("bpf: Enable task local storage for tracing programs", v5.12)
 * a hash by tid that the loader made of it.
 */
const volatile bool use_task_storage = true;
/* tests only: on_switch reads past its context, refused (src/live.c, refuse_for_tests()) */
const volatile bool test_refuse_switch = false;
/*
 * 1 << enum vl_lock_class: rwsems besides i_rwsem whose holders are
 * tracked. Not const: a filesystem mounted later may bring a class.
 */
__u32 track_classes = 0;
/* vl_sb_bloom_slot() of every watched superblock, set with each watched_sbs entry */
__u8 sb_bloom[VL_SB_BLOOM_SLOTS] = {};

/* Count and owner word flags of a rwsem, kernel/locking/rwsem.c (stable since 5.3). */
#define RWSEM_WRITER_LOCKED	(1UL << 0)	/* count */
#define RWSEM_READER_SHIFT	8		/* count */
#define RWSEM_READER_OWNED	(1UL << 0)	/* owner */
#define RWSEM_OWNER_FLAGS_MASK	(7UL)		/* owner */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);	/* resized by the daemon */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);		/* tid */
	__type(value, __u8);
} watched_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);		/* struct file_system_type * */
	__type(value, __u8);
} watched_fstypes SEC(".maps");

/*
 * Superblocks of watched types. Lock events test a candidate inode's i_sb
 * against this set by value before anything is dereferenced: most rwsems
 * are not i_rwsems, and what sits where i_sb would be is then arbitrary
 * (reading through a non-canonical pointer makes some kernels WARN). Seeded
 * by the daemon from its mounts, grown by method entry as sbs show up.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* struct super_block * */
	__type(value, __u32);		/* its s_dev: records need not read it */
} watched_sbs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);		/* traced function address */
	__type(value, struct vl_method_cfg);
} method_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VL_MET_SLOTS);
	__type(key, __u32);
	__type(value, struct vl_met);
} calls_met SEC(".maps");

static __always_inline void met_inc(const struct vl_method_cfg *cfg, bool at_exit)
{
	__u32 slot = cfg->slot;
	struct vl_met *m = bpf_map_lookup_elem(&calls_met, &slot);

	if (!m)
		return;
	if (at_exit)
		m->exit++;
	else
		m->entry++;
}

/*
 * Shared holds of watched i_rwsems by task. The rwsem count says how many
 * readers there are, not who they are; this is what lets the method filter
 * tell "this task holds it shared" from "someone does".
 */
struct rdhold_key {
	__u64 sem;
	__u32 tid;
	__u32 pad;
};

/* What the acquisition found: the release streams it without asking again. */
struct rdhold {
	__u64 obj;
	__u32 count;		/* recursive read holds */
	__u32 dev;
	__u8 cls;
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rdhold_key);
	__type(value, struct rdhold);
} rd_holds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VL_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

/*
 * A method record is too large for the BPF stack: it is built in the
 * task's own storage. Not per CPU: the kernel runs BPF programs with
 * migration disabled but not preemption, so on a preemptible kernel
 * (PREEMPT_LAZY, the default of Debian's 6.18 and 7.x; PREEMPT) a task
 * preempted half-way through its record lets another task's program run
 * on the same CPU, which must not write into it.
 *
 * Programs that cannot be preempted, and nest in order, take one of the
 * CPU's levels instead: one that interrupts a task's own (a softirq, an
 * RCU callback freeing an inode, calling a method while the task's
 * program is half-way through its record; the programs of different
 * arities are different programs, so the kernel's recursion guard lets
 * one run inside another), sched_switch's, and every program where tasks
 * have no storage (before 5.12: those kernels run BPF programs with
 * preemption disabled unless built with full preemption). Levels: task,
 * softirq, hardirq, NMI. A level records its taker, which must still own
 * it when the record is sent: anything else is dropped, counted.
 */
#define VL_SCRATCH_LEVELS	4

struct scratch_level {
	struct vl_ev_method e;
	__u64 owner;		/* pid_tgid | 1 of the program using it; 0 free */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VL_SCRATCH_LEVELS);
	__type(key, __u32);
	__type(value, struct scratch_level);
} method_scratch SEC(".maps");

struct task_rec {
	struct vl_ev_method e;
	__u32 busy;		/* a program of the task's own is building in it */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);	/* a hash, unused, without use_task_storage */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_rec);
} task_recs SEC(".maps");

/* Where a program builds its record: one of the two, and what it gives back. */
struct rec_slot {
	struct task_rec *tr;
	struct scratch_level *lvl;
	__u64 owner;
};

/*
 * The method that may not block a task is inside: set at its entry,
 * cleared at its exit (depth 0), read by sched_switch. One per task: a
 * no-block method nested in another is covered by the outer one. Kept in
 * the task's own storage: no hash update or delete per call, and nothing
 * to clean up when the task exits.
 */
struct nb_call {
	__u64 ip;
	__u64 ts;
	__u64 args[VL_MAX_ARGS];
	__u32 attach_id;
	__u16 depth;		/* recursion of the same implementation */
	__u16 flags;		/* enum vl_method_flags of the entry */
	__u8 reported;		/* one record per call, at its first sleep */
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);	/* or a hash by tid: use_task_storage */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct nb_call);
} nb_calls SEC(".maps");

/* @task's no-block call, created if @create; @tid keys the hash form. */
static __always_inline struct nb_call *nb_get(struct task_struct *task, __u32 tid, bool create)
{
	struct nb_call zero = {};

	if (use_task_storage)
		return bpf_task_storage_get(&nb_calls, task, 0,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (create)
		bpf_map_update_elem(&nb_calls, &tid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&nb_calls, &tid);
}

/* The current task, as task storage wants it: only asked for where that exists. */
static __always_inline struct task_struct *nb_current(void)
{
	if (use_task_storage)
		return bpf_get_current_task_btf();
	return NULL;
}

/* Methods whose first call under a per-VMA lock was sent (VL_HELD_VMA_LOCK). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* traced function address */
	__type(value, __u8);
} vma_lock_seen SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * Takes this CPU's first free level, NULL when none is left (counted).
 * No atomic needed where levels are meant to be used: a program that
 * interrupts this one between the test and the claim takes the same
 * level, but gives it back before this one goes on, as interrupts nest.
 */
static __always_inline bool level_take(struct rec_slot *s, __u32 i)
{
	struct scratch_level *l = bpf_map_lookup_elem(&method_scratch, &i);

	if (!l || l->owner)
		return false;
	l->owner = s->owner;
	s->lvl = l;
	if (i)
		stat_inc(VL_STAT_IRQ_NESTED);
	return true;
}

static __always_inline struct vl_ev_method *scratch_get(struct rec_slot *s)
{
	s->owner = bpf_get_current_pid_tgid() | 1;
	s->lvl = NULL;
	if (level_take(s, 0) || level_take(s, 1) || level_take(s, 2) || level_take(s, 3))
		return &s->lvl->e;
	stat_inc(VL_STAT_IRQ_NESTED);
	stat_inc(VL_STAT_TOO_DEEP);
	return NULL;
}

/* The record of the current program: the task's own buffer when free. */
static __always_inline struct vl_ev_method *rec_get(struct rec_slot *s)
{
	struct task_rec *tr;

	s->tr = NULL;
	s->lvl = NULL;
	if (use_task_storage) {
		/* NULL for a program nested in one using the storage on this CPU */
		tr = bpf_task_storage_get(&task_recs, bpf_get_current_task_btf(), 0,
					  BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (tr && !tr->busy) {
			tr->busy = 1;
			s->tr = tr;
			return &tr->e;
		}
	}
	return scratch_get(s);
}

/* Whether the record is still the current program's own, to be sent. */
static __always_inline bool rec_intact(const struct rec_slot *s)
{
	if (!s || !s->lvl || s->lvl->owner == s->owner)
		return true;
	stat_inc(VL_STAT_CLOBBERED);
	return false;
}

static __always_inline void rec_put(struct rec_slot *s)
{
	if (s->tr)
		s->tr->busy = 0;
	else if (s->lvl && s->lvl->owner == s->owner)
		s->lvl->owner = 0;
}

/*
 * Wake the reader only once enough has piled up: a wakeup per record costs
 * an irq_work each, which is most of the price of a small record. The daemon
 * also polls on a short timeout, so nothing waits long.
 */
static __always_inline __u64 rb_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline bool task_watched(__u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;

	if (watch_all)
		return (pid_tgid >> 32) != self_tgid;
	return bpf_map_lookup_elem(&watched_tasks, &tid) != NULL;
}

static __always_inline bool fstype_watched(struct super_block *sb)
{
	__u64 s_type = (__u64)BPF_CORE_READ(sb, s_type);

	return s_type && bpf_map_lookup_elem(&watched_fstypes, &s_type);
}

/*
 * Whether @inode, computed back from a lock inside it, is an inode on a
 * watched superblock; if so, @dev is its device. Every rwsem of a watched
 * task comes through here (mmap_lock above all), so a stranger must be
 * turned away after one eight-byte read: i_mapping must point at the
 * inode's own i_data, which holds for every inode of a disk or memory
 * filesystem; then i_sb must be a watched superblock, compared by value (see
 * watched_sbs).
 */
static __always_inline bool inode_watched(struct inode *inode, __u32 *dev)
{
	__u64 sb = 0;
	void *mapping = NULL;
	__u32 *d;

	/* the shape first: no lookup for the many rwsems that are no inode's */
	if (bpf_core_read(&mapping, sizeof(mapping), &inode->i_mapping) ||
	    mapping != (void *)inode + bpf_core_field_offset(struct inode, i_data))
		return false;
	if (bpf_core_read(&sb, sizeof(sb), &inode->i_sb) || !sb)
		return false;
	d = bpf_map_lookup_elem(&watched_sbs, &sb);
	if (!d)
		return false;
	*dev = *d;
	return true;
}

static __always_inline __u32 invalidate_lock_offset(void)
{
	if (!bpf_core_field_exists(struct address_space, invalidate_lock))
		return 0;
	return bpf_core_field_offset(struct inode, i_data) +
	       bpf_core_field_offset(struct address_space, invalidate_lock);
}

/*
 * Which lock a rwsem is, among those rules name, and its object: the inode
 * (i_rwsem, invalidate_lock) or the superblock (s_umount). VL_LOCK_NONE for
 * any other rwsem. s_umount costs a lookup and no read, since watched
 * superblocks are keys by value.
 */
static __always_inline __u8 rwsem_class(void *sem, __u64 *obj, __u32 *dev)
{
	__u32 off;

	/*
	 * Cheapest first: the task's own mmap_lock is one compare; an
	 * i_rwsem or invalidate_lock is turned away by one read unless it has
	 * an inode's shape; s_umount, a lookup for every stranger, comes
	 * last. A superblock or mm read as if it were an inode fails the
	 * i_mapping and i_sb tests, which compare values.
	 */
	if (track_classes & (1U << VL_LOCK_MMAP)) {
		/*
		 * Only the task's own mm: that is where faults and munmap take
		 * it, and any other address would need a read to be told from
		 * a stranger (access_remote_vm()'s foreign mm is not followed).
		 */
		__u64 mm = current_mm();

		if (mm && (__u64)sem == mm + bpf_core_field_offset(struct mm_struct, mmap_lock)) {
			*obj = mm;
			*dev = 0;
			return VL_LOCK_MMAP;
		}
	}
	*obj = (__u64)sem - bpf_core_field_offset(struct inode, i_rwsem);
	if (inode_watched((void *)*obj, dev))
		return VL_LOCK_I_RWSEM;
	off = invalidate_lock_offset();
	if ((track_classes & (1U << VL_LOCK_INVALIDATE)) && off) {
		*obj = (__u64)sem - off;
		if (inode_watched((void *)*obj, dev))
			return VL_LOCK_INVALIDATE;
	}
	if (track_classes & (1U << VL_LOCK_S_UMOUNT)) {
		__u64 sb = (__u64)sem - bpf_core_field_offset(struct super_block, s_umount);
		__u32 *d = NULL;

		if (sb_bloom[vl_sb_bloom_slot(sb)])
			d = bpf_map_lookup_elem(&watched_sbs, &sb);
		if (d) {
			*obj = sb;
			*dev = *d;
			return VL_LOCK_S_UMOUNT;
		}
	}
	return VL_LOCK_NONE;
}

static __always_inline void rdhold_add(__u64 sem, __u32 tid, __u8 cls, __u64 obj, __u32 dev)
{
	struct rdhold_key key = { .sem = sem, .tid = tid };
	struct rdhold h = { .obj = obj, .count = 1, .dev = dev, .cls = cls }, *cur;

	cur = bpf_map_lookup_elem(&rd_holds, &key);
	if (cur) {
		cur->count++;
		return;
	}
	if (bpf_map_update_elem(&rd_holds, &key, &h, BPF_NOEXIST))
		stat_inc(VL_STAT_RDHOLD_FULL);
}

/* Ends one reader hold of this task; false if it has none on @sem. */
static __always_inline bool rdhold_drop(__u64 sem, __u32 tid, struct rdhold *out)
{
	struct rdhold_key key = { .sem = sem, .tid = tid };
	struct rdhold *cur = bpf_map_lookup_elem(&rd_holds, &key);

	if (!cur)
		return false;
	*out = *cur;
	if (cur->count > 1)
		cur->count--;
	else
		bpf_map_delete_elem(&rd_holds, &key);
	return true;
}

static __always_inline int on_rwsem(void *sem, __u8 op, __u8 mode, __u8 prim)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct vl_ev_lock *e;
	struct rdhold h;
	__u64 obj;
	__u32 dev;
	__u8 cls;
	bool owned = prim != VL_PRIM_UP_READ_NON_OWNER && prim != VL_PRIM_DOWN_READ_NON_OWNER;

	if (!task_watched(pid_tgid))
		return 0;
	if (owned && mode == VL_MODE_SHARED && op == VL_OP_RELEASE) {
		/*
		 * A reader hold ends: its acquisition said what it was, and
		 * one lookup turns away every rwsem this task holds no
		 * watched reader hold on (up_read() is the most frequent
		 * primitive of all).
		 */
		if (!rdhold_drop((__u64)sem, (__u32)pid_tgid, &h))
			return 0;
		cls = h.cls;
		obj = h.obj;
		dev = h.dev;
	} else {
		cls = rwsem_class(sem, &obj, &dev);
		if (cls == VL_LOCK_NONE)
			return 0;
		if (owned && (op == VL_OP_DOWNGRADE || (mode == VL_MODE_SHARED && op == VL_OP_ACQUIRE)))
			rdhold_add((__u64)sem, (__u32)pid_tgid, cls, obj, dev);
	}
	/* judged on what the method programs read; the stream need not carry it */
	if (cls == VL_LOCK_MMAP)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(VL_STAT_LOST);
		stat_inc(VL_STAT_LOST_LOCK);
		return 0;
	}
	fill_hdr(&e->hdr, VL_EV_LOCK, sizeof(*e), pid_tgid);
	e->lock = (__u64)sem;
	e->inode = obj;
	if (cls == VL_LOCK_S_UMOUNT) {
		e->ino = 0;
	} else {
		struct inode *inode = (void *)obj;

		e->ino = BPF_CORE_READ(inode, i_ino);
	}
	e->dev = dev;
	e->cls = cls;
	e->op = op;
	e->mode = mode;
	e->prim = prim;
	/* the exclusive hold it ends was not streamed: a reader hold begins */
	if (op == VL_OP_DOWNGRADE && lock_events == VL_LOCK_EVENTS_READERS)
		e->op = VL_OP_ACQUIRE;
	bpf_ringbuf_submit(e, rb_flags());
	stat_inc(VL_STAT_EVENTS);
	return 0;
}

/*
 * The forms that cannot fail are recorded at entry: fentry costs less than
 * half of fexit, and a task waiting in down_write() makes no method call
 * that the early record could mislead (wait times come from the contention
 * tracepoints, not from here). The trylock, killable and interruptible
 * forms are seen at exit, where the return value says whether they got the
 * lock. Releases are recorded at entry, before another task can take the
 * lock and race our record.
 */
/*
 * The lock's address as a number, not as the typed pointer the context
 * gives: the filter does arithmetic on it (vl_sb_bloom_slot()) that the
 * verifier refuses on pointers.
 */
static __always_inline void *lock_arg(__u64 *ctx)
{
	return (void *)fn_arg(ctx, 0);
}

#define RWSEM_ACQUIRED(fn, mode, prim)						\
SEC("fentry/" #fn)								\
int BPF_PROG(fn##_e, struct rw_semaphore *sem)					\
{										\
	return on_rwsem(lock_arg(ctx), VL_OP_ACQUIRE, mode, prim);			\
}

/* killable/interruptible: 0 when acquired */
#define RWSEM_ACQUIRED_RET0(fn, mode, prim)					\
SEC("fexit/" #fn)								\
int BPF_PROG(fn##_x, struct rw_semaphore *sem, int ret)			\
{										\
	return ret ? 0 : on_rwsem(lock_arg(ctx), VL_OP_ACQUIRE, mode, prim);		\
}

/* trylock: 1 when acquired */
#define RWSEM_ACQUIRED_RET1(fn, mode, prim)					\
SEC("fexit/" #fn)								\
int BPF_PROG(fn##_x, struct rw_semaphore *sem, int ret)			\
{										\
	return ret ? on_rwsem(lock_arg(ctx), VL_OP_ACQUIRE, mode, prim) : 0;		\
}

/* _nested forms carry a subclass: (sem, int) -> ret at ctx[2] */
#define RWSEM_ACQUIRED_NESTED_RET0(fn, mode, prim)				\
SEC("fexit/" #fn)								\
int BPF_PROG(fn##_x, struct rw_semaphore *sem, int subclass, int ret)		\
{										\
	return ret ? 0 : on_rwsem(lock_arg(ctx), VL_OP_ACQUIRE, mode, prim);		\
}

#define RWSEM_RELEASE(fn, op, mode, prim)					\
SEC("fentry/" #fn)								\
int BPF_PROG(fn##_e, struct rw_semaphore *sem)					\
{										\
	return on_rwsem(lock_arg(ctx), op, mode, prim);					\
}

RWSEM_ACQUIRED(down_read, VL_MODE_SHARED, VL_PRIM_DOWN_READ)
RWSEM_ACQUIRED_RET0(down_read_killable, VL_MODE_SHARED, VL_PRIM_DOWN_READ_KILLABLE)
RWSEM_ACQUIRED_RET0(down_read_interruptible, VL_MODE_SHARED, VL_PRIM_DOWN_READ_INTERRUPTIBLE)
RWSEM_ACQUIRED_RET1(down_read_trylock, VL_MODE_SHARED, VL_PRIM_DOWN_READ_TRYLOCK)
RWSEM_ACQUIRED(down_write, VL_MODE_EXCL, VL_PRIM_DOWN_WRITE)
RWSEM_ACQUIRED_RET0(down_write_killable, VL_MODE_EXCL, VL_PRIM_DOWN_WRITE_KILLABLE)
RWSEM_ACQUIRED_RET1(down_write_trylock, VL_MODE_EXCL, VL_PRIM_DOWN_WRITE_TRYLOCK)
RWSEM_RELEASE(up_read, VL_OP_RELEASE, VL_MODE_SHARED, VL_PRIM_UP_READ)
RWSEM_RELEASE(up_write, VL_OP_RELEASE, VL_MODE_EXCL, VL_PRIM_UP_WRITE)
RWSEM_RELEASE(downgrade_write, VL_OP_DOWNGRADE, VL_MODE_SHARED, VL_PRIM_DOWNGRADE_WRITE)

/*
 * Lockdep kernels (CONFIG_DEBUG_LOCK_ALLOC) route inode_lock_nested() and
 * friends through these; production kernels turn them into the plain forms
 * with macros. The daemon disables whichever the running kernel lacks.
 */
RWSEM_ACQUIRED(down_read_nested, VL_MODE_SHARED, VL_PRIM_DOWN_READ_NESTED)
RWSEM_ACQUIRED_NESTED_RET0(down_read_killable_nested, VL_MODE_SHARED,
			   VL_PRIM_DOWN_READ_KILLABLE_NESTED)
RWSEM_ACQUIRED(down_read_non_owner, VL_MODE_SHARED, VL_PRIM_DOWN_READ_NON_OWNER)
RWSEM_ACQUIRED(down_write_nested, VL_MODE_EXCL, VL_PRIM_DOWN_WRITE_NESTED)
RWSEM_ACQUIRED_NESTED_RET0(down_write_killable_nested, VL_MODE_EXCL,
			   VL_PRIM_DOWN_WRITE_KILLABLE_NESTED)
RWSEM_ACQUIRED(_down_write_nest_lock, VL_MODE_EXCL, VL_PRIM_DOWN_WRITE_NEST_LOCK)
RWSEM_RELEASE(up_read_non_owner, VL_OP_RELEASE, VL_MODE_SHARED, VL_PRIM_UP_READ_NON_OWNER)

/* ---- methods ---------------------------------------------------------- */

/* The folio a write_begin returned through its last-but-one argument. */
static __always_inline __u64 out_folio(__u64 arg)
{
	__u64 p = 0;

	bpf_probe_read_kernel(&p, sizeof(p), (void *)arg);
	return p;
}

/*
 * The inode an argument names (NULL if none) and its superblock. @at_ret0:
 * the method has returned 0, so what an out argument points to is set.
 */
static __always_inline struct inode *arg_objects(__u8 kind, __u64 arg, __u64 *sb,
						 bool at_ret0)
{
	struct inode *inode = NULL;
	struct address_space *mapping = NULL;
	struct vm_area_struct *vma;
	struct file *file;
	__u64 p;

	*sb = 0;
	switch (kind) {
	case VL_ARG_INODE:
		inode = (struct inode *)arg;
		break;
	case VL_ARG_DENTRY:
		inode = (void *)kptr((__u64)BPF_CORE_READ((struct dentry *)arg, d_inode));
		if (!inode)
			*sb = kptr((__u64)BPF_CORE_READ((struct dentry *)arg, d_sb));
		break;
	case VL_ARG_FILE:
		inode = (void *)kptr((__u64)BPF_CORE_READ((struct file *)arg, f_inode));
		break;
	case VL_ARG_PATH:
		inode = (void *)kptr((__u64)BPF_CORE_READ((struct path *)arg, dentry));
		if (inode)
			inode = (void *)kptr((__u64)BPF_CORE_READ((struct dentry *)inode, d_inode));
		break;
	case VL_ARG_SB:
		*sb = arg;
		return NULL;
	case VL_ARG_MAPPING:
		mapping = (struct address_space *)arg;
		break;
	case VL_ARG_FOLIO:	/* a folio overlays its head page */
	case VL_ARG_PAGE:
		mapping = BPF_CORE_READ((struct page *)arg, mapping);
		/* low bits tag anonymous and movable pages: no file behind */
		if ((__u64)mapping & 3)
			mapping = NULL;
		break;
	case VL_ARG_RAC:
		mapping = BPF_CORE_READ((struct readahead_control *)arg, mapping);
		break;
	case VL_ARG_FOLIO_OUT:
	case VL_ARG_PAGE_OUT:
		if (!at_ret0)
			return NULL;
		p = kptr(out_folio(arg));
		if (!p)
			return NULL;
		mapping = BPF_CORE_READ((struct page *)p, mapping);
		if ((__u64)mapping & 3)
			mapping = NULL;
		break;
	case VL_ARG_FILE_LOCK: {
		file = (void *)kptr((__u64)file_lock_file((void *)arg));
		if (file)
			inode = (void *)kptr((__u64)BPF_CORE_READ(file, f_inode));
		break;
	}
	case VL_ARG_VMF:
	case VL_ARG_VMA:
		vma = kind == VL_ARG_VMA ? (void *)arg :
			(void *)kptr((__u64)BPF_CORE_READ((struct vm_fault *)arg, vma));
		if (!vma)
			return NULL;
		file = (void *)kptr((__u64)BPF_CORE_READ(vma, vm_file));
		if (file)
			inode = (void *)kptr((__u64)BPF_CORE_READ(file, f_inode));
		break;
	default:
		return NULL;
	}
	mapping = (void *)kptr((__u64)mapping);
	if (mapping)
		inode = (void *)kptr((__u64)BPF_CORE_READ(mapping, host));
	if (inode)
		*sb = kptr((__u64)BPF_CORE_READ(inode, i_sb));
	return inode;
}

/* How @task holds the rwsem at @sem: the owner word, then its reader holds. */
static __always_inline __u8 rwsem_mode(__u64 sem, __u64 task, __u32 tid, __u64 count,
				       __u64 owner)
{
	struct rdhold_key key = { .sem = sem, .tid = tid };

	if ((count & RWSEM_WRITER_LOCKED) && (owner & ~RWSEM_OWNER_FLAGS_MASK) == task)
		return VL_MODE_EXCL;
	/* without readers, this task cannot be one */
	if (!(count >> RWSEM_READER_SHIFT))
		return VL_MODE_NONE;
	if (bpf_map_lookup_elem(&rd_holds, &key))
		return VL_MODE_SHARED;
	/*
	 * The last reader to take it names itself in the owner word
	 * (rwsem_set_reader_owned()). That is this task's hold whose
	 * acquisition went unseen: the kernel skips a program's run on a CPU
	 * where the same program is already running, and on a preemptible
	 * kernel (PREEMPT_LAZY, Debian's 6.18 and 7.x) one preempted there
	 * stays running while other tasks take their locks.
	 */
	if ((owner & RWSEM_READER_OWNED) && (owner & ~RWSEM_OWNER_FLAGS_MASK) == task)
		return VL_MODE_SHARED;
	return VL_MODE_NONE;
}

static __always_inline __u8 rwsem_mode_at(__u64 sem, __u64 task, __u32 tid)
{
	struct rw_semaphore *s = (void *)sem;
	__u64 count = BPF_CORE_READ(s, count.counter);
	__u64 owner = BPF_CORE_READ(s, owner.counter);

	return rwsem_mode(sem, task, tid, count, owner);
}

/*
 * A spinlock is held by someone when its first byte, the qspinlock's
 * locked byte, is set; which CPU holds it is not recorded anywhere.
 */
static __always_inline __u8 spin_mode_at(__u64 lock)
{
	__u8 locked = 0;

	bpf_probe_read_kernel(&locked, sizeof(locked), (void *)lock);
	return locked ? VL_MODE_EXCL : VL_MODE_NONE;
}

/*
 * A mutex is held by @task when its owner word, flags masked
 * (MUTEX_FLAGS, kernel/locking/mutex.c, 0x07 since 4.10), is @task.
 */
static __always_inline __u8 mutex_mode_at(__u64 owner_word, __u64 task)
{
	__u64 owner = 0;

	bpf_probe_read_kernel(&owner, sizeof(owner), (void *)owner_word);
	return (owner & ~7ULL) == task ? VL_MODE_EXCL : VL_MODE_NONE;
}

/* PG_locked of the head page: a folio is one, a page may be a tail. */
static __always_inline __u8 folio_mode(__u8 kind, __u64 arg)
{
	__u64 page = kind == VL_ARG_PAGE ? page_head(arg) : arg;

	return (page_flags((void *)page) & page_locked_mask()) ? VL_MODE_EXCL : VL_MODE_NONE;
}

/* The mm whose mmap_lock a vm_operations argument names. */
static __always_inline __u64 arg_mm(__u8 kind, __u64 arg)
{
	struct vm_area_struct *vma;

	if (kind == VL_ARG_VMA)
		vma = (void *)arg;
	else if (kind == VL_ARG_VMF)
		vma = BPF_CORE_READ((struct vm_fault *)arg, vma);
	else
		return 0;
	return (__u64)BPF_CORE_READ(vma, vm_mm);
}

/*
 * The state of the lock need @n names, on the object of argument @arg of
 * kind @kind whose inode and superblock @o holds. i_rwsem needs read theirs
 * through @o itself. Folios an argument only points to (out arguments, a
 * fault's vmf->page) are read at return, when set.
 */
static __always_inline __u8 need_state(const struct vl_need *n, __u8 kind, __u64 arg,
				       const struct vl_obj *o, __u64 task, __u32 tid)
{
	__u32 off;

	if (!o->present)
		return VL_HELD_NA;
	switch (n->cls) {
	case VL_LOCK_S_UMOUNT:
		if (!o->sb)
			return VL_HELD_NA;
		return rwsem_mode_at(o->sb + bpf_core_field_offset(struct super_block, s_umount),
				     task, tid);
	case VL_LOCK_INVALIDATE:
		off = invalidate_lock_offset();
		if (!o->inode || !off)
			return VL_HELD_NA;
		return rwsem_mode_at(o->inode + off, task, tid);
	case VL_LOCK_I_LOCK:
		if (!o->inode)
			return VL_HELD_NA;
		return spin_mode_at(o->inode + bpf_core_field_offset(struct inode, i_lock));
	case VL_LOCK_D_LOCK:
		/* d_lock is d_lockref.lock, the lockref's first member */
		if (kind != VL_ARG_DENTRY)
			return VL_HELD_NA;
		return spin_mode_at(arg + bpf_core_field_offset(struct dentry, d_lockref));
	case VL_LOCK_FOLIO:
		if (kind == VL_ARG_FOLIO_OUT || kind == VL_ARG_PAGE_OUT) {
			__u64 p = out_folio(arg);

			return p ? folio_mode(kind == VL_ARG_FOLIO_OUT ? VL_ARG_FOLIO :
					      VL_ARG_PAGE, p) : VL_HELD_NA;
		}
		if (kind == VL_ARG_VMF) {
			__u64 p = (__u64)BPF_CORE_READ((struct vm_fault *)arg, page);

			return p ? folio_mode(VL_ARG_PAGE, p) : VL_HELD_NA;
		}
		if (kind != VL_ARG_FOLIO && kind != VL_ARG_PAGE)
			return VL_HELD_NA;
		return folio_mode(kind, arg);
	case VL_LOCK_FLC: {
		/* not inside BPF_CORE_READ(): @o is ours, not the kernel's */
		struct inode *inode = (void *)o->inode;
		struct file_lock_context *ctx;

		if (!inode)
			return VL_HELD_NA;
		ctx = BPF_CORE_READ(inode, i_flctx);
		if (!ctx)
			return VL_HELD_NA;
		return spin_mode_at((__u64)ctx + bpf_core_field_offset(struct file_lock_context,
								       flc_lock));
	}
	case VL_LOCK_S_VFS_RENAME:
		if (!o->sb)
			return VL_HELD_NA;
		return mutex_mode_at(o->sb + bpf_core_field_offset(struct super_block,
								   s_vfs_rename_mutex.owner), task);
	case VL_LOCK_F_POS:
		if (kind != VL_ARG_FILE)
			return VL_HELD_NA;
		return mutex_mode_at(arg + bpf_core_field_offset(struct file, f_pos_lock.owner),
				     task);
	case VL_LOCK_MMAP: {
		__u64 mm = arg_mm(kind, arg);
		__u32 vma_lock = fault_flag_vma_lock();
		struct vm_area_struct *vma;
		__u8 mode;

		if (!mm)
			return VL_HELD_NA;
		if (kind == VL_ARG_VMF && vma_lock &&
		    (BPF_CORE_READ((struct vm_fault *)arg, flags) & vma_lock))
			return VL_HELD_VMA_LOCK;
		mode = rwsem_mode_at(mm + bpf_core_field_offset(struct mm_struct, mmap_lock),
				     task, tid);
		if (mode != VL_MODE_NONE || kind != VL_ARG_VMF)
			return mode;
		/* ->page_mkwrite's flags are do_page_mkwrite()'s: ask the vma's lock */
		vma = BPF_CORE_READ((struct vm_fault *)arg, vma);
		return vma_lock_has_readers(vma) ? VL_HELD_VMA_LOCK : VL_MODE_NONE;
	}
	default:
		return VL_HELD_NA;
	}
}

/*
 * What the filter needs of one object: its inode and superblock (known, or
 * recognised by type when mounted after discovery). False when the argument
 * names nothing. @last_sb and @last_dev carry the previous argument's
 * answer: a method's objects are mostly on one superblock, and the lookup
 * is the costly part.
 */
static __always_inline bool obj_state(struct vl_obj *o, __u8 kind, __u64 arg, bool at_ret0,
				      bool *watched, __u64 *last_sb, __u32 *last_dev)
{
	struct inode *inode;
	__u64 sb = 0;
	__u32 *dev;

	if (kind == VL_ARG_SCALAR || !arg)
		return false;
	inode = arg_objects(kind, arg, &sb, at_ret0);
	if (!inode && !sb)
		return false;
	o->present = 1;
	o->sb = sb;
	o->inode = (__u64)inode;
	if (!sb)
		return true;
	if (sb == *last_sb) {
		o->dev = *last_dev;
		return true;
	}
	dev = bpf_map_lookup_elem(&watched_sbs, &sb);
	if (dev) {
		o->dev = *dev;
	} else if (fstype_watched((void *)sb)) {
		struct super_block *s = (void *)sb;
		__u32 d = BPF_CORE_READ(s, s_dev);

		o->dev = d;
		bpf_map_update_elem(&watched_sbs, &sb, &d, BPF_ANY);
		sb_bloom[vl_sb_bloom_slot(sb)] = 1;
	} else {
		return true;
	}
	*watched = true;
	*last_sb = sb;
	*last_dev = o->dev;
	return true;
}

/*
 * The i_rwsem words of an object and how this task holds it: read for the
 * arguments an i_rwsem need names, and for every argument of a call sent.
 * @done: bit per argument already read.
 */
static __always_inline void obj_rwsem(struct vl_obj *o, int i, __u8 *done, __u64 task,
				      __u32 tid)
{
	struct inode *inode = (void *)o->inode;

	if (*done & (1 << i))
		return;
	*done |= 1 << i;
	if (!inode)
		return;
	o->rwsem_count = BPF_CORE_READ(inode, i_rwsem.count.counter);
	o->rwsem_owner = BPF_CORE_READ(inode, i_rwsem.owner.counter);
	o->held = rwsem_mode(o->inode + bpf_core_field_offset(struct inode, i_rwsem), task, tid,
			     o->rwsem_count, o->rwsem_owner);
}

/* What a record needs besides: only read for calls that are sent. */
static __always_inline void obj_identity(struct vl_obj *o, int i, __u8 *rw_done, __u64 task,
					 __u32 tid)
{
	struct inode *inode = (void *)o->inode;

	if (!inode)
		return;
	obj_rwsem(o, i, rw_done, task, tid);
	o->ino = BPF_CORE_READ(inode, i_ino);
	o->mode = BPF_CORE_READ(inode, i_mode);
}

/*
 * Whether the caller reached @ip with a direct call (e8 rel32 to @ip) rather
 * than through a pointer: fentry sees both, but only the second is the VFS
 * invoking a method; the first is a filesystem calling its own helper
 * (shmem_mkdir() calling shmem_mknod()). The frame after the one inside
 * @ip is the caller's return address; the call instruction ends there.
 * Targets up to 32 bytes before @ip count, for call-depth-tracking thunks.
 */
static __always_inline bool direct_call(const struct vl_ev_method *e, __u64 ip)
{
	__u8 insn[5];
	__s32 rel;
	__u64 ret, target;
	int i;

	#pragma unroll
	for (i = 0; i < VL_MAX_STACK - 1; i++) {
		if (i + 1 >= e->nstack)
			return false;
		if (e->stack[i] < ip || e->stack[i] >= ip + 64)
			continue;
		ret = e->stack[i + 1];
		if (bpf_probe_read_kernel(insn, sizeof(insn), (void *)(ret - 5)) || insn[0] != 0xe8)
			return false;
		__builtin_memcpy(&rel, &insn[1], sizeof(rel));
		target = ret + (__s64)rel;
		return target + 32 >= ip && target <= ip + 16;
	}
	return false;
}

/* ---- rcu-walk and blocking ----------------------------------------------- */

/* fs/namei.c's nameidata flag, include/linux/namei.h (0x0040 since 2.6.38) */
#define LOOKUP_RCU		0x0040

static __always_inline bool in_rcu_walk(const struct vl_method_cfg *cfg,
					const struct vl_ev_method *e)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct nameidata *nd = BPF_CORE_READ(t, nameidata);
	__u8 a = cfg->rcu_arg;

	if (cfg->rcu_mask && a < VL_MAX_ARGS && (e->args[a] & cfg->rcu_mask))
		return true;
	return nd && (BPF_CORE_READ(nd, flags) & LOOKUP_RCU);
}

/*
 * The storage is refused (NULL) to a program nested, on its CPU, in
 * another one using it: a method run by a softirq (free_inode, an RCU
 * callback) on top of a task's own no-block call, which sleeps nowhere.
 * Its creation failing otherwise (memory) leaves a call unfollowed.
 */
static __always_inline void nb_enter(const struct vl_ev_method *e, __u32 tid)
{
	struct nb_call *c = nb_get(nb_current(), tid, true);

	if (!c) {
		stat_inc(VL_STAT_NB_STALE);
		return;
	}
	if (c->depth) {
		if (c->ip == e->ip)
			c->depth++;
		return;
	}
	c->ip = e->ip;
	c->ts = bpf_ktime_get_ns();
	__builtin_memcpy(c->args, e->args, sizeof(c->args));
	c->attach_id = e->attach_id;
	c->depth = 1;
	c->flags = e->flags;
	c->reported = 0;
}

static __always_inline void nb_exit(__u64 ip, __u32 tid)
{
	struct nb_call *c = nb_get(nb_current(), tid, false);

	if (c && c->depth && c->ip == ip)
		c->depth--;
}

/* The configuration of the traced function, NULL (counted) if it has none. */
static __always_inline struct vl_method_cfg *method_cfg_of(__u64 ip)
{
	struct vl_method_cfg *cfg = bpf_map_lookup_elem(&method_cfg, &ip);

	if (!cfg)
		stat_inc(VL_STAT_NO_CFG);
	return cfg;
}

/*
 * What entry and exit records share: the arguments of the call to @ip
 * configured by @cfg, and the objects read from them (the task filter is
 * the caller's), built in @e. @nargs: the template's argument count, or
 * for the exit template, which serves every count, the configuration's.
 */
static __always_inline void method_begin(struct vl_ev_method *e, __u64 *ctx, int nargs,
					 __u64 ip, struct vl_method_cfg *cfg, bool at_ret0,
					 bool *watched_fs)
{
	__u64 last_sb = 0;
	__u32 last_dev = 0;
	int i;

	e->ip = ip;
	e->attach_id = cfg->attach_id;
	e->flags = 0;
	e->nstack = 0;
	e->hdr.task = bpf_get_current_task();
	*watched_fs = false;
	#pragma unroll
	for (i = 0; i < VL_MAX_ARGS; i++) {
		/*
		 * Through fn_arg(), not ctx[i]: older verifiers (6.1) refuse
		 * a direct read of a pointer-to-pointer argument (write_begin's
		 * pagep); it reads any argument as a u64.
		 */
		e->args[i] = i < nargs ? fn_arg(ctx, i) : 0;
		__builtin_memset(&e->obj[i], 0, sizeof(e->obj[i]));
		/* shared helpers (simple_lookup...) serve unwatched filesystems too */
		if (i < nargs)
			obj_state(&e->obj[i], cfg->arg_kind[i], e->args[i], at_ret0, watched_fs,
				  &last_sb, &last_dev);
	}
}

/*
 * A record built on a CPU level, copied out and sent only if that level
 * was still the program's own once copied: a program preempted while
 * on a level is one the design did not mean to be there (see
 * method_scratch), and what another task wrote meanwhile is not sent.
 */
static __always_inline long level_output(const struct vl_ev_method *e, __u32 size,
					 const struct rec_slot *s)
{
	void *r;

	if (!rec_intact(s))
		return 1;
	r = bpf_ringbuf_reserve(&events, size, 0);
	if (!r)
		return -1;
	bpf_probe_read_kernel(r, size, e);
	if (!rec_intact(s)) {
		bpf_ringbuf_discard(r, 0);
		return 1;
	}
	bpf_ringbuf_submit(r, rb_flags());
	return 0;
}

static __always_inline int method_submit(struct vl_ev_method *e, __u16 type, __u32 size,
					 __u64 pid_tgid, const struct rec_slot *s)
{
	long err;

	fill_hdr(&e->hdr, type, size, pid_tgid);
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	/* two constant sizes: the verifier wants to know what is copied */
	if (s && s->lvl)
		err = size == sizeof(*e) ? level_output(e, sizeof(*e), s) :
		      level_output(e, VL_METHOD_EV_SIZE_NOSTACK, s);
	else if (size == sizeof(*e))
		err = bpf_ringbuf_output(&events, e, sizeof(*e), rb_flags());
	else
		err = bpf_ringbuf_output(&events, e, VL_METHOD_EV_SIZE_NOSTACK, rb_flags());
	if (err > 0)
		return 0;	/* dropped and counted: not the program's own any more */
	if (err) {
		stat_inc(VL_STAT_LOST);
		stat_inc(VL_STAT_LOST_METHOD);
		return 0;
	}
	stat_inc(VL_STAT_EVENTS);
	return 0;
}

/* A stack for a suspect record; the record's size follows. */
static __always_inline __u32 method_stack(__u64 *ctx, struct vl_ev_method *e, bool entry)
{
	long n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);

	if (n <= 0) {
		e->flags |= VL_MF_STACK_FAILED;
		stat_inc(VL_STAT_STACK_FAIL);
		return VL_METHOD_EV_SIZE_NOSTACK;
	}
	e->nstack = n / sizeof(__u64);
	e->flags |= VL_MF_STACK;
	if (entry && direct_call(e, e->ip))
		e->flags |= VL_MF_DIRECT_CALL;
	stat_inc(VL_STAT_STACKS);
	return sizeof(*e);
}

/*
 * Reads what need @n (the @i-th, on argument @a) asks about and marks the
 * call suspect when it is unmet: an i_rwsem need reads the object's words
 * (once per argument, @rw_done), the others their lock or folio state.
 */
static __always_inline void need_read(struct vl_ev_method *e, const struct vl_method_cfg *cfg,
				      const struct vl_need *n, int i, __u8 a, __u8 *rw_done,
				      __u32 tid)
{
	if (n->cls == VL_LOCK_I_RWSEM)
		obj_rwsem(&e->obj[a], a, rw_done, e->hdr.task, tid);
	else
		e->need_held[i] = need_state(n, cfg->arg_kind[a], e->args[a], &e->obj[a],
					     e->hdr.task, tid);
	if (vl_need_unmet(e, n, i))
		e->flags |= VL_MF_SUSPECT;
}

static __always_inline int method_enter_in(struct vl_ev_method *e, __u64 *ctx, const int nargs,
					   __u64 pid_tgid, const struct rec_slot *slot)
{
	__u64 ip = traced_fn_ip();
	struct vl_method_cfg *cfg = method_cfg_of(ip);
	bool watched_fs;
	__u8 rw_done = 0;
	__u32 size;
	int i;

	if (!cfg)
		return 0;
	method_begin(e, ctx, nargs, ip, cfg, false, &watched_fs);
	if (!watched_fs)
		return 0;
	if (cfg->flags & VL_CFG_READS_RCU_WALK) {
		if (in_rcu_walk(cfg, e))
			e->flags |= VL_MF_RCU_WALK;
		if ((e->flags & VL_MF_RCU_WALK) && (cfg->flags & VL_CFG_NOT_RCU_WALK))
			e->flags |= VL_MF_SUSPECT;
	}
	if ((cfg->flags & VL_CFG_NO_BLOCK) ||
	    ((cfg->flags & VL_CFG_NO_BLOCK_RCU) && (e->flags & VL_MF_RCU_WALK)))
		nb_enter(e, (__u32)pid_tgid);

	#pragma unroll
	for (i = 0; i < VL_MAX_NEEDS; i++) {
		const struct vl_need *n = &cfg->need[i];
		__u8 a = n->arg;

		e->need_held[i] = VL_HELD_NA;
		if (i >= cfg->nneeds || n->at != VL_AT_ENTRY || a >= VL_MAX_ARGS)
			continue;
		need_read(e, cfg, n, i, a, &rw_done, (__u32)pid_tgid);
		if (e->need_held[i] == VL_HELD_VMA_LOCK) {
			__u8 one = 1;

			stat_inc(VL_STAT_VMA_LOCK);
			if (!bpf_map_update_elem(&vma_lock_seen, &e->ip, &one, BPF_NOEXIST))
				e->flags |= VL_MF_SUSPECT;
		}
	}
	/*
	 * The needs over-approximate every rule bound to this method, so when
	 * they are all met the engine cannot find a deviation either: such a
	 * call is only counted, unless every call is wanted (recording).
	 */
	if (!(e->flags & VL_MF_SUSPECT) && !(cfg->flags & VL_CFG_STACK_ALWAYS) &&
	    !send_all_calls) {
		stat_inc(VL_STAT_CALLS_MET);
		met_inc(cfg, false);
		return 0;
	}
	#pragma unroll
	for (i = 0; i < VL_MAX_ARGS; i++)
		obj_identity(&e->obj[i], i, &rw_done, e->hdr.task, (__u32)pid_tgid);

	size = VL_METHOD_EV_SIZE_NOSTACK;
	if ((e->flags & VL_MF_SUSPECT) || (cfg->flags & VL_CFG_STACK_ALWAYS))
		size = method_stack(ctx, e, true);
	e->ret = 0;
	return method_submit(e, VL_EV_METHOD_ENTER, size, pid_tgid, slot);
}

static __always_inline int method_enter(__u64 *ctx, const int nargs)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct vl_ev_method *e;
	struct rec_slot slot = {};

	if (!task_watched(pid_tgid))
		return 0;
	e = rec_get(&slot);
	if (e)
		method_enter_in(e, ctx, nargs, pid_tgid, &slot);
	rec_put(&slot);
	return 0;
}

/*
 * Exit records carry what a method left behind: the return value, the
 * objects re-read, and the needs read at return (write_begin's folio, a
 * fault's page). Like entries, they are sent only when a need is unmet.
 */
static __always_inline int method_exit_in(struct vl_ev_method *e, __u64 *ctx, __u64 ip,
					  __u64 pid_tgid, const struct rec_slot *slot)
{
	struct vl_method_cfg *cfg = method_cfg_of(ip);
	bool watched_fs;
	__u64 ret;
	__u32 size = VL_METHOD_EV_SIZE_NOSTACK;
	__u8 rw_done = 0;
	bool judged = false;
	int i;

	if (!cfg || !(cfg->flags & VL_CFG_EXIT_EVENT))
		return 0;
	ret = fn_ret(ctx, cfg->nargs, cfg->flags & VL_CFG_RET_VOID);
	method_begin(e, ctx, cfg->nargs, ip, cfg, VL_RET32(ret) == 0, &watched_fs);
	if (!watched_fs)
		return 0;
	e->ret = ret;
	#pragma unroll
	for (i = 0; i < VL_MAX_NEEDS; i++) {
		const struct vl_need *n = &cfg->need[i];
		__u8 a = n->arg;

		e->need_held[i] = VL_HELD_NA;
		if (i >= cfg->nneeds || n->at == VL_AT_ENTRY || a >= VL_MAX_ARGS ||
		    !vl_need_binds(n, ret))
			continue;
		need_read(e, cfg, n, i, a, &rw_done, (__u32)pid_tgid);
		judged = true;
	}
	if (!(e->flags & VL_MF_SUSPECT) && !send_all_calls) {
		if (judged)
			met_inc(cfg, true);
		return 0;
	}
	#pragma unroll
	for (i = 0; i < VL_MAX_ARGS; i++)
		obj_identity(&e->obj[i], i, &rw_done, e->hdr.task, (__u32)pid_tgid);
	if (e->flags & VL_MF_SUSPECT)
		size = method_stack(ctx, e, false);
	return method_submit(e, VL_EV_METHOD_EXIT, size, pid_tgid, slot);
}

static __always_inline int method_exit(__u64 *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid(), ip = traced_fn_ip();
	struct vl_ev_method *e;
	struct rec_slot slot = {};

	if (!task_watched(pid_tgid))
		return 0;
	nb_exit(ip, (__u32)pid_tgid);
	e = rec_get(&slot);
	if (e)
		method_exit_in(e, ctx, ip, pid_tgid, &slot);
	rec_put(&slot);
	return 0;
}

/*
 * Entry: one template per argument count, unrolled for that count. Exit:
 * one for all, arguments and return value read through helpers, which
 * work whatever the prototype (bpf_get_func_ret() fails on void methods).
 */
#define METHOD_TEMPLATES(n)							\
SEC("fentry")									\
int method_enter_##n(__u64 *ctx) { return method_enter(ctx, n); }

SEC("fexit")
int method_exit_any(__u64 *ctx) { return method_exit(ctx); }

METHOD_TEMPLATES(1)
METHOD_TEMPLATES(2)
METHOD_TEMPLATES(3)
METHOD_TEMPLATES(4)
METHOD_TEMPLATES(5)
METHOD_TEMPLATES(6)

/* Whether a frame of @e's stack is in [@ip, @ip + @size). */
static __always_inline bool stack_has(const struct vl_ev_method *e, __u64 ip, __u32 size)
{
	int i;

	#pragma unroll
	for (i = 0; i < VL_MAX_STACK; i++) {
		if (i >= e->nstack)
			break;
		if (e->stack[i] >= ip && e->stack[i] < ip + size)
			return true;
	}
	return false;
}

/*
 * A voluntary switch (prev calling schedule(), not preempted) of a task
 * inside a no-block method: the method, or something it called, slept.
 * The record carries the call's entry and the stack where it slept.
 */
static __always_inline int block_report(struct vl_ev_method *e, void *ctx, struct nb_call *c,
					struct task_struct *prev, __u64 pid_tgid)
{
	__u32 tid = (__u32)pid_tgid;
	struct vl_method_cfg *cfg;
	bool watched_fs = false;
	__u64 last_sb = 0;
	__u32 last_dev = 0;
	__u8 rw_done = 0;
	long n;
	int i;

	__builtin_memset(e->need_held, VL_HELD_NA, sizeof(e->need_held));
	__builtin_memcpy(e->args, c->args, sizeof(e->args));
	/* the objects, as at entry, so the report can name them */
	cfg = bpf_map_lookup_elem(&method_cfg, &c->ip);
	#pragma unroll
	for (i = 0; i < VL_MAX_ARGS; i++) {
		__builtin_memset(&e->obj[i], 0, sizeof(e->obj[i]));
		if (cfg && i < cfg->nargs) {
			obj_state(&e->obj[i], cfg->arg_kind[i], e->args[i], false, &watched_fs,
				  &last_sb, &last_dev);
			obj_identity(&e->obj[i], i, &rw_done, (__u64)prev, tid);
		}
	}
	e->ip = c->ip;
	e->ret = 0;
	e->attach_id = c->attach_id;
	e->flags = (c->flags & VL_MF_RCU_WALK) | VL_MF_SUSPECT;
	e->nstack = 0;
	e->hdr.task = (__u64)prev;
	n = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
	if (n > 0) {
		e->nstack = n / sizeof(__u64);
		/*
		 * A whole stack without the method on it: the call returned and
		 * its exit went unseen. The entry is stale, not a sleep inside.
		 */
		if (cfg && cfg->fn_size && e->nstack < VL_MAX_STACK &&
		    !stack_has(e, c->ip, cfg->fn_size)) {
			c->depth = 0;
			stat_inc(VL_STAT_NB_STALE);
			return 0;
		}
		e->flags |= VL_MF_STACK;
		stat_inc(VL_STAT_STACKS);
	} else {
		e->flags |= VL_MF_STACK_FAILED;
		stat_inc(VL_STAT_STACK_FAIL);
	}
	stat_inc(VL_STAT_BLOCKED);
	return method_submit(e, VL_EV_METHOD_BLOCK, sizeof(*e), pid_tgid, NULL);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct vl_ev_method *e;
	struct rec_slot slot = {};
	struct nb_call *c;

	if (test_refuse_switch)
		return *(volatile __u64 *)((char *)ctx + 32760);
	if (preempt)
		return 0;
	c = nb_get(prev, use_task_storage ? 0 : BPF_CORE_READ(prev, pid), false);
	if (!c || c->reported || !c->depth)
		return 0;
	c->reported = 1;
	/* a CPU level: a sched_switch program runs with preemption disabled */
	e = scratch_get(&slot);
	if (e)
		block_report(e, ctx, c, prev, bpf_get_current_pid_tgid());
	rec_put(&slot);
	return 0;
}

/* ---- tasks ------------------------------------------------------------- */

static __always_inline void task_event(__u16 type, __u32 ctid, __u32 ctgid, __u64 pid_tgid)
{
	struct vl_ev_task *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		stat_inc(VL_STAT_LOST);
		return;
	}
	fill_hdr(&e->hdr, type, sizeof(*e), pid_tgid);
	e->child_tid = ctid;
	e->child_tgid = ctgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, rb_flags());
	stat_inc(VL_STAT_EVENTS);
}

/* Children of watched tasks are watched: CMD's whole tree is checked. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 ctid = BPF_CORE_READ(child, pid);
	__u8 one = 1;

	if (!task_watched(pid_tgid))
		return 0;
	if (!watch_all)
		bpf_map_update_elem(&watched_tasks, &ctid, &one, BPF_ANY);
	task_event(VL_EV_TASK_FORK, ctid, BPF_CORE_READ(child, tgid), pid_tgid);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;

	if (!task_watched(pid_tgid))
		return 0;
	task_event(VL_EV_TASK_EXIT, 0, 0, pid_tgid);
	if (!use_task_storage)
		bpf_map_delete_elem(&nb_calls, &tid);
	if (!watch_all)
		bpf_map_delete_elem(&watched_tasks, &tid);
	return 0;
}
