// SPDX-License-Identifier: GPL-2.0
/* Trace files: records back as written, damage read up to, rotation bounded. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include "trace.h"
#include "util.h"
#include "vfslock_abi.h"

#define NREC 20000

struct stream {
	uint8_t *buf;		/* records back to back */
	size_t len, cap;
	size_t *off;		/* where each starts */
	uint32_t n;
};


static void push(struct stream *s, const void *rec, size_t size)
{
	if (s->len + size > s->cap) {
		s->cap = (s->len + size) * 2;
		s->buf = xrealloc(s->buf, s->cap);
	}
	s->off = xrealloc(s->off, (s->n + 1) * sizeof(*s->off));
	s->off[s->n++] = s->len;
	memcpy(s->buf + s->len, rec, size);
	s->len += size;
}

static int collect(void *ctx, const void *rec, size_t size)
{
	push(ctx, rec, size);
	return 0;
}

static void stream_free(struct stream *s)
{
	free(s->buf);
	free(s->off);
	memset(s, 0, sizeof(*s));
}

/* A mix as the probes send it: locks mostly, method calls, waits, a stranger. */
static void make_records(struct stream *s, uint32_t n)
{
	uint64_t ts = 1000000000ull;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t tid = 100 + i % 7;

		ts += 1 + (i * 7919) % 5000;
		if (i % 10 < 7) {
			struct vl_ev_lock e = {
				.hdr = { .ts = ts, .task = 0xffff888000000000ull + tid * 0x1000,
					 .tid = tid, .tgid = 100, .type = VL_EV_LOCK,
					 .size = sizeof(e), .cpu = i % 2 },
				.lock = 0xffff888100000000ull + (i % 13) * 0x700, .ino = i % 13,
				.dev = 0x800001, .cls = VL_LOCK_I_RWSEM,
				.op = i % 2 ? VL_OP_RELEASE : VL_OP_ACQUIRE,
				.mode = VL_MODE_EXCL, .prim = VL_PRIM_DOWN_WRITE,
			};
			push(s, &e, sizeof(e));
		} else if (i % 10 < 9) {
			struct vl_ev_method m = {
				.hdr = { .ts = ts, .tid = tid, .tgid = 100, .type = VL_EV_METHOD_ENTER,
					 .size = VL_METHOD_EV_SIZE_NOSTACK },
				.ip = 0xffffffff81234560ull, .args = { i, i * 3 }, .attach_id = i % 40,
			};
			size_t size = VL_METHOD_EV_SIZE_NOSTACK;

			if (i % 100 == 8) {
				m.flags = VL_MF_STACK;
				m.nstack = 5;
				m.stack[0] = 0xffffffff81000000ull + i;
				m.hdr.size = size = sizeof(m);
			}
			snprintf(m.comm, sizeof(m.comm), "task%u", tid);
			push(s, &m, size);
		} else {
			/* a record type from a newer producer, of an odd size */
			uint8_t odd[37] = { 0 };
			struct vl_ev_hdr h = { .ts = ts, .tid = tid, .type = 99, .size = sizeof(odd) };

			memcpy(odd, &h, sizeof(h));
			odd[36] = i;
			push(s, odd, sizeof(odd));
		}
	}
}

static char *path_in(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", unit_tmpdir(), name);
	return buf;
}

static void write_trace(const char *path, const struct stream *s, uint64_t max_bytes,
			bool end)
{
	char err[256] = "";
	struct vl_trace_writer *w = trace_writer_open(path, max_bytes, 3, err, sizeof(err));
	static const char meta[] = "{\"kernel\": \"test\"}";
	uint32_t i;

	assert_non_null(w);
	assert_int_equal(trace_write_meta(w, VL_BLK_META, meta, strlen(meta)), 0);
	for (i = 0; i < s->n; i++) {
		size_t size = (i + 1 < s->n ? s->off[i + 1] : s->len) - s->off[i];

		assert_int_equal(trace_write_record(w, s->buf + s->off[i], size), 0);
		if (i % 4000 == 3999)
			assert_int_equal(trace_flush(w), 0);
	}
	if (end)
		assert_int_equal(trace_writer_close(w, "{}", NULL), 0);
	else
		assert_int_equal(trace_writer_close(w, NULL, NULL), 0);
}


static int meta_seen;

static int on_block(void *ctx, uint16_t kind, const char *data, size_t len)
{
	if (kind == VL_BLK_META)
		meta_seen++;
	return 0;
}

static void test_round_trip(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct vl_trace_cb cb = { .ctx = &out, .on_block = on_block, .on_record = collect };
	struct vl_trace_rstats st;
	char err[256] = "";

	make_records(&in, NREC);
	write_trace(path_in("rt.vlt"), &in, 0, true);
	meta_seen = 0;
	assert_int_equal(trace_read_path(path_in("rt.vlt"), &cb, &st, err, sizeof(err)), 0);
	assert_string_equal(st.damage, "");
	assert_true(st.ended);
	assert_int_equal(meta_seen, 1);
	assert_int_equal(out.n, in.n);
	assert_int_equal(out.len, in.len);
	assert_memory_equal(out.buf, in.buf, in.len);
	assert_memory_equal(out.off, in.off, in.n * sizeof(*in.off));
	stream_free(&in);
	stream_free(&out);
}

/* A socket's side of a stream: bytes kept in memory, refused past a limit. */
struct sink {
	uint8_t *buf;
	size_t len, cap, limit;
};

static int to_sink(void *ctx, const void *p, size_t len)
{
	struct sink *k = ctx;

	if (k->limit && k->len + len > k->limit)
		return -EPIPE;
	if (k->len + len > k->cap) {
		k->cap = (k->len + len) * 2;
		k->buf = xrealloc(k->buf, k->cap);
	}
	memcpy(k->buf + k->len, p, len);
	k->len += len;
	return 0;
}

/* A stream is a trace: the same reader takes it back, records and all. */
static void test_stream(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct vl_trace_cb cb = { .ctx = &out, .on_block = on_block, .on_record = collect };
	struct vl_trace_rstats st;
	struct sink k = { 0 };
	static const char meta[] = "{\"kernel\": \"test\"}";
	struct vl_trace_writer *w = trace_writer_stream(to_sink, &k, "stream", 1);
	char err[256] = "";
	uint32_t i;
	FILE *f;

	make_records(&in, NREC);
	assert_int_equal(trace_write_meta(w, VL_BLK_META, meta, strlen(meta)), 0);
	for (i = 0; i < in.n; i++) {
		size_t size = (i + 1 < in.n ? in.off[i + 1] : in.len) - in.off[i];

		assert_int_equal(trace_write_record(w, in.buf + in.off[i], size), 0);
		/* as a daemon flushes: often, in small blocks */
		if (i % 500 == 499)
			assert_int_equal(trace_flush(w), 0);
	}
	assert_int_equal(trace_writer_close(w, "{}", NULL), 0);
	f = fmemopen(k.buf, k.len, "r");
	meta_seen = 0;
	assert_int_equal(trace_read_file(f, "stream", &cb, &st, err, sizeof(err)), 0);
	fclose(f);
	assert_string_equal(st.damage, "");
	assert_true(st.ended);
	assert_int_equal(meta_seen, 1);
	assert_int_equal(out.n, in.n);
	assert_memory_equal(out.buf, in.buf, in.len);
	stream_free(&out);

	/* the peer gone half way: the writer says so, what went before reads back */
	free(k.buf);
	memset(&k, 0, sizeof(k));
	k.limit = 40000;
	w = trace_writer_stream(to_sink, &k, "stream", 1);
	assert_int_equal(trace_write_meta(w, VL_BLK_META, meta, strlen(meta)), 0);
	for (i = 0; i < in.n; i++) {
		size_t size = (i + 1 < in.n ? in.off[i + 1] : in.len) - in.off[i];

		trace_write_record(w, in.buf + in.off[i], size);
		if (i % 500 == 499)
			trace_flush(w);
	}
	assert_int_equal(trace_writer_close(w, "{}", NULL), -EPIPE);
	f = fmemopen(k.buf, k.len, "r");
	assert_int_equal(trace_read_file(f, "stream", &cb, &st, err, sizeof(err)), 0);
	fclose(f);
	assert_false(st.ended);
	assert_true(out.n > 0 && out.n < in.n && out.n % 500 == 0);
	assert_memory_equal(out.buf, in.buf, out.len);
	free(k.buf);
	stream_free(&in);
	stream_free(&out);
}

/* Cut anywhere: the records of every whole block, in order, and a message. */
static void test_truncated(void **state)
{
	struct stream in = { 0 };
	struct vl_trace_rstats st;
	struct stat sb;
	char err[256];
	uint8_t *file;
	size_t len, cut;
	FILE *f;

	make_records(&in, NREC);
	write_trace(path_in("cut.vlt"), &in, 0, true);
	assert_int_equal(stat(path_in("cut.vlt"), &sb), 0);
	len = sb.st_size;
	file = xmalloc(len);
	f = fopen(path_in("cut.vlt"), "rb");
	assert_int_equal(fread(file, 1, len, f), len);
	fclose(f);
	for (cut = 64; cut < len; cut += len / 97 + 1) {
		struct stream out = { 0 };
		struct vl_trace_cb cb = { .ctx = &out, .on_record = collect };

		f = fmemopen(file, cut, "rb");
		assert_int_equal(trace_read_file(f, "cut.vlt", &cb, &st, err, sizeof(err)), 0);
		fclose(f);
		assert_false(st.ended);
		/* a cut at a block boundary is not damage, only a missing END */
		if (st.bytes != cut)
			assert_non_null(strstr(st.damage, "cut"));
		assert_true(out.n <= in.n);
		assert_memory_equal(out.buf, in.buf, out.len);
		stream_free(&out);
	}
	/* shorter than a header: not a trace at all */
	f = fmemopen(file, 40, "rb");
	{
		struct vl_trace_cb cb = { 0 };

		assert_int_equal(trace_read_file(f, "short.vlt", &cb, &st, err, sizeof(err)),
				 -EINVAL);
	}
	fclose(f);
	assert_non_null(strstr(err, "short.vlt: 40 bytes"));
	free(file);
	stream_free(&in);
}

static void test_bit_flip(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct vl_trace_cb cb = { .ctx = &out, .on_record = collect };
	struct vl_trace_rstats st;
	struct stat sb;
	char err[256];
	int fd;
	uint8_t b;

	make_records(&in, NREC);
	write_trace(path_in("flip.vlt"), &in, 0, true);
	assert_int_equal(stat(path_in("flip.vlt"), &sb), 0);
	fd = open(path_in("flip.vlt"), O_RDWR);
	assert_true(pread(fd, &b, 1, sb.st_size * 3 / 4) == 1);
	b ^= 4;
	assert_true(pwrite(fd, &b, 1, sb.st_size * 3 / 4) == 1);
	close(fd);
	assert_int_equal(trace_read_path(path_in("flip.vlt"), &cb, &st, err, sizeof(err)), 0);
	assert_true(strstr(st.damage, "checksum mismatch") || strstr(st.damage, "not a block"));
	assert_non_null(strstr(st.damage, "flip.vlt: block"));
	assert_true(out.n > 0 && out.n < in.n);
	assert_memory_equal(out.buf, in.buf, out.len);
	stream_free(&in);
	stream_free(&out);
}

static void test_wrong_version(void **state)
{
	struct stream in = { 0 };
	struct vl_trace_cb cb = { 0 };
	struct vl_trace_rstats st;
	struct vl_trace_file_hdr h;
	char err[256];
	int fd;

	make_records(&in, 100);
	write_trace(path_in("v.vlt"), &in, 0, true);
	fd = open(path_in("v.vlt"), O_RDWR);
	assert_true(pread(fd, &h, sizeof(h), 0) == sizeof(h));
	h.major = 2;
	h.crc = crc32(0, (const Bytef *)&h, offsetof(struct vl_trace_file_hdr, crc));
	assert_true(pwrite(fd, &h, sizeof(h), 0) == sizeof(h));
	assert_int_equal(trace_read_path(path_in("v.vlt"), &cb, &st, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "trace format 2.0; this vfslock reads 1.x"));
	h.major = VL_TRACE_MAJOR;
	h.abi = VL_ABI_VERSION + 1;
	h.crc = crc32(0, (const Bytef *)&h, offsetof(struct vl_trace_file_hdr, crc));
	assert_true(pwrite(fd, &h, sizeof(h), 0) == sizeof(h));
	assert_int_equal(trace_read_path(path_in("v.vlt"), &cb, &st, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "event ABI"));
	h.magic[0] = 'X';
	assert_true(pwrite(fd, &h, sizeof(h), 0) == sizeof(h));
	close(fd);
	assert_int_equal(trace_read_path(path_in("v.vlt"), &cb, &st, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a vfslock trace"));
	stream_free(&in);
}

/* A bounded recording keeps the newest segments, each whole and readable. */
static void test_rotation(void **state)
{
	struct stream in = { 0 };
	uint64_t bound = 4 * 48 * 1024, total = 0;
	uint32_t seg_prev = 0;
	int k;

	make_records(&in, 400000);
	write_trace(path_in("rot.vlt"), &in, bound, true);
	for (k = VL_TRACE_SEGMENTS - 1; k >= 0; k--) {
		struct stream out = { 0 };
		struct vl_trace_cb cb = { .ctx = &out, .on_block = on_block, .on_record = collect };
		struct vl_trace_rstats st;
		char name[64], err[256];
		struct stat sb;

		snprintf(name, sizeof(name), k ? "rot.vlt.%d" : "rot.vlt", k);
		assert_int_equal(stat(path_in(name), &sb), 0);
		total += sb.st_size;
		meta_seen = 0;
		assert_int_equal(trace_read_path(path_in(name), &cb, &st, err, sizeof(err)), 0);
		assert_string_equal(st.damage, "");
		assert_true(st.ended);
		assert_int_equal(meta_seen, 1);
		assert_true(out.n > 0);
		if (k < VL_TRACE_SEGMENTS - 1)
			assert_int_equal(st.hdr.segment, seg_prev + 1);
		seg_prev = st.hdr.segment;
		/* the newest segment ends with the last record written */
		if (!k)
			assert_memory_equal(out.buf + out.len - 37, in.buf + in.len - 37, 37);
		stream_free(&out);
	}
	assert_true(seg_prev >= VL_TRACE_SEGMENTS);
	assert_int_equal(access(path_in("rot.vlt.4"), F_OK), -1);
	assert_true(total <= bound);
	stream_free(&in);
}

/*
 * A field stored in one block and zero in every record of the next: the
 * decoder reuses its rows from block to block, and must not leave the
 * first block's values in them.
 */
static void test_column_comes_and_goes(void **state)
{
	struct stream in = { 0 }, out = { 0 };
	struct vl_trace_cb cb = { .ctx = &out, .on_block = on_block, .on_record = collect };
	struct vl_trace_rstats st;
	char err[256] = "";
	uint32_t i;

	for (i = 0; i < 3 * 4000; i++) {
		struct vl_ev_lock e = {
			.hdr = { .ts = 1000 + i, .tid = 7, .type = VL_EV_LOCK, .size = sizeof(e) },
			.lock = 0xffff888100000000ull,
			/* blocks of 4000 (write_trace flushes): the middle one without ino */
			.ino = i / 4000 == 1 ? 0 : 1 + i % 13,
		};

		push(&in, &e, sizeof(e));
	}
	write_trace(path_in("cols.vlt"), &in, 0, true);
	assert_int_equal(trace_read_path(path_in("cols.vlt"), &cb, &st, err, sizeof(err)), 0);
	assert_string_equal(st.damage, "");
	assert_int_equal(out.n, in.n);
	assert_memory_equal(out.buf, in.buf, in.len);
	stream_free(&in);
	stream_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bit_flip),
		cmocka_unit_test(test_wrong_version),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_column_comes_and_goes),
	};

	return cmocka_run_group_tests_name("test_trace", tests, tmpdir_setup, tmpdir_teardown);
}
