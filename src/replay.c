// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "util.h"

static int on_block(void *ctx, uint16_t kind, const char *data, size_t len)
{
	struct vl_replay *r = ctx;
	char err[320];

	switch (kind) {
	case VL_BLK_META:
		/* every segment repeats it: the first one read is the context */
		if (r->have_meta)
			return 0;
		if (session_load_meta(r->s, data, len, err, sizeof(err))) {
			p_err("%s: %s", r->files[r->nfiles - 1], err);
			return -EINVAL;
		}
		r->have_meta = true;
		return 0;
	case VL_BLK_KSYMS:
		if (r->have_ksyms)
			return 0;
		r->s->ks = ksyms__load_mem(data, len);
		if (!r->s->ks)
			p_warn("%s: the symbol snapshot is empty: stacks show as addresses",
			       r->files[r->nfiles - 1]);
		r->have_ksyms = true;
		return 0;
	case VL_BLK_END:
		free(r->end_json);
		r->end_json = xstrdup(data);
		return 0;
	default:
		return 0;	/* a newer writer's block: skipped */
	}
}

static int on_record(void *ctx, const void *rec, size_t size)
{
	struct vl_replay *r = ctx;

	if (!r->s->started) {
		if (!r->have_meta) {
			p_err("%s: records before the META block", r->files[r->nfiles - 1]);
			return -EINVAL;
		}
		session_start(r->s);
	}
	/* first: a screen showing the state up to a moment shows it before this record */
	if (r->tap) {
		int ret = r->tap(r->tap_ctx, rec, size);

		if (ret)
			return ret;
	}
	if (r->keep && !r->keep(r->tap_ctx, rec, size))
		return 0;
	pipeline_feed(&r->s->pipe, rec, size);
	return 0;
}

/* @path's older segments, oldest first, then @path: those of the same recording. */
static void find_segments(struct vl_replay *r, const char *path)
{
	struct vl_trace_file_hdr newest, h;
	char name[4096], err[320];
	int k, n = 0;
	char *older[VL_TRACE_SEGMENTS];

	if (trace_read_header(path, &newest, err, sizeof(err)) == 0) {
		for (k = 1; k < VL_TRACE_SEGMENTS && newest.segment >= (uint32_t)k; k++) {
			snprintf(name, sizeof(name), "%s.%d", path, k);
			if (trace_read_header(name, &h, err, sizeof(err)) ||
			    h.recording != newest.recording || h.segment != newest.segment - k)
				break;
			older[n++] = xstrdup(name);
		}
	}
	while (n)
		r->files[r->nfiles++] = older[--n];
	r->files[r->nfiles++] = xstrdup(path);
}

int replay_stream(struct vl_replay *r, FILE *f, const char *name, char *err, size_t errlen)
{
	struct vl_trace_cb cb = { .ctx = r, .on_block = on_block, .on_record = on_record };
	struct vl_trace_rstats st;
	int ret;

	if (!r->nfiles)
		r->files[r->nfiles++] = xstrdup(name);
	err[0] = '\0';
	ret = trace_read_file(f, name, &cb, &st, err, errlen);
	if (ret > 0)
		return ret;	/* the tap asked to stop */
	if (ret && !err[0])
		snprintf(err, errlen, "%s: unreadable (%s)", name, strerror(-ret));
	r->records += st.records;
	r->blocks += st.blocks;
	r->ended = st.ended;
	if (!ret && st.damage[0])
		snprintf(r->damage, sizeof(r->damage), "%s", st.damage);
	else if (ret && r->records)
		snprintf(r->damage, sizeof(r->damage), "%s", err);
	return ret;
}

static int finish(struct vl_replay *r, const char *path, char *err, size_t errlen)
{
	if (!r->have_meta) {
		snprintf(err, errlen, "%s: no META block: %s", path,
			 r->damage[0] ? r->damage : "the recording holds nothing");
		return -EINVAL;
	}
	/* a trace with no record still has a result: an empty one */
	session_start(r->s);
	return 0;
}

int replay_run(struct vl_replay *r, const char *path, char *err, size_t errlen)
{
	int i, ret = 0;

	find_segments(r, path);
	for (i = 0; i < r->nfiles; i++) {
		FILE *f = trace_open(r->files[i], err, errlen);

		if (!f) {
			ret = -errno;
		} else {
			ret = replay_stream(r, f, r->files[i], err, errlen);
			fclose(f);
			if (ret > 0)
				return ret;
		}
		if (ret && !r->records)
			return ret;
		if (ret || r->damage[0])
			break;
	}
	return finish(r, path, err, errlen);
}

int replay_stream_end(struct vl_replay *r, const char *name, char *err, size_t errlen)
{
	return finish(r, name, err, errlen);
}

void replay_warn(const struct vl_replay *r)
{
	const struct vl_session *s = r->s;
	int i, untraced = 0;

	if (r->nfiles > 1)
		p_info("read %d segments of the recording, oldest %s", r->nfiles, r->files[0]);
	if (r->damage[0])
		p_warn("%s; the %" PRIu64 " records before it are all read", r->damage, r->records);
	else if (!r->ended)
		p_warn("%s: no END block: the recording was cut short (killed, or its disk "
		       "full); the %" PRIu64 " records before are all read",
		       r->files[r->nfiles - 1], r->records);
	if (s->eng && s->rec_rules[0] && s->rs && strcmp(s->rec_rules, s->rs->source)) {
		for (i = 0; i < s->cat.nfns; i++)
			if (!s->traced[i] && engine_fn_checked(s->eng, &s->cat.fns[i]))
				untraced++;
		if (untraced)
			p_warn("%d method implementations the rules of %s check were not traced "
			       "when this was recorded (under %s): their calls are not judged",
			       untraced, s->rs->source, s->rec_rules);
		if (!s->all_calls)
			p_warn("recorded with --suspect-calls: only the calls the rules of %s found "
			       "suspect in the kernel are here, the other rules judge only those",
			       s->rec_rules);
	}
}

void replay_free(struct vl_replay *r)
{
	int i;

	for (i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->end_json);
	memset(r, 0, sizeof(*r));
}
