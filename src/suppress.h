/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Suppression files: deviations already known, each with the reason it is
 * accepted, that do not fail a check but are still listed. The format is in
 * docs/suppressions.md. Files are read before anything is loaded into the
 * kernel, so a bad one fails fast.
 */
#ifndef VFSLOCK_SUPPRESS_H
#define VFSLOCK_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "attrib.h"
#include "ksyms.h"

struct vl_supp {
	char *file;
	int line;
	char *text;		/* the entry as written, for listings */
	char *rule;		/* fnmatch() pattern of rule ids */
	char *at;		/* pattern some frame's symbol must match; NULL: any stack */
	bool by_attrib;		/* only deviations attributed to @attrib */
	enum vl_attrib attrib;
	char *reason;
};

struct vl_supps {
	int n;
	struct vl_supp *v;
};

/*
 * Append the entries of @text, a file named @file in messages. 0, or -1
 * with "FILE:LINE: what is wrong" in @err; the entries before it are kept.
 */
int supp_parse(struct vl_supps *s, const char *file, const char *text, char *err, size_t errlen);

/* supp_parse() of the file at @path. */
int supp_load(struct vl_supps *s, const char *path, char *err, size_t errlen);

void supp_free(struct vl_supps *s);

/*
 * The first entry, in file order, matching a deviation of @rule_id with the
 * stack @syms (its frames' symbols, NULL where unnamed, the method first)
 * attributed to @a; -1 if none.
 */
int supp_match(const struct vl_supps *s, const char *rule_id, const struct ksym *const *syms,
	       int n, enum vl_attrib a);

#endif
