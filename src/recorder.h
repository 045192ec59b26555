/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording core that `vfslock record` and `vfslock daemon` share: the
 * probes (method calls and lock holds where fentry loads, lock waits
 * everywhere), one ring buffer, every record written to a trace as it came
 * and fed to the session's one pipeline, the counters marked once a second.
 */
#ifndef VFSLOCK_RECORDER_H
#define VFSLOCK_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "contend.h"
#include "discover.h"
#include "kbtf.h"
#include "live.h"
#include "session.h"
#include "trace.h"
#include "workload.h"

struct vl_recorder {
	/* set by the caller before recorder_open() */
	const char *path;		/* the trace */
	const char *fslist, *rules_path;
	uint64_t max_size;		/* 0: one unbounded segment */
	size_t ring_bytes;
	bool contention_only;		/* also set when fentry is refused */
	struct vl_workload *wl;		/* its tasks only; NULL: the whole system */
	/* s.lock_events and s.all_calls too */
	struct vl_session s;
	/* every record after the trace and the pipeline took it (a daemon's streams) */
	void (*tap)(void *ctx, const void *rec, size_t size);
	void *tap_ctx;

	bool fentry, live_open;
	struct kbtf *kb;
	struct vl_discovery disc;
	struct vl_live live;
	struct vl_contend c;
	struct ring_buffer *rb;
	struct vl_trace_writer *w;	/* NULL once closed, or while writing is paused */
	/* a daemon's KSYMS text, for every stream's head: read again when modules change */
	char *ksyms_text, *ksyms_modules;
	size_t ksyms_len;
	unsigned ksyms_reads;
	uint64_t last_lost, last_lost_lock, last_lost_method, last_stats_ts;
};

/*
 * Probe what the kernel allows, load the probes, open the trace and the
 * ring buffer; nothing attached yet. A workload is spawned (held) after
 * this and before recorder_attach(). -1 with @err set.
 */
int recorder_open(struct vl_recorder *r, char *err, size_t errlen);
/* Attach, then snapshot the symbols and write the trace's META and KSYMS. */
int recorder_attach(struct vl_recorder *r, char *err, size_t errlen);
/* Poll the ring buffer for up to @timeout_ms and consume it. */
int recorder_poll(struct vl_recorder *r, int timeout_ms);
/* The counters, and what was lost since the last mark, as records in their place. */
void recorder_mark(struct vl_recorder *r);
/* The probes' counters now, summed over both programs. */
void recorder_stats(struct vl_recorder *r, uint64_t st[VL_STAT_MAX]);
/*
 * Go on into a new trace at @path (after the last one failed): its META and
 * KSYMS written now. -1 with @err set, and no trace open.
 */
int recorder_new_trace(struct vl_recorder *r, const char *path, char *err, size_t errlen);
/* The META and KSYMS blocks a trace begins with, into @w: 0, or the writer's error. */
int recorder_write_head(struct vl_recorder *r, struct vl_trace_writer *w);
/* Detach everything and free; the trace, if still open, closed with @end_json. */
int recorder_close(struct vl_recorder *r, const char *end_json, struct vl_trace_wstats *ws);

#endif
