/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Who broke a rule. Walking a deviation's stack outward from the method, the
 * first caller that is not core kernel code is to blame: the filesystem's own
 * code, or a module that is not the filesystem's. When every caller is core
 * kernel code, the kernel itself calls the method in a way locking.rst does
 * not describe: documentation drift, not a filesystem bug.
 *
 * Nothing here knows a filesystem: a built-in filesystem's own code is told
 * by symbol prefixes derived from the catalog at run time.
 */
#ifndef VFSLOCK_ATTRIB_H
#define VFSLOCK_ATTRIB_H

#include <stdbool.h>

#include "catalog.h"
#include "ksyms.h"

enum vl_attrib {
	VL_ATTR_UNKNOWN = 0,	/* no stack, or no caller kallsyms names */
	VL_ATTR_FILESYSTEM,	/* the method's filesystem's own code */
	VL_ATTR_MODULE,		/* a kernel module that is not the filesystem's */
	VL_ATTR_CORE,		/* core kernel code only: documentation drift */
	VL_ATTR_MAX,
};

/* A symbol prefix of one built-in filesystem's own code: "ext4_" of ext4. */
struct vl_fs_prefix {
	char *fstype;
	char *prefix;
};

struct vl_prefixes {
	int n;
	struct vl_fs_prefix *v;
};

/*
 * The prefixes of each built-in filesystem: of every vmlinux implementation
 * that one filesystem alone installs, its name up to and including the first
 * '_'. Prefixes on the stop-list, and prefixes claimed by two filesystems,
 * are left out: they name helpers, not a filesystem.
 */
void attrib_prefixes(const struct vl_catalog *cat, struct vl_prefixes *out);
void attrib_prefixes_free(struct vl_prefixes *p);

/* Whether @prefix ("simple_") is on the stop-list of helpers' prefixes. */
bool attrib_generic_prefix(const char *prefix);

/*
 * @syms: a deviation's stack resolved to symbols (NULL where kallsyms names
 * none): [0] the method @fn, then its callers, innermost first. *@frame is
 * set to the index of the attributing frame, or -1 when none is (core,
 * unknown).
 */
enum vl_attrib attrib_stack(const struct vl_fn *fn, const struct ksym *const *syms, int n,
			    const struct vl_prefixes *pf, int *frame);

/* "filesystem", "module", "core", "unknown" */
const char *attrib_name(enum vl_attrib a);

#endif
