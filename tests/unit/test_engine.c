// SPDX-License-Identifier: GPL-2.0
/*
 * Reconstruction and judgement on generated event streams: the records the
 * BPF programs would send, fed through the pipeline every source uses.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "catalog.h"
#include "engine.h"
#include "vfslock_filter.h"
#include "pipeline.h"
#include "unit.h"
#include "util.h"

#define DIR1	0x1000
#define DIR2	0x2000
#define FILE1	0x3000
#define FILE2	0x4000
#define SUBDIR	0x5000
#define TID	100
#define TASK	0xffff888000000100ull	/* this task's task_struct */

struct seen {
	int n;
	char ids[16][96];
	int args[16];
	enum vl_mode held[16];
};

struct fixture {
	struct vl_ruleset *rs;
	struct vl_catalog cat;
	struct vl_engine *eng;
	struct vl_pipeline p;
	struct seen seen;
	uint64_t ts;
	struct ksyms *ks;
	uint8_t need_held[VL_MAX_NEEDS];	/* what the kernel read, for call() */
};

static void on_dev(void *ctx, const struct vl_deviation *d)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", d->rule->id);
		s->args[s->n] = d->arg;
		s->held[s->n] = d->held;
		s->n++;
	}
}

static bool saw(const struct seen *s, const char *id, int arg)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->ids[i], id) && s->args[i] == arg)
			return true;
	return false;
}

static uint8_t kind_of(char c)
{
	switch (c) {
	case 'i': return VL_ARG_INODE;
	case 'd': return VL_ARG_DENTRY;
	case 'b': return VL_ARG_SB;
	case 'm': return VL_ARG_MAPPING;
	case 'f': return VL_ARG_FOLIO;
	case 'F': return VL_ARG_FILE;
	case 'o': return VL_ARG_FOLIO_OUT;
	case 'v': return VL_ARG_VMF;
	case 'a': return VL_ARG_VMA;
	default:  return VL_ARG_SCALAR;
	}
}

/* @kinds: a letter per argument, see kind_of(); 's' a scalar. */
static struct vl_fn *fake_method(struct vl_catalog *c, uint64_t addr, const char *name,
				 const char *ops, const char *method, const char *kinds)
{
	struct vl_fn *f = catalog_add(c, addr, name, "");
	int i;

	catalog_add_role(f, ops, method);
	catalog_add_fstype(f, "testfs");
	f->nargs = strlen(kinds);
	for (i = 0; kinds[i]; i++)
		f->arg_kind[i] = kind_of(kinds[i]);
	return f;
}

static struct vl_fn *fake_fn(struct vl_catalog *c, uint64_t addr, const char *name,
			     const char *method, const char *kinds)
{
	return fake_method(c, addr, name, "inode_operations", method, kinds);
}

enum { F_LOOKUP, F_RENAME, F_UNLINK, F_ATOMIC_OPEN, F_MKDIR, F_MKNOD,
       F_SYNC_FS, F_DROP_INODE, F_D_DELETE, F_READ_FOLIO, F_WRITE_BEGIN, F_MIGRATE,
       F_D_HASH, F_PERMISSION, F_D_REVALIDATE, F_FAULT, F_VM_OPEN, F_WRITE_END };

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct vl_sink sink;
	char path[] = "/tmp/vl-ksyms-XXXXXX";
	FILE *f;
	int fd;

	fx->rs = must_rules("6.12");
	fake_fn(&fx->cat, 0xffffffff81000000, "t_lookup", "lookup", "ids");
	fake_fn(&fx->cat, 0xffffffff81001000, "t_rename", "rename", "sidids");
	fake_fn(&fx->cat, 0xffffffff81002000, "t_unlink", "unlink", "id");
	fake_fn(&fx->cat, 0xffffffff81003000, "t_atomic_open", "atomic_open", "idsss");
	fake_fn(&fx->cat, 0xffffffff81004000, "t_mkdir", "mkdir", "sids");
	fake_fn(&fx->cat, 0xffffffff81005000, "t_mknod", "mknod", "sidss");
	fake_method(&fx->cat, 0xffffffff81010000, "t_sync_fs", "super_operations", "sync_fs",
		    "bs");
	fake_method(&fx->cat, 0xffffffff81011000, "t_drop_inode", "super_operations",
		    "drop_inode", "i");
	fake_method(&fx->cat, 0xffffffff81012000, "t_d_delete", "dentry_operations", "d_delete",
		    "d");
	fake_method(&fx->cat, 0xffffffff81013000, "t_read_folio", "address_space_operations",
		    "read_folio", "Ff");
	fake_method(&fx->cat, 0xffffffff81014000, "t_write_begin", "address_space_operations",
		    "write_begin", "Fmssos");
	fake_method(&fx->cat, 0xffffffff81015000, "t_migrate_folio", "address_space_operations",
		    "migrate_folio", "mffs");
	fake_method(&fx->cat, 0xffffffff81016000, "t_d_hash", "dentry_operations", "d_hash",
		    "ds");
	fake_method(&fx->cat, 0xffffffff81017000, "t_permission", "inode_operations",
		    "permission", "sis");
	fake_method(&fx->cat, 0xffffffff81018000, "t_d_revalidate", "dentry_operations",
		    "d_revalidate", "isds");
	fake_method(&fx->cat, 0xffffffff81019000, "t_fault", "vm_operations_struct", "fault",
		    "v");
	fake_method(&fx->cat, 0xffffffff8101a000, "t_vm_open", "vm_operations_struct", "open",
		    "a");
	fake_method(&fx->cat, 0xffffffff8101b000, "t_write_end", "address_space_operations",
		    "write_end", "Fmsssfs");
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* a kallsyms for the helper-call test: the callers are named */
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fprintf(f, "ffffffff81000000 t t_lookup\nffffffff81001000 t t_rename\n"
		   "ffffffff81002000 t t_unlink\nffffffff81003000 t t_atomic_open\n"
		   "ffffffff81004000 t t_mkdir\nffffffff81005000 t t_mknod\n"
		   "ffffffff81006000 T vfs_mkdir\nffffffff81007000 t other_module_fn\t[mod]\n");
	fclose(f);
	fx->ks = ksyms__load(path);
	unlink(path);

	fx->eng = engine_new(fx->rs, &fx->cat, fx->ks);
	pipeline_init(&fx->p, fx->eng);
	sink = (struct vl_sink){ .ctx = &fx->seen, .on_deviation = on_dev };
	pipeline_add_sink(&fx->p, &sink);
	lockstate_task_born(fx->p.ls, TID, TID, "test");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	pipeline_fini(&fx->p);
	engine_free(fx->eng);
	catalog_free(&fx->cat);
	ksyms__free(fx->ks);
	rules_free(fx->rs);
	free(fx);
	return 0;
}

static void hdr(struct fixture *fx, struct vl_ev_hdr *h, uint16_t type, uint16_t size, uint32_t tid)
{
	h->ts = ++fx->ts;
	h->task = TASK + tid;
	h->tid = tid;
	h->tgid = tid;
	h->type = type;
	h->size = size;
}

static void lock(struct fixture *fx, uint32_t tid, uint64_t inode, uint8_t op, uint8_t mode)
{
	struct vl_ev_lock e = { 0 };

	hdr(fx, &e.hdr, VL_EV_LOCK, sizeof(e), tid);
	e.lock = inode + 0xa0;
	e.inode = inode;
	e.ino = inode >> 12;
	e.cls = VL_LOCK_I_RWSEM;
	e.op = op;
	e.mode = mode;
	e.prim = mode == VL_MODE_EXCL ? VL_PRIM_DOWN_WRITE : VL_PRIM_DOWN_READ;
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

#define TAKE(fx, inode, mode)	lock(fx, TID, inode, VL_OP_ACQUIRE, mode)
#define DROP(fx, inode, mode)	lock(fx, TID, inode, VL_OP_RELEASE, mode)

/* What the kernel would read of the lock words at entry. */
struct objspec {
	uint64_t inode;
	uint16_t mode;		/* S_IFDIR / S_IFREG, 0: absent */
	uint8_t held;		/* the kernel filter's view */
	uint64_t readers;
};

static void call(struct fixture *fx, uint32_t tid, int fn, const uint64_t *args,
		 const struct objspec *objs, uint16_t flags)
{
	const struct vl_fn *f = catalog_get(&fx->cat, fn);
	struct vl_ev_method e;
	int i;

	memset(&e, 0, sizeof(e));
	hdr(fx, &e.hdr, VL_EV_METHOD_ENTER, sizeof(e), tid);
	e.ip = f->addr;
	e.attach_id = fn;
	e.flags = flags;
	memcpy(e.comm, "test", 5);
	memcpy(e.need_held, fx->need_held, sizeof(e.need_held));
	for (i = 0; i < f->nargs; i++) {
		e.args[i] = args ? args[i] : 0;
		if (!objs[i].mode)
			continue;
		e.obj[i].inode = objs[i].inode;
		e.obj[i].ino = objs[i].inode >> 12;
		e.obj[i].mode = objs[i].mode;
		e.obj[i].held = objs[i].held;
		e.obj[i].rwsem_count = objs[i].readers << 8 | (objs[i].held == VL_MODE_EXCL);
		e.obj[i].rwsem_owner = objs[i].held == VL_MODE_EXCL ? TASK + tid : 0;
	}
	if (flags & VL_MF_STACK) {
		/* inside the method, then its caller: args[0] names the caller here */
		e.stack[0] = f->addr + 5;
		e.stack[1] = args[VL_MAX_ARGS - 1];
		e.nstack = 2;
	}
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

static const struct objspec NONE = { 0 };
#define DIR(x, h)	((struct objspec){ x, S_IFDIR, h, 0 })
#define REG(x, h)	((struct objspec){ x, S_IFREG, h, 0 })

static void test_lookup_modes(void **state)
{
	struct fixture *fx = *state;
	struct objspec o[3] = { DIR(DIR1, VL_MODE_SHARED), REG(FILE1, 0), NONE };

	TAKE(fx, DIR1, VL_MODE_SHARED);
	call(fx, TID, F_LOOKUP, NULL, o, 0);
	DROP(fx, DIR1, VL_MODE_SHARED);
	/* exclusive satisfies shared */
	TAKE(fx, DIR1, VL_MODE_EXCL);
	o[0].held = VL_MODE_EXCL;
	call(fx, TID, F_LOOKUP, NULL, o, 0);
	DROP(fx, DIR1, VL_MODE_EXCL);
	assert_int_equal(fx->seen.n, 0);

	/* held by another task: not by this one */
	lock(fx, TID + 1, DIR1, VL_OP_ACQUIRE, VL_MODE_SHARED);
	o[0] = (struct objspec){ DIR1, S_IFDIR, VL_MODE_NONE, 1 };
	call(fx, TID, F_LOOKUP, NULL, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.lookup.i_rwsem", 0));
	assert_int_equal(fx->seen.held[0], VL_MODE_NONE);
}

static void test_rename(void **state)
{
	struct fixture *fx = *state;
	uint64_t args[6] = { 0 };
	struct objspec o[6] = {
		NONE, DIR(DIR1, VL_MODE_EXCL), REG(FILE1, VL_MODE_EXCL),
		DIR(DIR2, VL_MODE_EXCL), NONE, NONE,
	};

	/* cross-directory, file source, new name: compliant */
	TAKE(fx, DIR1, VL_MODE_EXCL);
	TAKE(fx, DIR2, VL_MODE_EXCL);
	TAKE(fx, FILE1, VL_MODE_EXCL);
	call(fx, TID, F_RENAME, args, o, 0);
	assert_int_equal(fx->seen.n, 0);

	/* ...replacing an existing file that nobody locked: a victim and a non-directory */
	o[4] = REG(FILE2, VL_MODE_NONE);
	call(fx, TID, F_RENAME, args, o, VL_MF_SUSPECT);
	assert_true(saw(&fx->seen, "inode_operations.rename.i_rwsem.victim", 4));
	assert_true(saw(&fx->seen, "inode_operations.rename.i_rwsem.nondir", 4));
	assert_int_equal(fx->seen.n, 2);
	fx->seen.n = 0;
	o[4] = NONE;
	DROP(fx, FILE1, VL_MODE_EXCL);
	DROP(fx, DIR2, VL_MODE_EXCL);

	/* one parent only */
	o[2] = REG(FILE1, VL_MODE_NONE);
	TAKE(fx, FILE1, VL_MODE_EXCL);
	o[2].held = VL_MODE_EXCL;
	o[3].held = VL_MODE_NONE;
	call(fx, TID, F_RENAME, args, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.rename.i_rwsem", 3));
	fx->seen.n = 0;
	DROP(fx, FILE1, VL_MODE_EXCL);

	/* a directory moving within its parent needs no lock of its own... */
	o[2] = DIR(SUBDIR, VL_MODE_NONE);
	o[3] = DIR(DIR1, VL_MODE_EXCL);
	call(fx, TID, F_RENAME, args, o, 0);
	assert_int_equal(fx->seen.n, 0);
	/* ...but one changing parent does */
	TAKE(fx, DIR2, VL_MODE_EXCL);
	o[3] = DIR(DIR2, VL_MODE_EXCL);
	call(fx, TID, F_RENAME, args, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.rename.i_rwsem.subdir", 2));
	fx->seen.n = 0;

	/* RENAME_EXCHANGE of two directories across parents: both move, none is a victim */
	args[5] = 2;
	o[2] = DIR(SUBDIR, VL_MODE_EXCL);
	o[4] = DIR(FILE2, VL_MODE_NONE);
	TAKE(fx, SUBDIR, VL_MODE_EXCL);
	call(fx, TID, F_RENAME, args, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.rename.i_rwsem.subdir", 4));
}

static void test_unlink_and_victim(void **state)
{
	struct fixture *fx = *state;
	struct objspec o[2] = { DIR(DIR1, VL_MODE_EXCL), REG(FILE1, VL_MODE_NONE) };

	TAKE(fx, DIR1, VL_MODE_EXCL);
	call(fx, TID, F_UNLINK, NULL, o, VL_MF_SUSPECT);
	/* "exclusive (both)", "victim" and "non-directories": three rules say it */
	assert_int_equal(fx->seen.n, 3);
	assert_true(saw(&fx->seen, "inode_operations.unlink.i_rwsem", 1));
	assert_true(saw(&fx->seen, "inode_operations.unlink.i_rwsem.victim", 1));
	assert_true(saw(&fx->seen, "inode_operations.unlink.i_rwsem.nondir", 1));
	fx->seen.n = 0;
	TAKE(fx, FILE1, VL_MODE_EXCL);
	o[1].held = VL_MODE_EXCL;
	call(fx, TID, F_UNLINK, NULL, o, 0);
	assert_int_equal(fx->seen.n, 0);
}

static void test_atomic_open_condition(void **state)
{
	struct fixture *fx = *state;
	uint64_t args[6] = { 0, 0, 0, O_RDONLY, 0, 0 };
	struct objspec o[5] = { DIR(DIR1, VL_MODE_SHARED), NONE, NONE, NONE, NONE };

	TAKE(fx, DIR1, VL_MODE_SHARED);
	call(fx, TID, F_ATOMIC_OPEN, args, o, 0);
	assert_int_equal(fx->seen.n, 0);
	args[3] = O_CREAT | O_WRONLY;
	call(fx, TID, F_ATOMIC_OPEN, args, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.atomic_open.i_rwsem", 0));
	assert_int_equal(fx->seen.held[0], VL_MODE_SHARED);
}

static void test_lock_word_for_unknown_tasks(void **state)
{
	struct fixture *fx = *state;
	struct objspec o[3] = { DIR(DIR1, VL_MODE_EXCL), NONE, NONE };

	/* a task never seen starting: its exclusive holds show in the owner word */
	call(fx, TID + 7, F_LOOKUP, NULL, o, 0);
	assert_int_equal(fx->seen.n, 0);
	/* readers exist, this task may be one of them: cannot tell, so no claim */
	o[0] = (struct objspec){ DIR1, S_IFDIR, VL_MODE_NONE, 2 };
	call(fx, TID + 7, F_LOOKUP, NULL, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 0);
	assert_int_equal(engine_stats(fx->eng)->unverifiable, 1);
	/* no readers, no writer: a deviation even without history */
	o[0].readers = 0;
	call(fx, TID + 7, F_LOOKUP, NULL, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
}

/*
 * With reader holds only streamed, a complete task's exclusive holds come
 * from the owner word alone: no mismatch is claimed, the verdicts are the
 * same, and a missing lock is still found.
 */
static void test_readers_only_stream(void **state)
{
	struct fixture *fx = *state;
	struct objspec o[3] = { DIR(DIR1, VL_MODE_EXCL), NONE, NONE };

	/* every event streamed: an exclusive hold the stream never saw is a mismatch */
	call(fx, TID, F_LOOKUP, NULL, o, 0);
	assert_int_equal(engine_stats(fx->eng)->state_mismatch, 1);
	assert_int_equal(fx->seen.n, 0);

	engine_set_lock_events(fx->eng, VL_LOCK_EVENTS_READERS);
	call(fx, TID, F_LOOKUP, NULL, o, 0);
	assert_int_equal(engine_stats(fx->eng)->state_mismatch, 1);
	assert_int_equal(fx->seen.n, 0);
	/* reader holds are still rebuilt, and still count */
	TAKE(fx, DIR1, VL_MODE_SHARED);
	o[0] = (struct objspec){ DIR1, S_IFDIR, VL_MODE_SHARED, 1 };
	call(fx, TID, F_LOOKUP, NULL, o, 0);
	DROP(fx, DIR1, VL_MODE_SHARED);
	assert_int_equal(fx->seen.n, 0);
	/* neither word nor rebuilt set: the deviation is found */
	o[0] = (struct objspec){ DIR1, S_IFDIR, VL_MODE_NONE, 0 };
	call(fx, TID, F_LOOKUP, NULL, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.lookup.i_rwsem", 0));
	assert_int_equal(engine_stats(fx->eng)->state_mismatch, 1);
}

static void test_helper_calls_fold(void **state)
{
	struct fixture *fx = *state;
	uint64_t args[6] = { 0 };
	struct objspec o[5] = { NONE, DIR(DIR1, VL_MODE_SHARED), NONE, NONE, NONE };

	TAKE(fx, DIR1, VL_MODE_SHARED);
	/* mknod called by name from t_mkdir: mkdir's work, judged with mkdir */
	args[5] = 0xffffffff81004000 + 0x20;
	call(fx, TID, F_MKNOD, args, o,
	     VL_MF_SUSPECT | VL_MF_STACK | VL_MF_DIRECT_CALL);
	assert_int_equal(fx->seen.n, 0);
	assert_int_equal(engine_stats(fx->eng)->internal_calls, 1);
	/* the same call from outside the filesystem's inode methods is judged */
	args[5] = 0xffffffff81007000 + 0x20;
	call(fx, TID, F_MKNOD, args, o,
	     VL_MF_SUSPECT | VL_MF_STACK | VL_MF_DIRECT_CALL);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.mknod.i_rwsem", 1));
	/* and through the ops table (no direct call) from vfs_mkdir as well */
	args[5] = 0xffffffff81006000 + 0x20;
	call(fx, TID, F_MKNOD, args, o, VL_MF_SUSPECT | VL_MF_STACK);
	assert_int_equal(fx->seen.n, 2);
}

/* Sets what the kernel read for lock class @cls on argument @arg of @fn. */
static void kernel_read(struct fixture *fx, int fn, int arg, uint8_t cls, uint8_t held)
{
	struct vl_method_cfg cfg;
	int n;

	engine_method_cfg(fx->eng, catalog_get(&fx->cat, fn), &cfg);
	for (n = 0; n < cfg.nneeds; n++) {
		if (cfg.need[n].arg == arg && cfg.need[n].cls == cls) {
			fx->need_held[n] = held;
			return;
		}
	}
	fail_msg("no need of class %u on arg %d", cls, arg);
}

/*
 * s_umount, i_lock, d_lock, invalidate_lock and the folio lock are judged
 * on what the kernel read at entry: each rule flags its lock not held, and
 * only that.
 */
static void test_locks_read_by_kernel(void **state)
{
	struct fixture *fx = *state;
	struct objspec o[6] = { REG(FILE1, 0), REG(FILE1, 0), REG(FILE1, 0), NONE };

	/* ->sync_fs: s_umount shared */
	kernel_read(fx, F_SYNC_FS, 0, VL_LOCK_S_UMOUNT, VL_MODE_NONE);
	call(fx, TID, F_SYNC_FS, NULL, o, 0);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "super_operations.sync_fs.s_umount", 0));
	assert_int_equal(fx->seen.held[0], VL_MODE_NONE);
	fx->seen.n = 0;
	kernel_read(fx, F_SYNC_FS, 0, VL_LOCK_S_UMOUNT, VL_MODE_SHARED);
	call(fx, TID, F_SYNC_FS, NULL, o, 0);
	assert_int_equal(fx->seen.n, 0);
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* ->drop_inode: i_lock; ->d_delete: d_lock */
	kernel_read(fx, F_DROP_INODE, 0, VL_LOCK_I_LOCK, VL_MODE_NONE);
	call(fx, TID, F_DROP_INODE, NULL, o, 0);
	assert_true(saw(&fx->seen, "super_operations.drop_inode.i_lock", 0));
	fx->seen.n = 0;
	kernel_read(fx, F_DROP_INODE, 0, VL_LOCK_I_LOCK, VL_MODE_EXCL);
	call(fx, TID, F_DROP_INODE, NULL, o, 0);
	assert_int_equal(fx->seen.n, 0);
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));
	kernel_read(fx, F_D_DELETE, 0, VL_LOCK_D_LOCK, VL_MODE_NONE);
	call(fx, TID, F_D_DELETE, NULL, o, 0);
	assert_true(saw(&fx->seen, "dentry_operations.d_delete.d_lock", 0));
	fx->seen.n = 0;
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* ->read_folio: the folio locked, invalidate_lock shared; each alone */
	kernel_read(fx, F_READ_FOLIO, 1, VL_LOCK_FOLIO, VL_MODE_NONE);
	kernel_read(fx, F_READ_FOLIO, 0, VL_LOCK_INVALIDATE, VL_MODE_SHARED);
	call(fx, TID, F_READ_FOLIO, NULL, o, 0);
	assert_int_equal(fx->seen.n, 2);	/* the cell and the prose sentence */
	assert_true(saw(&fx->seen, "address_space_operations.read_folio.folio_lock", 1));
	assert_true(saw(&fx->seen, "address_space_operations.read_folio.folio_lock.unlocks", 1));
	fx->seen.n = 0;
	kernel_read(fx, F_READ_FOLIO, 1, VL_LOCK_FOLIO, VL_MODE_EXCL);
	kernel_read(fx, F_READ_FOLIO, 0, VL_LOCK_INVALIDATE, VL_MODE_NONE);
	call(fx, TID, F_READ_FOLIO, NULL, o, 0);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "address_space_operations.read_folio.invalidate_lock", 0));
	fx->seen.n = 0;
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* ->migrate_folio: "yes (both)", the second folio unlocked */
	kernel_read(fx, F_MIGRATE, 1, VL_LOCK_FOLIO, VL_MODE_EXCL);
	kernel_read(fx, F_MIGRATE, 2, VL_LOCK_FOLIO, VL_MODE_NONE);
	call(fx, TID, F_MIGRATE, NULL, o, 0);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "address_space_operations.migrate_folio.folio_lock", 2));
	fx->seen.n = 0;
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* an object the call did not name is not judged */
	call(fx, TID, F_SYNC_FS, NULL, o, 0);
	assert_int_equal(fx->seen.n, 0);
}

/* An entry or a block record of @fn: flags, arguments, nothing else. */
static void context_call(struct fixture *fx, int fn, uint16_t type, uint16_t flags,
			 const uint64_t *args)
{
	const struct vl_fn *f = catalog_get(&fx->cat, fn);
	struct vl_ev_method e;

	memset(&e, 0, sizeof(e));
	hdr(fx, &e.hdr, type, sizeof(e), TID);
	e.ip = f->addr;
	e.attach_id = fn;
	e.flags = flags;
	memset(e.need_held, VL_HELD_NA, sizeof(e.need_held));
	if (args)
		memcpy(e.args, args, sizeof(e.args));
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

static void test_blocking_and_rcu_walk(void **state)
{
	struct fixture *fx = *state;
	const uint64_t may_not_block[VL_MAX_ARGS] = { 0, 0, 0x81 };
	const uint64_t lookup_rcu[VL_MAX_ARGS] = { 0, 0, 0, 0x40 };
	struct vl_method_cfg cfg;

	/* what the kernel is told: which calls may not sleep, how rcu-walk shows */
	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_D_HASH), &cfg);
	assert_true(cfg.flags & VL_CFG_NO_BLOCK);
	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_PERMISSION), &cfg);
	assert_true(cfg.flags & VL_CFG_NO_BLOCK_RCU);
	assert_false(cfg.flags & VL_CFG_NO_BLOCK);
	assert_int_equal(cfg.rcu_arg, 2);
	assert_int_equal(cfg.rcu_mask, 0x80);
	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_D_REVALIDATE), &cfg);
	assert_true(cfg.flags & VL_CFG_NO_BLOCK_RCU);
	assert_int_equal(cfg.rcu_arg, 3);
	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_D_DELETE), &cfg);
	assert_true(cfg.flags & VL_CFG_NOT_RCU_WALK);
	assert_true(cfg.flags & VL_CFG_NO_BLOCK);

	/* ->d_hash may never block: entering is fine, sleeping is not */
	context_call(fx, F_D_HASH, VL_EV_METHOD_ENTER, 0, NULL);
	assert_int_equal(fx->seen.n, 0);
	context_call(fx, F_D_HASH, VL_EV_METHOD_BLOCK, VL_MF_SUSPECT, NULL);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "dentry_operations.d_hash.may_block", 0));
	fx->seen.n = 0;

	/* ->permission and ->d_revalidate: only in rcu-walk */
	context_call(fx, F_PERMISSION, VL_EV_METHOD_BLOCK, VL_MF_SUSPECT, NULL);
	context_call(fx, F_D_REVALIDATE, VL_EV_METHOD_BLOCK, VL_MF_SUSPECT, NULL);
	assert_int_equal(fx->seen.n, 0);
	context_call(fx, F_PERMISSION, VL_EV_METHOD_BLOCK, VL_MF_SUSPECT | VL_MF_RCU_WALK,
		     may_not_block);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.permission.may_block.rcu_walk", 1));
	fx->seen.n = 0;
	context_call(fx, F_D_REVALIDATE, VL_EV_METHOD_BLOCK, VL_MF_SUSPECT | VL_MF_RCU_WALK,
		     lookup_rcu);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "dentry_operations.d_revalidate.may_block", 0));
	fx->seen.n = 0;

	/* ->d_delete is never called in rcu-walk; an entry says whether it was */
	context_call(fx, F_D_DELETE, VL_EV_METHOD_ENTER, 0, NULL);
	assert_int_equal(fx->seen.n, 0);
	context_call(fx, F_D_DELETE, VL_EV_METHOD_ENTER, VL_MF_SUSPECT | VL_MF_RCU_WALK, NULL);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "dentry_operations.d_delete.rcu_walk", 0));
}

/*
 * A cross-directory rename needs the superblock's s_vfs_rename_mutex; a
 * rename within one directory does not. The kernel filter tells them
 * apart by the two directories' inodes, as the engine does.
 */
static const struct vl_need *need_of(struct fixture *fx, int fn, int arg, uint8_t cls,
				     uint8_t at, struct vl_method_cfg *cfg, int *idx);

static void test_cross_dir_rename_mutex(void **state)
{
	struct fixture *fx = *state;
	uint64_t args[6] = { 0 };
	struct objspec o[6] = {
		NONE, DIR(DIR1, VL_MODE_EXCL), REG(FILE1, VL_MODE_EXCL),
		DIR(DIR1, VL_MODE_EXCL), NONE, NONE,
	};
	struct vl_method_cfg cfg;
	struct vl_ev_method e = { 0 };
	const struct vl_need *n;
	int idx;

	n = need_of(fx, F_RENAME, 1, VL_LOCK_S_VFS_RENAME, VL_AT_ENTRY, &cfg, &idx);
	TAKE(fx, DIR1, VL_MODE_EXCL);
	TAKE(fx, DIR2, VL_MODE_EXCL);
	TAKE(fx, FILE1, VL_MODE_EXCL);
	fx->need_held[idx] = VL_MODE_NONE;
	e.need_held[idx] = VL_MODE_NONE;

	/* one directory: nothing asked */
	call(fx, TID, F_RENAME, args, o, 0);
	assert_int_equal(fx->seen.n, 0);
	e.obj[1].inode = e.obj[3].inode = DIR1;
	assert_false(vl_need_unmet(&e, n, idx));

	/* two: the mutex, held by nobody */
	o[3] = DIR(DIR2, VL_MODE_EXCL);
	call(fx, TID, F_RENAME, args, o, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "inode_operations.rename.s_vfs_rename.prose", 1));
	e.obj[3].inode = DIR2;
	assert_true(vl_need_unmet(&e, n, idx));
	fx->seen.n = 0;

	fx->need_held[idx] = VL_MODE_EXCL;
	call(fx, TID, F_RENAME, args, o, 0);
	assert_int_equal(fx->seen.n, 0);
}

/* An exit record of @fn returning @ret, with what the kernel read at return. */
static void exit_call(struct fixture *fx, int fn, uint64_t ret)
{
	const struct vl_fn *f = catalog_get(&fx->cat, fn);
	struct vl_ev_method e;

	memset(&e, 0, sizeof(e));
	hdr(fx, &e.hdr, VL_EV_METHOD_EXIT, sizeof(e), TID);
	e.ip = f->addr;
	e.attach_id = fn;
	e.ret = ret;
	memcpy(e.need_held, fx->need_held, sizeof(e.need_held));
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

/* The need of @fn on @arg, class @cls, read at @at; fails if there is none. */
static const struct vl_need *need_of(struct fixture *fx, int fn, int arg, uint8_t cls,
				     uint8_t at, struct vl_method_cfg *cfg, int *idx)
{
	int n;

	engine_method_cfg(fx->eng, catalog_get(&fx->cat, fn), cfg);
	for (n = 0; n < cfg->nneeds; n++) {
		if (cfg->need[n].arg == arg && cfg->need[n].cls == cls && cfg->need[n].at == at) {
			*idx = n;
			return &cfg->need[n];
		}
	}
	fail_msg("no need of class %u on arg %d at %u", cls, arg, at);
	return NULL;
}

/*
 * The state a method leaves: write_begin's returned folio locked when it
 * returns 0; a fault's page locked when it says VM_FAULT_LOCKED, and
 * either way without. Read at return, judged on exit records only; the
 * kernel filter and the engine agree on which returns bind.
 */
static void test_state_at_return(void **state)
{
	struct fixture *fx = *state;
	struct vl_method_cfg cfg;
	struct vl_ev_method e = { 0 };
	const struct vl_need *n;
	int idx;

	n = need_of(fx, F_WRITE_BEGIN, 4, VL_LOCK_FOLIO, VL_AT_EXIT_RET0, &cfg, &idx);
	assert_true(cfg.flags & VL_CFG_EXIT_EVENT);
	assert_int_equal(n->mode, VL_MODE_SHARED);

	fx->need_held[idx] = VL_MODE_NONE;
	exit_call(fx, F_WRITE_BEGIN, 0);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "address_space_operations.write_begin.folio_lock", 4));
	e.ret = 0;
	e.need_held[idx] = VL_MODE_NONE;
	assert_true(vl_need_unmet(&e, n, idx));
	fx->seen.n = 0;
	/* an error returns no folio: nothing to hold */
	exit_call(fx, F_WRITE_BEGIN, (uint64_t)-28);
	assert_int_equal(fx->seen.n, 0);
	e.ret = (uint64_t)-28;
	assert_false(vl_need_unmet(&e, n, idx));
	fx->need_held[idx] = VL_MODE_EXCL;
	exit_call(fx, F_WRITE_BEGIN, 0);
	assert_int_equal(fx->seen.n, 0);
	/* entries do not judge the state at return */
	fx->need_held[idx] = VL_MODE_NONE;
	context_call(fx, F_WRITE_BEGIN, VL_EV_METHOD_ENTER, 0, NULL);
	assert_false(saw(&fx->seen, "address_space_operations.write_begin.folio_lock", 4));
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));
	fx->seen.n = 0;

	n = need_of(fx, F_FAULT, 0, VL_LOCK_FOLIO, VL_AT_EXIT_RET_FLAG, &cfg, &idx);
	assert_int_equal(n->flag_mask, 0x200);
	fx->need_held[idx] = VL_MODE_NONE;
	exit_call(fx, F_FAULT, 0x200 | 0x4);	/* VM_FAULT_LOCKED | VM_FAULT_MAJOR */
	/* the table cell and the prose sentence */
	assert_int_equal(fx->seen.n, 2);
	assert_true(saw(&fx->seen, "vm_operations_struct.fault.folio_lock", 0));
	assert_true(saw(&fx->seen, "vm_operations_struct.fault.folio_lock.return", 0));
	fx->seen.n = 0;
	exit_call(fx, F_FAULT, 0);		/* unlocked, and says so */
	exit_call(fx, F_FAULT, 0x100);		/* VM_FAULT_NOPAGE */
	assert_int_equal(fx->seen.n, 0);
	e.ret = 0x100;
	assert_false(vl_need_unmet(&e, n, idx));
	e.ret = 0x200;
	assert_true(vl_need_unmet(&e, n, idx));
	fx->need_held[idx] = VL_MODE_EXCL;
	exit_call(fx, F_FAULT, 0x200);
	assert_int_equal(fx->seen.n, 0);
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* "yes, unlocks": ->write_end by its return, ->read_folio when it fails */
	n = need_of(fx, F_WRITE_END, 5, VL_LOCK_FOLIO, VL_AT_EXIT_UNLOCKED, &cfg, &idx);
	fx->need_held[idx] = VL_MODE_EXCL;
	exit_call(fx, F_WRITE_END, 1);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "address_space_operations.write_end.folio_lock", 5));
	memset(e.need_held, VL_HELD_NA, sizeof(e.need_held));
	e.need_held[idx] = VL_MODE_EXCL;
	e.ret = 1;
	assert_true(vl_need_unmet(&e, n, idx));
	fx->seen.n = 0;
	fx->need_held[idx] = VL_MODE_NONE;
	exit_call(fx, F_WRITE_END, 1);
	assert_int_equal(fx->seen.n, 0);
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	n = need_of(fx, F_READ_FOLIO, 1, VL_LOCK_FOLIO, VL_AT_EXIT_ERR_UNLOCKED, &cfg, &idx);
	fx->need_held[idx] = VL_MODE_EXCL;
	exit_call(fx, F_READ_FOLIO, (uint32_t)-5);	/* -EIO, as an int */
	/* the cell and the sentence */
	assert_int_equal(fx->seen.n, 2);
	assert_true(saw(&fx->seen, "address_space_operations.read_folio.folio_lock", 1));
	fx->seen.n = 0;
	exit_call(fx, F_READ_FOLIO, 0x80001);		/* AOP_TRUNCATED_PAGE */
	assert_int_equal(fx->seen.n, 2);
	fx->seen.n = 0;
	exit_call(fx, F_READ_FOLIO, 0);			/* I/O under way: unlocked later */
	assert_int_equal(fx->seen.n, 0);
	e.need_held[idx] = VL_MODE_EXCL;
	e.ret = 0xffffffff00000000ull;			/* int 0, upper half not the method's */
	assert_false(vl_need_unmet(&e, n, idx));
	fx->need_held[idx] = VL_MODE_NONE;
	exit_call(fx, F_READ_FOLIO, (uint32_t)-5);
	assert_int_equal(fx->seen.n, 0);
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));

	/* mmap_lock at entry: shared for ->fault, exclusive for ->open */
	n = need_of(fx, F_FAULT, 0, VL_LOCK_MMAP, VL_AT_ENTRY, &cfg, &idx);
	fx->need_held[idx] = VL_MODE_NONE;
	call(fx, TID, F_FAULT, NULL, (struct objspec[6]){ REG(FILE1, 0) }, 0);
	assert_int_equal(fx->seen.n, 1);
	assert_true(saw(&fx->seen, "vm_operations_struct.fault.mmap_lock", 0));
	fx->seen.n = 0;
	fx->need_held[idx] = VL_MODE_SHARED;
	call(fx, TID, F_FAULT, NULL, (struct objspec[6]){ REG(FILE1, 0) }, 0);
	assert_int_equal(fx->seen.n, 0);
	/* under the vma's own lock: flagged, though the kernel sends only the first */
	fx->need_held[idx] = VL_HELD_VMA_LOCK;
	call(fx, TID, F_FAULT, NULL, (struct objspec[6]){ REG(FILE1, 0) }, VL_MF_SUSPECT);
	assert_int_equal(fx->seen.n, 1);
	assert_int_equal(fx->seen.held[0], VL_HELD_VMA_LOCK);
	memcpy(e.need_held, fx->need_held, sizeof(e.need_held));
	assert_false(vl_need_unmet(&e, n, idx));
	fx->seen.n = 0;
	memset(fx->need_held, VL_HELD_NA, sizeof(fx->need_held));
	n = need_of(fx, F_VM_OPEN, 0, VL_LOCK_MMAP, VL_AT_ENTRY, &cfg, &idx);
	assert_int_equal(n->mode, VL_MODE_EXCL);
	fx->need_held[idx] = VL_MODE_SHARED;
	call(fx, TID, F_VM_OPEN, NULL, (struct objspec[6]){ REG(FILE1, 0) }, 0);
	assert_true(saw(&fx->seen, "vm_operations_struct.open.mmap_lock", 0));
	assert_int_equal(fx->seen.held[0], VL_MODE_SHARED);
}

static void test_kernel_filter_config(void **state)
{
	struct fixture *fx = *state;
	struct vl_method_cfg cfg;
	int i, parents = 0;

	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_RENAME), &cfg);
	assert_int_equal(cfg.nargs, 6);
	assert_int_equal(cfg.arg_kind[1], VL_ARG_INODE);
	assert_int_equal(cfg.arg_kind[2], VL_ARG_DENTRY);
	for (i = 0; i < cfg.nneeds; i++) {
		if (cfg.need[i].cls == VL_LOCK_S_VFS_RENAME) {
			/* the superblock's rename mutex, across directories only */
			assert_int_equal(cfg.need[i].arg, 1);
			assert_int_equal(cfg.need[i].differ[0], 1);
			assert_int_equal(cfg.need[i].differ[1], 3);
			continue;
		}
		assert_int_equal(cfg.need[i].mode, VL_MODE_EXCL);
		parents += cfg.need[i].arg == 1 || cfg.need[i].arg == 3;
	}
	assert_int_equal(parents, 2);
	/* over-approximation: the children are candidates too */
	assert_int_equal(cfg.nneeds, 5);

	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_LOOKUP), &cfg);
	assert_int_equal(cfg.nneeds, 1);
	assert_int_equal(cfg.need[0].arg, 0);
	assert_int_equal(cfg.need[0].mode, VL_MODE_SHARED);

	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_ATOMIC_OPEN), &cfg);
	assert_int_equal(cfg.nneeds, 2);
	assert_int_equal(cfg.need[1].flag_arg, 3);
	assert_int_equal(cfg.need[1].flag_mask, O_CREAT);
	assert_int_equal(cfg.need[1].mode, VL_MODE_EXCL);
}

/*
 * A probe the kernel refused: the rules that need it are unbound, said
 * with the reason, and the kernel filter no longer asks for what they
 * needed; the others are judged as before.
 */
static void test_probe_refused(void **state)
{
	struct fixture *fx = *state;
	const struct vl_rule *mb = rules_find(fx->rs, "dentry_operations.d_hash.may_block");
	const struct vl_rule *lk = rules_find(fx->rs, "inode_operations.lookup.i_rwsem");
	struct vl_method_cfg cfg;
	const char *why[VL_PROBE_MAX], *note;

	assert_non_null(mb);
	assert_non_null(lk);
	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_D_HASH), &cfg);
	assert_true(cfg.flags & VL_CFG_NO_BLOCK);
	assert_true(engine_rule_checked(fx->eng, mb, &note));
	assert_int_equal(engine_probes_missing(fx->eng, why), 0);

	engine_probe_missing(fx->eng, VL_PROBE_SLEEPS, "Permission denied: invalid access");
	assert_int_equal(engine_probes_missing(fx->eng, why), 1u << VL_PROBE_SLEEPS);
	assert_string_equal(why[VL_PROBE_SLEEPS], "Permission denied: invalid access");
	assert_false(engine_rule_checked(fx->eng, mb, &note));
	assert_non_null(strstr(note, "sched_switch"));
	assert_non_null(strstr(note, "Permission denied"));
	/* ->d_hash had only its may-block rule: nothing is traced for it now */
	assert_false(engine_fn_checked(fx->eng, catalog_get(&fx->cat, F_D_HASH)));
	/* a sleep in it is no deviation any more */
	context_call(fx, F_D_HASH, VL_EV_METHOD_BLOCK, VL_MF_SUSPECT, NULL);
	assert_int_equal(fx->seen.n, 0);
	/* ->lookup's lock rule needs no sleep probe */
	assert_true(engine_rule_checked(fx->eng, lk, &note));
	engine_method_cfg(fx->eng, catalog_get(&fx->cat, F_LOOKUP), &cfg);
	assert_int_equal(cfg.nneeds, 1);

	/* without reader probes, a rule asking for a shared hold goes too */
	engine_probe_missing(fx->eng, VL_PROBE_READERS, "gone");
	assert_false(engine_rule_checked(fx->eng, lk, &note));
	assert_non_null(strstr(note, "reader holds"));
}

static uint64_t checks_of(struct fixture *fx, const char *id)
{
	const struct vl_rule *r = rules_find(fx->rs, id);

	assert_non_null(r);
	return engine_rule_checks(fx->eng, r);
}

/*
 * Calls the kernel's filter found compliant count as checks of the rules it
 * judged for them: entry counts for rules on the state at entry, return
 * counts for the rules on what a method leaves, none for "may not block in
 * rcu-walk mode" (the filter does not say which mode a call was in).
 */
static void test_calls_met_count_as_checks(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(checks_of(fx, "inode_operations.lookup.i_rwsem"), 0);
	engine_count_met(fx->eng, catalog_get(&fx->cat, F_LOOKUP), 7, 0);
	assert_int_equal(checks_of(fx, "inode_operations.lookup.i_rwsem"), 7);

	engine_count_met(fx->eng, catalog_get(&fx->cat, F_WRITE_BEGIN), 5, 3);
	assert_int_equal(checks_of(fx, "address_space_operations.write_begin.folio_lock"), 3);

	engine_count_met(fx->eng, catalog_get(&fx->cat, F_D_DELETE), 4, 0);
	assert_int_equal(checks_of(fx, "dentry_operations.d_delete.d_lock"), 4);
	assert_int_equal(checks_of(fx, "dentry_operations.d_delete.may_block"), 4);

	engine_count_met(fx->eng, catalog_get(&fx->cat, F_PERMISSION), 9, 0);
	assert_int_equal(checks_of(fx, "inode_operations.permission.may_block.rcu_walk"), 0);
	/* counted for the rule, not as checks made in vfslock */
	assert_int_equal(engine_stats(fx->eng)->checks, 0);
}

static void test_reconstruction(void **state)
{
	struct fixture *fx = *state;
	const struct vl_task *t;

	TAKE(fx, DIR1, VL_MODE_SHARED);
	TAKE(fx, DIR1, VL_MODE_SHARED);		/* recursive read */
	TAKE(fx, DIR2, VL_MODE_EXCL);
	t = lockstate_task(fx->p.ls, TID);
	assert_int_equal(t->nholds, 2);
	assert_int_equal(lockstate_held(t, VL_LOCK_I_RWSEM, DIR1), VL_MODE_SHARED);
	DROP(fx, DIR1, VL_MODE_SHARED);
	assert_int_equal(lockstate_held(t, VL_LOCK_I_RWSEM, DIR1), VL_MODE_SHARED);
	DROP(fx, DIR1, VL_MODE_SHARED);
	assert_int_equal(lockstate_held(t, VL_LOCK_I_RWSEM, DIR1), VL_MODE_NONE);
	lock(fx, TID, DIR2, VL_OP_DOWNGRADE, VL_MODE_SHARED);
	assert_int_equal(lockstate_held(t, VL_LOCK_I_RWSEM, DIR2), VL_MODE_SHARED);
	DROP(fx, DIR2, VL_MODE_SHARED);
	DROP(fx, FILE1, VL_MODE_EXCL);		/* never taken */
	assert_int_equal(lockstate_stats(fx->p.ls)->unmatched_releases, 1);

	/* a child is complete from birth; an exit with locks held is counted */
	{
		struct vl_ev_task e = { 0 };

		hdr(fx, &e.hdr, VL_EV_TASK_FORK, sizeof(e), TID);
		e.child_tid = 200;
		e.child_tgid = 200;
		assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
		assert_true(lockstate_task(fx->p.ls, 200)->complete);
		lock(fx, 200, DIR1, VL_OP_ACQUIRE, VL_MODE_EXCL);
		hdr(fx, &e.hdr, VL_EV_TASK_EXIT, sizeof(e), 200);
		assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
		assert_null(lockstate_task(fx->p.ls, 200));
		assert_int_equal(lockstate_stats(fx->p.ls)->exits_holding, 1);
	}
}

static void test_malformed_records(void **state)
{
	struct fixture *fx = *state;
	struct vl_ev_lock e = { 0 };
	char big[256] = { 0 };

	hdr(fx, &e.hdr, VL_EV_LOCK, sizeof(e), TID);
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e) - 1), -EINVAL);
	e.hdr.size = 8;
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), -EINVAL);
	assert_int_equal(fx->p.st.bad, 2);
	/* a record type from a newer producer is stepped over, not an error */
	hdr(fx, (struct vl_ev_hdr *)big, 99, sizeof(big), TID);
	assert_int_equal(pipeline_feed(&fx->p, big, sizeof(big)), 0);
	assert_int_equal(fx->p.st.bad, 2);
}

/*
 * The kernel sends only calls its filter finds suspect, so the filter must
 * never pass a call the engine would flag. Thousands of generated calls to
 * each method, every mix of held modes, object types, flags and parents:
 * when all the compiled needs are met, the engine must find nothing.
 */
static void test_filter_never_hides_a_deviation(void **state)
{
	struct fixture *fx = *state;
	static const int fns[] = { F_LOOKUP, F_RENAME, F_UNLINK, F_ATOMIC_OPEN, F_MKDIR,
				   F_SYNC_FS, F_DROP_INODE, F_D_DELETE, F_READ_FOLIO,
				   F_WRITE_BEGIN, F_MIGRATE };
	static const uint64_t pool[] = { DIR1, DIR2, FILE1, FILE2, SUBDIR };
	uint64_t rnd = 0x9e3779b97f4a7c15ull;
	int k, n, i, suspects = 0, flagged = 0;

#define NEXT() (rnd = rnd * 6364136223846793005ull + 1442695040888963407ull, rnd >> 33)
	for (k = 0; k < (int)ARRAY_SIZE(fns); k++) {
		const struct vl_fn *f = catalog_get(&fx->cat, fns[k]);
		struct vl_method_cfg cfg;

		engine_method_cfg(fx->eng, f, &cfg);
		for (n = 0; n < 3000; n++) {
			struct vl_ev_method e;
			uint64_t args[6] = { 0 };
			struct objspec o[6] = { { 0 } };
			bool suspect = false;
			int before = fx->seen.n;

			memset(&e, 0, sizeof(e));
			for (i = 0; i < f->nargs; i++) {
				if (f->arg_kind[i] == VL_ARG_SCALAR) {
					args[i] = NEXT() & 1 ? O_CREAT : 0;
					args[i] |= NEXT() & 1 ? 2 /* RENAME_EXCHANGE */ : 0;
					continue;
				}
				if (f->arg_kind[i] != VL_ARG_INODE && NEXT() % 3 == 0)
					continue;	/* negative dentry */
				o[i].inode = pool[NEXT() % ARRAY_SIZE(pool)];
				o[i].mode = f->arg_kind[i] == VL_ARG_INODE || NEXT() & 1 ? S_IFDIR
											   : S_IFREG;
				o[i].held = NEXT() % 3;
			}
			/* one object, one state: the same inode twice is held alike */
			for (i = 0; i < f->nargs; i++) {
				int j;

				for (j = 0; j < i; j++)
					if (o[j].inode && o[j].inode == o[i].inode)
						o[i] = o[j];
			}
			/* the rebuilt holds agree with the lock words */
			for (i = 0; i < f->nargs; i++) {
				int j;

				for (j = 0; j < i && o[j].inode != o[i].inode; j++)
					;
				if (o[i].inode && o[i].held && j == i)
					TAKE(fx, o[i].inode, o[i].held);
			}
			for (i = 0; i < f->nargs; i++) {
				e.args[i] = args[i];
				e.obj[i].inode = o[i].inode;
				e.obj[i].held = o[i].held;
			}
			/* locks read by the kernel: any state, or no object */
			for (i = 0; i < VL_MAX_NEEDS; i++) {
				int v = NEXT() % 4;

				fx->need_held[i] = v == 3 ? VL_HELD_NA : v;
				e.need_held[i] = fx->need_held[i];
			}
			for (i = 0; i < cfg.nneeds; i++)
				suspect |= vl_need_unmet(&e, &cfg.need[i], i);
			call(fx, TID, fns[k], args, o, suspect ? VL_MF_SUSPECT : 0);
			suspects += suspect;
			flagged += fx->seen.n > before;
			if (!suspect && fx->seen.n > before)
				fail_msg("%s: the filter passed a call the engine flags (%s)",
					 f->name, fx->seen.ids[before]);
			fx->seen.n = 0;
			for (i = 0; i < f->nargs; i++) {
				int j;

				for (j = 0; j < i && o[j].inode != o[i].inode; j++)
					;
				if (o[i].inode && o[i].held && j == i)
					DROP(fx, o[i].inode, o[i].held);
			}
		}
	}
#undef NEXT
	/* the generator reaches both sides, or the test proves nothing */
	assert_true(suspects > 1000);
	assert_true(flagged > 500);
	assert_true(flagged <= suspects);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlink_and_victim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_open_condition, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_word_for_unknown_tasks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers_only_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helper_calls_fold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_filter_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locks_read_by_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_and_rcu_walk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_at_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cross_dir_rename_mutex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calls_met_count_as_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconstruction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_never_hides_a_deviation, setup, teardown),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
