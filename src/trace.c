// SPDX-License-Identifier: GPL-2.0
/*
 * Trace files, written and read: header, checksummed zstd blocks, rotation
 * within a size bound. The layout is docs/trace-format.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "trace.h"
#include "util.h"
#include "vfslock_abi.h"

_Static_assert(sizeof(struct vl_trace_file_hdr) == 64, "file header is 64 bytes");
_Static_assert(sizeof(struct vl_trace_block_hdr) == 32, "block header is 32 bytes");

/* A block kept to head every later segment: stored as first written. */
struct kept_block {
	uint16_t kind, codec;
	uint32_t raw_len, len;
	uint8_t *data;
};

struct vl_trace_writer {
	char *path;
	uint64_t seg_max;		/* 0: no rotation */
	int zlevel;
	int fd;
	vl_trace_sink_fn sink;		/* a stream's bytes go there instead of a file */
	void *sink_ctx;
	uint64_t seg_bytes;		/* of the open segment */
	uint32_t seq;
	uint32_t segment;
	uint32_t seg_events;		/* events blocks in the open segment */
	uint64_t recording;
	struct vl_evenc *enc;
	uint8_t *raw, *z;
	size_t rawcap, zcap;
	ZSTD_CCtx *cctx;
	int nkept;
	struct kept_block *kept;
	struct vl_trace_wstats st;
	char errmsg[320];
};

static uint32_t block_crc(const struct vl_trace_block_hdr *h, const void *data, size_t len)
{
	struct vl_trace_block_hdr c = *h;
	uLong crc;

	c.crc = 0;
	crc = crc32(0, (const Bytef *)&c, sizeof(c));
	return crc32(crc, data, len);
}

static int fail(struct vl_trace_writer *w, int err, const char *what)
{
	if (!w->st.error) {
		w->st.error = err;
		snprintf(w->errmsg, sizeof(w->errmsg), "%s: %s: %s", w->path, what, strerror(-err));
	}
	return err;
}

/*
 * The iovecs go out in one writev(2) where it can: a recorder killed between
 * a block's header and its body would leave a header alone on the disk.
 */
static int write_iov(struct vl_trace_writer *w, struct iovec *iov, int n)
{
	int i, ret;

	if (w->sink) {
		for (i = 0, ret = 0; i < n && !ret; i++)
			ret = w->sink(w->sink_ctx, iov[i].iov_base, iov[i].iov_len);
		return ret;
	}
	while (n) {
		ssize_t done = writev(w->fd, iov, n);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return done < 0 ? -errno : -ENOSPC;
		for (; n && (size_t)done >= iov->iov_len; n--, iov++)
			done -= iov->iov_len;
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + done;
			iov->iov_len -= done;
		}
	}
	return 0;
}

static int write_all(struct vl_trace_writer *w, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_iov(w, &iov, 1);
}

static int put_block(struct vl_trace_writer *w, uint16_t kind, uint16_t codec, uint32_t raw_len,
		     const void *data, uint32_t len, uint32_t nrec)
{
	struct vl_trace_block_hdr h = {
		.magic = VL_BLOCK_MAGIC, .kind = kind, .codec = codec, .raw_len = raw_len,
		.len = len, .nrec = nrec, .seq = w->seq,
	};
	struct iovec iov[2] = {
		{ .iov_base = &h, .iov_len = sizeof(h) },
		{ .iov_base = (void *)data, .iov_len = len },
	};
	int ret;

	if (w->st.error)
		return w->st.error;
	h.crc = block_crc(&h, data, len);
	ret = write_iov(w, iov, len ? 2 : 1);
	if (ret) {
		/* a block half written would only be damage: drop it (best effort) */
		if (w->fd >= 0 && ftruncate(w->fd, w->seg_bytes) == 0)
			lseek(w->fd, w->seg_bytes, SEEK_SET);
		return fail(w, ret, "writing");
	}
	w->seq++;
	w->seg_bytes += sizeof(h) + len;
	w->st.bytes += sizeof(h) + len;
	if (kind == VL_BLK_EVENTS)
		w->st.event_bytes += sizeof(h) + len;
	w->st.blocks++;
	return 0;
}

/* zstd into w->z; the stored bytes and their codec */
static int pack(struct vl_trace_writer *w, const void *raw, size_t len, const void **out,
		    size_t *outlen, uint16_t *codec)
{
	size_t bound = ZSTD_compressBound(len), n;

	if (bound > w->zcap) {
		free(w->z);
		w->zcap = bound;
		w->z = xmalloc(bound);
	}
	n = w->zlevel < 0 ? len : ZSTD_compressCCtx(w->cctx, w->z, w->zcap, raw, len, w->zlevel);
	if (ZSTD_isError(n) || n >= len) {
		*out = raw;
		*outlen = len;
		*codec = VL_CODEC_NONE;
		return 0;
	}
	*out = w->z;
	*outlen = n;
	*codec = VL_CODEC_ZSTD;
	return 0;
}

static int open_segment(struct vl_trace_writer *w)
{
	struct vl_trace_file_hdr h = { .major = VL_TRACE_MAJOR, .minor = VL_TRACE_MINOR,
				       .hdr_size = sizeof(h), .abi = VL_ABI_VERSION };
	struct timespec rt;
	int i, ret;

	memcpy(h.magic, VL_TRACE_MAGIC, sizeof(h.magic));
	h.segment = w->segment;
	h.recording = w->recording;
	clock_gettime(CLOCK_REALTIME, &rt);
	h.start_realtime_ns = rt.tv_sec * 1000000000ull + rt.tv_nsec;
	h.start_mono_ns = now_ns();
	h.crc = crc32(0, (const Bytef *)&h, offsetof(struct vl_trace_file_hdr, crc));
	if (!w->sink) {
		w->fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (w->fd < 0)
			return fail(w, -errno, "creating");
	}
	w->seq = 0;
	w->seg_bytes = 0;
	w->seg_events = 0;
	ret = write_all(w, &h, sizeof(h));
	if (ret)
		return fail(w, ret, "writing");
	w->seg_bytes = sizeof(h);
	w->st.bytes += sizeof(h);
	w->st.segments++;
	for (i = 0; i < w->nkept && !ret; i++)
		ret = put_block(w, w->kept[i].kind, w->kept[i].codec, w->kept[i].raw_len,
				w->kept[i].data, w->kept[i].len, 0);
	return ret;
}

/* path, path.1, ...: the newest segment is always @path itself */
static int rotate(struct vl_trace_writer *w)
{
	char from[4096], to[4096];
	int k, ret;

	static const char end[] = "{\"rotated\": true}\n";

	ret = put_block(w, VL_BLK_END, VL_CODEC_NONE, strlen(end), end, strlen(end), 0);
	close(w->fd);
	w->fd = -1;
	if (ret)
		return ret;
	snprintf(to, sizeof(to), "%s.%d", w->path, VL_TRACE_SEGMENTS - 1);
	if (!unlink(to))
		w->st.dropped_segments++;
	for (k = VL_TRACE_SEGMENTS - 2; k >= 0; k--) {
		if (k)
			snprintf(from, sizeof(from), "%s.%d", w->path, k);
		else
			snprintf(from, sizeof(from), "%s", w->path);
		snprintf(to, sizeof(to), "%s.%d", w->path, k + 1);
		if (rename(from, to) && errno != ENOENT)
			return fail(w, -errno, "rotating");
	}
	w->segment++;
	return open_segment(w);
}

/* A writer with nothing written yet: a file's or a stream's. */
static struct vl_trace_writer *writer_new(const char *name, int zlevel)
{
	struct vl_trace_writer *w = xcalloc(1, sizeof(*w));

	w->path = xstrdup(name);
	w->fd = -1;
	w->zlevel = zlevel;
	w->enc = evenc_new();
	w->cctx = ZSTD_createCCtx();
	if (!w->cctx)
		oom();
	if (getrandom(&w->recording, sizeof(w->recording), 0) != sizeof(w->recording))
		w->recording = now_ns() ^ ((uint64_t)getpid() << 32);
	return w;
}

struct vl_trace_writer *trace_writer_open(const char *path, uint64_t max_bytes, int zlevel,
					  char *err, size_t errlen)
{
	struct vl_trace_writer *w = writer_new(path, zlevel);
	char old[4096];
	int k;

	w->seg_max = max_bytes / VL_TRACE_SEGMENTS;
	/* older segments of an earlier recording to the same name would mislead */
	for (k = 1; k < VL_TRACE_SEGMENTS; k++) {
		snprintf(old, sizeof(old), "%s.%d", path, k);
		unlink(old);
	}
	if (open_segment(w)) {
		snprintf(err, errlen, "%s", w->errmsg);
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		trace_writer_close(w, NULL, NULL);
		return NULL;
	}
	return w;
}

struct vl_trace_writer *trace_writer_stream(vl_trace_sink_fn fn, void *ctx, const char *name,
					    int zlevel)
{
	struct vl_trace_writer *w = writer_new(name, zlevel);

	w->sink = fn;
	w->sink_ctx = ctx;
	open_segment(w);
	return w;
}

int trace_write_meta(struct vl_trace_writer *w, enum vl_block_kind kind, const void *data,
		     size_t len)
{
	struct kept_block *k;
	const void *out;
	size_t outlen;
	uint16_t codec;
	int ret;

	if (len > VL_BLOCK_MAX_RAW)
		return fail(w, -EFBIG, "a metadata block over 64 MiB");
	ret = trace_flush(w);
	if (ret)
		return ret;
	pack(w, data, len, &out, &outlen, &codec);
	w->kept = xrealloc(w->kept, (w->nkept + 1) * sizeof(*w->kept));
	k = &w->kept[w->nkept++];
	k->kind = kind;
	k->codec = codec;
	k->raw_len = len;
	k->len = outlen;
	k->data = xmalloc(outlen);
	memcpy(k->data, out, outlen);
	return put_block(w, kind, codec, len, k->data, outlen, 0);
}

int trace_flush(struct vl_trace_writer *w)
{
	size_t raw = evenc_raw_size(w->enc), outlen;
	uint32_t nrec = evenc_records(w->enc);
	const void *out;
	uint16_t codec;
	int ret;

	if (!nrec)
		return w->st.error;
	if (raw > w->rawcap) {
		free(w->raw);
		w->rawcap = raw;
		w->raw = xmalloc(raw);
	}
	raw = evenc_take(w->enc, w->raw);
	pack(w, w->raw, raw, &out, &outlen, &codec);
	if (w->seg_max && w->seg_events && w->seg_bytes + sizeof(struct vl_trace_block_hdr) +
	    outlen > w->seg_max) {
		ret = rotate(w);
		if (ret)
			return ret;
	}
	ret = put_block(w, VL_BLK_EVENTS, codec, raw, out, outlen, nrec);
	if (!ret)
		w->seg_events++;
	return ret;
}

int trace_write_record(struct vl_trace_writer *w, const void *rec, size_t size)
{
	int ret;

	if (w->st.error)
		return w->st.error;
	ret = evenc_add(w->enc, rec, size);
	if (ret == -E2BIG) {
		ret = trace_flush(w);
		if (ret)
			return ret;
		ret = evenc_add(w->enc, rec, size);
	}
	if (ret)
		return ret;
	w->st.records++;
	w->st.raw_bytes += size;
	return 0;
}

int trace_writer_close(struct vl_trace_writer *w, const char *end_json,
		       struct vl_trace_wstats *st)
{
	int ret = 0, i;

	if (!w)
		return 0;
	if (w->fd >= 0 || w->sink) {
		trace_flush(w);
		if (end_json)
			put_block(w, VL_BLK_END, VL_CODEC_NONE, strlen(end_json), end_json,
				  strlen(end_json), 0);
		if (w->fd >= 0 && close(w->fd) && !w->st.error)
			fail(w, -errno, "closing");
	}
	ret = w->st.error;
	if (st)
		*st = w->st;
	evenc_free(w->enc);
	ZSTD_freeCCtx(w->cctx);
	for (i = 0; i < w->nkept; i++)
		free(w->kept[i].data);
	free(w->kept);
	free(w->raw);
	free(w->z);
	free(w->path);
	free(w);
	return ret;
}

const struct vl_trace_wstats *trace_writer_stats(const struct vl_trace_writer *w)
{
	return &w->st;
}

const char *trace_writer_error(const struct vl_trace_writer *w)
{
	return w->errmsg;
}

/* ---- reader ------------------------------------------------------------- */

/*
 * A fuzzer's mutations would almost never get past the checksums: a build
 * for fuzzing (only) reads on as if they matched, to reach what is behind.
 */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define CRC_OK(a, b) ((void)(a), (void)(b), 1)
#else
#define CRC_OK(a, b) ((a) == (b))
#endif

static int trace_check_header(const struct vl_trace_file_hdr *h, size_t got, const char *name,
		       char *err, size_t errlen)
{
	if (got < sizeof(*h))
		return snprintf(err, errlen, "%s: %zu bytes: too short for a vfslock trace "
				"(a 64-byte header first)", name, got), -EINVAL;
	if (memcmp(h->magic, VL_TRACE_MAGIC, sizeof(h->magic)))
		return snprintf(err, errlen, "%s: not a vfslock trace (no VLTRACE magic)", name),
		       -EINVAL;
	if (!CRC_OK(crc32(0, (const Bytef *)h, offsetof(struct vl_trace_file_hdr, crc)), h->crc))
		return snprintf(err, errlen, "%s: header checksum mismatch: the file is damaged "
				"at its start", name), -EINVAL;
	if (h->major != VL_TRACE_MAJOR)
		return snprintf(err, errlen, "%s: trace format %u.%u; this vfslock reads %u.x",
				name, h->major, h->minor, VL_TRACE_MAJOR), -EPROTO;
	if (h->abi != VL_ABI_VERSION)
		return snprintf(err, errlen, "%s: records of event ABI %u; this vfslock reads ABI "
				"%u", name, h->abi, VL_ABI_VERSION), -EPROTO;
	if (h->hdr_size != sizeof(*h))
		return snprintf(err, errlen, "%s: header of %u bytes in format %u.%u (64 expected)",
				name, h->hdr_size, h->major, h->minor), -EPROTO;
	return 0;
}

int trace_read_header(const char *path, struct vl_trace_file_hdr *h, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	if (!f)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -errno;
	got = fread(h, 1, sizeof(*h), f);
	fclose(f);
	return trace_check_header(h, got, path, err, errlen);
}

struct rbuf {
	uint8_t *p;
	size_t cap;
};

static void reserve(struct rbuf *b, size_t n)
{
	if (n > b->cap) {
		free(b->p);
		b->cap = n;
		b->p = xmalloc(n);
	}
}

#define DAMAGE(st, ...) snprintf((st)->damage, sizeof((st)->damage), __VA_ARGS__)

int trace_read_file(FILE *f, const char *name, const struct vl_trace_cb *cb,
		    struct vl_trace_rstats *st, char *err, size_t errlen)
{
	struct rbuf stored = { 0 }, raw = { 0 };
	struct vl_evdec dec = { 0 };
	ZSTD_DCtx *dctx = NULL;
	uint64_t off;
	size_t got;
	int ret;

	memset(st, 0, sizeof(*st));
	got = fread(&st->hdr, 1, sizeof(st->hdr), f);
	ret = trace_check_header(&st->hdr, got, name, err, errlen);
	if (ret)
		return ret;
	off = sizeof(st->hdr);
	st->bytes = off;
	dctx = ZSTD_createDCtx();
	if (!dctx)
		oom();
	for (;;) {
		struct vl_trace_block_hdr h;
		const uint8_t *data;
		char why[200];

		got = fread(&h, 1, sizeof(h), f);
		if (got == 0)
			break;
		if (got < sizeof(h)) {
			DAMAGE(st, "%s: cut at offset %" PRIu64 " inside a block header, after block "
			       "%" PRIu64, name, off, st->blocks);
			break;
		}
		if (h.magic != VL_BLOCK_MAGIC || h.len > VL_BLOCK_MAX_STORED ||
		    h.raw_len > VL_BLOCK_MAX_RAW) {
			DAMAGE(st, "%s: block %" PRIu64 " at offset %" PRIu64 ": not a block header "
			       "(magic %#x, %u bytes stored, %u raw)", name, st->blocks, off, h.magic,
			       h.len, h.raw_len);
			break;
		}
		reserve(&stored, h.len + 1);
		got = fread(stored.p, 1, h.len, f);
		if (got < h.len) {
			DAMAGE(st, "%s: block %" PRIu64 " at offset %" PRIu64 " cut: %zu of its %u "
			       "bytes", name, st->blocks, off, got, h.len);
			break;
		}
		if (!CRC_OK(block_crc(&h, stored.p, h.len), h.crc)) {
			DAMAGE(st, "%s: block %" PRIu64 " at offset %" PRIu64 ": checksum mismatch",
			       name, st->blocks, off);
			break;
		}
		if (h.seq != st->blocks) {
			DAMAGE(st, "%s: block at offset %" PRIu64 " is number %u, %" PRIu64
			       " expected", name, off, h.seq, st->blocks);
			break;
		}
		if (h.codec == VL_CODEC_ZSTD) {
			size_t n;

			reserve(&raw, h.raw_len + 1);
			n = ZSTD_decompressDCtx(dctx, raw.p, h.raw_len, stored.p, h.len);
			if (ZSTD_isError(n) || n != h.raw_len) {
				DAMAGE(st, "%s: block %" PRIu64 " at offset %" PRIu64 ": %s", name,
				       st->blocks, off, ZSTD_isError(n) ? ZSTD_getErrorName(n) :
				       "decompressed size differs from its header");
				break;
			}
			data = raw.p;
			raw.p[h.raw_len] = '\0';
		} else if (h.codec == VL_CODEC_NONE && h.raw_len == h.len) {
			data = stored.p;
			stored.p[h.len] = '\0';
		} else {
			DAMAGE(st, "%s: block %" PRIu64 " at offset %" PRIu64 ": codec %u unknown",
			       name, st->blocks, off, h.codec);
			break;
		}
		if (h.kind == VL_BLK_EVENTS) {
			ret = evdec_run(&dec, data, h.raw_len, h.nrec, cb->on_record, cb->ctx, why,
					sizeof(why));
			if (ret == -EBADMSG) {
				DAMAGE(st, "%s: block %" PRIu64 " at offset %" PRIu64 ": %s", name,
				       st->blocks, off, why);
				ret = 0;
				break;
			}
			if (!ret)
				st->records += h.nrec;
		} else {
			ret = cb->on_block ? cb->on_block(cb->ctx, h.kind, (const char *)data,
							   h.raw_len) : 0;
		}
		if (ret)
			break;
		st->blocks++;
		off += sizeof(h) + h.len;
		st->bytes = off;
		if (h.kind == VL_BLK_END) {
			st->ended = true;
			break;
		}
	}
	if (!ret && !st->damage[0] && ferror(f))
		DAMAGE(st, "%s: read error at offset %" PRIu64 ": %s", name, off, strerror(errno));
	ZSTD_freeDCtx(dctx);
	evdec_free(&dec);
	free(stored.p);
	free(raw.p);
	return ret;
}

FILE *trace_open(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	/* blocks are read whole: a large stdio buffer saves system calls */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	return f;
}

int trace_read_path(const char *path, const struct vl_trace_cb *cb, struct vl_trace_rstats *st,
		    char *err, size_t errlen)
{
	FILE *f = trace_open(path, err, errlen);
	int ret;

	if (!f)
		return -errno;
	ret = trace_read_file(f, path, cb, st, err, errlen);
	fclose(f);
	return ret;
}
