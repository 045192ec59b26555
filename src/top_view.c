// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine.h"
#include "lockstate.h"
#include "top_view.h"
#include "util.h"

static const struct top_col lock_cols[] = {
	{ "CLASS", 10, true }, { "WAITS", 6, false }, { "WAIT", 7, false }, { "AVG", 7, false },
	{ "MAX", 7, false }, { "HOLD", 7, false }, { "LOCK", 0, true },
};
static const struct top_col task_cols[] = {
	{ "PID", 7, false }, { "COMM", 16, true }, { "WAITS", 7, false }, { "WAIT", 9, false }, { "MAX", 8, false },
	{ "HOLDS", 7, false }, { "HOLD", 9, false },
};
static const struct top_col site_cols[] = {
	{ "CLASS", 11, true }, { "WAITS", 7, false }, { "READS", 7, false }, { "WAIT", 9, false }, { "AVG", 8, false },
	{ "MAX", 8, false }, { "CALLER", 0, true },
};
static const struct top_col dev_cols[] = {
	{ "TIME", 9, false }, { "PID", 7, false }, { "COMM", 16, true }, { "METHOD", 22, true },
	{ "RULE", 0, true },
};
static const struct top_col rule_cols[] = {
	{ "DEVS", 6, false }, { "CHECKED", 8, true }, { "RULE", 0, true },
};

static const struct {
	const char *name;
	const struct top_col *cols;
	int ncols;
} views[TV_MAX] = {
	[TV_LOCKS] = { "locks", lock_cols, sizeof(lock_cols) / sizeof(lock_cols[0]) },
	[TV_TASKS] = { "tasks", task_cols, sizeof(task_cols) / sizeof(task_cols[0]) },
	[TV_SITES] = { "sites", site_cols, sizeof(site_cols) / sizeof(site_cols[0]) },
	[TV_DEVS] = { "deviations", dev_cols, sizeof(dev_cols) / sizeof(dev_cols[0]) },
	[TV_RULES] = { "rules", rule_cols, sizeof(rule_cols) / sizeof(rule_cols[0]) },
};

const char *top_view_name(enum top_view_id v)
{
	return v < TV_MAX ? views[v].name : "?";
}

int top_view_parse(const char *s)
{
	int v;

	for (v = 0; v < TV_MAX; v++)
		if (!strcmp(s, views[v].name))
			return v;
	return -1;
}

int top_view_ncols(enum top_view_id v)
{
	return views[v].ncols;
}

const char *top_col_name(enum top_view_id v, int col)
{
	return col >= 0 && col < views[v].ncols ? views[v].cols[col].name : "?";
}

int top_col_parse(enum top_view_id v, const char *s)
{
	int c;

	for (c = 0; c < views[v].ncols; c++)
		if (!strcasecmp(s, views[v].cols[c].name))
			return c;
	return -1;
}

static int class_parse(const char *s)
{
	int c;

	for (c = 0; c < VL_LOCK_CLASS_MAX; c++)
		if (!strcmp(s, c ? lock_class_name(c) : "other"))
			return c;
	return -1;
}

int top_filter_parse(struct top_filter *f, const char *s)
{
	const char *eq = strchr(s, '=');
	char *end;

	if (!*s) {
		memset(f, 0, sizeof(*f));
		f->cls = -1;
		return 0;
	}
	if (!eq || !eq[1])
		return -EINVAL;
	if (!strncmp(s, "fs=", 3)) {
		snprintf(f->fs, sizeof(f->fs), "%s", eq + 1);
	} else if (!strncmp(s, "comm=", 5)) {
		snprintf(f->comm, sizeof(f->comm), "%s", eq + 1);
	} else if (!strncmp(s, "pid=", 4)) {
		long v = strtol(eq + 1, &end, 10);

		if (*end || v <= 0 || v > INT32_MAX)
			return -EINVAL;
		f->pid = v;
	} else if (!strncmp(s, "class=", 6)) {
		int c = class_parse(eq + 1);

		if (c < 0)
			return -EINVAL;
		f->cls = c;
	} else {
		return -EINVAL;
	}
	return 0;
}

void top_filter_format(const struct top_filter *f, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	if (f->fs[0])
		n += snprintf(buf + n, len - n, "fs=%s ", f->fs);
	if (f->comm[0] && n < len)
		n += snprintf(buf + n, len - n, "comm=%s ", f->comm);
	if (f->pid && n < len)
		n += snprintf(buf + n, len - n, "pid=%d ", f->pid);
	if (f->cls >= 0 && n < len)
		n += snprintf(buf + n, len - n, "class=%s ",
			      f->cls ? lock_class_name(f->cls) : "other");
	if (n && n <= len)
		buf[n - 1] = '\0';
	else if (!n)
		snprintf(buf, len, "-");
}

const char *fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns >= 10000000000ULL)
		snprintf(buf, len, "%.0fs", ns / 1e9);
	else if (ns >= 1000000000ULL)
		snprintf(buf, len, "%.2fs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	return buf;
}

static const char *class_label(uint8_t cls)
{
	return cls ? lock_class_name(cls) : "other";
}

static bool who_match(const struct vl_who *w, const struct top_filter *f)
{
	int i;

	for (i = 0; i < VL_AGG_WHO && w[i].t.n; i++)
		if ((!f->pid || (int)w[i].tid == f->pid) &&
		    (!f->comm[0] || !strcmp(w[i].comm, f->comm)))
			return true;
	return false;
}

static bool lock_match(const struct vl_agg *a, const struct vl_agg_lock *l,
		       const struct top_filter *f)
{
	if (f->cls >= 0 && l->cls != f->cls)
		return false;
	if (f->fs[0] && strcmp(agg_dev_fstype(a, l->dev), f->fs))
		return false;
	if ((f->pid || f->comm[0]) && !who_match(l->waiters, f) && !who_match(l->holders, f))
		return false;
	return true;
}

static struct top_row *row_add(struct top_table *t)
{
	t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
	memset(&t->rows[t->nrows], 0, sizeof(t->rows[0]));
	return &t->rows[t->nrows++];
}

static void cell_ns(struct top_row *r, int c, uint64_t ns)
{
	fmt_ns(ns, r->cell[c], TOP_CELL);
	r->num[c] = ns;
}

static void cell_u(struct top_row *r, int c, uint64_t v)
{
	snprintf(r->cell[c], TOP_CELL, "%" PRIu64, v);
	r->num[c] = v;
}

static void build_locks(struct top_table *t, struct vl_agg *a, const struct top_filter *f)
{
	struct vl_agg_lock **v;
	int n = agg_locks(a, &v), i;

	for (i = 0; i < n; i++) {
		const struct vl_agg_lock *l = v[i];
		uint64_t waits = l->wait[0].n + l->wait[1].n;
		uint64_t wait = l->wait[0].total + l->wait[1].total;
		uint64_t max = l->wait[0].max > l->wait[1].max ? l->wait[0].max : l->wait[1].max;
		struct top_row *r;

		/* hold-only instances crowd the view: a lock shows once it was waited for */
		if (!waits || !lock_match(a, l, f))
			continue;
		r = row_add(t);
		r->key = l->lock;
		snprintf(r->cell[0], TOP_CELL, "%s", class_label(l->cls));
		cell_u(r, 1, waits);
		cell_ns(r, 2, wait);
		cell_ns(r, 3, waits ? wait / waits : 0);
		cell_ns(r, 4, max);
		cell_ns(r, 5, l->hold[0].total + l->hold[1].total);
		agg_lock_label(a, l, r->cell[6], TOP_CELL);
	}
	free(v);
}

static void build_tasks(struct top_table *t, struct vl_agg *a, const struct top_filter *f)
{
	struct vl_agg_task **v;
	int n = agg_tasks(a, &v), i;

	for (i = 0; i < n; i++) {
		const struct vl_agg_task *k = v[i];
		struct top_row *r;

		if (f->pid && (int)k->tid != f->pid && (int)k->tgid != f->pid)
			continue;
		if (f->comm[0] && strcmp(k->comm, f->comm))
			continue;
		r = row_add(t);
		r->key = k->tid;
		cell_u(r, 0, k->tid);
		snprintf(r->cell[1], TOP_CELL, "%s", k->comm[0] ? k->comm : "?");
		cell_u(r, 2, k->wait.n);
		cell_ns(r, 3, k->wait.total);
		cell_ns(r, 4, k->wait.max);
		cell_u(r, 5, k->hold.n);
		cell_ns(r, 6, k->hold.total);
	}
	free(v);
}

static void build_sites(struct top_table *t, struct vl_agg *a, const struct top_filter *f)
{
	struct vl_agg_site **v;
	int n = agg_sites(a, &v), i;

	for (i = 0; i < n; i++) {
		const struct vl_agg_site *s = v[i];
		uint64_t waits = s->wait[0].n + s->wait[1].n;
		uint64_t wait = s->wait[0].total + s->wait[1].total;
		struct top_row *r;

		if (f->cls >= 0 && s->cls != f->cls)
			continue;
		r = row_add(t);
		r->key = s->caller;
		snprintf(r->cell[0], TOP_CELL, "%s", class_label(s->cls));
		cell_u(r, 1, waits);
		cell_u(r, 2, s->wait[0].n);
		cell_ns(r, 3, wait);
		cell_ns(r, 4, waits ? wait / waits : 0);
		cell_ns(r, 5, s->wait[0].max > s->wait[1].max ? s->wait[0].max : s->wait[1].max);
		agg_sym(a, s->caller, r->cell[6], TOP_CELL);
	}
	free(v);
}

static void build_devs(struct top_table *t, struct vl_agg *a, const struct top_filter *f)
{
	const struct vl_agg_totals *tot = agg_totals(a);
	struct vl_agg_dev d[VL_AGG_DEV_KEEP];
	int n = agg_deviations(a, d), i;

	for (i = n - 1; i >= 0; i--) {
		struct top_row *r;

		if ((f->pid && (int)d[i].tid != f->pid) || (f->comm[0] && strcmp(d[i].comm, f->comm)))
			continue;
		r = row_add(t);
		snprintf(r->cell[0], TOP_CELL, "%.3f",
			 (d[i].ts - (tot->first_ts ? tot->first_ts : d[i].ts)) / 1e9);
		r->num[0] = d[i].ts;
		cell_u(r, 1, d[i].tid);
		snprintf(r->cell[2], TOP_CELL, "%s", d[i].comm);
		snprintf(r->cell[3], TOP_CELL, "%s", d[i].method);
		snprintf(r->cell[4], TOP_CELL, "%s", d[i].rule);
	}
}

static void build_rules(struct top_table *t, struct vl_agg *a, const struct vl_ruleset *rs)
{
	int i;

	for (i = 0; rs && i < rs->nrules; i++) {
		const struct vl_rule *ru = &rs->rules[i];
		const char *note;
		struct top_row *r = row_add(t);

		cell_u(r, 0, agg_rule_deviations(a, ru->id));
		snprintf(r->cell[1], TOP_CELL, "%s", engine_checks(ru, &note) ? "yes" : "no");
		r->num[1] = 0;
		snprintf(r->cell[2], TOP_CELL, "%s", ru->id);
	}
}

/* Text ascending, numbers largest first; ties by the first column. */
static int row_cmp(const void *x, const void *y, void *arg)
{
	const struct top_row *a = x, *b = y;
	const struct top_table *t = arg;
	int c = t->sort;

	if (t->cols[c].text)
		return strcmp(a->cell[c], b->cell[c]);
	if (a->num[c] != b->num[c])
		return a->num[c] < b->num[c] ? 1 : -1;
	return strcmp(a->cell[0], b->cell[0]);
}

void top_table_build(struct top_table *t, enum top_view_id v, struct vl_agg *a,
		     const struct vl_ruleset *rs, const struct top_filter *f, int sort)
{
	memset(t, 0, sizeof(*t));
	t->view = v;
	t->cols = views[v].cols;
	t->ncols = views[v].ncols;
	switch (v) {
	case TV_LOCKS:
		build_locks(t, a, f);
		break;
	case TV_TASKS:
		build_tasks(t, a, f);
		break;
	case TV_SITES:
		build_sites(t, a, f);
		break;
	case TV_DEVS:
		build_devs(t, a, f);
		break;
	case TV_RULES:
		build_rules(t, a, rs);
		break;
	default:
		break;
	}
	if (sort >= 0 && sort < t->ncols && t->nrows > 1) {
		t->sort = sort;
		qsort_r(t->rows, t->nrows, sizeof(*t->rows), row_cmp, t);
	}
}

void top_table_free(struct top_table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->nrows = 0;
}

void top_print_status(FILE *f, const struct top_status *st, const struct vl_agg *a,
		      enum top_view_id v, int sort, const struct top_filter *flt)
{
	const struct vl_agg_totals *tot = agg_totals(a);
	char w[32], h[32], fl[96];

	top_filter_format(flt, fl, sizeof(fl));
	fprintf(f, "vfslock top - %s - rules %s (%s) - mode %s%s\n", st->kernel,
		st->rules_version[0] ? st->rules_version : "?", st->rules_source, st->mode,
		st->paused ? " - paused" : "");
	fprintf(f, "events/s %.0f, lost %" PRIu64 ", deviations %" PRIu64 ", waits %" PRIu64
		" (%s), holds %" PRIu64 " (%s)\n", st->events_per_s, st->lost, st->deviations,
		tot->waits, fmt_ns(tot->wait_ns, w, sizeof(w)), tot->holds,
		fmt_ns(tot->hold_ns, h, sizeof(h)));
	fprintf(f, "view %s, sort %s, filter %s\n", top_view_name(v), top_col_name(v, sort), fl);
	if (st->waits_from[0])
		fprintf(f, "waits from: %s\n", st->waits_from);
	if (st->missing[0])
		fprintf(f, "missing: %s\n", st->missing);
	if (st->where[0])
		fprintf(f, "%s\n", st->where);
}

void top_print_table(FILE *f, const struct top_table *t, int width, int max_rows)
{
	int r, c;

	for (c = 0; c < t->ncols; c++)
		fprintf(f, t->cols[c].text ? "%-*s%s" : "%*s%s", t->cols[c].width, t->cols[c].name,
			c + 1 < t->ncols ? " " : "\n");
	for (r = 0; r < t->nrows && (!max_rows || r < max_rows); r++)
		for (c = 0; c < t->ncols; c++) {
			int wdt = t->cols[c].width;

			if (!wdt)
				fprintf(f, "%.*s", width > 0 ? width : TOP_CELL, t->rows[r].cell[c]);
			else
				fprintf(f, t->cols[c].text ? "%-*.*s" : "%*.*s", wdt, wdt,
					t->rows[r].cell[c]);
			fputs(c + 1 < t->ncols ? " " : "\n", f);
		}
}

static void who_lines(const char *title, const struct vl_who *w,
		      void (*line)(void *ctx, const char *s), void *ctx)
{
	char buf[256], a[32], m[32];
	int i;

	for (i = 0; i < VL_AGG_WHO && w[i].t.n; i++) {
		snprintf(buf, sizeof(buf), "  %-8s %-16s pid %-7u %7" PRIu64 " x  total %-9s max %s",
			 i ? "" : title, w[i].comm, w[i].tid, w[i].t.n,
			 fmt_ns(w[i].t.total, a, sizeof(a)), fmt_ns(w[i].t.max, m, sizeof(m)));
		line(ctx, buf);
	}
}

static void hist_lines(const char *title, const struct vl_hist *hs,
		       void (*line)(void *ctx, const char *s), void *ctx)
{
	uint64_t top = 0;
	char buf[256], lo[32], hi[32];
	int i, first = -1, last = -1;

	for (i = 0; i < VL_HIST_BUCKETS; i++)
		if (hs->b[i]) {
			if (first < 0)
				first = i;
			last = i;
			if (hs->b[i] > top)
				top = hs->b[i];
		}
	if (first < 0)
		return;
	snprintf(buf, sizeof(buf), "  %s (log2 buckets)", title);
	line(ctx, buf);
	for (i = first; i <= last; i++) {
		int bar = (int)(hs->b[i] * 30 / top);

		snprintf(buf, sizeof(buf), "  %9s .. %-9s %8" PRIu64 " |%.*s%*s|",
			 fmt_ns(1ULL << i, lo, sizeof(lo)), fmt_ns((1ULL << (i + 1)) - 1, hi, sizeof(hi)),
			 hs->b[i], bar, "******************************", 30 - bar, "");
		line(ctx, buf);
	}
}

void top_lock_detail(struct vl_agg *a, uint64_t lock, void (*line)(void *ctx, const char *s),
		     void *ctx)
{
	struct vl_agg_lock *l = agg_lock(a, lock);
	char buf[512], name[256], x[32], y[32], z[32], sc[48];
	int i;

	if (!l) {
		line(ctx, "  (gone)");
		return;
	}
	snprintf(buf, sizeof(buf), "%s %s", class_label(l->cls), agg_lock_name(a, l, name,
									 sizeof(name)));
	line(ctx, buf);
	snprintf(buf, sizeof(buf), "  lock %#" PRIx64 "  object %#" PRIx64, l->lock, l->obj);
	line(ctx, buf);
	snprintf(buf, sizeof(buf), "  waits  read %" PRIu64 " (%s)  write %" PRIu64 " (%s)  max %s",
		 l->wait[0].n, fmt_ns(l->wait[0].total, x, sizeof(x)), l->wait[1].n,
		 fmt_ns(l->wait[1].total, y, sizeof(y)),
		 fmt_ns(l->wait[0].max > l->wait[1].max ? l->wait[0].max : l->wait[1].max, z,
			sizeof(z)));
	line(ctx, buf);
	snprintf(buf, sizeof(buf), "  holds  read %" PRIu64 " (%s)  write %" PRIu64 " (%s)",
		 l->hold[0].n, fmt_ns(l->hold[0].total, x, sizeof(x)), l->hold[1].n,
		 fmt_ns(l->hold[1].total, y, sizeof(y)));
	line(ctx, buf);
	if (l->owner_tid) {
		snprintf(buf, sizeof(buf), "  owner at the last wait: %s pid %u, %s, in %s%s%s",
			 l->owner_comm, l->owner_tid, agg_task_state_name(l->owner_state),
			 agg_syscall_name(l->owner_syscall, sc, sizeof(sc)),
			 l->owner_flags & VL_OWN_READERS ? " (readers own it: the last one)" : "",
			 l->owner_flags & VL_OWN_KTHREAD ? " (kernel thread)" : "");
		line(ctx, buf);
	} else if (l->wait[0].n + l->wait[1].n) {
		/*
		 * The word named no task: released between the failed try and
		 * the wait, or handed over, or a lock without one (spinlocks).
		 */
		line(ctx, "  owner at the last wait: not known (the lock's owner word named no task)");
	}
	who_lines("waiters", l->waiters, line, ctx);
	who_lines("holders", l->holders, line, ctx);
	hist_lines("wait", &l->wait_hist, line, ctx);
	hist_lines("hold", &l->hold_hist, line, ctx);
	if (l->nstack)
		line(ctx, "  last waiter's stack");
	for (i = 0; i < l->nstack; i++) {
		agg_sym(a, l->stack[i], name, sizeof(name));
		snprintf(buf, sizeof(buf), "    %s", name);
		line(ctx, buf);
	}
}

static json_object *times_json(const struct vl_times *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "count", json_object_new_uint64(t->n));
	json_object_object_add(o, "total_ns", json_object_new_uint64(t->total));
	json_object_object_add(o, "max_ns", json_object_new_uint64(t->max));
	return o;
}

static json_object *who_json(const struct vl_who *w)
{
	json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < VL_AGG_WHO && w[i].t.n; i++) {
		json_object *o = times_json(&w[i].t);

		json_object_object_add(o, "tid", json_object_new_int64(w[i].tid));
		json_object_object_add(o, "comm", json_object_new_string(w[i].comm));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *hist_json(const struct vl_hist *h)
{
	json_object *arr = json_object_new_array();
	int i, last = -1;

	for (i = 0; i < VL_HIST_BUCKETS; i++)
		if (h->b[i])
			last = i;
	for (i = 0; i <= last; i++)
		json_object_array_add(arr, json_object_new_uint64(h->b[i]));
	return arr;
}

static json_object *lock_json(struct vl_agg *a, const struct vl_agg_lock *l)
{
	json_object *o = json_object_new_object(), *own;
	char buf[512], sc[48];
	int i;

	json_object_object_add(o, "class", json_object_new_string(class_label(l->cls)));
	json_object_object_add(o, "name", json_object_new_string(agg_lock_name(a, l, buf,
									     sizeof(buf))));
	json_object_object_add(o, "path", json_object_new_string(agg_lock_path(a, l, buf,
									     sizeof(buf))));
	json_object_object_add(o, "fstype", json_object_new_string(agg_dev_fstype(a, l->dev)));
	snprintf(buf, sizeof(buf), "%u:%u", l->dev >> 20, l->dev & 0xfffff);
	json_object_object_add(o, "dev", json_object_new_string(buf));
	json_object_object_add(o, "ino", json_object_new_uint64(l->ino));
	snprintf(buf, sizeof(buf), "%#" PRIx64, l->lock);
	json_object_object_add(o, "lock", json_object_new_string(buf));
	json_object_object_add(o, "caller", json_object_new_string(agg_sym(a, l->caller, buf,
									     sizeof(buf))));
	json_object_object_add(o, "wait_read", times_json(&l->wait[0]));
	json_object_object_add(o, "wait_write", times_json(&l->wait[1]));
	json_object_object_add(o, "hold_read", times_json(&l->hold[0]));
	json_object_object_add(o, "hold_write", times_json(&l->hold[1]));
	json_object_object_add(o, "wait_hist_log2_ns", hist_json(&l->wait_hist));
	json_object_object_add(o, "hold_hist_log2_ns", hist_json(&l->hold_hist));
	json_object_object_add(o, "waiters", who_json(l->waiters));
	json_object_object_add(o, "holders", who_json(l->holders));
	own = json_object_new_object();
	json_object_object_add(own, "tid", json_object_new_int64(l->owner_tid));
	json_object_object_add(own, "comm", json_object_new_string(l->owner_comm));
	json_object_object_add(own, "state",
			       json_object_new_string(agg_task_state_name(l->owner_state)));
	json_object_object_add(own, "syscall", json_object_new_string(
				       agg_syscall_name(l->owner_syscall, sc, sizeof(sc))));
	json_object_object_add(own, "readers", json_object_new_boolean(l->owner_flags &
									VL_OWN_READERS));
	json_object_object_add(o, "owner", own);
	{
		json_object *st = json_object_new_array();

		for (i = 0; i < l->nstack; i++)
			json_object_array_add(st, json_object_new_string(
						      agg_sym(a, l->stack[i], buf, sizeof(buf))));
		json_object_object_add(o, "stack", st);
	}
	return o;
}

json_object *top_snapshot_json(const struct top_status *st, struct vl_agg *a,
			       const struct vl_ruleset *rs, const struct top_filter *f)
{
	const struct vl_agg_totals *tot = agg_totals(a);
	json_object *o = json_object_new_object(), *arr;
	struct top_table t;
	int i;

	json_object_object_add(o, "kernel", json_object_new_string(st->kernel));
	json_object_object_add(o, "rules_version", json_object_new_string(st->rules_version));
	json_object_object_add(o, "rules_source", json_object_new_string(st->rules_source));
	json_object_object_add(o, "mode", json_object_new_string(st->mode));
	json_object_object_add(o, "missing", json_object_new_string(st->missing));
	if (st->waits_from[0])
		json_object_object_add(o, "waits_from", json_object_new_string(st->waits_from));
	if (st->daemon[0])
		json_object_object_add(o, "daemon", json_object_new_string(st->daemon));
	else if (st->where[0])
		json_object_object_add(o, "replay", json_object_new_string(st->where));
	json_object_object_add(o, "events_per_s", json_object_new_double(st->events_per_s));
	json_object_object_add(o, "lost", json_object_new_uint64(st->lost));
	json_object_object_add(o, "deviations", json_object_new_uint64(st->deviations));
	json_object_object_add(o, "waits", json_object_new_uint64(tot->waits));
	json_object_object_add(o, "wait_ns", json_object_new_uint64(tot->wait_ns));
	json_object_object_add(o, "failed_waits", json_object_new_uint64(tot->failed_waits));
	json_object_object_add(o, "holds", json_object_new_uint64(tot->holds));
	json_object_object_add(o, "hold_ns", json_object_new_uint64(tot->hold_ns));
	json_object_object_add(o, "hold_only_dropped", json_object_new_uint64(tot->hold_only_dropped));

	top_table_build(&t, TV_LOCKS, a, rs, f, 2);
	arr = json_object_new_array();
	for (i = 0; i < t.nrows; i++)
		json_object_array_add(arr, lock_json(a, agg_lock(a, t.rows[i].key)));
	json_object_object_add(o, "locks", arr);
	top_table_free(&t);

	top_table_build(&t, TV_TASKS, a, rs, f, 3);
	arr = json_object_new_array();
	for (i = 0; i < t.nrows; i++) {
		json_object *k = json_object_new_object();

		json_object_object_add(k, "tid", json_object_new_int64(t.rows[i].key));
		json_object_object_add(k, "comm", json_object_new_string(t.rows[i].cell[1]));
		json_object_object_add(k, "waits", json_object_new_uint64(t.rows[i].num[2]));
		json_object_object_add(k, "wait_ns", json_object_new_uint64(t.rows[i].num[3]));
		json_object_object_add(k, "wait_max_ns", json_object_new_uint64(t.rows[i].num[4]));
		json_object_object_add(k, "holds", json_object_new_uint64(t.rows[i].num[5]));
		json_object_object_add(k, "hold_ns", json_object_new_uint64(t.rows[i].num[6]));
		json_object_array_add(arr, k);
	}
	json_object_object_add(o, "tasks", arr);
	top_table_free(&t);

	top_table_build(&t, TV_SITES, a, rs, f, 3);
	arr = json_object_new_array();
	for (i = 0; i < t.nrows; i++) {
		json_object *k = json_object_new_object();

		json_object_object_add(k, "caller", json_object_new_string(t.rows[i].cell[6]));
		json_object_object_add(k, "class", json_object_new_string(t.rows[i].cell[0]));
		json_object_object_add(k, "waits", json_object_new_uint64(t.rows[i].num[1]));
		json_object_object_add(k, "reads", json_object_new_uint64(t.rows[i].num[2]));
		json_object_object_add(k, "wait_ns", json_object_new_uint64(t.rows[i].num[3]));
		json_object_object_add(k, "wait_max_ns", json_object_new_uint64(t.rows[i].num[5]));
		json_object_array_add(arr, k);
	}
	json_object_object_add(o, "sites", arr);
	top_table_free(&t);

	top_table_build(&t, TV_DEVS, a, rs, f, 0);
	arr = json_object_new_array();
	for (i = 0; i < t.nrows; i++) {
		json_object *k = json_object_new_object();

		json_object_object_add(k, "tid", json_object_new_uint64(t.rows[i].num[1]));
		json_object_object_add(k, "comm", json_object_new_string(t.rows[i].cell[2]));
		json_object_object_add(k, "method", json_object_new_string(t.rows[i].cell[3]));
		json_object_object_add(k, "rule", json_object_new_string(t.rows[i].cell[4]));
		json_object_array_add(arr, k);
	}
	json_object_object_add(o, "recent_deviations", arr);
	top_table_free(&t);
	return o;
}
