// SPDX-License-Identifier: GPL-2.0
/*
 * OpenMetrics text (https://openmetrics.io), as Prometheus scrapes it: see
 * metrics.h. Times are in seconds; histogram bounds are the aggregates'
 * log2 buckets of nanoseconds.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "lockstate.h"
#include "metrics.h"
#include "report.h"
#include "util.h"

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

/* Dynamic locks (named by their caller) have no class of their own. */
static const char *class_name(int cls)
{
	return cls == VL_LOCK_NONE ? "other" : lock_class_name(cls);
}

static void family(FILE *f, const char *name, const char *type, const char *unit,
		   const char *help)
{
	fprintf(f, "# TYPE %s %s\n", name, type);
	if (unit)
		fprintf(f, "# UNIT %s %s\n", name, unit);
	fprintf(f, "# HELP %s %s\n", name, help);
}

struct dev_count {
	const char *rule, *fstype;
	uint64_t n;
};

static void deviations(FILE *f, struct vl_session *s)
{
	json_object *list;
	struct dev_count *v = NULL;
	size_t i, k, n = 0;

	family(f, "vfslock_deviations", "counter", NULL,
	       "Calls that broke a rule of locking.rst, by rule and filesystem.");
	if (!s->rep)
		return;
	list = report_json(s->rep);
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i), *obj = NULL, *c;
		const char *rule = json_str(d, "rule"), *fstype = "";

		if (json_object_object_get_ex(d, "object", &obj))
			fstype = json_str(obj, "fstype");
		for (k = 0; k < n && (strcmp(v[k].rule, rule) || strcmp(v[k].fstype, fstype)); k++)
			;
		if (k == n) {
			v = xrealloc(v, ++n * sizeof(*v));
			v[k] = (struct dev_count){ .rule = rule, .fstype = fstype };
		}
		if (json_object_object_get_ex(d, "count", &c))
			v[k].n += json_object_get_int64(c);
	}
	for (k = 0; k < n; k++) {
		fputs("vfslock_deviations_total{rule=\"", f);
		label(f, v[k].rule);
		fputs("\",fstype=\"", f);
		label(f, v[k].fstype);
		fprintf(f, "\"} %" PRIu64 "\n", v[k].n);
	}
	free(v);
	json_object_put(list);
}

struct class_hist {
	uint64_t b[VL_HIST_BUCKETS];
	uint64_t n, ns;
	bool seen;
};

static void histogram(FILE *f, const char *name, const char *help, struct class_hist *h)
{
	int cls, i;

	family(f, name, "histogram", "seconds", help);
	for (cls = 0; cls < VL_LOCK_CLASS_MAX; cls++) {
		uint64_t cum = 0;

		if (!h[cls].seen)
			continue;
		for (i = 0; i < VL_HIST_BUCKETS - 1; i++) {
			cum += h[cls].b[i];
			fprintf(f, "%s_bucket{class=\"%s\",le=\"%.9g\"} %" PRIu64 "\n", name,
				class_name(cls), (double)(2ull << i) / 1e9, cum);
		}
		/* the last bucket holds everything above: +Inf counts every one */
		fprintf(f, "%s_bucket{class=\"%s\",le=\"+Inf\"} %" PRIu64 "\n", name,
			class_name(cls), h[cls].n);
		fprintf(f, "%s_count{class=\"%s\"} %" PRIu64 "\n", name, class_name(cls),
			h[cls].n);
		fprintf(f, "%s_sum{class=\"%s\"} %.9f\n", name, class_name(cls),
			h[cls].ns / 1e9);
	}
}

static void lock_times(FILE *f, struct vl_session *s)
{
	struct class_hist wait[VL_LOCK_CLASS_MAX] = { 0 }, hold[VL_LOCK_CLASS_MAX] = { 0 };
	struct vl_agg_lock **locks = NULL;
	int n = s->agg ? agg_locks(s->agg, &locks) : 0, i, k, side;

	for (i = 0; i < n; i++) {
		const struct vl_agg_lock *l = locks[i];
		int cls = l->cls < VL_LOCK_CLASS_MAX ? l->cls : VL_LOCK_NONE;

		for (side = 0; side < VL_SIDES; side++) {
			wait[cls].n += l->wait[side].n;
			wait[cls].ns += l->wait[side].total;
			hold[cls].n += l->hold[side].n;
			hold[cls].ns += l->hold[side].total;
		}
		for (k = 0; k < VL_HIST_BUCKETS; k++) {
			wait[cls].b[k] += l->wait_hist.b[k];
			hold[cls].b[k] += l->hold_hist.b[k];
		}
		wait[cls].seen |= wait[cls].n > 0;
		hold[cls].seen |= hold[cls].n > 0;
	}
	free(locks);
	histogram(f, "vfslock_lock_wait_seconds",
		  "Time tasks waited for a contended lock, by lock class.", wait);
	histogram(f, "vfslock_lock_hold_seconds",
		  "Time locks were held, by lock class (where holds are traced).", hold);
}

void metrics_write(FILE *f, struct vl_session *s, const struct vl_metrics_status *st)
{
	const struct vl_pipeline_stats *ps = &s->pipe.st;

	deviations(f, s);
	lock_times(f, s);
	family(f, "vfslock_events", "counter", NULL, "Records received from the probes.");
	fprintf(f, "vfslock_events_total %" PRIu64 "\n", ps->records);
	family(f, "vfslock_events_lost", "counter", NULL,
	       "Records the probes could not send: the ring buffer was full.");
	fprintf(f, "vfslock_events_lost_total %" PRIu64 "\n", st->kernel_lost);
	family(f, "vfslock_probe_up", "gauge", NULL,
	       "Whether each kind of probe is attached: methods (fentry/fexit) and contention.");
	fprintf(f, "vfslock_probe_up{probe=\"methods\"} %d\n", st->methods);
	fprintf(f, "vfslock_probe_up{probe=\"contention\"} 1\n");
	family(f, "vfslock_methods_traced", "gauge", NULL, "Method implementations traced.");
	fprintf(f, "vfslock_methods_traced %d\n", st->methods_traced);
	family(f, "vfslock_recording", "gauge", NULL,
	       "1 while the trace is written, 0 while paused (a full disk) or off.");
	fprintf(f, "vfslock_recording %d\n", st->recording);
	family(f, "vfslock_clients", "gauge", NULL, "Clients connected to the daemon's socket.");
	fprintf(f, "vfslock_clients %d\n", st->clients);
	family(f, "vfslock_client_dropped_bytes", "counter", NULL,
	       "Bytes not sent to clients that did not read them in time.");
	fprintf(f, "vfslock_client_dropped_bytes_total %" PRIu64 "\n", st->client_dropped);
	family(f, "vfslock_stream_dropped_records", "counter", NULL,
	       "Records not streamed to clients that lagged more than stream_buffer behind.");
	fprintf(f, "vfslock_stream_dropped_records_total %" PRIu64 "\n", st->stream_dropped);
	family(f, "vfslock_uptime_seconds", "gauge", NULL, "Seconds since the daemon started.");
	fprintf(f, "vfslock_uptime_seconds %.3f\n", st->uptime);
	fputs("# EOF\n", f);
}
