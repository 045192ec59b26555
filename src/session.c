// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "top_view.h"
#include "util.h"

/* ---- META: the context, as JSON ------------------------------------------ */

static json_object *catalog_json(const struct vl_session *s)
{
	json_object *a = json_object_new_array();
	int i, j;

	for (i = 0; i < s->cat.nfns; i++) {
		const struct vl_fn *f = &s->cat.fns[i];
		json_object *o = json_object_new_object(), *roles = json_object_new_array();
		json_object *kinds = json_object_new_array();

		json_object_object_add(o, "id", json_object_new_int(f->id));
		json_object_object_add(o, "addr", json_object_new_uint64(f->addr));
		json_object_object_add(o, "size", json_object_new_int64(f->size));
		json_object_object_add(o, "name", json_object_new_string(f->name));
		json_object_object_add(o, "module", json_object_new_string(f->module));
		json_object_object_add(o, "fstypes", json_object_new_string(f->fstypes));
		for (j = 0; j < f->nroles; j++) {
			json_object *r = json_object_new_array();

			json_object_array_add(r, json_object_new_string(f->roles[j].ops_struct));
			json_object_array_add(r, json_object_new_string(f->roles[j].method));
			json_object_array_add(roles, r);
		}
		json_object_object_add(o, "roles", roles);
		for (j = 0; j < f->nargs && j < VL_MAX_ARGS; j++)
			json_object_array_add(kinds, json_object_new_int(f->arg_kind[j]));
		json_object_object_add(o, "nargs", json_object_new_int(f->nargs));
		json_object_object_add(o, "arg_kind", kinds);
		json_object_object_add(o, "returns_void", json_object_new_boolean(f->returns_void));
		json_object_object_add(o, "traced",
				       json_object_new_boolean(s->traced && s->traced[i]));
		json_object_array_add(a, o);
	}
	return a;
}

/* The META names of enum vl_probe_kind. */
static const char *const probe_key[VL_PROBE_MAX] = {
	[VL_PROBE_SLEEPS] = "sleeps", [VL_PROBE_EXIT] = "exit", [VL_PROBE_READERS] = "readers",
};

char *session_meta_json(const struct vl_session *s)
{
	json_object *o = json_object_new_object(), *m = json_object_new_array(), *r;
	char *out;
	int i;

	json_object_object_add(o, "kernel", json_object_new_string(s->kernel));
	json_object_object_add(o, "mode", json_object_new_string(s->mode));
	json_object_object_add(o, "lock_events", json_object_new_string(
		s->lock_events == VL_LOCK_EVENTS_ALL ? "all" : "readers"));
	json_object_object_add(o, "all_calls", json_object_new_boolean(s->all_calls));
	if (s->eng) {
		const char *why[VL_PROBE_MAX];
		unsigned int missing = engine_probes_missing(s->eng, why);
		json_object *pm = json_object_new_object();

		for (i = 0; i < VL_PROBE_MAX; i++)
			if (missing & (1u << i))
				json_object_object_add(pm, probe_key[i], json_object_new_string(why[i]));
		json_object_object_add(o, "probes_missing", pm);
	}
	if (s->rs) {
		r = json_object_new_object();
		json_object_object_add(r, "source", json_object_new_string(s->rs->source));
		json_object_object_add(r, "version", json_object_new_string(s->rs->version));
		json_object_object_add(r, "text", json_object_new_string_len(s->rs->text,
									      s->rs->text_len));
		json_object_object_add(o, "rules", r);
	}
	for (i = 0; i < s->mounts.n; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "mnt", json_object_new_string(s->mounts.v[i].mnt));
		json_object_object_add(x, "fstype", json_object_new_string(s->mounts.v[i].fstype));
		json_object_object_add(x, "dev", json_object_new_int64(s->mounts.v[i].dev));
		json_object_array_add(m, x);
	}
	json_object_object_add(o, "mounts", m);
	json_object_object_add(o, "catalog", catalog_json(s));
	out = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

/* The member @key of @o with type @t, or NULL with @err naming it. */
static json_object *member(json_object *o, const char *key, json_type t, const char *where,
			   char *err, size_t errlen)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, t)) {
		snprintf(err, errlen, "META block: %s%s\"%s\" missing or not %s", where,
			 where[0] ? ": " : "", key, json_type_to_name(t));
		return NULL;
	}
	return v;
}

static const char *str_of(json_object *o, const char *key, const char *where, char *err,
			  size_t errlen)
{
	json_object *v = member(o, key, json_type_string, where, err, errlen);

	return v ? json_object_get_string(v) : NULL;
}

static int load_catalog(struct vl_session *s, json_object *a, char *err, size_t errlen)
{
	size_t i, n = json_object_array_length(a);
	int j;

	if (!s->traced)
		s->traced = xcalloc(VL_CATALOG_MAX, 1);
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(a, i), *roles, *kinds, *v;
		const char *name, *module, *fstypes;
		char where[48];
		struct vl_fn *f;

		snprintf(where, sizeof(where), "catalog[%zu]", i);
		if (!json_object_is_type(o, json_type_object))
			return snprintf(err, errlen, "META block: %s is not an object", where),
			       -EINVAL;
		name = str_of(o, "name", where, err, errlen);
		module = name ? str_of(o, "module", where, err, errlen) : NULL;
		fstypes = module ? str_of(o, "fstypes", where, err, errlen) : NULL;
		roles = fstypes ? member(o, "roles", json_type_array, where, err, errlen) : NULL;
		kinds = roles ? member(o, "arg_kind", json_type_array, where, err, errlen) : NULL;
		if (!kinds || !(v = member(o, "id", json_type_int, where, err, errlen)))
			return -EINVAL;
		if (json_object_get_int(v) != s->cat.nfns)
			return snprintf(err, errlen, "META block: %s has id %d, %d expected", where,
					json_object_get_int(v), s->cat.nfns), -EINVAL;
		v = member(o, "addr", json_type_int, where, err, errlen);
		if (!v)
			return -EINVAL;
		f = catalog_add(&s->cat, json_object_get_uint64(v), name, module);
		if (!f)
			return snprintf(err, errlen, "META block: over %d catalog entries",
					VL_CATALOG_MAX), -EINVAL;
		if (json_object_object_get_ex(o, "size", &v))
			f->size = json_object_get_int64(v);
		if (json_object_object_get_ex(o, "nargs", &v))
			f->nargs = json_object_get_int(v);
		if (f->nargs < 0 || f->nargs > VL_MAX_ARGS)
			f->nargs = 0;
		if (json_object_object_get_ex(o, "returns_void", &v))
			f->returns_void = json_object_get_boolean(v);
		s->traced[f->id] = json_object_object_get_ex(o, "traced", &v) &&
				   json_object_get_boolean(v);
		free(f->fstypes);
		f->fstypes = xstrdup(fstypes);
		for (j = 0; j < (int)json_object_array_length(kinds) && j < VL_MAX_ARGS; j++)
			f->arg_kind[j] = json_object_get_int(json_object_array_get_idx(kinds, j));
		for (j = 0; j < (int)json_object_array_length(roles); j++) {
			json_object *r = json_object_array_get_idx(roles, j);
			const char *ops, *meth;

			if (!json_object_is_type(r, json_type_array) ||
			    json_object_array_length(r) != 2)
				return snprintf(err, errlen, "META block: %s: roles[%d] is not a pair",
						where, j), -EINVAL;
			ops = json_object_get_string(json_object_array_get_idx(r, 0));
			meth = json_object_get_string(json_object_array_get_idx(r, 1));
			if (!ops || !meth)
				return snprintf(err, errlen, "META block: %s: roles[%d] is not two "
						"strings", where, j), -EINVAL;
			catalog_add_role(f, ops, meth);
		}
	}
	return 0;
}

int session_load_meta(struct vl_session *s, const char *json, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o, *v, *m;
	const char *str;
	size_t i;
	int ret = -EINVAL;

	o = json_tokener_parse_ex(tok, json, len);
	if (!o || !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "META block: not a JSON object: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	if (!(str = str_of(o, "kernel", "", err, errlen)))
		goto out;
	snprintf(s->kernel, sizeof(s->kernel), "%s", str);
	if (!(str = str_of(o, "mode", "", err, errlen)))
		goto out;
	snprintf(s->mode, sizeof(s->mode), "%s", str);
	if (!(str = str_of(o, "lock_events", "", err, errlen)))
		goto out;
	s->lock_events = !strcmp(str, "all") ? VL_LOCK_EVENTS_ALL : VL_LOCK_EVENTS_READERS;
	s->all_calls = json_object_object_get_ex(o, "all_calls", &v) && json_object_get_boolean(v);
	/* absent in recordings older than it: nothing was refused then */
	if (json_object_object_get_ex(o, "probes_missing", &v) &&
	    json_object_is_type(v, json_type_object)) {
		for (i = 0; i < VL_PROBE_MAX; i++) {
			json_object *w;

			if (!json_object_object_get_ex(v, probe_key[i], &w))
				continue;
			s->probes_missing |= 1u << i;
			snprintf(s->probe_why[i], sizeof(s->probe_why[i]), "%s",
				 json_object_get_string(w));
		}
	}
	if (json_object_object_get_ex(o, "rules", &v)) {
		const char *src = str_of(v, "source", "rules", err, errlen);
		const char *ver = src ? str_of(v, "version", "rules", err, errlen) : NULL;
		json_object *text = ver ? member(v, "text", json_type_string, "rules", err,
						 errlen) : NULL;

		if (!text)
			goto out;
		snprintf(s->rec_rules, sizeof(s->rec_rules), "%s", src);
		if (!s->rs) {
			char name[200], e2[256];

			snprintf(name, sizeof(name), "recorded %s", src);
			s->rs = rules_from_text(name, json_object_get_string(text),
						json_object_get_string_len(text), src, ver, e2,
						sizeof(e2));
			if (!s->rs) {
				snprintf(err, errlen, "META block: the recorded rules: %s", e2);
				goto out;
			}
		}
	}
	if (!(m = member(o, "mounts", json_type_array, "", err, errlen)))
		goto out;
	for (i = 0; i < json_object_array_length(m); i++) {
		json_object *x = json_object_array_get_idx(m, i);
		const char *mnt = str_of(x, "mnt", "mounts", err, errlen);
		const char *fstype = mnt ? str_of(x, "fstype", "mounts", err, errlen) : NULL;

		if (!fstype || !(v = member(x, "dev", json_type_int, "mounts", err, errlen)))
			goto out;
		mounts_add(&s->mounts, mnt, fstype, json_object_get_int64(v));
	}
	if (!(m = member(o, "catalog", json_type_array, "", err, errlen)))
		goto out;
	ret = load_catalog(s, m, err, errlen);
out:
	json_object_put(o);
	json_tokener_free(tok);
	return ret;
}

/* ---- the line ------------------------------------------------------------- */

void session_start(struct vl_session *s)
{
	struct vl_sink sink;
	int i;

	if (s->started)
		return;
	s->started = true;
	pipeline_init(&s->pipe, NULL);
	if (!s->eng && s->rs && s->cat.nfns) {
		s->eng = engine_new(s->rs, &s->cat, s->ks);
		engine_set_lock_events(s->eng, s->lock_events);
		for (i = 0; i < VL_PROBE_MAX; i++)
			if (s->probes_missing & (1u << i))
				engine_probe_missing(s->eng, i, s->probe_why[i]);
	}
	s->pipe.eng = s->eng;
	s->rep = report_new(s->ks, &s->mounts, &s->cat);
	if (s->supps)
		report_suppress(s->rep, s->supps);
	report_set_lock_events(s->rep, s->lock_events);
	sink = (struct vl_sink){ .ctx = s->rep, .on_deviation = report_on_deviation };
	pipeline_add_sink(&s->pipe, &sink);
	s->agg = agg_new(&s->mounts, s->ks);
	sink = agg_sink(s->agg);
	pipeline_add_sink(&s->pipe, &sink);
	if (s->extra.on_record || s->extra.on_hold_end || s->extra.on_deviation)
		pipeline_add_sink(&s->pipe, &s->extra);
}

void session_free(struct vl_session *s)
{
	if (s->started)
		pipeline_fini(&s->pipe);
	report_free(s->rep);
	agg_free(s->agg);
	engine_free(s->eng);
	catalog_free(&s->cat);
	mounts_free(&s->mounts);
	ksyms__free(s->ks);
	rules_free(s->rs);
	free(s->traced);
	memset(s, 0, sizeof(*s));
}

/* ---- the result ----------------------------------------------------------- */

static const char *const type_names[VL_EV_TYPE_MAX] = {
	[VL_EV_LOCK] = "lock", [VL_EV_METHOD_ENTER] = "method_enter",
	[VL_EV_METHOD_EXIT] = "method_exit", [VL_EV_TASK_EXIT] = "task_exit",
	[VL_EV_TASK_FORK] = "task_fork", [VL_EV_METHOD_BLOCK] = "method_block",
	[VL_EV_CONTEND] = "contend", [VL_EV_OBJ_NAME] = "obj_name", [VL_EV_LOST] = "lost",
	[VL_EV_STATS] = "stats",
};

static void status_of(struct vl_session *s, struct top_status *st)
{
	const struct vl_pipeline_stats *ps = &s->pipe.st;

	memset(st, 0, sizeof(*st));
	snprintf(st->kernel, sizeof(st->kernel), "%s", s->kernel);
	if (s->rs) {
		snprintf(st->rules_version, sizeof(st->rules_version), "%s", s->rs->version);
		snprintf(st->rules_source, sizeof(st->rules_source), "%s", s->rs->source);
	}
	snprintf(st->mode, sizeof(st->mode), "%s", s->mode);
	if (ps->last_ts > ps->first_ts)
		st->events_per_s = ps->records * 1e9 / (ps->last_ts - ps->first_ts);
	st->lost = ps->lost;
	st->deviations = agg_totals(s->agg)->deviations;
}

json_object *session_result_json(struct vl_session *s)
{
	const struct vl_pipeline_stats *ps = &s->pipe.st;
	json_object *o = json_object_new_object(), *by = json_object_new_object(), *x;
	struct vl_report_counts rc;
	struct top_filter none = { .cls = -1 };
	struct top_status st;
	int i;

	json_object_object_add(o, "kernel", json_object_new_string(s->kernel));
	json_object_object_add(o, "mode", json_object_new_string(s->mode));
	json_object_object_add(o, "rules_source",
			       json_object_new_string(s->rs ? s->rs->source : ""));
	json_object_object_add(o, "rules_version",
			       json_object_new_string(s->rs ? s->rs->version : ""));
	json_object_object_add(o, "recorded_under", json_object_new_string(s->rec_rules));
	json_object_object_add(o, "lock_events", json_object_new_string(
		s->lock_events == VL_LOCK_EVENTS_ALL ? "all" : "readers"));
	json_object_object_add(o, "all_calls", json_object_new_boolean(s->all_calls));
	json_object_object_add(o, "records", json_object_new_uint64(ps->records));
	json_object_object_add(o, "malformed", json_object_new_uint64(ps->bad));
	for (i = 1; i < VL_EV_TYPE_MAX; i++)
		json_object_object_add(by, type_names[i], json_object_new_uint64(ps->by_type[i]));
	json_object_object_add(o, "by_type", by);
	json_object_object_add(o, "first_ts", json_object_new_uint64(ps->first_ts));
	json_object_object_add(o, "last_ts", json_object_new_uint64(ps->last_ts));
	x = json_object_new_object();
	json_object_object_add(x, "records", json_object_new_uint64(ps->lost));
	json_object_object_add(x, "episodes", json_object_new_uint64(ps->lost_episodes));
	json_object_object_add(x, "first_ts", json_object_new_uint64(ps->first_lost_ts));
	json_object_object_add(x, "last_ts", json_object_new_uint64(ps->last_lost_ts));
	json_object_object_add(o, "lost", x);
	x = json_object_new_object();
	json_object_object_add(x, "calls_met_in_kernel",
			       json_object_new_uint64(ps->kstats[VL_STAT_CALLS_MET]));
	json_object_object_add(x, "stacks", json_object_new_uint64(ps->kstats[VL_STAT_STACKS]));
	json_object_object_add(x, "unconfigured_calls",
			       json_object_new_uint64(ps->kstats[VL_STAT_NO_CFG]));
	json_object_object_add(x, "vma_locked_calls",
			       json_object_new_uint64(ps->kstats[VL_STAT_VMA_LOCK]));
	json_object_object_add(x, "stale_calls",
			       json_object_new_uint64(ps->kstats[VL_STAT_NB_STALE]));
	json_object_object_add(o, "kernel_counters", x);

	x = json_object_new_object();
	if (s->eng) {
		const struct vl_engine_stats *es = engine_stats(s->eng);

		json_object_object_add(x, "method_calls_judged", json_object_new_uint64(es->calls));
		json_object_object_add(x, "rule_checks", json_object_new_uint64(es->checks));
		json_object_object_add(x, "unverifiable", json_object_new_uint64(es->unverifiable));
		json_object_object_add(x, "internal_calls",
				       json_object_new_uint64(es->internal_calls));
		json_object_object_add(x, "state_mismatch",
				       json_object_new_uint64(es->state_mismatch));
		json_object_object_add(x, "deviations_without_stack",
				       json_object_new_uint64(es->no_stack));
	}
	report_counts(s->rep, &rc);
	json_object_object_add(x, "deviations", json_object_new_uint64(rc.deviations));
	json_object_object_add(x, "distinct", json_object_new_int(rc.distinct));
	json_object_object_add(x, "drift", json_object_new_uint64(rc.by_attrib[VL_ATTR_CORE]));
	json_object_object_add(x, "suppressed", json_object_new_uint64(rc.suppressed));
	json_object_object_add(x, "deviation_list", report_json(s->rep));
	json_object_object_add(o, "check", x);

	status_of(s, &st);
	json_object_object_add(o, "contention", top_snapshot_json(&st, s->agg, s->rs, &none));
	return o;
}

void session_result_print(struct vl_session *s, FILE *f, int rows)
{
	const struct vl_pipeline_stats *ps = &s->pipe.st;
	struct top_filter none = { .cls = -1 };
	static const enum top_view_id views[] = { TV_LOCKS, TV_TASKS, TV_SITES };
	static const int sort[] = { 2, 3, 3 };
	struct top_status st;
	struct top_table t;
	int i;

	fprintf(f, "kernel %s, mode %s, rules %s\n", s->kernel, s->mode,
		s->rs ? s->rs->source : "none");
	if (s->rec_rules[0] && s->rs && strcmp(s->rec_rules, s->rs->source))
		fprintf(f, "recorded under the rules of %s\n", s->rec_rules);
	fprintf(f, "%" PRIu64 " records over %.3f s, %" PRIu64 " malformed;", ps->records,
		ps->last_ts > ps->first_ts ? (ps->last_ts - ps->first_ts) / 1e9 : 0.0, ps->bad);
	for (i = 1; i < VL_EV_TYPE_MAX; i++)
		if (ps->by_type[i])
			fprintf(f, " %s %" PRIu64, type_names[i], ps->by_type[i]);
	fprintf(f, "\n");
	if (ps->lost)
		fprintf(f, "LOST %" PRIu64 " records in %" PRIu64 " episodes, between %.3f s and "
			"%.3f s: the figures below miss them\n", ps->lost, ps->lost_episodes,
			(ps->first_lost_ts - ps->first_ts) / 1e9,
			(ps->last_lost_ts - ps->first_ts) / 1e9);
	else
		fprintf(f, "no record lost\n");
	if (s->eng) {
		const struct vl_engine_stats *es = engine_stats(s->eng);

		fprintf(f, "judged %" PRIu64 " method calls (%" PRIu64 " more found compliant in "
			"the kernel), %" PRIu64 " rule checks, %" PRIu64 " unverifiable\n\n",
			es->calls, ps->kstats[VL_STAT_CALLS_MET], es->checks, es->unverifiable);
		report_print(s->rep, f);
	}
	status_of(s, &st);
	for (i = 0; i < (int)ARRAY_SIZE(views); i++) {
		fprintf(f, "\n");
		top_print_status(f, &st, s->agg, views[i], sort[i], &none);
		top_table_build(&t, views[i], s->agg, s->rs, &none, sort[i]);
		top_print_table(f, &t, 0, rows);
		top_table_free(&t);
	}
}
