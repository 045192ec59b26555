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
	free(d->buf);
	free(d->planes);
	d->buf = NULL;
	d->cap = 0;
	d->planes = NULL;
	d->nplanes = 0;
}

/* Decoded bytes of one block at most: rows 8-aligned at most double the encoder's bound. */
#define EVDEC_MAX_DECODED	(2 * EVENC_MAX_RAW + 2 * UINT16_MAX)
#define STRIDE(sz)		(((size_t)(sz) + 7) & ~(size_t)7)
#define EVDEC_TILE		64	/* rows decoded together, to stay in L1 */

/* Row @i of a word from its byte columns (NULL: zero), one byte at a time. */
static uint64_t word_at(const uint8_t *const plane[8], size_t i)
{
	uint64_t v = 0;
	int c;

	for (c = 0; c < 8; c++)
		if (plane[c])
			v |= (uint64_t)plane[c][i] << (8 * c);
	return v;
}

/*
 * Word @w of rows [@i, @i + 16) from its byte columns (NULL: zero), put
 * together 16 rows at a time: the byte planes interleaved by a transpose
 * (SSE2 unpacks), then the prefix (a sum for the timestamp, word 0, a XOR
 * for the rest) carried over the rows.
 */
static uint64_t word_16(uint64_t *rows, size_t nw, size_t w, size_t i,
			const uint8_t *const plane[8], uint64_t prev)
{
	uint64_t v[16] __attribute__((aligned(16)));
	int r;
#ifdef __SSE2__
#define PLANE(c) (plane[c] ? _mm_loadu_si128((const __m128i *)(plane[c] + i)) : _mm_setzero_si128())
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

	_mm_store_si128((__m128i *)&v[0], _mm_unpacklo_epi32(b0, b4));
	_mm_store_si128((__m128i *)&v[2], _mm_unpackhi_epi32(b0, b4));
	_mm_store_si128((__m128i *)&v[4], _mm_unpacklo_epi32(b1, b5));
	_mm_store_si128((__m128i *)&v[6], _mm_unpackhi_epi32(b1, b5));
	_mm_store_si128((__m128i *)&v[8], _mm_unpacklo_epi32(b2, b6));
	_mm_store_si128((__m128i *)&v[10], _mm_unpackhi_epi32(b2, b6));
	_mm_store_si128((__m128i *)&v[12], _mm_unpacklo_epi32(b3, b7));
	_mm_store_si128((__m128i *)&v[14], _mm_unpackhi_epi32(b3, b7));
#else
	for (r = 0; r < 16; r++)
		v[r] = word_at(plane, i + r);
#endif
	rows += i * nw + w;
	if (w) {
		for (r = 0; r < 16; r++, rows += nw)
			*rows = prev ^= v[r];
	} else {
		for (r = 0; r < 16; r++, rows += nw)
			*rows = prev += v[r];
	}
	return prev;
}

/*
 * Word @w of rows [@t, @t + @m) of a class from its byte columns: the
 * prefix goes on from row @t - 1.
 */
static void word_rows(uint64_t *rows, size_t nw, size_t w, size_t t, size_t m,
		      const uint8_t *const plane[8])
{
	uint64_t prev = t ? rows[(t - 1) * nw + w] : 0;
	size_t i, end = t + m;

	for (i = t; i + 16 <= end; i += 16)
		prev = word_16(rows, nw, w, i, plane, prev);
	for (; i < end; i++) {
		prev = w ? prev ^ word_at(plane, i) : prev + word_at(plane, i);
		rows[i * nw + w] = prev;
	}
}

int evdec_run(struct vl_evdec *d, const uint8_t *raw, size_t len, uint32_t nrec,
	      vl_trace_record_fn fn, void *ctx, char *err, size_t errlen)
{
	uint32_t count[EVENC_MAX_CLASSES], seen[EVENC_MAX_CLASSES] = { 0 }, cur[EVENC_MAX_CLASSES];
	uint16_t size[EVENC_MAX_CLASSES];
	size_t off[EVENC_MAX_CLASSES], data, total = 0, pos, i, j, t;
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

		size[k] = rd16(c + 2);
		count[k] = rd32(c + 4);
		if (size[k] < EVENC_MIN_SIZE)
			return snprintf(err, errlen, "record class %u: records of %u bytes",
					k, size[k]), -EBADMSG;
		off[k] = total;
		/* rows 8-aligned: the records are read as structs */
		total += (size_t)STRIDE(size[k]) * count[k];
		if (total > EVDEC_MAX_DECODED)
			return snprintf(err, errlen, "record class %u: %u records of %u bytes: over "
					"the %u bytes a block decodes to", k, count[k], size[k],
					EVDEC_MAX_DECODED), -EBADMSG;
	}
	/* the stored columns of each class must fill the block exactly */
	for (k = 0, pos = data; k < nclass; k++) {
		size_t bm = (size[k] + 7) / 8, cols = 0;

		if (pos + bm > len)
			return snprintf(err, errlen, "record class %u: column map past the block", k),
			       -EBADMSG;
		for (j = 0; j < bm; j++)
			cols += __builtin_popcount(raw[pos + j]);
		if (size[k] % 8 && raw[pos + bm - 1] >> (size[k] % 8))
			return snprintf(err, errlen, "record class %u: column map past its %u bytes",
					k, size[k]), -EBADMSG;
		pos += bm + cols * count[k];
		if (pos > len)
			return snprintf(err, errlen, "record class %u: %zu columns of %u records "
					"overrun the block", k, cols, count[k]), -EBADMSG;
	}
	if (pos != len)
		return snprintf(err, errlen, "events block: %zu bytes of records, %zu stored",
				pos - data, len - data), -EBADMSG;
	order = raw + EVENC_HDR + EVENC_CLASS * nclass;
	for (i = 0; i < n; i++) {
		if (order[i] >= nclass)
			return snprintf(err, errlen, "record %zu: class %u of %u", i, order[i],
					nclass), -EBADMSG;
		seen[order[i]]++;
	}
	for (k = 0; k < nclass; k++)
		if (seen[k] != count[k])
			return snprintf(err, errlen, "record class %u: %u records listed, %u in order",
					k, count[k], seen[k]), -EBADMSG;
	if (total > d->cap) {
		free(d->buf);
		d->cap = total;
		d->buf = xmalloc(total);
	}
	src = raw + data;
	for (k = 0; k < nclass; k++) {
		size_t sz = size[k], cn = count[k], nw = STRIDE(sz) / 8;
		const uint8_t *bm = src;
		uint64_t *rows = (uint64_t *)(d->buf + off[k]);

		src += (sz + 7) / 8;
		/* a column not stored is zero in every record */
		memset(rows, 0, nw * 8 * cn);
		if (nw > d->nplanes) {
			d->planes = xrealloc(d->planes, nw * sizeof(*d->planes));
			d->nplanes = nw;
		}
		for (j = 0; j < nw; j++) {
			for (i = 0; i < 8; i++) {
				d->planes[j][i] = NULL;
				if (8 * j + i >= sz || !(bm[j] & (1 << i)))
					continue;
				d->planes[j][i] = src;
				src += cn;
			}
		}
		/* a tile of rows at a time, every word of it: the rows stay in L1 */
		for (t = 0; t < cn; t += EVDEC_TILE) {
			size_t m = cn - t < EVDEC_TILE ? cn - t : EVDEC_TILE;

			for (j = 0; j < nw; j++)
				if (bm[j])
					word_rows(rows, nw, j, t, m, d->planes[j]);
		}
		cur[k] = 0;
	}
	for (i = 0; i < n; i++) {
		k = order[i];
		ret = fn(ctx, d->buf + off[k] + (size_t)cur[k]++ * STRIDE(size[k]), size[k]);
		if (ret)
			return ret;
	}
	return 0;
}
