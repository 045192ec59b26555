// SPDX-License-Identifier: GPL-2.0
/*
 * A recording's context and its losses, read back: the META block rebuilds
 * the catalog, mounts and rules it was written from, lost-record and
 * counter records reach the result with their counts and times, and a
 * replay's result is the live one.
 */
#include "unit.h"

#include <errno.h>

#include <json-c/json.h>

#include "replay.h"
#include "session.h"
#include "trace.h"
#include "util.h"



/* The context of a small recording: rules of 6.1, one traced method, one mount. */
static void context(struct vl_session *s)
{
	char err[256];
	struct vl_fn *f;

	s->rs = rules_open("6.1", err, sizeof(err));
	assert_non_null(s->rs);
	snprintf(s->kernel, sizeof(s->kernel), "6.1.0-test");
	snprintf(s->mode, sizeof(s->mode), "check+contention");
	snprintf(s->rec_rules, sizeof(s->rec_rules), "%s", s->rs->source);
	s->lock_events = VL_LOCK_EVENTS_ALL;
	s->all_calls = true;
	mounts_add(&s->mounts, "/mnt/tmp", "tmpfs", 0x16);
	f = catalog_add(&s->cat, 0xffffffff81300000ull, "shmem_mknod", "");
	catalog_add_role(f, "inode_operations", "mknod");
	catalog_add_fstype(f, "tmpfs");
	f->nargs = 4;
	f->arg_kind[0] = VL_ARG_INODE;
	f->arg_kind[1] = VL_ARG_DENTRY;
	s->traced = xcalloc(VL_CATALOG_MAX, 1);
	s->traced[0] = 1;
}

static void feed_both(struct vl_session *live, struct vl_trace_writer *w, const void *rec,
		      size_t size)
{
	assert_int_equal(trace_write_record(w, rec, size), 0);
	pipeline_feed(&live->pipe, rec, size);
}

static void test_meta_and_losses(void **state)
{
	struct vl_session live = { 0 }, off = { 0 };
	struct vl_replay r = { .s = &off };
	struct vl_trace_writer *w;
	char path[128], err[256], *meta;
	json_object *a, *b, *lost, *v;
	uint64_t ts = 5000000000ull;
	int i;

	context(&live);
	session_start(&live);
	snprintf(path, sizeof(path), "%s/s.vlt", unit_tmpdir());
	w = trace_writer_open(path, 0, 3, err, sizeof(err));
	assert_non_null(w);
	meta = session_meta_json(&live);
	assert_int_equal(trace_write_meta(w, VL_BLK_META, meta, strlen(meta)), 0);
	free(meta);
	for (i = 0; i < 100; i++) {
		struct vl_ev_lock l = {
			.hdr = { .ts = ts += 1000, .tid = 7, .tgid = 7, .type = VL_EV_LOCK,
				 .size = sizeof(l) },
			.lock = 0xffff888100000070ull, .inode = 0xffff888100000000ull, .ino = 12,
			.dev = 0x16, .cls = VL_LOCK_I_RWSEM, .op = i % 2 ? VL_OP_RELEASE : VL_OP_ACQUIRE,
			.mode = VL_MODE_EXCL, .prim = VL_PRIM_DOWN_WRITE,
		};

		feed_both(&live, w, &l, sizeof(l));
		if (i == 40 || i == 70) {
			struct vl_ev_lost x = {
				.hdr = { .ts = ts, .type = VL_EV_LOST, .size = sizeof(x) },
				.lost = 5 + i, .lost_lock = 5, .since = ts - 1000000,
			};
			struct vl_ev_stats st = {
				.hdr = { .ts = ts, .type = VL_EV_STATS, .size = sizeof(st) },
				.nstat = VL_STAT_MAX,
			};

			st.v[VL_STAT_CALLS_MET] = 1000 + i;
			feed_both(&live, w, &x, sizeof(x));
			feed_both(&live, w, &st, sizeof(st));
		}
	}
	assert_int_equal(trace_writer_close(w, "{}", NULL), 0);

	assert_int_equal(replay_run(&r, path, err, sizeof(err)), 0);
	assert_true(r.ended);
	assert_string_equal(r.damage, "");
	/* the context as it was written */
	assert_string_equal(off.kernel, "6.1.0-test");
	assert_string_equal(off.rec_rules, live.rs->source);
	assert_int_equal(off.rs->nrules, live.rs->nrules);
	assert_int_equal(off.mounts.n, 1);
	assert_string_equal(off.mounts.v[0].mnt, "/mnt/tmp");
	assert_int_equal(off.mounts.v[0].dev, 0x16);
	assert_int_equal(off.cat.nfns, 1);
	assert_string_equal(off.cat.fns[0].name, "shmem_mknod");
	assert_string_equal(off.cat.fns[0].roles[0].method, "mknod");
	assert_int_equal(off.cat.fns[0].arg_kind[1], VL_ARG_DENTRY);
	assert_true(off.traced[0]);
	assert_non_null(off.eng);
	/* the losses, counted with their episodes and times */
	assert_int_equal(off.pipe.st.lost, 45 + 75);
	assert_int_equal(off.pipe.st.lost_episodes, 2);
	assert_int_equal(off.pipe.st.kstats[VL_STAT_CALLS_MET], 1070);
	a = session_result_json(&live);
	b = session_result_json(&off);
	assert_true(json_object_object_get_ex(b, "lost", &lost));
	assert_true(json_object_object_get_ex(lost, "episodes", &v));
	assert_int_equal(json_object_get_int(v), 2);
	assert_true(json_object_object_get_ex(lost, "first_ts", &v));
	assert_true(json_object_get_uint64(v) > 5000000000ull);
	/* and the whole result is the live one */
	assert_string_equal(json_object_to_json_string(a), json_object_to_json_string(b));
	json_object_put(a);
	json_object_put(b);
	replay_free(&r);
	session_free(&off);
	session_free(&live);
}

/* A META block that lies gets an error naming what is wrong, not a crash. */
static void test_bad_meta(void **state)
{
	static const char *const bad[] = {
		"[1, 2]",
		"{\"kernel\": 5}",
		"{\"kernel\": \"x\", \"mode\": \"m\", \"lock_events\": \"all\", \"mounts\": [], "
		"\"catalog\": [{\"id\": 3}]}",
		"{\"kernel\": \"x\", \"mode\": \"m\", \"lock_events\": \"all\", \"mounts\": [], "
		"\"catalog\": [{\"id\": 0, \"name\": \"f\", \"module\": \"\", \"fstypes\": \"\", "
		"\"roles\": [[\"a\"]], \"arg_kind\": [], \"addr\": 1}]}",
	};
	static const char *const want[] = {
		"not a JSON object", "\"kernel\" missing or not string", "catalog[0]: \"name\"",
		"roles[0] is not a pair",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct vl_session s = { 0 };
		char err[256] = "";

		assert_int_equal(session_load_meta(&s, bad[i], strlen(bad[i]), err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, want[i]))
			fail_msg("META %zu: '%s' lacks '%s'", i, err, want[i]);
		session_free(&s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meta_and_losses),
		cmocka_unit_test(test_bad_meta),
	};

	return cmocka_run_group_tests_name("test_session", tests, tmpdir_setup, tmpdir_teardown);
}
