/* SPDX-License-Identifier: GPL-2.0 */
/* vlbadfs: the part of vl_badcall whose own methods break rules. */
#ifndef VL_BADFS_H
#define VL_BADFS_H

#include <linux/types.h>

#include "compat.h"

/* @on: d_hash sleeps; permission is told MAY_NOT_BLOCK (see badfs.c) */
int vlbadfs_block(const char *method, const char *dir, bool on);
/* @what "return": the method returns a wrong state; "mmap": called without mmap_lock */
int vlbadfs_return(const char *what, const char *method, const char *dir, bool on);

#endif
