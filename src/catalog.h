/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The catalog of traced method implementations. An event names its function
 * by attach id; the catalog says what that function is (name, module, which
 * method of which operations struct for which filesystems, its argument
 * kinds). Live runs build it from discovery; a recording will carry it.
 */
#ifndef VFSLOCK_CATALOG_H
#define VFSLOCK_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "vfslock_abi.h"

#define VL_MAX_ROLES 4
#define VL_CATALOG_MAX 8192	/* the kernel's method table holds as many */

struct vl_role {
	char *ops_struct;	/* "inode_operations" */
	char *method;		/* "lookup" */
};

struct vl_fn {
	uint32_t id;		/* attach id, index in the catalog */
	uint64_t addr;
	uint32_t size;		/* bytes of code, to the next symbol; 0: unknown */
	char *name;		/* "simple_lookup" */
	char *module;		/* "" for vmlinux */
	char *fstypes;		/* "tmpfs,ramfs": the filesystems installing it */
	int nroles;
	struct vl_role roles[VL_MAX_ROLES];
	int nargs;
	bool returns_void;
	uint8_t arg_kind[VL_MAX_ARGS];	/* enum vl_arg_kind, from BTF */
};

struct vl_catalog {
	int nfns;
	struct vl_fn *fns;
};

/* NULL when the catalog is full; entries never move. */
struct vl_fn *catalog_add(struct vl_catalog *c, uint64_t addr, const char *name,
			  const char *module);
struct vl_fn *catalog_by_addr(struct vl_catalog *c, uint64_t addr);
const struct vl_fn *catalog_get(const struct vl_catalog *c, uint32_t id);
void catalog_add_role(struct vl_fn *f, const char *ops_struct, const char *method);
void catalog_add_fstype(struct vl_fn *f, const char *fstype);
/* Whether @fstype is one of those installing @f. */
bool catalog_has_fstype(const struct vl_fn *f, const char *fstype);
void catalog_free(struct vl_catalog *c);

#endif
