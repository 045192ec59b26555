/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A check's result as JUnit XML, for CI systems: a test case per rule
 * judged, a <failure> per distinct deviation of it. Layout in docs/ci.md.
 */
#ifndef VFSLOCK_JUNIT_H
#define VFSLOCK_JUNIT_H

#include <stddef.h>

#include <json-c/json.h>

#include "engine.h"
#include "rules.h"

/*
 * Write @path from a check's distinct deviations @devs and those it
 * suppressed @supp (arrays of a check's JSON, deviation_list and
 * suppressed_list; NULL: none), the rules of @rs and what @eng judged of
 * each. 0, or -1 with @err set.
 */
int junit_write(const char *path, const struct vl_ruleset *rs, const struct vl_engine *eng,
		const char *kernel, json_object *devs, json_object *supp, double seconds,
		char *err, size_t errlen);

#endif
