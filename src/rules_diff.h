/* SPDX-License-Identifier: GPL-2.0 */
/* What differs between two versions of locking.rst: prototypes and rules, by id. */
#ifndef VFSLOCK_RULES_DIFF_H
#define VFSLOCK_RULES_DIFF_H

#include "rules.h"

enum vl_change {
	VL_ADDED,
	VL_REMOVED,
	VL_CHANGED,
};

struct vl_diff_item {
	bool proto;		/* a prototype, else a rule */
	char *id;		/* "inode_operations.rename" or a rule id */
	enum vl_change change;
	char *a, *b;		/* text on each side, NULL where absent */
	int line_a, line_b;
};

struct vl_diff {
	int n;
	struct vl_diff_item *v;
};

void rules_diff(const struct vl_ruleset *a, const struct vl_ruleset *b, struct vl_diff *out);
void rules_diff_free(struct vl_diff *d);
const char *change_name(enum vl_change c);

#endif
