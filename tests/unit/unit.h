/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the unit tests: cmocka, and the documents the repository holds. */
#ifndef VFSLOCK_UNIT_H
#define VFSLOCK_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <cmocka.h>

#include "ksyms.h"
#include "lockdoc.h"
#include "rules.h"

/* A scratch directory for a test group, made by tmpdir_setup(), removed with its files. */
static inline char *unit_tmpdir(void)
{
	static char dir[64];

	return dir;
}

static inline int tmpdir_setup(void **state)
{
	snprintf(unit_tmpdir(), 64, "/tmp/vl-unit-XXXXXX");
	return mkdtemp(unit_tmpdir()) ? 0 : -1;
}

static inline int tmpdir_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", unit_tmpdir());
	return system(cmd);
}

/* rules/locking-v<version>.rst of the source tree */
static inline char *doc_path(const char *version)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/rules/locking-v%s.rst", TEST_DATA_DIR, version);
	return buf;
}

static inline struct ld_doc *must_parse(const char *version)
{
	char err[512] = "";
	struct ld_doc *d = NULL;

	if (ld_parse_file(doc_path(version), &d, err, sizeof(err)))
		fail_msg("parsing %s: %s", version, err);
	return d;
}

static inline struct vl_ruleset *must_rules(const char *version)
{
	return rules_build(must_parse(version), "test", version);
}

/* The value of one table cell, or NULL. */
static inline const char *cell(const struct ld_doc *d, const char *section, const char *op,
			       const char *column)
{
	const struct ld_section *s = ld_section_find(d, section);
	int t, r, c;

	for (t = 0; s && t < s->ntables; t++)
		for (r = 0; r < s->tables[t].nrows; r++)
			for (c = 1; c < s->tables[t].ncols; c++)
				if (!strcmp(s->tables[t].rows[r].op, op) &&
				    !strcmp(s->tables[t].head[c], column))
					return s->tables[t].rows[r].cells[c - 1];
	return NULL;
}

/* A kallsyms of @n made-up text symbols, loaded as /proc/kallsyms would be. */
static inline struct ksyms *fake_ksyms(const struct ksym *syms, size_t n)
{
	char path[] = "/tmp/vl-ksyms-XXXXXX";
	struct ksyms *ks;
	size_t i;
	FILE *f;

	f = fdopen(mkstemp(path), "w");
	for (i = 0; i < n; i++)
		fprintf(f, "%016llx t %s%s%s%s\n", (unsigned long long)syms[i].addr, syms[i].name,
			syms[i].module[0] ? "\t[" : "", syms[i].module, syms[i].module[0] ? "]" : "");
	fclose(f);
	ks = ksyms__load(path);
	unlink(path);
	if (!ks)
		fail_msg("loading a made-up kallsyms");
	return ks;
}

#endif
