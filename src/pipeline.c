// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pipeline.h"

void pipeline_init(struct vl_pipeline *p, struct vl_engine *eng)
{
	memset(p, 0, sizeof(*p));
	p->ls = lockstate_new();
	p->eng = eng;
}

void pipeline_fini(struct vl_pipeline *p)
{
	lockstate_free(p->ls);
	p->ls = NULL;
}

void pipeline_add_sink(struct vl_pipeline *p, const struct vl_sink *s)
{
	struct vl_sink *k;

	if (p->nsinks == VL_MAX_SINKS)
		return;
	k = &p->sinks[p->nsinks++];
	*k = *s;
	if (k->on_record)
		p->rec[p->nrec++] = k;
	if (k->on_hold_end)
		p->hold[p->nhold++] = k;
	if (k->on_deviation)
		p->dev[p->ndev++] = k;
}

static void deviation(void *ctx, const struct vl_deviation *d)
{
	struct vl_pipeline *p = ctx;
	int i;

	for (i = 0; i < p->ndev; i++)
		p->dev[i]->on_deviation(p->dev[i]->ctx, d);
}

static size_t min_size(uint16_t type)
{
	switch (type) {
	case VL_EV_LOCK:
		return sizeof(struct vl_ev_lock);
	case VL_EV_METHOD_ENTER:
	case VL_EV_METHOD_EXIT:
	case VL_EV_METHOD_BLOCK:
		return VL_METHOD_EV_SIZE_NOSTACK;
	case VL_EV_TASK_EXIT:
	case VL_EV_TASK_FORK:
		return sizeof(struct vl_ev_task);
	case VL_EV_CONTEND:
		return sizeof(struct vl_ev_contend);
	case VL_EV_OBJ_NAME:
		return sizeof(struct vl_ev_objname);
	case VL_EV_LOST:
		return sizeof(struct vl_ev_lost);
	case VL_EV_STATS:
		return offsetof(struct vl_ev_stats, v);
	default:
		return sizeof(struct vl_ev_hdr);
	}
}

/* A counters record holds the nstat counters it says it does (those we know of). */
static bool stats_fit(const struct vl_ev_stats *s)
{
	uint32_t n = s->nstat < VL_STAT_MAX ? s->nstat : VL_STAT_MAX;

	return offsetof(struct vl_ev_stats, v) + n * sizeof(s->v[0]) <= s->hdr.size;
}

/*
 * Records that come seldom (task births and deaths, losses, counters), out
 * of pipeline_feed: what they need would cost its registers every record.
 */
static __attribute__((noinline)) void feed_rare(struct vl_pipeline *p, const struct vl_ev_hdr *h)
{
	const void *data = h;

	switch (h->type) {
	case VL_EV_TASK_FORK: {
		const struct vl_ev_task *t = data;

		lockstate_task_born(p->ls, t->child_tid, t->child_tgid, t->comm);
		break;
	}
	case VL_EV_TASK_EXIT:
		lockstate_task_exit(p->ls, h->tid);
		break;
	case VL_EV_LOST: {
		const struct vl_ev_lost *l = data;

		p->st.lost += l->lost;
		p->st.lost_episodes++;
		if (!p->st.first_lost_ts)
			p->st.first_lost_ts = h->ts;
		p->st.last_lost_ts = h->ts;
		break;
	}
	case VL_EV_STATS: {
		const struct vl_ev_stats *s = data;
		uint32_t n = s->nstat < VL_STAT_MAX ? s->nstat : VL_STAT_MAX;

		memcpy(p->st.kstats, s->v, n * sizeof(s->v[0]));
		break;
	}
	default:
		/* a newer producer's record: its size lets us step over it */
		break;
	}
}

int pipeline_feed(struct vl_pipeline *p, const void *data, size_t size)
{
	const struct vl_ev_hdr *h = data;
	int i;

	if (size < sizeof(*h) || h->size > size || h->size < min_size(h->type) ||
	    (h->type == VL_EV_STATS && !stats_fit(data))) {
		p->st.bad++;
		return -EINVAL;
	}
	p->st.records++;
	if (h->type < VL_EV_TYPE_MAX)
		p->st.by_type[h->type]++;
	if (!p->st.first_ts)
		p->st.first_ts = h->ts;
	p->st.last_ts = h->ts;

	switch (h->type) {
	case VL_EV_LOCK: {
		struct vl_hold ended;

		if (lockstate_apply(p->ls, data, &ended))
			for (i = 0; i < p->nhold; i++)
				p->hold[i]->on_hold_end(p->hold[i]->ctx, &ended, h->tid, h->ts);
		break;
	}
	case VL_EV_METHOD_ENTER:
	case VL_EV_METHOD_EXIT:
	case VL_EV_METHOD_BLOCK: {
		const struct vl_ev_method *m = data;
		struct vl_task *t = lockstate_task_get(p->ls, h->tid, h->tgid);

		memcpy(t->comm, m->comm, sizeof(t->comm));
		t->comm[sizeof(t->comm) - 1] = '\0';
		if (p->eng)
			engine_on_method(p->eng, p->ls, m, deviation, p);
		break;
	}
	case VL_EV_CONTEND:
	case VL_EV_OBJ_NAME:
		/* for the aggregates alone: waits change no hold */
		break;
	default:
		feed_rare(p, h);
		break;
	}
	for (i = 0; i < p->nrec; i++)
		p->rec[i]->on_record(p->rec[i]->ctx, h);
	return 0;
}

int pipeline_feed_cb(void *p, void *data, size_t size)
{
	pipeline_feed(p, data, size);
	return 0;
}
