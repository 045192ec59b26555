/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Types shared by the BPF programs and the vfslock daemon.
 *
 * Fixed-width types only and no kernel headers, so the same layout is seen by
 * clang -target bpf and by the host compiler. Every record that crosses the
 * ring buffer starts with struct vl_ev_hdr; its size field lets a reader skip
 * records it does not know, which keeps older readers working on newer traces.
 */
#ifndef VFSLOCK_ABI_H
#define VFSLOCK_ABI_H

#ifdef __VMLINUX_H__
/* BPF side: vmlinux.h already provides __u8 ... __u64. */
#else
#include <linux/types.h>
#endif

#define VL_ABI_VERSION		5

#define VL_MAX_ARGS		6	/* arguments a method event carries */
#define VL_MAX_STACK		32	/* kernel frames kept for a suspect call */
#define VL_MAX_NEEDS		8	/* compiled requirements per method */
#define VL_COMM_LEN		16

enum vl_ev_type {
	VL_EV_LOCK		= 1,	/* struct vl_ev_lock */
	VL_EV_METHOD_ENTER	= 2,	/* struct vl_ev_method */
	VL_EV_METHOD_EXIT	= 3,	/* struct vl_ev_method, ret valid */
	VL_EV_TASK_EXIT		= 4,	/* struct vl_ev_task */
	VL_EV_TASK_FORK		= 5,	/* struct vl_ev_task */
	/*
	 * struct vl_ev_method: the task slept (a voluntary context switch)
	 * inside a method it may not block in. Arguments and flags are those
	 * of the call's entry, the stack is where it slept.
	 */
	VL_EV_METHOD_BLOCK	= 6,
	VL_EV_CONTEND		= 7,	/* struct vl_ev_contend: one wait, begin to end */
	VL_EV_OBJ_NAME		= 8,	/* struct vl_ev_objname: where a contended lock lives */
	/*
	 * Made by the daemon, not the programs, so that a recording holds
	 * them in their place among the others:
	 */
	VL_EV_LOST		= 9,	/* struct vl_ev_lost: records the ring buffers dropped */
	VL_EV_STATS		= 10,	/* struct vl_ev_stats: the programs' counters */
	VL_EV_TYPE_MAX,
};

struct vl_ev_hdr {
	__u64 ts;		/* bpf_ktime_get_ns(), CLOCK_MONOTONIC */
	__u64 task;		/* task_struct address: matches rwsem owner words */
	__u32 tid;
	__u32 tgid;
	__u16 type;		/* enum vl_ev_type */
	__u16 size;		/* whole record, header included */
	__u32 cpu;
};

/*
 * Lock classes the programs tell apart. Lock records carry the first three
 * (rwsems whose readers are attributed to tasks); the others are only read
 * at method entry, as the class of a compiled need.
 */
enum vl_lock_class {
	VL_LOCK_NONE		= 0,
	VL_LOCK_I_RWSEM		= 1,	/* inode->i_rwsem */
	VL_LOCK_S_UMOUNT	= 2,	/* sb->s_umount */
	VL_LOCK_INVALIDATE	= 3,	/* inode->i_mapping->invalidate_lock */
	VL_LOCK_I_LOCK		= 4,	/* inode->i_lock: locked by someone */
	VL_LOCK_D_LOCK		= 5,	/* dentry->d_lock: locked by someone */
	VL_LOCK_FOLIO		= 6,	/* PG_locked of the folio or page */
	VL_LOCK_MMAP		= 7,	/* vma->vm_mm->mmap_lock */
	VL_LOCK_S_VFS_RENAME	= 8,	/* sb->s_vfs_rename_mutex: held by this task */
	VL_LOCK_F_POS		= 9,	/* file->f_pos_lock: held by this task */
	VL_LOCK_FLC		= 10,	/* inode->i_flctx->flc_lock: locked by someone */
	VL_LOCK_RENAME_SEQ	= 11,	/* rename_lock, the dcache's global seqlock */
	VL_LOCK_CLASS_MAX,
};

enum vl_lock_op {
	VL_OP_ACQUIRE		= 1,
	VL_OP_RELEASE		= 2,
	VL_OP_DOWNGRADE		= 3,	/* exclusive -> shared, still held */
};

enum vl_mode {
	VL_MODE_NONE		= 0,
	VL_MODE_SHARED		= 1,
	VL_MODE_EXCL		= 2,
};

/* The primitive that produced a lock event, for reports. */
enum vl_prim {
	VL_PRIM_DOWN_READ = 1,
	VL_PRIM_DOWN_READ_KILLABLE,
	VL_PRIM_DOWN_READ_INTERRUPTIBLE,
	VL_PRIM_DOWN_READ_TRYLOCK,
	VL_PRIM_DOWN_READ_NESTED,
	VL_PRIM_DOWN_READ_KILLABLE_NESTED,
	VL_PRIM_DOWN_READ_NON_OWNER,
	VL_PRIM_DOWN_WRITE,
	VL_PRIM_DOWN_WRITE_KILLABLE,
	VL_PRIM_DOWN_WRITE_TRYLOCK,
	VL_PRIM_DOWN_WRITE_NESTED,
	VL_PRIM_DOWN_WRITE_KILLABLE_NESTED,
	VL_PRIM_DOWN_WRITE_NEST_LOCK,
	VL_PRIM_UP_READ,
	VL_PRIM_UP_READ_NON_OWNER,
	VL_PRIM_UP_WRITE,
	VL_PRIM_DOWNGRADE_WRITE,
	VL_PRIM_MAX,
};

/*
 * Which rwsem acquisitions and releases are streamed. Reader holds always
 * are: no lock word says who the readers are, so the kernel filter keeps
 * them (and the daemon rebuilds them). Exclusive holds are in the owner
 * word, which the method programs read at each call; tracing them adds
 * nothing to a verdict, only the full held set and its hold times.
 */
enum vl_lock_events {
	VL_LOCK_EVENTS_READERS	= 0,	/* reader holds; a downgrade starts one */
	VL_LOCK_EVENTS_ALL	= 1,	/* every acquisition and release */
};

struct vl_ev_lock {
	struct vl_ev_hdr hdr;
	__u64 lock;		/* address of the lock word */
	__u64 inode;		/* object that embeds it: inode, or superblock for s_umount */
	__u64 ino;
	__u32 dev;		/* sb->s_dev, kernel encoding (MAJOR << 20 | MINOR) */
	__u8 cls;		/* enum vl_lock_class */
	__u8 op;		/* enum vl_lock_op */
	__u8 mode;		/* enum vl_mode taken or released */
	__u8 prim;		/* enum vl_prim */
};

/* How a method argument is turned into the object whose locks are read. */
enum vl_arg_kind {
	VL_ARG_SCALAR		= 0,	/* carried raw, not dereferenced */
	VL_ARG_INODE		= 1,	/* struct inode * */
	VL_ARG_DENTRY		= 2,	/* struct dentry *: its d_inode, if positive */
	VL_ARG_FILE		= 3,	/* struct file *: its f_inode */
	VL_ARG_PATH		= 4,	/* const struct path *: path->dentry->d_inode */
	VL_ARG_SB		= 5,	/* struct super_block *: no inode */
	VL_ARG_MAPPING		= 6,	/* struct address_space *: its host */
	VL_ARG_FOLIO		= 7,	/* struct folio *: its mapping's host */
	VL_ARG_PAGE		= 8,	/* struct page *: likewise */
	VL_ARG_RAC		= 9,	/* struct readahead_control *: its mapping's host */
	/*
	 * Where the method returns a folio (write_begin's foliop, or pagep
	 * before 6.12): nothing at entry, where it may be uninitialised; at
	 * a return of 0, the folio it points to.
	 */
	VL_ARG_FOLIO_OUT	= 10,	/* struct folio ** */
	VL_ARG_PAGE_OUT		= 11,	/* struct page ** */
	VL_ARG_VMF		= 12,	/* struct vm_fault *: vma's file; vmf->page at return */
	VL_ARG_VMA		= 13,	/* struct vm_area_struct *: its file, and its mm */
	VL_ARG_FILE_LOCK	= 14,	/* struct file_lock *, file_lease *: its file's inode */
};

/* What the kernel read of one object's i_rwsem at method entry. */
struct vl_obj {
	__u64 inode;		/* 0: argument absent, dentry negative, or no inode */
	__u64 sb;		/* its superblock, or the argument itself */
	__u64 ino;
	__u64 rwsem_count;	/* raw i_rwsem.count */
	__u64 rwsem_owner;	/* raw i_rwsem.owner */
	__u32 dev;
	__u16 mode;		/* i_mode: type bits tell directories apart */
	__u8 held;		/* enum vl_mode held by this task, as the kernel filter sees it */
	__u8 present;		/* the argument names an object (a superblock counts) */
};

/* need_held[] of a need whose object the call did not name */
#define VL_HELD_NA		0xff
/*
 * need_held[] of an mmap_lock need when the fault ran under its vma's
 * own lock instead (FAULT_FLAG_VMA_LOCK, 6.4+): not what the table says,
 * but the kernel's design; the filter sends the first such call of each
 * method with its stack, and counts the others (VL_STAT_VMA_LOCK).
 */
#define VL_HELD_VMA_LOCK	0xfe

enum vl_method_flags {
	VL_MF_SUSPECT		= 1 << 0,	/* kernel filter found a requirement unmet */
	VL_MF_STACK		= 1 << 1,	/* stack[] holds nstack frames */
	VL_MF_STACK_FAILED	= 1 << 2,	/* bpf_get_stack() failed */
	VL_MF_DIRECT_CALL	= 1 << 3,	/* called by name, not through an ops table */
	VL_MF_RCU_WALK		= 1 << 4,	/* called in rcu-walk mode (see vl_method_cfg) */
};

struct vl_ev_method {
	struct vl_ev_hdr hdr;
	__u64 ip;		/* address of the traced implementation */
	__u64 ret;		/* return value, exit events only */
	__u64 args[VL_MAX_ARGS];
	__u32 attach_id;	/* index into the daemon's attach table */
	__u16 flags;		/* enum vl_method_flags */
	__u16 nstack;
	char comm[VL_COMM_LEN];
	/*
	 * For each compiled need of a class other than i_rwsem, the enum
	 * vl_mode in which the kernel found the lock held (by this task for
	 * rwsems and mutexes, by anyone for spinlocks and the folio lock), or
	 * VL_HELD_NA: entry records fill the needs read at entry, exit
	 * records those read at return.
	 */
	__u8 need_held[VL_MAX_NEEDS];
	struct vl_obj obj[VL_MAX_ARGS];	/* obj[i] derived from args[i] */
	__u64 stack[VL_MAX_STACK];	/* only in records with VL_MF_STACK */
};

#define VL_METHOD_EV_SIZE_NOSTACK \
	((__u32)(sizeof(struct vl_ev_method) - VL_MAX_STACK * sizeof(__u64)))

struct vl_ev_task {
	struct vl_ev_hdr hdr;
	__u32 child_tid;	/* VL_EV_TASK_FORK only */
	__u32 child_tgid;
	char comm[VL_COMM_LEN];
};

/*
 * A requirement compiled by the rule engine, evaluated in the kernel only to
 * decide whether a call is suspect and worth a stack. It over-approximates:
 * conditions the kernel cannot evaluate cheaply are compiled as if they held,
 * so a call the engine flags always carries a stack; the engine alone decides.
 */
enum vl_need_at {
	VL_AT_ENTRY		= 0,
	VL_AT_EXIT_RET0		= 1,	/* at return, when the method returned 0 */
	VL_AT_EXIT_RET_FLAG	= 2,	/* at return, when ret & flag_mask */
	/* the folio must be unlocked by then (mode unused): */
	VL_AT_EXIT_UNLOCKED	= 3,	/* at every return */
	VL_AT_EXIT_ERR_UNLOCKED	= 4,	/* at a return of non-zero */
};

/* Methods return int or vm_fault_t: the upper half of the register is not theirs. */
#define VL_RET32(ret)		((__u32)(ret))

struct vl_need {
	__u8 arg;		/* object index */
	__u8 mode;		/* enum vl_mode required */
	__u8 flag_arg;		/* with flag_mask: only when args[flag_arg] & flag_mask */
	__u8 cls;		/* enum vl_lock_class of the lock read */
	__u32 flag_mask;	/* VL_AT_EXIT_RET_FLAG: the flag of the return value */
	__u8 at;		/* enum vl_need_at */
	/*
	 * When differ[0] != differ[1]: only when the objects of those two
	 * arguments are distinct inodes (a cross-directory rename).
	 */
	__u8 differ[2];
	__u8 pad;
};

enum vl_cfg_flags {
	VL_CFG_STACK_ALWAYS	= 1 << 0,
	VL_CFG_EXIT_EVENT	= 1 << 1,	/* some need is read at return */
	VL_CFG_NO_BLOCK		= 1 << 2,	/* may not block */
	VL_CFG_NO_BLOCK_RCU	= 1 << 3,	/* may not block when called in rcu-walk */
	VL_CFG_NOT_RCU_WALK	= 1 << 4,	/* never called in rcu-walk */
	VL_CFG_RET_VOID		= 1 << 5,	/* returns nothing: no value to read */
};

/*
 * The immediate a method template loads where the traced function's
 * address belongs (bpf/core_fixes.bpf.h, traced_fn_ip()); the loader
 * writes each clone's own address in its place. "vl_fn_ip" in ASCII. No
 * suffix: it is also text in an assembler statement.
 */
#define VL_FN_IP_MARK		0x766c5f666e5f6970
#define VL_STR_(x)		#x
#define VL_STR(x)		VL_STR_(x)

/* Configurations that need the method's exit traced too. */
#define VL_CFG_NEEDS_EXIT	(VL_CFG_EXIT_EVENT | VL_CFG_NO_BLOCK | VL_CFG_NO_BLOCK_RCU)
/* Configurations that read whether the call is made in rcu-walk mode. */
#define VL_CFG_READS_RCU_WALK	(VL_CFG_NO_BLOCK_RCU | VL_CFG_NOT_RCU_WALK)

/* Per traced implementation, keyed by its address. */
struct vl_method_cfg {
	__u32 attach_id;
	__u8 nargs;
	__u8 nneeds;
	__u8 flags;		/* enum vl_cfg_flags */
	/*
	 * rcu-walk mode is the path walk's LOOKUP_RCU (current->nameidata);
	 * methods told of it by an argument (->permission's MAY_NOT_BLOCK,
	 * ->d_revalidate's LOOKUP_RCU) also count when args[rcu_arg] &
	 * rcu_mask, rcu_mask 0 meaning none.
	 */
	__u8 rcu_arg;
	__u8 arg_kind[VL_MAX_ARGS];	/* enum vl_arg_kind */
	/* index in calls_met, where the filter counts the calls it finds compliant */
	__u16 slot;
	__u32 rcu_mask;
	/*
	 * Bytes of the implementation's code (to the next symbol; 0: not
	 * known): a sleep is inside the call only if a frame is in there.
	 */
	__u32 fn_size;
	struct vl_need need[VL_MAX_NEEDS];
};

/*
 * Calls of one implementation the filter found compliant and did not send,
 * per CPU: judged at entry, and at return (only for methods with needs read
 * at return). They count as checks of the method's rules (a CI report's
 * test cases). Slot VL_MET_SLOTS: not counted.
 */
#define VL_MET_SLOTS 8192
struct vl_met {
	__u64 entry;
	__u64 exit;
};

/* Counters kept per CPU by the programs; the daemon sums and shows them. */
enum vl_stat {
	VL_STAT_EVENTS = 0,	/* records committed */
	VL_STAT_LOST,		/* ring buffer full: record dropped */
	VL_STAT_LOST_LOCK,	/* of which lock events */
	VL_STAT_LOST_METHOD,	/* of which method events */
	VL_STAT_STACKS,		/* stacks captured */
	VL_STAT_STACK_FAIL,	/* bpf_get_stack() errors */
	VL_STAT_NO_CFG,		/* method hit with no config: attach race */
	VL_STAT_RDHOLD_FULL,	/* reader-hold map full: filter may over-report */
	VL_STAT_CALLS_MET,	/* method calls the filter found compliant: not sent */
	VL_STAT_BLOCKED,	/* sleeps inside no-block methods: sent */
	VL_STAT_VMA_LOCK,	/* vm_operations calls under a per-VMA lock */
	VL_STAT_NB_STALE,	/* no-block calls not followed (nested in an interrupt, or no
				 * memory), or whose exit went unseen (dropped at a sleep) */
	VL_STAT_NESTED,		/* contention inside a wait already timed (a wait_lock): not timed */
	VL_STAT_WAITS_FULL,	/* waits map full: a wait not timed */
	VL_STAT_IRQ_NESTED,	/* method programs run inside another on its CPU (an interrupt) */
	VL_STAT_TOO_DEEP,	/* of which nested deeper than the record buffers: not followed */
	VL_STAT_CLOBBERED,	/* method records another task's program overwrote: not sent */
	VL_STAT_SKIPPED,	/* runs the kernel skipped, the program being already on that
				 * CPU (preempted there): from the programs' recursion_misses,
				 * summed by the daemon, not counted by the programs */
	VL_STAT_MAX,
};

/*
 * Contention: what the kernel's contention_begin/contention_end tracepoints
 * (and, where fentry loads, the folio lock's slow path) saw, one record per
 * wait, named in the kernel where the lock's address says what embeds it.
 */

/* contention_begin's flags, include/trace/events/lock.h (since 5.19) */
#define VL_LCB_F_SPIN		(1U << 0)
#define VL_LCB_F_READ		(1U << 1)
#define VL_LCB_F_WRITE		(1U << 2)
#define VL_LCB_F_RT		(1U << 3)
#define VL_LCB_F_PERCPU		(1U << 4)
#define VL_LCB_F_MUTEX		(1U << 5)
/* vfslock's own: a wait in __folio_lock(), which has no tracepoint */
#define VL_LCB_F_FOLIO		(1U << 16)

/* What the owner of a contended lock was doing when the wait began. */
enum vl_task_state {
	VL_TS_UNKNOWN		= 0,	/* no owner word (spinlocks, folios), or no owner */
	VL_TS_ON_CPU		= 1,	/* running on a CPU */
	VL_TS_RUNNABLE		= 2,	/* ready, waiting for a CPU */
	VL_TS_SLEEPING		= 3,	/* TASK_INTERRUPTIBLE */
	VL_TS_BLOCKED		= 4,	/* TASK_UNINTERRUPTIBLE: I/O, another lock */
	VL_TS_OTHER		= 5,
};

enum vl_owner_flags {
	VL_OWN_READERS		= 1 << 0,	/* rwsem owned by readers: owner is the last one */
	VL_OWN_KTHREAD		= 1 << 1,	/* owner has no user context */
};

#define VL_CONTEND_STACK	16

struct vl_ev_contend {
	struct vl_ev_hdr hdr;		/* the waiter; ts is the end of the wait */
	__u64 lock;			/* lock address (the folio for VL_LCB_F_FOLIO) */
	__u64 obj;			/* what embeds it: inode, superblock, dentry, mm; 0 unknown */
	__u64 ino;
	__u64 wait_ns;
	__u64 owner;			/* owner's task_struct at the start of the wait, 0 unknown */
	__u32 dev;
	__u32 flags;			/* VL_LCB_F_* */
	__s32 ret;			/* contention_end's: 0 when the lock was taken */
	__u32 owner_tid;
	__s32 owner_syscall;		/* system call the owner is in, -1 none or unknown */
	__u8 cls;			/* enum vl_lock_class, VL_LOCK_NONE: named by its caller */
	__u8 mode;			/* enum vl_mode waited for */
	__u8 owner_state;		/* enum vl_task_state */
	__u8 owner_flags;		/* enum vl_owner_flags */
	__u16 nstack;
	__u16 pad;
	__u32 pad2;
	char comm[VL_COMM_LEN];
	char owner_comm[VL_COMM_LEN];
	__u64 stack[VL_CONTEND_STACK];	/* the waiter's kernel stack */
};

/* The records dropped since the last vl_ev_lost, seen when hdr.ts was reached. */
struct vl_ev_lost {
	struct vl_ev_hdr hdr;		/* task and tid 0 */
	__u64 lost;			/* VL_STAT_LOST, all sources */
	__u64 lost_lock;
	__u64 lost_method;
	__u64 since;			/* ts of the previous reading of the counters */
};

/* The programs' counters (enum vl_stat) at hdr.ts, summed over CPUs and sources. */
struct vl_ev_stats {
	struct vl_ev_hdr hdr;
	__u32 nstat;			/* counters in v[]: VL_STAT_MAX of the writer */
	__u32 pad;
	__u64 v[VL_STAT_MAX];
};

#define VL_NAME_COMPS		12
#define VL_NAME_LEN		48

/* The dentry names from a contended lock's object up to its filesystem's root. */
struct vl_ev_objname {
	struct vl_ev_hdr hdr;
	__u64 obj;
	__u64 ino;
	__u32 dev;
	__u8 cls;
	__u8 ncomp;			/* comp[0] is the object's own name */
	__u8 complete;			/* the walk reached the root */
	__u8 pad;
	char comp[VL_NAME_COMPS][VL_NAME_LEN];
};

/*
 * Discovery: one record per open file, ops tables as raw bytes, its
 * superblock's xattr handlers included; then one per mapping of those
 * files, with only its vm_ops (fd VL_DISC_VMA). An iterator writes at most
 * 32 KiB per element: a record stays well under.
 */
enum vl_ops_kind {
	VL_OPS_INODE = 0,
	VL_OPS_FILE,
	VL_OPS_SUPER,
	VL_OPS_DENTRY,
	VL_OPS_AOPS,
	VL_OPS_VM,
	VL_OPS_LM,		/* the lease methods of a lease the daemon took */
	VL_OPS_FSTYPE,		/* the superblock's struct file_system_type */
	VL_OPS_MAX,
};

#define VL_DISC_VMA		0xffffffffU
#define VL_DISC_MAX_XATTR	16	/* xattr handlers read per superblock */
#define VL_XATTR_BYTES		64	/* of each: struct xattr_handler is 48 */

#define VL_OPS_BYTES		512

struct vl_disc_rec {
	__u32 fd;
	__u32 dev;
	__u64 file;		/* struct file *: ties a mapping to its open file */
	__u64 sb;
	__u64 s_type;
	__u64 ino;
	__u32 i_mode;
	__u32 pad;
	char fstype[32];
	__u64 ops_ptr[VL_OPS_MAX];
	__u32 ops_size[VL_OPS_MAX];	/* bytes copied into ops[k] */
	__u8 ops[VL_OPS_MAX][VL_OPS_BYTES];
	__u32 nxattr;			/* handlers in xattr[] */
	__u32 xattr_size;		/* bytes copied of each */
	__u8 xattr[VL_DISC_MAX_XATTR][VL_XATTR_BYTES];
};

#endif /* VFSLOCK_ABI_H */
