// SPDX-License-Identifier: GPL-2.0
/*
 * The aggregates behind `vfslock top`, fed generated contention, name and
 * lock records through the pipeline: what each view and snapshot shows.
 */
#include <errno.h>

#include "unit.h"

#include "agg.h"
#include "catalog.h"
#include "engine.h"
#include "pipeline.h"
#include "top_view.h"

#define DIR_INODE	0xffff888000100000ULL
#define DIR_RWSEM	(DIR_INODE + 0xa0)
#define SPIN		0xffff888000200000ULL
#define DEV		((8U << 20) | 1)

struct fixture {
	struct vl_mounts mounts;
	struct vl_agg *agg;
	struct vl_pipeline p;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct vl_sink sink;

	fx->mounts.n = 1;
	fx->mounts.v = calloc(1, sizeof(*fx->mounts.v));
	fx->mounts.v[0].mnt = strdup("/mnt/tmp");
	fx->mounts.v[0].fstype = strdup("tmpfs");
	fx->mounts.v[0].dev = DEV;
	fx->agg = agg_new(&fx->mounts, NULL);
	pipeline_init(&fx->p, NULL);
	sink = agg_sink(fx->agg);
	pipeline_add_sink(&fx->p, &sink);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	pipeline_fini(&fx->p);
	agg_free(fx->agg);
	mounts_free(&fx->mounts);
	free(fx);
	return 0;
}

static void wait_rec(struct fixture *fx, uint32_t tid, const char *comm, uint64_t ts,
		     uint64_t lock, uint8_t cls, uint8_t mode, uint64_t ns, uint64_t caller)
{
	struct vl_ev_contend e;

	memset(&e, 0, sizeof(e));
	e.hdr.ts = ts;
	e.hdr.tid = tid;
	e.hdr.tgid = tid;
	e.hdr.type = VL_EV_CONTEND;
	e.hdr.size = sizeof(e);
	e.lock = lock;
	e.obj = cls == VL_LOCK_I_RWSEM ? DIR_INODE : 0;
	e.ino = cls == VL_LOCK_I_RWSEM ? 42 : 0;
	e.dev = cls == VL_LOCK_I_RWSEM ? DEV : 0;
	e.flags = mode == VL_MODE_SHARED ? VL_LCB_F_READ : VL_LCB_F_WRITE;
	e.cls = cls;
	e.mode = mode;
	e.wait_ns = ns;
	e.owner_tid = 7;
	e.owner_syscall = -1;
	e.owner_state = VL_TS_BLOCKED;
	snprintf(e.comm, sizeof(e.comm), "%s", comm);
	snprintf(e.owner_comm, sizeof(e.owner_comm), "holder");
	e.nstack = 1;
	e.stack[0] = caller;
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

static void name_rec(struct fixture *fx)
{
	struct vl_ev_objname e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = VL_EV_OBJ_NAME;
	e.hdr.size = sizeof(e);
	e.hdr.ts = 1;
	e.obj = DIR_INODE;
	e.ino = 42;
	e.dev = DEV;
	e.cls = VL_LOCK_I_RWSEM;
	/* leaf first, up to the root */
	snprintf(e.comp[0], VL_NAME_LEN, "d");
	snprintf(e.comp[1], VL_NAME_LEN, "fight");
	e.ncomp = 2;
	e.complete = 1;
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

static void lock_rec(struct fixture *fx, uint32_t tid, uint64_t ts, uint8_t op, uint8_t mode)
{
	struct vl_ev_lock e;

	memset(&e, 0, sizeof(e));
	e.hdr.ts = ts;
	e.hdr.tid = tid;
	e.hdr.tgid = tid;
	e.hdr.type = VL_EV_LOCK;
	e.hdr.size = sizeof(e);
	e.lock = DIR_RWSEM;
	e.inode = DIR_INODE;
	e.ino = 42;
	e.dev = DEV;
	e.cls = VL_LOCK_I_RWSEM;
	e.op = op;
	e.mode = mode;
	e.prim = op == VL_OP_ACQUIRE ? VL_PRIM_DOWN_WRITE : VL_PRIM_UP_WRITE;
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
}

/* Two tasks fight over one directory: its waits, holds and who did them. */
static void test_one_directory(void **state)
{
	struct fixture *fx = *state;
	struct vl_agg_lock *l;
	char buf[256];
	uint64_t hist = 0;
	int i;

	name_rec(fx);
	for (i = 0; i < 10; i++) {
		uint64_t t0 = 1000000 * (i + 1);

		/* 11 holds 300 us, 12 waits 200 us of it, then holds 100 us */
		lock_rec(fx, 11, t0, VL_OP_ACQUIRE, VL_MODE_EXCL);
		lock_rec(fx, 11, t0 + 300000, VL_OP_RELEASE, VL_MODE_EXCL);
		wait_rec(fx, 12, "b", t0 + 300000, DIR_RWSEM, VL_LOCK_I_RWSEM, VL_MODE_EXCL,
			 200000, 0x1000);
		lock_rec(fx, 12, t0 + 300000, VL_OP_ACQUIRE, VL_MODE_EXCL);
		lock_rec(fx, 12, t0 + 400000, VL_OP_RELEASE, VL_MODE_EXCL);
	}
	wait_rec(fx, 11, "a", 20000000, DIR_RWSEM, VL_LOCK_I_RWSEM, VL_MODE_SHARED, 5000, 0x2000);

	l = agg_lock(fx->agg, DIR_RWSEM);
	assert_non_null(l);
	assert_int_equal(l->cls, VL_LOCK_I_RWSEM);
	assert_int_equal(l->wait[1].n, 10);
	assert_int_equal(l->wait[1].total, 2000000);
	assert_int_equal(l->wait[0].n, 1);
	assert_int_equal(l->wait[0].max, 5000);
	assert_int_equal(l->hold[1].n, 20);
	assert_int_equal(l->hold[1].total, 10 * 300000 + 10 * 100000);
	assert_int_equal(l->hold[1].max, 300000);
	for (i = 0; i < VL_HIST_BUCKETS; i++)
		hist += l->wait_hist.b[i];
	assert_int_equal(hist, 11);
	/* 200 us is in [2^17, 2^18) ns */
	assert_int_equal(l->wait_hist.b[17], 10);
	assert_int_equal(l->waiters[0].tid, 12);
	assert_int_equal(l->waiters[0].t.total, 2000000);
	assert_int_equal(l->waiters[1].tid, 11);
	assert_int_equal(l->holders[0].tid, 11);
	assert_int_equal(l->holders[0].t.total, 3000000);
	assert_int_equal(l->holders[1].t.total, 1000000);
	assert_string_equal(agg_lock_path(fx->agg, l, buf, sizeof(buf)), "/mnt/tmp/fight/d");
	assert_string_equal(agg_lock_name(fx->agg, l, buf, sizeof(buf)),
			    "/mnt/tmp/fight/d (tmpfs 8:1 ino 42)");
	assert_int_equal(agg_totals(fx->agg)->waits, 11);
	assert_int_equal(agg_totals(fx->agg)->holds, 20);
}

/* Views: filter, sort, and the tasks' own sums. */
static void test_views(void **state)
{
	struct fixture *fx = *state;
	struct top_filter f = { .cls = -1 };
	struct top_table t;

	name_rec(fx);
	wait_rec(fx, 11, "a", 10, DIR_RWSEM, VL_LOCK_I_RWSEM, VL_MODE_EXCL, 1000, 0x1000);
	wait_rec(fx, 12, "b", 20, SPIN, VL_LOCK_NONE, VL_MODE_EXCL, 50000, 0x3000);
	wait_rec(fx, 12, "b", 30, SPIN, VL_LOCK_NONE, VL_MODE_EXCL, 50000, 0x3000);

	top_table_build(&t, TV_LOCKS, fx->agg, NULL, &f, 2);
	assert_int_equal(t.nrows, 2);
	/* sorted by total wait, largest first */
	assert_string_equal(t.rows[0].cell[0], "other");
	assert_string_equal(t.rows[0].cell[1], "2");
	assert_string_equal(t.rows[1].cell[0], "i_rwsem");
	assert_string_equal(t.rows[1].cell[6], "/mnt/tmp/fight/d");
	top_table_free(&t);

	assert_int_equal(top_filter_parse(&f, "class=i_rwsem"), 0);
	top_table_build(&t, TV_LOCKS, fx->agg, NULL, &f, 2);
	assert_int_equal(t.nrows, 1);
	assert_int_equal(t.rows[0].key, DIR_RWSEM);
	top_table_free(&t);

	assert_int_equal(top_filter_parse(&f, ""), 0);
	assert_int_equal(top_filter_parse(&f, "fs=ext4"), 0);
	top_table_build(&t, TV_LOCKS, fx->agg, NULL, &f, 2);
	assert_int_equal(t.nrows, 0);
	top_table_free(&t);

	assert_int_equal(top_filter_parse(&f, ""), 0);
	assert_int_equal(top_filter_parse(&f, "comm=b"), 0);
	top_table_build(&t, TV_TASKS, fx->agg, NULL, &f, 3);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(t.rows[0].cell[2], "2");
	assert_string_equal(t.rows[0].cell[3], "100.0us");
	top_table_free(&t);

	/* the sites view: one row per caller and class, reads apart */
	assert_int_equal(top_filter_parse(&f, ""), 0);
	top_table_build(&t, TV_SITES, fx->agg, NULL, &f, 3);
	assert_int_equal(t.nrows, 2);
	assert_string_equal(t.rows[0].cell[1], "2");
	top_table_free(&t);

	assert_int_equal(top_filter_parse(&f, "colour=red"), -EINVAL);
	assert_int_equal(top_filter_parse(&f, "pid=x"), -EINVAL);
	assert_int_equal(top_filter_parse(&f, "class=nosuch"), -EINVAL);
}

/* A task beyond the kept waiters takes the least busy one's place, from zero. */
static void test_busiest_waiters_kept(void **state)
{
	struct fixture *fx = *state;
	struct vl_agg_lock *l;
	int i, seen = 0;

	for (i = 0; i < VL_AGG_WHO; i++)
		wait_rec(fx, 100 + i, "w", 10 + i, SPIN, VL_LOCK_NONE, VL_MODE_EXCL,
			 1000 * (i + 1), 0x1000);
	wait_rec(fx, 500, "late", 100, SPIN, VL_LOCK_NONE, VL_MODE_EXCL, 7, 0x1000);
	l = agg_lock(fx->agg, SPIN);
	for (i = 0; i < VL_AGG_WHO; i++) {
		assert_int_not_equal(l->waiters[i].tid, 100);	/* the least busy went */
		if (l->waiters[i].tid == 500) {
			assert_int_equal(l->waiters[i].t.total, 7);
			seen = 1;
		}
	}
	assert_true(seen);
}

/* A hold ending keeps the task's process: `top -p PID` matches threads by it. */
static void test_task_keeps_tgid(void **state)
{
	struct fixture *fx = *state;
	struct vl_agg_task **tasks;
	int i, n, seen = 0;

	wait_rec(fx, 12, "w", 10, DIR_RWSEM, VL_LOCK_I_RWSEM, VL_MODE_EXCL, 500, 0x1000);
	lock_rec(fx, 12, 20, VL_OP_ACQUIRE, VL_MODE_EXCL);
	lock_rec(fx, 12, 30, VL_OP_RELEASE, VL_MODE_EXCL);
	n = agg_tasks(fx->agg, &tasks);
	for (i = 0; i < n; i++) {
		if (tasks[i]->tid != 12)
			continue;
		assert_int_equal(tasks[i]->tgid, 12);
		assert_int_equal(tasks[i]->hold.n, 1);
		seen = 1;
	}
	free(tasks);
	assert_true(seen);
}

/* Locks only held, never waited for, are let go past the bound; the others stay. */
static void test_hold_only_bounded(void **state)
{
	struct fixture *fx = *state;
	struct vl_ev_lock e;
	uint64_t i;

	wait_rec(fx, 11, "a", 1, DIR_RWSEM, VL_LOCK_I_RWSEM, VL_MODE_EXCL, 1000, 0x1000);
	memset(&e, 0, sizeof(e));
	e.hdr.tid = 12;
	e.hdr.type = VL_EV_LOCK;
	e.hdr.size = sizeof(e);
	e.cls = VL_LOCK_I_RWSEM;
	e.mode = VL_MODE_EXCL;
	for (i = 0; i < VL_AGG_MAX_LOCKS + 10; i++) {
		e.lock = 0xffff888010000000ULL + i * 0x100;
		e.hdr.ts = 10 + 2 * i;
		e.op = VL_OP_ACQUIRE;
		assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
		e.hdr.ts++;
		e.op = VL_OP_RELEASE;
		assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), 0);
	}
	assert_int_equal(agg_totals(fx->agg)->holds, VL_AGG_MAX_LOCKS + 10);
	assert_int_equal(agg_totals(fx->agg)->hold_only_dropped, VL_AGG_MAX_LOCKS - 1);
	assert_non_null(agg_lock(fx->agg, DIR_RWSEM));
	assert_null(agg_lock(fx->agg, 0xffff888010000000ULL));
	assert_non_null(agg_lock(fx->agg, 0xffff888010000000ULL + (VL_AGG_MAX_LOCKS + 9) * 0x100));
}

/* Deviations: the latest VL_AGG_DEV_KEEP, oldest first, and a count per rule. */
static void test_deviations_kept(void **state)
{
	struct fixture *fx = *state;
	struct vl_sink sink = agg_sink(fx->agg);
	struct vl_rule r1 = { .id = "inode_operations.lookup.i_rwsem", .text = "shared" };
	struct vl_rule r2 = { .id = "dentry_operations.d_hash.may_block", .text = "no" };
	struct vl_fn fn = { .name = "shmem_lookup" };
	struct vl_agg_dev d[VL_AGG_DEV_KEEP];
	struct vl_ev_method ev;
	struct top_filter f = { .cls = -1 };
	struct top_table t;
	int i, n;

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.comm, sizeof(ev.comm), "mkdir");
	for (i = 0; i < VL_AGG_DEV_KEEP + 6; i++) {
		struct vl_deviation dv = { .rule = i % 2 ? &r2 : &r1, .fn = &fn, .ev = &ev };

		ev.hdr.ts = 1000 + i;
		ev.hdr.tid = 100 + i;
		sink.on_deviation(sink.ctx, &dv);
	}
	n = agg_deviations(fx->agg, d);
	assert_int_equal(n, VL_AGG_DEV_KEEP);
	assert_int_equal(d[0].tid, 106);
	assert_int_equal(d[n - 1].tid, 100 + VL_AGG_DEV_KEEP + 5);
	assert_string_equal(d[0].method, "shmem_lookup");
	assert_int_equal(agg_totals(fx->agg)->deviations, VL_AGG_DEV_KEEP + 6);
	assert_int_equal(agg_rule_deviations(fx->agg, r1.id), (VL_AGG_DEV_KEEP + 6) / 2);
	assert_int_equal(agg_rule_deviations(fx->agg, "nosuch"), 0);

	/* the view shows the newest first, and filters by pid */
	top_table_build(&t, TV_DEVS, fx->agg, NULL, &f, -1);
	assert_int_equal(t.nrows, VL_AGG_DEV_KEEP);
	assert_string_equal(t.rows[0].cell[1], "169");
	top_table_free(&t);
	assert_int_equal(top_filter_parse(&f, "pid=150"), 0);
	top_table_build(&t, TV_DEVS, fx->agg, NULL, &f, -1);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(t.rows[0].cell[4], "inode_operations.lookup.i_rwsem");
	top_table_free(&t);
}

/*
 * Call sites with symbols: lock and scheduler frames are passed over, and
 * two return addresses in one function are one site.
 */
static void test_sites_by_function(void **state)
{
	struct fixture *fx = *state;
	char path[] = "/tmp/vl-test-kallsyms.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct vl_agg *a;
	struct vl_pipeline p;
	struct vl_sink sink;
	struct vl_ev_contend e;
	struct top_filter flt = { .cls = -1 };
	struct top_table t;
	struct ksyms *ks;
	int i;

	fprintf(f, "ffffffff81000000 T rwsem_down_write_slowpath\n"
		   "ffffffff81000400 T down_write\n"
		   "ffffffff81001000 T path_openat\n"
		   "ffffffff81002000 T do_filp_open\n");
	fclose(f);
	ks = ksyms__load(path);
	unlink(path);
	assert_non_null(ks);
	a = agg_new(&fx->mounts, ks);
	pipeline_init(&p, NULL);
	sink = agg_sink(a);
	pipeline_add_sink(&p, &sink);
	for (i = 0; i < 2; i++) {
		memset(&e, 0, sizeof(e));
		e.hdr.type = VL_EV_CONTEND;
		e.hdr.size = sizeof(e);
		e.hdr.tid = 5;
		e.lock = SPIN;
		e.mode = VL_MODE_EXCL;
		e.wait_ns = 100;
		e.stack[0] = 0xffffffff81000010ULL;		/* rwsem_down_write_slowpath */
		e.stack[1] = 0xffffffff81000410ULL;		/* down_write */
		e.stack[2] = 0xffffffff81001010ULL + i * 0x100;	/* path_openat, two places */
		e.stack[3] = 0xffffffff81002010ULL;
		e.nstack = 4;
		assert_int_equal(pipeline_feed(&p, &e, sizeof(e)), 0);
	}
	top_table_build(&t, TV_SITES, a, NULL, &flt, 3);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(t.rows[0].cell[6], "path_openat");
	assert_string_equal(t.rows[0].cell[1], "2");
	top_table_free(&t);
	top_table_build(&t, TV_LOCKS, a, NULL, &flt, 2);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(t.rows[0].cell[6], "path_openat");
	top_table_free(&t);
	pipeline_fini(&p);
	agg_free(a);
	ksyms__free(ks);
}

/* A snapshot's JSON carries the same figures. */
static void test_snapshot_json(void **state)
{
	struct fixture *fx = *state;
	struct top_status st = { .kernel = "6.1", .mode = "contention" };
	struct top_filter f = { .cls = -1 };
	json_object *o, *locks, *l, *w;

	name_rec(fx);
	wait_rec(fx, 11, "a", 10, DIR_RWSEM, VL_LOCK_I_RWSEM, VL_MODE_EXCL, 3000, 0x1000);
	o = top_snapshot_json(&st, fx->agg, NULL, &f);
	assert_true(json_object_object_get_ex(o, "locks", &locks));
	assert_int_equal(json_object_array_length(locks), 1);
	l = json_object_array_get_idx(locks, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(l, "path")),
			    "/mnt/tmp/fight/d");
	assert_string_equal(json_object_get_string(json_object_object_get(l, "fstype")), "tmpfs");
	w = json_object_object_get(l, "wait_write");
	assert_int_equal(json_object_get_int64(json_object_object_get(w, "total_ns")), 3000);
	assert_string_equal(json_object_get_string(json_object_object_get(
		json_object_object_get(l, "owner"), "state")), "blocked");
	json_object_put(o);
}

/* A short contention record is refused and counted, as any malformed one. */
static void test_truncated(void **state)
{
	struct fixture *fx = *state;
	struct vl_ev_contend e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = VL_EV_CONTEND;
	e.hdr.size = sizeof(e) - 8;
	assert_int_equal(pipeline_feed(&fx->p, &e, sizeof(e)), -EINVAL);
	assert_int_equal(fx->p.st.bad, 1);
	assert_int_equal(agg_totals(fx->agg)->waits, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busiest_waiters_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_keeps_tgid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_only_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deviations_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sites_by_function, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
	};

	return cmocka_run_group_tests_name("agg", tests, NULL, NULL);
}
