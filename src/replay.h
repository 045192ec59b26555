/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The trace as an event source: its META and KSYMS blocks make the
 * session's context, its records go through the session's pipeline.
 * A recording rotated into segments is read oldest first.
 */
#ifndef VFSLOCK_REPLAY_H
#define VFSLOCK_REPLAY_H

#include "session.h"
#include "trace.h"

struct vl_replay {
	struct vl_session *s;
	/* each record before the pipeline takes it (the screen); a positive return stops */
	vl_trace_record_fn tap;
	void *tap_ctx;
	/* after the tap: false keeps a record from the pipeline (another task's, say) */
	bool (*keep)(void *ctx, const void *rec, size_t size);
	int nfiles;
	char *files[VL_TRACE_SEGMENTS];
	char *end_json;			/* the last END block read */
	uint64_t records, blocks;
	bool ended;			/* the newest segment ended cleanly */
	char damage[320];		/* where reading stopped early, "" if it did not */
	bool have_meta, have_ksyms;
};

/*
 * Read @path and the older segments of its recording, feeding @r->s. 0,
 * or a negative errno with @err set when nothing could be read; damage
 * after a good start is in @r->damage, everything before it fed. The tap's
 * positive return, as is, when it stopped the reading.
 */
int replay_run(struct vl_replay *r, const char *path, char *err, size_t errlen);
/* One trace from @f (named @name), as replay_run() reads each; then replay_stream_end(). */
int replay_stream(struct vl_replay *r, FILE *f, const char *name, char *err, size_t errlen);
int replay_stream_end(struct vl_replay *r, const char *name, char *err, size_t errlen);
void replay_free(struct vl_replay *r);
/* Warnings on stderr: damage, a recording cut short, untraced methods of other rules. */
void replay_warn(const struct vl_replay *r);

#endif
