/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Baselines: the distinct deviations of a check written as a suppression
 * file (docs/suppressions.md), one entry each, so that a project adopts
 * the check with the deviations it knows of and fails only on new ones
 * (check --write-baseline, then --baseline). docs/ci.md.
 */
#ifndef VFSLOCK_BASELINE_H
#define VFSLOCK_BASELINE_H

#include <stddef.h>

#include <json-c/json.h>

/*
 * Write @path: an entry per distinct deviation of @devs and @supp (arrays
 * of a check's JSON, deviation_list and suppressed_list; NULL: none),
 * naming the rule, the frame blamed (or the method) and the attribution,
 * for the rules of @source. 0, or -1 with @err set.
 */
int baseline_write(const char *path, json_object *devs, json_object *supp, const char *source,
		   char *err, size_t errlen);

#endif
