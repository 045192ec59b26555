/* SPDX-License-Identifier: GPL-2.0 */
/* vlbadfs: the part of vl_badcall whose own methods break rules. */
#ifndef VL_BADFS_H
#define VL_BADFS_H

#include <linux/types.h>
#include <linux/version.h>

/* The id mapping methods take: struct mnt_idmap from 6.3, a user namespace before. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define VL_IDMAP_T	struct mnt_idmap
#define VL_IDMAP	(&nop_mnt_idmap)
#else
#define VL_IDMAP_T	struct user_namespace
#define VL_IDMAP	(&init_user_ns)
#endif

/* @on: d_hash sleeps; permission is told MAY_NOT_BLOCK (see badfs.c) */
int vlbadfs_block(const char *method, const char *dir, bool on);
/* @what "return": the method returns a wrong state; "mmap": called without mmap_lock */
int vlbadfs_return(const char *what, const char *method, const char *dir, bool on);

#endif
