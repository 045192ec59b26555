/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one line every use goes through: records from a source (ring buffer,
 * trace file) update the held locks, are judged by the engine, and reach the
 * sinks (report, recorder, views). Same records, same answers.
 */
#ifndef VFSLOCK_PIPELINE_H
#define VFSLOCK_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "lockstate.h"

struct vl_sink {
	void *ctx;
	void (*on_deviation)(void *ctx, const struct vl_deviation *d);
	void (*on_record)(void *ctx, const struct vl_ev_hdr *h);
	/* a hold of @tid ended at @ts (the release that ended it reaches on_record next) */
	void (*on_hold_end)(void *ctx, const struct vl_hold *hold, uint32_t tid, uint64_t ts);
};

#define VL_MAX_SINKS 8

struct vl_pipeline_stats {
	uint64_t records;
	uint64_t bad;			/* truncated or malformed records, skipped */
	uint64_t by_type[VL_EV_TYPE_MAX];
	uint64_t first_ts, last_ts;
	uint64_t lost;			/* records the ring buffers dropped (vl_ev_lost) */
	uint64_t lost_episodes;		/* readings that found some dropped */
	uint64_t first_lost_ts, last_lost_ts;
	uint64_t kstats[VL_STAT_MAX];	/* the programs' counters, last vl_ev_stats */
};

struct vl_pipeline {
	struct vl_lockstate *ls;
	struct vl_engine *eng;
	int nsinks;
	struct vl_sink sinks[VL_MAX_SINKS];
	/* the sinks that take each kind of call, for the loops run per record */
	int nrec, nhold, ndev;
	const struct vl_sink *rec[VL_MAX_SINKS], *hold[VL_MAX_SINKS], *dev[VL_MAX_SINKS];
	struct vl_pipeline_stats st;
};

void pipeline_init(struct vl_pipeline *p, struct vl_engine *eng);
void pipeline_fini(struct vl_pipeline *p);
void pipeline_add_sink(struct vl_pipeline *p, const struct vl_sink *s);

/* One record; 0, or -EINVAL for a record that does not parse (counted, skipped). */
int pipeline_feed(struct vl_pipeline *p, const void *data, size_t size);

/* Signature of libbpf's ring_buffer_sample_fn, for live sources. */
int pipeline_feed_cb(void *p, void *data, size_t size);

#endif
