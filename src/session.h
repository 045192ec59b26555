/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What an analysis of records needs and gives, whether the records come
 * live or from a trace: the context that makes them readable (rules,
 * symbols, mounts, the catalog of traced methods), the one pipeline with
 * its sinks (rule engine, deviation report, aggregates), and the result,
 * as text or JSON. `vfslock record` writes the context into the trace's
 * META block and the result of its live run; `vfslock report` rebuilds
 * both from the trace: same records, same result.
 */
#ifndef VFSLOCK_SESSION_H
#define VFSLOCK_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "agg.h"
#include "catalog.h"
#include "discover.h"
#include "engine.h"
#include "ksyms.h"
#include "pipeline.h"
#include "report.h"
#include "rules.h"
#include "suppress.h"

struct vl_session {
	char kernel[128];		/* uname -r of the traced host */
	char mode[32];			/* "check+contention", "contention" */
	uint8_t lock_events;		/* enum vl_lock_events streamed */
	bool all_calls;			/* every method call streamed, compliant ones too */
	char rec_rules[160];		/* the rules the recording was made under */
	/* probes the recorded kernel refused (enum vl_probe_kind): judged without them */
	unsigned int probes_missing;
	char probe_why[VL_PROBE_MAX][256];
	struct vl_ruleset *rs;		/* the rules judged against (NULL: contention only) */
	struct ksyms *ks;
	struct vl_mounts mounts;
	struct vl_catalog cat;
	uint8_t *traced;		/* per catalog entry: its calls were traced */
	const struct vl_supps *supps;
	struct vl_sink extra;		/* one more sink, the caller's (export) */

	struct vl_engine *eng;		/* NULL when nothing is checked */
	struct vl_pipeline pipe;
	struct vl_report *rep;
	struct vl_agg *agg;
	bool started;
};

/* The META block: everything above the pipeline, as JSON text (malloc'd). */
char *session_meta_json(const struct vl_session *s);
/*
 * Fill @s from a META block. The recording's rules are taken unless @s->rs
 * is already set (a re-check against other rules). -EINVAL with @err set.
 */
int session_load_meta(struct vl_session *s, const char *json, size_t len, char *err,
		      size_t errlen);

/* Build the pipeline and its sinks from the context: engine, report, aggregates. */
void session_start(struct vl_session *s);
void session_free(struct vl_session *s);

/* The result: the trace's counts, the deviations, the contention tables. */
json_object *session_result_json(struct vl_session *s);
void session_result_print(struct vl_session *s, FILE *f, int rows);

#endif
