/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vl_badcall: the VFS API of each kernel it builds for (Debian's 5.10,
 * 6.1, 6.12 and 7.3), in one place. Every version test of the module is
 * here, each with the release whose change it follows. Helpers are named
 * vl_* rather than after the kernel function they stand for, so that no
 * stable backport of that function can collide with them.
 *
 * Macros ending in a comma (VL_IDMAP_PARAM, VL_NOP_IDMAP, ...) stand for
 * an argument that some kernels have and others do not: they are written
 * in front of the next argument, with no comma of their own.
 */
#ifndef VL_BADCALL_COMPAT_H
#define VL_BADCALL_COMPAT_H

#include <linux/version.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/string.h>
/* file locks and leases have a header of their own from 6.3 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#include <linux/filelock.h>
#endif

#define VL_AT_LEAST(a, b)	(LINUX_VERSION_CODE >= KERNEL_VERSION(a, b, 0))

/*
 * The id mapping of the mount, first argument of most inode_operations and
 * of the xattr handlers' set: struct mnt_idmap from 6.3 ("fs: port to
 * mnt_idmap"), the mount's user namespace from 5.12 (idmapped mounts),
 * none before. VL_NOP_IDMAP: the identity mapping, for a call made with
 * no mount in hand.
 */
#if VL_AT_LEAST(6, 3)
#define VL_IDMAP_PARAM		struct mnt_idmap *idmap,
#define VL_IDMAP_ARG		idmap,
#define VL_NOP_IDMAP		&nop_mnt_idmap,
#elif VL_AT_LEAST(5, 12)
#define VL_IDMAP_PARAM		struct user_namespace *idmap,
#define VL_IDMAP_ARG		idmap,
#define VL_NOP_IDMAP		&init_user_ns,
#else
#define VL_IDMAP_PARAM
#define VL_IDMAP_ARG
#define VL_NOP_IDMAP
#endif

/*
 * Folios came in 5.16 ("mm: Introduce struct folio"); before, the page
 * cache held pages and its methods took them. The module's folios are
 * single pages (vlbadfs asks for no large folios, and do_partial() takes
 * the first folio of a file ext4 wrote with small ones): on 5.10 a folio
 * is a page, and the folio calls made here are their page forms. Defined
 * after every kernel header is in, and only where the kernel has no folio
 * at all.
 */
#if !VL_AT_LEAST(5, 16)
#define folio			page
#define page_folio(page)	(page)
#define folio_lock		lock_page
#define folio_unlock		unlock_page
#define folio_put		put_page
#endif

/*
 * address_space_operations went from pages to folios one method at a
 * time, from 5.18 (dirty_folio) to 6.0 (release_folio, and write_begin
 * without its flags). VL_PAGE_AOPS: the page methods, as 5.10 has them;
 * 5.16 to 5.19, where folios exist but the methods are mixed, have no
 * Debian headers and are not built for.
 */
#if !VL_AT_LEAST(5, 16)
#define VL_PAGE_AOPS
#elif !VL_AT_LEAST(6, 0)
#error "vl_badcall: from 5.16 to 5.19 the address_space_operations mix pages and folios"
#endif

/* a mapping's ->read_folio: ->readpage among the page methods */
#ifdef VL_PAGE_AOPS
#define vl_call_read_folio(mapping, file, folio)	((mapping)->a_ops->readpage(file, folio))
#else
#define vl_call_read_folio(mapping, file, folio)	((mapping)->a_ops->read_folio(file, folio))
#endif

/* ->write_begin's flags, gone in 6.0 ("fs: Remove flags parameter from aops->write_begin") */
#if VL_AT_LEAST(6, 0)
#define VL_WB_FLAGS_PARAM
#define VL_WB_FLAGS_ARG
#define VL_WB_NO_FLAGS
#else
#define VL_WB_FLAGS_PARAM	unsigned int flags,
#define VL_WB_FLAGS_ARG		flags,
#define VL_WB_NO_FLAGS		0,
#endif

/*
 * What ->write_begin hands back and ->write_end takes: a folio from 6.12
 * ("fs: Convert aops->write_begin to take a folio"), a page before.
 */
#if VL_AT_LEAST(6, 12)
#define VL_WB_T			struct folio
#define vl_wb_unlock		folio_unlock
#define vl_wb_put		folio_put
#else
#define VL_WB_T			struct page
#define vl_wb_unlock		unlock_page
#define vl_wb_put		put_page
#endif

/*
 * Their first argument: the kiocb of the write from 6.17 ("fs: change
 * write_begin/write_end interface to take struct kiocb *"), the file
 * before. The module's own calls, made outside any write, pass NULL
 * either way (page_symlink() does so from 6.17).
 */
#if VL_AT_LEAST(6, 17)
#define VL_WB_CALLER_T		const struct kiocb
#else
#define VL_WB_CALLER_T		struct file
#endif

/*
 * ramfs' page-cache methods, which vlbadfs's file wraps: ram_aops from
 * 5.14 ("fs: move ramfs_aops to libfs"), the exported helpers it was made
 * of before. ram_aops' dirty_folio may be unset (it is the default then):
 * noop_dirty_folio() is what it was.
 */
static inline int vl_ram_read_folio(struct file *file, struct folio *folio)
{
#if VL_AT_LEAST(6, 0)
	return ram_aops.read_folio(file, folio);
#elif VL_AT_LEAST(5, 14)
	return ram_aops.readpage(file, folio);
#else
	return simple_readpage(file, folio);
#endif
}

static inline int vl_ram_write_begin(VL_WB_CALLER_T *caller, struct address_space *mapping,
				     loff_t pos, unsigned int len, VL_WB_FLAGS_PARAM
				     VL_WB_T **pagep, void **fsdata)
{
#if VL_AT_LEAST(5, 14)
	return ram_aops.write_begin(caller, mapping, pos, len, VL_WB_FLAGS_ARG pagep, fsdata);
#else
	return simple_write_begin(caller, mapping, pos, len, flags, pagep, fsdata);
#endif
}

static inline int vl_ram_write_end(VL_WB_CALLER_T *caller, struct address_space *mapping,
				   loff_t pos, unsigned int len, unsigned int copied,
				   VL_WB_T *page, void *fsdata)
{
#if VL_AT_LEAST(5, 14)
	return ram_aops.write_end(caller, mapping, pos, len, copied, page, fsdata);
#else
	return simple_write_end(caller, mapping, pos, len, copied, page, fsdata);
#endif
}

#ifndef VL_PAGE_AOPS
static inline bool vl_ram_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	if (ram_aops.dirty_folio)
		return ram_aops.dirty_folio(mapping, folio);
	return noop_dirty_folio(mapping, folio);
}
#endif

/* The first folio of a file, if cached: filemap_get_folio() from 5.16 (NULL or an error) */
static inline struct folio *vl_get_folio(struct address_space *mapping, pgoff_t index)
{
#if VL_AT_LEAST(5, 16)
	return filemap_get_folio(mapping, index);
#else
	return find_get_page(mapping, index);
#endif
}

/*
 * A name looked up in @base, whose i_rwsem the caller holds, without a
 * permission check: lookup_noperm() from 6.16 ("VFS: rename lookup_one_len
 * family to lookup_noperm and remove permission check"), lookup_one_len()
 * before.
 */
static inline struct dentry *vl_lookup(const char *name, struct dentry *base)
{
#if VL_AT_LEAST(6, 16)
	return lookup_noperm(&QSTR(name), base);
#else
	return lookup_one_len(name, base, strlen(name));
#endif
}

/* the same, taking @base's i_rwsem itself */
static inline struct dentry *vl_lookup_unlocked(const char *name, struct dentry *base)
{
#if VL_AT_LEAST(6, 16)
	return lookup_noperm_unlocked(&QSTR(name), base);
#else
	return lookup_one_len_unlocked(name, base, strlen(name));
#endif
}

/*
 * What ->mkdir returned, as an error number: from 6.15 ("Change
 * inode_operations.mkdir to return struct dentry *") the dentry it used
 * when not the one it was given (put here), NULL, or an error; an int
 * before.
 */
#if VL_AT_LEAST(6, 15)
static inline int vl_mkdir_result(struct dentry *used)
{
	if (IS_ERR(used))
		return PTR_ERR(used);
	dput(used);
	return 0;
}
#else
static inline int vl_mkdir_result(int err)
{
	return err;
}
#endif

/* A readdir actor returns whether to go on from 6.1 ("filldir_t: return bool"); 0 did before. */
#if VL_AT_LEAST(6, 1)
#define VL_FILLDIR_T		bool
#define VL_FILLDIR_GO_ON	true
#else
#define VL_FILLDIR_T		int
#define VL_FILLDIR_GO_ON	0
#endif

/* Leases got their own struct in 6.9, fields in a common first member. */
#if VL_AT_LEAST(6, 9)
#define VL_LEASE_T		struct file_lease
#define vl_lease_alloc		locks_alloc_lease
#define vl_lease_free		locks_free_lease
#define VL_LEASE(fl, f)		((fl)->c.flc_##f)
#else
#define VL_LEASE_T		struct file_lock
#define vl_lease_alloc		locks_alloc_lock
#define vl_lease_free		locks_free_lock
#define VL_LEASE(fl, f)		((fl)->fl_##f)
#endif

/*
 * The default dentry_operations: set_default_d_op() from 6.16 ("new
 * helper: set_default_d_op()"), sb->s_d_op before.
 */
static inline void vl_set_default_d_op(struct super_block *sb,
				       const struct dentry_operations *ops)
{
#if VL_AT_LEAST(6, 16)
	set_default_d_op(sb, ops);
#else
	sb->s_d_op = ops;
#endif
}

/*
 * A name pinned until umount, as in ramfs: from 6.19 ("kill_litter_super()
 * is gone; convert to DCACHE_PERSISTENT use") the dcache holds the pin
 * (d_make_persistent()) and kill_anon_super() drops it; before, an extra
 * reference of the filesystem's own, which kill_litter_super() dropped.
 */
#if VL_AT_LEAST(6, 19)
#define vl_make_persistent(dentry, inode)	d_make_persistent(dentry, inode)
#define vl_kill_pinned_super			kill_anon_super
#else
static inline void vl_make_persistent(struct dentry *dentry, struct inode *inode)
{
	if (d_unhashed(dentry))
		d_add(dentry, inode);
	else
		d_instantiate(dentry, inode);
	dget(dentry);
}
#define vl_kill_pinned_super			kill_litter_super
#endif

/* ->drop_inode that lets every unused inode go: generic_delete_inode(), inode_just_drop() from 6.18 */
#if VL_AT_LEAST(6, 18)
#define vl_drop_unused_inode	inode_just_drop
#else
#define vl_drop_unused_inode	generic_delete_inode
#endif

#endif
