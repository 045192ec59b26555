/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deviations, deduplicated by rule, object and call stack, with counts and
 * first/last times, each attributed to the code that broke the rule
 * (attrib.h), rendered as text or JSON. A pipeline sink: a live run and a
 * replay of its records get the same report.
 */
#ifndef VFSLOCK_REPORT_H
#define VFSLOCK_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

#include "attrib.h"
#include "catalog.h"
#include "discover.h"
#include "engine.h"
#include "ksyms.h"
#include "suppress.h"

struct vl_report;

/* @cat names the filesystems' own code (attrib_prefixes()); read at once. */
struct vl_report *report_new(const struct ksyms *ks, const struct vl_mounts *mounts,
			     const struct vl_catalog *cat);
void report_free(struct vl_report *r);

/*
 * Deviations matching an entry of @s are suppressed: listed apart, not
 * counted as deviations. Before the first deviation; @s outlives @r.
 */
void report_suppress(struct vl_report *r, const struct vl_supps *s);

/* Which holds the tasks' rebuilt sets carry (enum vl_lock_events, default all). */
void report_set_lock_events(struct vl_report *r, uint8_t lock_events);

/* The sink callback. */
void report_on_deviation(void *r, const struct vl_deviation *d);

struct vl_report_counts {
	uint64_t deviations;		/* every one reported, drift included, none suppressed */
	int distinct;
	uint64_t by_attrib[VL_ATTR_MAX];	/* [VL_ATTR_CORE]: documentation drift */
	int distinct_by_attrib[VL_ATTR_MAX];
	uint64_t suppressed;
	int suppressed_distinct;
	int supp_entries;		/* suppression entries given */
	int supp_unused;		/* ...of which matched nothing */
};

void report_counts(const struct vl_report *r, struct vl_report_counts *c);

void report_print(const struct vl_report *r, FILE *f);
/* deviation_list: the distinct deviations not suppressed. */
json_object *report_json(const struct vl_report *r);
/* Adds suppressed_list and unused_suppressions to @o. */
void report_json_suppressions(const struct vl_report *r, json_object *o);

/* "exclusive", "shared", "not held" */
const char *mode_name(enum vl_mode m);

#endif
