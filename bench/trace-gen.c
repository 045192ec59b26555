// SPDX-License-Identifier: GPL-2.0
/*
 * bench/trace-gen: a large trace for the offline benchmark (bench/offline),
 * written by the recorder's own writer. Tasks create entries in directories
 * as a metadata mix does: i_rwsem taken, ->mknod or ->lookup called under
 * it (the lock word says held, as the kernel reads it), i_rwsem released;
 * now and then a wait for the lock. The rules are the embedded 6.1 copy,
 * the catalog two tmpfs methods, so `check --replay` judges every call.
 *
 * Usage: trace-gen FILE EVENTS [locks|mix|faults|faults2]
 *   mix   (default) the proportions of tests/record's stress-ng recording:
 *         about 58% lock records, 42% method calls
 *   locks only lock records and waits: what --lock-events all adds
 *   faults  the mix, with every 1000th ->mknod made on a directory whose
 *         i_rwsem nobody holds: a deviation check --replay must find
 *   faults2 the same, and every 1000th ->lookup too: a second deviation
 *   (the fault modes carry a symbol snapshot of the two methods alone, so
 *   that their reports do not depend on the machine that wrote them)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "trace.h"
#include "util.h"

#define NTASKS	8
#define NDIRS	64

int main(int argc, char **argv)
{
	struct vl_session s = { 0 };
	struct vl_trace_writer *w;
	struct vl_trace_wstats ws;
	uint64_t n, i = 0, ts = 1000000000ull;
	char err[256], *meta, *ksyms;
	bool methods, faults, faults2;
	uint64_t ncalls[2] = { 0 };	/* of each method: which ones break a rule */
	struct vl_fn *f;
	size_t klen;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: trace-gen FILE EVENTS [locks|mix|faults|faults2]\n");
		return 2;
	}
	n = strtoull(argv[2], NULL, 10);
	methods = argc < 4 || strcmp(argv[3], "locks");
	faults2 = argc == 4 && !strcmp(argv[3], "faults2");
	faults = faults2 || (argc == 4 && !strcmp(argv[3], "faults"));
	s.rs = rules_open("6.1", err, sizeof(err));
	if (!s.rs) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	snprintf(s.kernel, sizeof(s.kernel), "6.1.0-bench");
	snprintf(s.mode, sizeof(s.mode), "check+contention");
	snprintf(s.rec_rules, sizeof(s.rec_rules), "%s", s.rs->source);
	s.lock_events = VL_LOCK_EVENTS_ALL;
	s.all_calls = true;
	mounts_add(&s.mounts, "/mnt/tmp", "tmpfs", 0x16);
	f = catalog_add(&s.cat, 0xffffffff81300000ull, "shmem_mknod", "");
	catalog_add_role(f, "inode_operations", "mknod");
	catalog_add_fstype(f, "tmpfs");
	f->nargs = 5;
	f->arg_kind[1] = VL_ARG_INODE;
	f->arg_kind[2] = VL_ARG_DENTRY;
	f = catalog_add(&s.cat, 0xffffffff81300400ull, "simple_lookup", "");
	catalog_add_role(f, "inode_operations", "lookup");
	catalog_add_fstype(f, "tmpfs");
	f->nargs = 3;
	f->arg_kind[0] = VL_ARG_INODE;
	f->arg_kind[1] = VL_ARG_DENTRY;
	s.traced = xcalloc(VL_CATALOG_MAX, 1);
	s.traced[0] = s.traced[1] = 1;
	if (faults) {
		ksyms = xstrdup("ffffffff81300000 T shmem_mknod\nffffffff81300400 T simple_lookup\n"
				"ffffffff81300800 T vfs_mknod\n");
		klen = strlen(ksyms);
	} else {
		ksyms = ksyms__snapshot(NULL, &klen);
	}

	w = trace_writer_open(argv[1], 0, 3, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	meta = session_meta_json(&s);
	trace_write_meta(w, VL_BLK_META, meta, strlen(meta));
	if (ksyms)
		trace_write_meta(w, VL_BLK_KSYMS, ksyms, klen);
	free(meta);
	free(ksyms);
	while (i < n) {
		uint32_t tid = 1000 + (i / 3) % NTASKS, d = (i * 2654435761u >> 7) % NDIRS;
		uint64_t task = 0xffff888004000000ull + tid * 0x2c80;
		uint64_t inode = 0xffff888120000000ull + d * 0x2d0;
		struct vl_ev_lock l = {
			.hdr = { .task = task, .tid = tid, .tgid = tid, .type = VL_EV_LOCK,
				 .size = sizeof(l), .cpu = tid & 1 },
			.lock = inode + 0x70, .inode = inode, .ino = 100 + d, .dev = 0x16,
			.cls = VL_LOCK_I_RWSEM, .mode = VL_MODE_EXCL, .prim = VL_PRIM_DOWN_WRITE,
		};

		l.hdr.ts = ts += 800 + (i % 7) * 40;
		l.op = VL_OP_ACQUIRE;
		trace_write_record(w, &l, sizeof(l));
		i++;
		if (methods && i < n) {
			struct vl_ev_method m = {
				.hdr = { .ts = ts += 600, .task = task, .tid = tid, .tgid = tid,
					 .size = VL_METHOD_EV_SIZE_NOSTACK, .cpu = tid & 1 },
				.attach_id = (i / 5) & 1,
			};
			int dir = m.attach_id ? 0 : 1;

			m.hdr.type = VL_EV_METHOD_ENTER;
			m.ip = s.cat.fns[m.attach_id].addr;
			m.args[dir] = inode;
			m.args[dir + 1] = 0xffff888130000000ull + (i % 4096) * 0xc0;
			m.obj[dir] = (struct vl_obj){ .inode = inode, .sb = 0xffff888110000000ull,
						      .ino = 100 + d, .rwsem_count = 1,
						      .rwsem_owner = task, .dev = 0x16,
						      .mode = 040755, .held = VL_MODE_EXCL,
						      .present = 1 };
			m.obj[dir + 1] = (struct vl_obj){ .sb = 0xffff888110000000ull, .present = 1 };
			if (faults && ncalls[dir]++ % 1000 == 7 && (dir == 1 || faults2)) {
				/* a directory of its own, whose lock nobody took */
				m.args[dir] = m.obj[dir].inode = inode + 0x10000000;
				m.obj[dir].rwsem_count = m.obj[dir].rwsem_owner = 0;
				m.obj[dir].held = VL_MODE_NONE;
			}
			memset(m.need_held, VL_HELD_NA, sizeof(m.need_held));
			snprintf(m.comm, sizeof(m.comm), "stress-ng-%u", tid % 4);
			trace_write_record(w, &m, m.hdr.size);
			i++;
		}
		if (i % 997 == 0 && i < n) {
			struct vl_ev_contend c = {
				.hdr = { .ts = ts += 300, .task = task, .tid = tid, .tgid = tid,
					 .type = VL_EV_CONTEND, .size = sizeof(c) },
				.lock = l.lock, .obj = inode, .ino = 100 + d, .wait_ns = 20000,
				.owner = task + 0x2c80, .dev = 0x16, .flags = VL_LCB_F_WRITE,
				.owner_tid = tid + 1, .cls = VL_LOCK_I_RWSEM, .mode = VL_MODE_EXCL,
			};

			snprintf(c.comm, sizeof(c.comm), "stress-ng-%u", tid % 4);
			trace_write_record(w, &c, sizeof(c));
			i++;
		}
		if (i < n) {
			l.hdr.ts = ts += 500;
			l.op = VL_OP_RELEASE;
			trace_write_record(w, &l, sizeof(l));
			i++;
		}
	}
	if (trace_writer_close(w, "{\"stopped\": \"generated\"}", &ws)) {
		fprintf(stderr, "%s: write failed\n", argv[1]);
		return 1;
	}
	printf("%s: %llu records, %llu bytes (%.2f per record), %llu raw\n", argv[1],
	       (unsigned long long)ws.records, (unsigned long long)ws.bytes,
	       (double)ws.bytes / ws.records, (unsigned long long)ws.raw_bytes);
	session_free(&s);
	return 0;
}
