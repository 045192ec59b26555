// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "baseline.h"
#include "util.h"

/*
 * The entry of one distinct deviation into @buf. The frame blamed is the
 * call site (a caller of the method outside the core kernel); without one,
 * the method itself. An attribution the suppression format has no word
 * for (unknown) is left out.
 */
static void entry(json_object *d, char *buf, size_t len)
{
	const char *by = json_str(d, "caused_by"), *a = json_str(d, "attribution");
	size_t n;

	if (!*by)
		by = json_str(d, "function");
	n = strcspn(by, "+ ");
	snprintf(buf, len, "%s at %.*s%s", json_str(d, "rule"), (int)n, by,
		 !strcmp(a, "core") ? " drift" :
		 !strcmp(a, "filesystem") ? " filesystem" : !strcmp(a, "module") ? " module" : "");
}

int baseline_write(const char *path, json_object *devs, json_object *supp, const char *source,
		   char *err, size_t errlen)
{
	json_object *lists[] = { devs, supp };
	size_t i, j, k, n = 0;
	char **seen = NULL;
	FILE *f;

	f = fopen(path, "w");
	if (!f)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
	fprintf(f, "# vfslock baseline: the deviations known when written, against the rules "
		"of %s.\n# A suppression file (docs/suppressions.md): `vfslock check --baseline "
		"FILE` fails only on others.\n", source);
	/* deviations differing only in their stacks beyond the call site: one entry */
	for (k = 0; k < ARRAY_SIZE(lists); k++) {
		json_object *arr = lists[k];

		if (!arr || !json_object_is_type(arr, json_type_array))
			continue;
		for (i = 0; i < json_object_array_length(arr); i++) {
			json_object *d = json_object_array_get_idx(arr, i);
			char e[512];

			entry(d, e, sizeof(e));
			for (j = 0; j < n && strcmp(seen[j], e); j++)
				;
			if (j < n)
				continue;
			seen = xrealloc(seen, (n + 1) * sizeof(*seen));
			seen[n++] = xstrdup(e);
			/* "found" says what a state rule saw; a lock rule's is what was held */
			fprintf(f, "%s: baseline, %s in %s\n", e,
				*json_str(d, "found") ? json_str(d, "found") : json_str(d, "held"),
				json_str(d, "function"));
		}
	}
	for (j = 0; j < n; j++)
		free(seen[j]);
	free(seen);
	return close_written(f, path, err, errlen);
}
