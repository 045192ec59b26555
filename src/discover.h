/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which filesystems are mounted, and which functions implement their
 * methods: read from the kernel's own operation tables, not from a list.
 */
#ifndef VFSLOCK_DISCOVER_H
#define VFSLOCK_DISCOVER_H

#include <stdint.h>

#include "catalog.h"
#include "kbtf.h"
#include "ksyms.h"

struct vl_mount {
	char *mnt;		/* mount point */
	char *fstype;		/* as in mountinfo */
	uint32_t dev;		/* kernel encoding: major << 20 | minor */
};

struct vl_mounts {
	int n;
	struct vl_mount *v;
};

/* Mounts from @mountinfo whose type is in @fslist ("tmpfs,ext4"; NULL: all). */
int discover_mounts(const char *mountinfo, const char *fslist, struct vl_mounts *out);
/*
 * Mounts of @fslist now in @mountinfo whose superblock @known lacks: added
 * to @known, and returned in @fresh (which the caller frees).
 */
int discover_new_mounts(const char *mountinfo, const char *fslist, struct vl_mounts *known,
			struct vl_mounts *fresh);
/* Append a copy of @mnt, @fstype and @dev to @m. */
void mounts_add(struct vl_mounts *m, const char *mnt, const char *fstype, uint32_t dev);
void mounts_free(struct vl_mounts *m);

/* A filesystem type instance found by discovery. */
struct vl_fstype {
	char name[32];
	uint64_t s_type;	/* struct file_system_type *: the in-kernel filter key */
};

struct vl_discovery {
	int ntypes;
	struct vl_fstype *types;
	int nsbs;
	struct vl_sb {
		uint64_t sb;	/* struct super_block * of a sampled mount */
		uint32_t dev;
	} *sbs;
	int nfailed;		/* mounts that could not be opened or read */
};

/* Load the discovery programs and nothing else: whether they can run here. */
int discover_dry_load(struct kbtf *kb, char *err, size_t errlen);

/*
 * Add to @cat every method implementation of the filesystems mounted at
 * @m, with its roles and argument kinds.
 */
int discover_methods(const struct vl_mounts *m, struct kbtf *kb, const struct ksyms *ks,
		     struct vl_catalog *cat, struct vl_discovery *out);
/* Add @more's types and superblocks to @d. */
void discovery_merge(struct vl_discovery *d, const struct vl_discovery *more);
void discovery_free(struct vl_discovery *d);

#endif
