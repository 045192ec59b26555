// SPDX-License-Identifier: GPL-2.0
/*
 * Seeds for tests/fuzz/fuzz_trace.c: small traces with a META context of
 * two traced methods and records of every type, written by the real writer.
 * Usage: mkseed DIR
 */
#include <stdio.h>
#include <string.h>

#include "session.h"
#include "trace.h"
#include "util.h"

static void seed(const char *dir, const char *name, bool with_records, bool end, int zlevel)
{
	struct vl_session s = { 0 };
	struct vl_trace_writer *w;
	char path[512], err[256], *meta;
	static const char ksyms[] =
		"ffffffff81000000 T simple_lookup\nffffffff81000100 T shmem_mknod\n"
		"ffffffff81000200 T down_write\nffffffff81000300 T do_unlinkat\n";
	struct vl_fn *f;
	uint64_t ts = 1000;
	int i;

	snprintf(s.kernel, sizeof(s.kernel), "6.1.0-test");
	snprintf(s.mode, sizeof(s.mode), "check+contention");
	s.lock_events = VL_LOCK_EVENTS_ALL;
	s.all_calls = true;
	mounts_add(&s.mounts, "/mnt/tmp", "tmpfs", 0x16);
	f = catalog_add(&s.cat, 0xffffffff81000000ull, "simple_lookup", "");
	catalog_add_role(f, "inode_operations", "lookup");
	catalog_add_fstype(f, "tmpfs");
	f->nargs = 3;
	f->arg_kind[0] = VL_ARG_INODE;
	f->arg_kind[1] = VL_ARG_DENTRY;
	f = catalog_add(&s.cat, 0xffffffff81000100ull, "shmem_mknod", "");
	catalog_add_role(f, "inode_operations", "mknod");
	f->nargs = 4;
	f->arg_kind[0] = VL_ARG_INODE;
	f->arg_kind[1] = VL_ARG_DENTRY;
	s.traced = xcalloc(VL_CATALOG_MAX, 1);
	s.traced[0] = s.traced[1] = 1;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	w = trace_writer_open(path, 0, zlevel, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	meta = session_meta_json(&s);
	trace_write_meta(w, VL_BLK_META, meta, strlen(meta));
	trace_write_meta(w, VL_BLK_KSYMS, ksyms, strlen(ksyms));
	free(meta);
	for (i = 0; with_records && i < 24; i++) {
		struct vl_ev_hdr h = { .ts = ts += 1000, .task = 0xffff888000001000ull, .tid = 7,
				       .tgid = 7, .cpu = 1 };
		struct vl_ev_lock l = { .hdr = h, .lock = 0xffff888100000070ull,
					.inode = 0xffff888100000000ull, .ino = 12, .dev = 0x16,
					.cls = VL_LOCK_I_RWSEM, .mode = VL_MODE_EXCL,
					.prim = VL_PRIM_DOWN_WRITE };
		struct vl_ev_method m = { .hdr = h, .ip = 0xffffffff81000000ull + 0x100 * (i & 1),
					  .attach_id = i & 1, .nstack = 2,
					  .flags = VL_MF_STACK | (i % 3 ? 0 : VL_MF_SUSPECT) };
		struct vl_ev_contend c = { .hdr = h, .lock = l.lock, .obj = l.inode, .ino = 12,
					   .wait_ns = 5000, .owner = h.task, .dev = 0x16,
					   .flags = VL_LCB_F_WRITE, .owner_tid = 8,
					   .cls = VL_LOCK_I_RWSEM, .mode = VL_MODE_EXCL, .nstack = 3,
					   .stack = { 0xffffffff81000210ull, 0xffffffff81000310ull } };
		struct vl_ev_objname n = { .hdr = h, .obj = l.inode, .ino = 12, .dev = 0x16,
					   .cls = VL_LOCK_I_RWSEM, .ncomp = 2, .complete = 1,
					   .comp = { "fight", "x" } };
		struct vl_ev_task t = { .hdr = h, .child_tid = 9, .child_tgid = 9, .comm = "child" };
		struct vl_ev_lost lost = { .hdr = h, .lost = 3, .lost_lock = 1, .since = ts - 500 };
		struct vl_ev_stats st = { .hdr = h, .nstat = VL_STAT_MAX, .v = { 100, 3 } };

		l.hdr.type = VL_EV_LOCK;
		l.hdr.size = sizeof(l);
		l.op = i % 2 ? VL_OP_RELEASE : VL_OP_ACQUIRE;
		trace_write_record(w, &l, sizeof(l));
		m.hdr.type = i % 4 == 3 ? VL_EV_METHOD_EXIT : VL_EV_METHOD_ENTER;
		m.hdr.size = VL_METHOD_EV_SIZE_NOSTACK + 2 * sizeof(uint64_t);
		m.args[0] = l.inode;
		m.obj[0] = (struct vl_obj){ .inode = l.inode, .sb = 0xffff888200000000ull,
					    .ino = 12, .rwsem_owner = h.task, .dev = 0x16,
					    .mode = 040755, .held = VL_MODE_EXCL, .present = 1 };
		m.stack[0] = 0xffffffff81000310ull;
		strcpy(m.comm, "stress-ng");
		trace_write_record(w, &m, m.hdr.size);
		c.hdr.type = VL_EV_CONTEND;
		c.hdr.size = sizeof(c);
		strcpy(c.comm, "waiter");
		if (i % 6 == 0)
			trace_write_record(w, &c, sizeof(c));
		n.hdr.type = VL_EV_OBJ_NAME;
		n.hdr.size = sizeof(n);
		if (i == 1)
			trace_write_record(w, &n, sizeof(n));
		t.hdr.type = i == 2 ? VL_EV_TASK_FORK : VL_EV_TASK_EXIT;
		t.hdr.size = sizeof(t);
		if (i == 2 || i == 20)
			trace_write_record(w, &t, sizeof(t));
		lost.hdr.type = VL_EV_LOST;
		lost.hdr.size = sizeof(lost);
		st.hdr.type = VL_EV_STATS;
		st.hdr.size = sizeof(st);
		if (i == 10) {
			trace_write_record(w, &lost, sizeof(lost));
			trace_write_record(w, &st, sizeof(st));
		}
		if (i == 12)
			trace_flush(w);
	}
	if (trace_writer_close(w, end ? "{\"stopped\": \"test\"}" : NULL, NULL)) {
		fprintf(stderr, "%s: write failed\n", path);
		exit(1);
	}
	session_free(&s);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkseed DIR\n");
		return 2;
	}
	/* uncompressed ones give mutations a grip; one compressed keeps zstd's path in */
	seed(argv[1], "records.vlt", true, true, -1);
	seed(argv[1], "cut.vlt", true, false, -1);
	seed(argv[1], "empty.vlt", false, true, -1);
	seed(argv[1], "zstd.vlt", true, true, 3);
	return 0;
}
