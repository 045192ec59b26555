/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Deviations, deduplicated by rule, object and call stack, with counts and
 * first/last times, rendered as text or JSON. A pipeline sink.
 */
#ifndef VFSLOCK_REPORT_H
#define VFSLOCK_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

#include "discover.h"
#include "engine.h"
#include "ksyms.h"

struct vl_report;

struct vl_report *report_new(const struct ksyms *ks, const struct vl_mounts *mounts);
void report_free(struct vl_report *r);

/* The sink callback. */
void report_on_deviation(void *r, const struct vl_deviation *d);

uint64_t report_total(const struct vl_report *r);
int report_distinct(const struct vl_report *r);

void report_print(const struct vl_report *r, FILE *f);
json_object *report_json(const struct vl_report *r);

/* "exclusive", "shared", "not held" */
const char *mode_name(enum vl_mode m);

#endif
