/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace files: the records of a live run, kept for analysis elsewhere and
 * later. docs/trace-format.md is the specification; this is its one
 * implementation, writer and reader.
 *
 * A file is a header and a sequence of blocks, each checksummed and
 * compressed on its own, so that a file cut anywhere (kill -9, a full
 * disk) reads back to its last complete block.
 */
#ifndef VFSLOCK_TRACE_H
#define VFSLOCK_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VL_TRACE_MAGIC		"VLTRACE"	/* 8 bytes with its NUL */
#define VL_TRACE_MAJOR		1	/* readers refuse another major */
#define VL_TRACE_MINOR		0	/* additions a reader may skip */
#define VL_BLOCK_MAGIC		0x4b424c56u	/* "VLBK" */

/* Bounds a reader enforces before it allocates anything a header asks for. */
#define VL_BLOCK_MAX_RAW	(64u << 20)
#define VL_BLOCK_MAX_STORED	(64u << 20)

struct vl_trace_file_hdr {
	char magic[8];
	uint16_t major;
	uint16_t minor;
	uint32_t hdr_size;		/* 64 */
	uint32_t abi;			/* VL_ABI_VERSION of the records */
	uint32_t segment;		/* 0, 1, ...: rotation number in its recording */
	uint64_t recording;		/* random id shared by a recording's segments */
	uint64_t start_realtime_ns;	/* CLOCK_REALTIME when the segment began */
	uint64_t start_mono_ns;		/* the records' clock at the same moment */
	uint8_t reserved[12];
	uint32_t crc;			/* crc32 of the 60 bytes before */
};

enum vl_block_kind {
	VL_BLK_META	= 1,	/* JSON: kernel, rules, catalog, mounts, options */
	VL_BLK_KSYMS	= 2,	/* text: kallsyms lines of code symbols */
	VL_BLK_EVENTS	= 3,	/* records, vl_evcodec encoded */
	VL_BLK_END	= 4,	/* JSON: how the segment ended, final counters */
	VL_BLK_KIND_MAX,
};

enum vl_codec {
	VL_CODEC_NONE	= 0,
	VL_CODEC_ZSTD	= 1,
};

struct vl_trace_block_hdr {
	uint32_t magic;			/* VL_BLOCK_MAGIC */
	uint16_t kind;			/* enum vl_block_kind; unknown ones are skipped */
	uint16_t codec;			/* enum vl_codec */
	uint32_t raw_len;		/* bytes once decompressed */
	uint32_t len;			/* bytes stored after this header */
	uint32_t nrec;			/* records in an events block */
	uint32_t seq;			/* block number in its segment, from 0 */
	uint32_t reserved;
	uint32_t crc;			/* crc32 of this header (crc 0) and the stored bytes */
};

/* ---- events codec ------------------------------------------------------- */

/* Records of one chunk, in arrival order, encoded for compression. */
struct vl_evenc;

struct vl_evenc *evenc_new(void);
void evenc_free(struct vl_evenc *e);
/* 0, -E2BIG when the chunk cannot take it (flush, then add again), -EINVAL bad record */
int evenc_add(struct vl_evenc *e, const void *rec, size_t size);
uint32_t evenc_records(const struct vl_evenc *e);
/* A bound of the encoded size: every column kept. */
size_t evenc_raw_size(const struct vl_evenc *e);
/* The encoded chunk into @out (at most evenc_raw_size() bytes), its size; the encoder is then empty. */
size_t evenc_take(struct vl_evenc *e, uint8_t *out);

typedef int (*vl_trace_record_fn)(void *ctx, const void *rec, size_t size);

/*
 * Decode @len bytes of an events block of @nrec records, calling @fn on
 * each in order (a non-zero return stops there and is returned). A record
 * is only valid during its call. -EBADMSG with @err set when
 * the block does not parse; nothing is emitted then.
 */
struct vl_evdec {
	uint64_t *tiles;		/* the rows being handed out, a tile per class */
	size_t tiles_cap;
	struct evdec_word *words;	/* per stored word of each class: its byte columns */
	size_t words_cap;
	uint8_t *zeros;			/* the byte column of a byte not stored */
	size_t zeros_cap;
};
int evdec_run(struct vl_evdec *d, const uint8_t *raw, size_t len, uint32_t nrec,
	      vl_trace_record_fn fn, void *ctx, char *err, size_t errlen);
void evdec_free(struct vl_evdec *d);

/* ---- writer ------------------------------------------------------------- */

struct vl_trace_writer;

struct vl_trace_wstats {
	uint64_t records;
	uint64_t blocks;
	uint64_t bytes;			/* on disk, every segment written */
	uint64_t event_bytes;		/* of which EVENTS blocks, headers included */
	uint64_t raw_bytes;		/* records before encoding */
	uint32_t segments;		/* segments begun */
	uint32_t dropped_segments;	/* rotated out of the size bound */
	int error;			/* first write error (-errno), 0 none */
};

/*
 * A recording into @path. @max_bytes 0: one file, unbounded. Otherwise
 * the recording rotates through @path, @path.1 ... @path.(VL_TRACE_SEGMENTS-1),
 * newest first, each segment at most @max_bytes / VL_TRACE_SEGMENTS.
 * @zlevel: zstd's level; negative stores blocks uncompressed.
 */
#define VL_TRACE_SEGMENTS	4
struct vl_trace_writer *trace_writer_open(const char *path, uint64_t max_bytes, int zlevel,
					  char *err, size_t errlen);
/*
 * A trace as a stream of bytes (a socket's), in the same format: no file,
 * no rotation; every write goes to @fn, whose negative return is the
 * writer's error. @name names it in messages.
 */
typedef int (*vl_trace_sink_fn)(void *ctx, const void *buf, size_t len);
struct vl_trace_writer *trace_writer_stream(vl_trace_sink_fn fn, void *ctx, const char *name,
					    int zlevel);
/* META and KSYMS blocks: written now, and again at the head of every later segment. */
int trace_write_meta(struct vl_trace_writer *w, enum vl_block_kind kind, const void *data,
		     size_t len);
/* Buffered; a block is written when the chunk is full or on trace_flush(). */
int trace_write_record(struct vl_trace_writer *w, const void *rec, size_t size);
int trace_flush(struct vl_trace_writer *w);
/*
 * Flush, write the END block (@end_json, may be NULL), close, free; the
 * final counts into @st (may be NULL). The first error, or 0.
 */
int trace_writer_close(struct vl_trace_writer *w, const char *end_json,
		       struct vl_trace_wstats *st);
const struct vl_trace_wstats *trace_writer_stats(const struct vl_trace_writer *w);
const char *trace_writer_error(const struct vl_trace_writer *w);

/* ---- reader ------------------------------------------------------------- */

struct vl_trace_cb {
	void *ctx;
	/* META, KSYMS, END and unknown kinds; NUL-terminated; non-zero stops */
	int (*on_block)(void *ctx, uint16_t kind, const char *data, size_t len);
	vl_trace_record_fn on_record;
};

struct vl_trace_rstats {
	struct vl_trace_file_hdr hdr;
	uint64_t blocks;
	uint64_t records;
	uint64_t bytes;			/* file bytes accepted */
	bool ended;			/* the END block was read */
	/* why reading stopped early, naming file, block and offset; "" when it did not */
	char damage[320];
};

/*
 * Read @f (named @name in messages) to its end or its first damaged block.
 * 0 when the header was good (damage, if any, in @st), -EINVAL or -EPROTO
 * with @err set when it is not a trace this reader knows, a callback's
 * non-zero return as is.
 */
int trace_read_file(FILE *f, const char *name, const struct vl_trace_cb *cb,
		    struct vl_trace_rstats *st, char *err, size_t errlen);
/* @path opened for reading blocks; NULL with errno and @err set. */
FILE *trace_open(const char *path, char *err, size_t errlen);
int trace_read_path(const char *path, const struct vl_trace_cb *cb, struct vl_trace_rstats *st,
		    char *err, size_t errlen);
/* Only the header of @path, checked. */
int trace_read_header(const char *path, struct vl_trace_file_hdr *h, char *err, size_t errlen);

#endif
