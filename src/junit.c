// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "junit.h"
#include "util.h"

/* @s as XML character data: escaped, control characters XML 1.0 forbids dropped. */
static void xml_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, f);
		}
	}
}

static int64_t num(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : 0;
}

static json_object *list(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_array) ?
	       v : NULL;
}

/* Entries of @arr about @rule_id. */
static int of_rule(json_object *arr, const char *rule_id)
{
	size_t i;
	int n = 0;

	for (i = 0; arr && i < json_object_array_length(arr); i++)
		n += !strcmp(json_str(json_object_array_get_idx(arr, i), "rule"), rule_id);
	return n;
}

/* One distinct deviation: what broke, where, how often, and the stack. */
static void failure(FILE *f, json_object *d)
{
	json_object *st = list(d, "stack");
	const char *by = json_str(d, "caused_by");
	size_t i;

	fputs("      <failure type=\"", f);
	xml_text(f, json_str(d, "attribution"));
	fputs("\" message=\"", f);
	xml_text(f, json_str(d, "function"));
	fputs(": ", f);
	xml_text(f, json_str(d, "found"));
	fprintf(f, " (%" PRId64 " times)\">", num(d, "count"));
	fputs("rule: ", f);
	xml_text(f, json_str(d, "rule"));
	fprintf(f, " (locking.rst line %" PRId64 ", ", num(d, "line"));
	xml_text(f, json_str(d, "section"));
	fputs("): ", f);
	if (*json_str(d, "column")) {
		xml_text(f, json_str(d, "column"));
		fputs(" = ", f);
	}
	xml_text(f, json_str(d, "text"));
	fputs("\nmethod: ", f);
	xml_text(f, json_str(d, "function"));
	if (*json_str(d, "module")) {
		fputs(" [", f);
		xml_text(f, json_str(d, "module"));
		fputs("]", f);
	}
	fputs("\ncall site: ", f);
	xml_text(f, *by ? by : "unknown (no frame of the stack outside the core kernel)");
	fprintf(f, "\ncount: %" PRId64 "\nheld: ", num(d, "count"));
	xml_text(f, json_str(d, "held"));
	fputs("\nstack:\n", f);
	for (i = 0; st && i < json_object_array_length(st); i++) {
		fputs("  ", f);
		xml_text(f, json_object_get_string(json_object_array_get_idx(st, i)));
		fputs("\n", f);
	}
	if (!st || !json_object_array_length(st))
		fputs("  (not captured)\n", f);
	fputs("</failure>\n", f);
}

int junit_write(const char *path, const struct vl_ruleset *rs, const struct vl_engine *eng,
		const char *kernel, json_object *devs, json_object *supp, double seconds,
		char *err, size_t errlen)
{
	int tests = 0, failed = 0, i;
	FILE *f;

	for (i = 0; i < rs->nrules; i++) {
		const struct vl_rule *r = &rs->rules[i];
		int nd = of_rule(devs, r->id);

		if (engine_rule_checks(eng, r) || nd || of_rule(supp, r->id)) {
			tests++;
			failed += nd > 0;
		}
	}
	f = fopen(path, "w");
	if (!f)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"vfslock check\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
		"time=\"%.3f\">\n", tests, failed, seconds);
	fputs("  <testsuite name=\"vfslock check: ", f);
	xml_text(f, rs->source);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"0\" time=\"%.3f\">\n",
		tests, failed, seconds);
	fputs("    <properties>\n      <property name=\"kernel\" value=\"", f);
	xml_text(f, kernel);
	fputs("\"/>\n      <property name=\"rules\" value=\"", f);
	xml_text(f, rs->source);
	fputs("\"/>\n    </properties>\n", f);
	for (i = 0; i < rs->nrules; i++) {
		const struct vl_rule *r = &rs->rules[i];
		uint64_t checks = engine_rule_checks(eng, r);
		size_t dot = strcspn(r->id, "."), k;
		int ns = of_rule(supp, r->id);

		if (!checks && !of_rule(devs, r->id) && !ns)
			continue;
		fputs("    <testcase classname=\"vfslock.", f);
		fprintf(f, "%.*s", (int)dot, r->id);
		fputs("\" name=\"", f);
		xml_text(f, r->id);
		fputs("\" time=\"0\">\n", f);
		for (k = 0; devs && k < json_object_array_length(devs); k++) {
			json_object *d = json_object_array_get_idx(devs, k);

			if (!strcmp(json_str(d, "rule"), r->id))
				failure(f, d);
		}
		fprintf(f, "      <system-out>%" PRIu64 " checks of ", checks);
		if (*r->column) {
			xml_text(f, r->column);
			fputs(" = ", f);
		}
		xml_text(f, r->text);
		if (ns)
			fprintf(f, "\n%d known deviations suppressed or in the baseline", ns);
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return close_written(f, path, err, errlen);
}
