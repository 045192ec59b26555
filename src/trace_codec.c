// SPDX-License-Identifier: GPL-2.0
/*
 * The events codec: a chunk of records laid out so that zstd finds what
 * repeats. Records are grouped by (type, size) into classes; in each class
 * a record's timestamp becomes the delta from the one before and its other
 * bytes are XORed with the one before (same task, same lock: zeros), then
 * the class is transposed byte by byte, so that the same field of every
 * record lies in one run. An order stream of class numbers keeps the
 * arrival order. Layout in docs/trace-format.md.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "trace.h"
#include "util.h"
#include "vfslock_abi.h"

#define EVENC_MAX_CLASSES	255	/* class numbers are one byte */
#define EVENC_MAX_RAW		(1u << 20)
#define EVENC_HDR		8	/* u32 nrec, u16 nclass, u16 flags */
#define EVENC_CLASS		8	/* u16 type, u16 size, u32 count */
#define EVENC_MIN_SIZE		8	/* a record starts with its u64 timestamp */

struct evclass {
	uint16_t type, size;
	uint32_t count;
	uint8_t *recs;
	size_t cap;
};

struct vl_evenc {
	int nclass, last;
	struct evclass cls[EVENC_MAX_CLASSES];
	uint8_t *order;
	uint32_t nrec, ocap;
	size_t raw;			/* bound of the encoding: every column kept */
	size_t size;			/* what evenc_take() wrote */
};

struct vl_evenc *evenc_new(void)
{
	return xcalloc(1, sizeof(struct vl_evenc));
}

void evenc_free(struct vl_evenc *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < EVENC_MAX_CLASSES; i++)
		free(e->cls[i].recs);
	free(e->order);
	free(e);
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int evenc_add(struct vl_evenc *e, const void *rec, size_t size)
{
	uint16_t type;
	struct evclass *c;
	size_t need;
	int i;

	if (size < EVENC_MIN_SIZE || size > UINT16_MAX)
		return -EINVAL;
	/* a class is a record type and a size */
	type = size >= sizeof(struct vl_ev_hdr) ?
	       rd16((const uint8_t *)rec + offsetof(struct vl_ev_hdr, type)) : 0;
	c = &e->cls[e->last];
	if (!(e->nclass && c->type == type && c->size == size)) {
		for (i = 0; i < e->nclass; i++)
			if (e->cls[i].type == type && e->cls[i].size == size)
				break;
		c = &e->cls[i];
		if (i == e->nclass) {
			if (e->nclass == EVENC_MAX_CLASSES)
				return -E2BIG;
			need = EVENC_CLASS + size + 1;
			if (e->nrec && e->raw + need > EVENC_MAX_RAW)
				return -E2BIG;
			c->type = type;
			c->size = size;
			c->count = 0;
			e->nclass++;
			e->raw += EVENC_CLASS;
		}
		e->last = i;
	}
	if (e->nrec && e->raw + size + 1 > EVENC_MAX_RAW)
		return -E2BIG;
	if ((c->count + 1) * (size_t)size > c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64 * (size_t)size;
		c->recs = xrealloc(c->recs, c->cap);
	}
	if (e->nrec == e->ocap) {
		e->ocap = e->ocap ? e->ocap * 2 : 4096;
		e->order = xrealloc(e->order, e->ocap);
	}
	memcpy(c->recs + (size_t)c->count * size, rec, size);
	c->count++;
	e->order[e->nrec++] = e->last;
	e->raw += size + 1;
	return 0;
}

uint32_t evenc_records(const struct vl_evenc *e)
{
	return e->nrec;
}

size_t evenc_raw_size(const struct vl_evenc *e)
{
	int k;
	size_t bm = 0;

	for (k = 0; k < e->nclass; k++)
		bm += (e->cls[k].size + 7) / 8;
	return e->nrec ? EVENC_HDR + e->raw + bm : 0;
}

size_t evenc_take(struct vl_evenc *e, uint8_t *out)
{
	uint8_t *p = out;
	uint16_t flags = 0, n16 = e->nclass;
	int k;

	memcpy(p, &e->nrec, 4);
	memcpy(p + 4, &n16, 2);
	memcpy(p + 6, &flags, 2);
	p += EVENC_HDR;
	for (k = 0; k < e->nclass; k++) {
		memcpy(p, &e->cls[k].type, 2);
		memcpy(p + 2, &e->cls[k].size, 2);
		memcpy(p + 4, &e->cls[k].count, 4);
		p += EVENC_CLASS;
	}
	memcpy(p, e->order, e->nrec);
	p += e->nrec;
	for (k = 0; k < e->nclass; k++) {
		struct evclass *c = &e->cls[k];
		size_t sz = c->size, n = c->count, i, j;
		uint8_t *bm = p;

		/* backwards, in place: record i - 1 is still as it came */
		for (i = n - 1; i > 0; i--) {
			uint8_t *r = c->recs + i * sz, *q = r - sz;
			uint64_t ts, pts;

			memcpy(&ts, r, 8);
			memcpy(&pts, q, 8);
			ts -= pts;
			memcpy(r, &ts, 8);
			for (j = 8; j < sz; j++)
				r[j] ^= q[j];
		}
		/* a column of zeros in every record is only a clear bit */
		memset(bm, 0, (sz + 7) / 8);
		p += (sz + 7) / 8;
		for (j = 0; j < sz; j++) {
			uint8_t any = 0;

			for (i = 0; i < n; i++)
				any |= c->recs[i * sz + j];
			if (!any)
				continue;
			bm[j / 8] |= 1 << (j % 8);
			for (i = 0; i < n; i++)
				*p++ = c->recs[i * sz + j];
		}
		c->count = 0;
	}
	e->size = p - out;
	e->nclass = 0;
	e->last = 0;
	e->nrec = 0;
	e->raw = 0;
	return e->size;
}

void evdec_free(struct vl_evdec *d)
{
	free(d->tiles);
	free(d->words);
	free(d->zeros);
	d->zeros = NULL;
	d->zeros_cap = 0;
	d->tiles = NULL;
	d->tiles_cap = 0;
	d->words = NULL;
	d->words_cap = 0;
}

/* Decoded bytes of one block at most: rows 8-aligned at most double the encoder's bound. */
#define EVDEC_MAX_DECODED	(2 * EVENC_MAX_RAW + 2 * UINT16_MAX)
#define STRIDE(sz)		(((size_t)(sz) + 7) & ~(size_t)7)

/*
 * A word of a record class with stored columns: its byte columns, those
 * not stored pointing at zeros, so that every byte is read alike.
 */
struct evdec_word {
	size_t w;
	const uint8_t *plane[8];
};

/*
 * A record class of the block being decoded. Its rows are rebuilt a tile
 * at a time, when the order reaches them, into a tile small enough to stay
 * in L1 until the records are handed out: a record is rebuilt and read
 * while still in cache, and a block's records are never all in memory.
 */
struct evdec_class {
	struct evdec_word *words;	/* the stored words, in order */
	size_t nwords, nw;		/* stored words, words of a row */
	uint32_t count, done;		/* records of the class, rows rebuilt so far */
	uint32_t rows, fill, pos;	/* tile rows, rows in the tile, next handed out */
	uint16_t size;
	uint64_t *tile;
};

/* Rows of a tile: about 16 KiB, at least the 16 a word is rebuilt by. */
static uint32_t tile_rows(size_t stride)
{
	return stride <= 128 ? 64 : stride <= 512 ? 32 : 16;
}

/* Row @i of a word from its byte columns, one byte at a time. */
static uint64_t word_at(const uint8_t *const plane[8], size_t i)
{
	uint64_t v = 0;
	int c;

	for (c = 0; c < 8; c++)
		v |= (uint64_t)plane[c][i] << (8 * c);
	return v;
}

/*
 * Rows [@i, @i + 16) of a word from its byte columns into
 * @dst, a row every @nw words, put together 16 rows at a time: the byte
 * planes interleaved by a transpose (SSE2 unpacks), then the prefix (a sum
 * for the timestamp, word 0, a XOR for the rest) carried over the rows.
 */
static inline __attribute__((always_inline))
uint64_t word_16(uint64_t *dst, size_t nw, const bool sum, size_t i,
		 const uint8_t *const plane[8], uint64_t prev)
{
	int r;
#ifdef __SSE2__
#define PLANE(c) _mm_loadu_si128((const __m128i *)(plane[c] + i))
	/* rows 0-7 and 8-15 of byte pairs, then of byte quads, then whole words */
	__m128i x0 = PLANE(0), x1 = PLANE(1), x2 = PLANE(2), x3 = PLANE(3);
	__m128i x4 = PLANE(4), x5 = PLANE(5), x6 = PLANE(6), x7 = PLANE(7);
	__m128i a0 = _mm_unpacklo_epi8(x0, x1), a1 = _mm_unpackhi_epi8(x0, x1);
	__m128i a2 = _mm_unpacklo_epi8(x2, x3), a3 = _mm_unpackhi_epi8(x2, x3);
	__m128i a4 = _mm_unpacklo_epi8(x4, x5), a5 = _mm_unpackhi_epi8(x4, x5);
	__m128i a6 = _mm_unpacklo_epi8(x6, x7), a7 = _mm_unpackhi_epi8(x6, x7);
	__m128i b0 = _mm_unpacklo_epi16(a0, a2), b1 = _mm_unpackhi_epi16(a0, a2);
	__m128i b2 = _mm_unpacklo_epi16(a1, a3), b3 = _mm_unpackhi_epi16(a1, a3);
	__m128i b4 = _mm_unpacklo_epi16(a4, a6), b5 = _mm_unpackhi_epi16(a4, a6);
	__m128i b6 = _mm_unpacklo_epi16(a5, a7), b7 = _mm_unpackhi_epi16(a5, a7);
#undef PLANE

	__m128i y[8] = {
		_mm_unpacklo_epi32(b0, b4), _mm_unpackhi_epi32(b0, b4),
		_mm_unpacklo_epi32(b1, b5), _mm_unpackhi_epi32(b1, b5),
		_mm_unpacklo_epi32(b2, b6), _mm_unpackhi_epi32(b2, b6),
		_mm_unpacklo_epi32(b3, b7), _mm_unpackhi_epi32(b3, b7),
	};
	__m128i carry = _mm_set1_epi64x(prev);

	/* the prefix in registers: within each pair, then carried pair to pair */
#pragma GCC unroll 8
	for (r = 0; r < 8; r++, dst += 2 * nw) {
		__m128i p = y[r];

		if (sum) {
			p = _mm_add_epi64(p, _mm_slli_si128(p, 8));
			p = _mm_add_epi64(p, carry);
		} else {
			p = _mm_xor_si128(p, _mm_slli_si128(p, 8));
			p = _mm_xor_si128(p, carry);
		}
		carry = _mm_unpackhi_epi64(p, p);
		_mm_storel_epi64((__m128i *)dst, p);
		_mm_storel_epi64((__m128i *)(dst + nw), carry);
	}
	return (uint64_t)_mm_cvtsi128_si64(carry);
#else
	uint64_t v[16];

	for (r = 0; r < 16; r++)
		v[r] = word_at(plane, i + r);
	if (sum) {
		for (r = 0; r < 16; r++, dst += nw)
			*dst = prev += v[r];
	} else {
		for (r = 0; r < 16; r++, dst += nw)
			*dst = prev ^= v[r];
	}
	return prev;
#endif
}

/* The timestamp word (a running sum) and the others (a running XOR), apart: no test per row. */
static uint64_t word_16_sum(uint64_t *dst, size_t nw, size_t i, const uint8_t *const plane[8],
			    uint64_t prev)
{
	return word_16(dst, nw, true, i, plane, prev);
}

static uint64_t word_16_xor(uint64_t *dst, size_t nw, size_t i, const uint8_t *const plane[8],
			    uint64_t prev)
{
	return word_16(dst, nw, false, i, plane, prev);
}

/*
 * The next tile of class @c: its rows [done, done + fill). Each word's
 * prefix goes on from the tile's last row, the row before this tile's
 * first, read before it is overwritten.
 */
static void class_next_tile(struct evdec_class *c)
{
	size_t nw = c->nw, t = c->done, m, i, k;

	m = c->count - t < c->rows ? c->count - t : c->rows;
	for (k = 0; k < c->nwords; k++) {
		const struct evdec_word *wd = &c->words[k];
		uint64_t *dst = c->tile + wd->w;
		uint64_t prev = t ? dst[(c->fill - 1) * nw] : 0;
		bool sum = wd->w == 0;

		if (sum)
			for (i = 0; i + 16 <= m; i += 16, dst += 16 * nw)
				prev = word_16_sum(dst, nw, t + i, wd->plane, prev);
		else
			for (i = 0; i + 16 <= m; i += 16, dst += 16 * nw)
				prev = word_16_xor(dst, nw, t + i, wd->plane, prev);
		for (; i < m; i++, dst += nw) {
			uint64_t v = word_at(wd->plane, t + i);

			*dst = prev = sum ? prev + v : prev ^ v;
		}
	}
	c->done += m;
	c->fill = m;
	c->pos = 0;
}

int evdec_run(struct vl_evdec *d, const uint8_t *raw, size_t len, uint32_t nrec,
	      vl_trace_record_fn fn, void *ctx, char *err, size_t errlen)
{
	uint32_t seen[4][256] = { { 0 } };	/* records of each class number in the order */
	struct evdec_class cls[EVENC_MAX_CLASSES];
	size_t data, total = 0, tiles = 0, nwords = 0, most = 0, pos, i, j;
	const uint8_t *order, *src;
	uint32_t n, k, nclass;
	int ret;

	if (len < EVENC_HDR)
		return snprintf(err, errlen, "events block of %zu bytes: shorter than its header",
				len), -EBADMSG;
	n = rd32(raw);
	nclass = rd16(raw + 4);
	if (n != nrec)
		return snprintf(err, errlen, "events block says %u records, its block header %u",
				n, nrec), -EBADMSG;
	if (nclass > EVENC_MAX_CLASSES || (n && !nclass))
		return snprintf(err, errlen, "events block with %u record classes", nclass),
		       -EBADMSG;
	if ((size_t)EVENC_HDR + (size_t)EVENC_CLASS * nclass + n > len)
		return snprintf(err, errlen, "events block of %zu bytes cannot hold its %u classes "
				"and %u records", len, nclass, n), -EBADMSG;
	data = EVENC_HDR + EVENC_CLASS * nclass + n;
	for (k = 0; k < nclass; k++) {
		const uint8_t *c = raw + EVENC_HDR + EVENC_CLASS * k;
		struct evdec_class *ec = &cls[k];

		memset(ec, 0, sizeof(*ec));
		ec->size = rd16(c + 2);
		ec->count = rd32(c + 4);
		ec->nw = STRIDE(ec->size) / 8;
		if (ec->count > most)
			most = ec->count;
		if (ec->size < EVENC_MIN_SIZE)
			return snprintf(err, errlen, "record class %u: records of %u bytes",
					k, ec->size), -EBADMSG;
		/* rows 8-aligned: the records are read as structs */
		total += (size_t)STRIDE(ec->size) * ec->count;
		if (total > EVDEC_MAX_DECODED)
			return snprintf(err, errlen, "record class %u: %u records of %u bytes: over "
					"the %u bytes a block decodes to", k, ec->count, ec->size,
					EVDEC_MAX_DECODED), -EBADMSG;
		ec->rows = tile_rows(STRIDE(ec->size));
		if (ec->rows > ec->count)
			ec->rows = ec->count;
		/* never more than the block decodes to */
		tiles += ec->nw * ec->rows;
	}
	/* the stored columns of each class must fill the block exactly */
	for (k = 0, pos = data; k < nclass; k++) {
		size_t bm = (cls[k].size + 7) / 8, cols = 0;

		if (pos + bm > len)
			return snprintf(err, errlen, "record class %u: column map past the block", k),
			       -EBADMSG;
		for (j = 0; j < bm; j++) {
			cols += __builtin_popcount(raw[pos + j]);
			nwords += raw[pos + j] != 0;
		}
		if (cls[k].size % 8 && raw[pos + bm - 1] >> (cls[k].size % 8))
			return snprintf(err, errlen, "record class %u: column map past its %u bytes",
					k, cls[k].size), -EBADMSG;
		pos += bm + cols * cls[k].count;
		if (pos > len)
			return snprintf(err, errlen, "record class %u: %zu columns of %u records "
					"overrun the block", k, cols, cls[k].count), -EBADMSG;
	}
	if (pos != len)
		return snprintf(err, errlen, "events block: %zu bytes of records, %zu stored",
				pos - data, len - data), -EBADMSG;
	order = raw + EVENC_HDR + EVENC_CLASS * nclass;
	/* four counts, so that a run of one class is not one chain of increments */
	for (i = 0; i + 4 <= n; i += 4) {
		seen[0][order[i]]++;
		seen[1][order[i + 1]]++;
		seen[2][order[i + 2]]++;
		seen[3][order[i + 3]]++;
	}
	for (; i < n; i++)
		seen[0][order[i]]++;
	for (k = 0; k < nclass; k++) {
		seen[0][k] += seen[1][k] + seen[2][k] + seen[3][k];
		if (seen[0][k] != cls[k].count)
			return snprintf(err, errlen, "record class %u: %u records listed, %u in order",
					k, cls[k].count, seen[0][k]), -EBADMSG;
	}
	/* every record counted of a class below nclass: the rest must be none */
	for (k = nclass; k < 256; k++)
		if (seen[0][k] + seen[1][k] + seen[2][k] + seen[3][k]) {
			for (i = 0; order[i] < nclass; i++)
				;
			return snprintf(err, errlen, "record %zu: class %u of %u", i, order[i],
					nclass), -EBADMSG;
		}
	if (tiles > d->tiles_cap) {
		free(d->tiles);
		d->tiles_cap = tiles;
		d->tiles = xmalloc(tiles * sizeof(*d->tiles));
	}
	if (most > d->zeros_cap) {
		free(d->zeros);
		d->zeros_cap = most;
		d->zeros = xcalloc(1, most);
	}
	if (nwords > d->words_cap) {
		free(d->words);
		d->words_cap = nwords;
		d->words = xmalloc(nwords * sizeof(*d->words));
	}
	/* a word with no stored column is zero in every record */
	if (tiles)
		memset(d->tiles, 0, tiles * sizeof(*d->tiles));
	src = raw + data;
	tiles = 0;
	nwords = 0;
	for (k = 0; k < nclass; k++) {
		struct evdec_class *ec = &cls[k];
		const uint8_t *bm = src;

		ec->tile = d->tiles + tiles;
		tiles += ec->nw * ec->rows;
		ec->words = d->words + nwords;
		src += (ec->size + 7) / 8;
		for (j = 0; j < ec->nw; j++) {
			struct evdec_word *wd = &ec->words[ec->nwords];

			if (!bm[j])
				continue;
			wd->w = j;
			for (i = 0; i < 8; i++) {
				wd->plane[i] = d->zeros;
				if (!(bm[j] & (1 << i)))
					continue;
				wd->plane[i] = src;
				src += ec->count;
			}
			ec->nwords++;
		}
		nwords += ec->nwords;
	}
	for (i = 0; i < n; i++) {
		struct evdec_class *ec = &cls[order[i]];

		if (ec->pos == ec->fill)
			class_next_tile(ec);
		ret = fn(ctx, ec->tile + (size_t)ec->pos++ * ec->nw, ec->size);
		if (ret)
			return ret;
	}
	return 0;
}
