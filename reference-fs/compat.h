/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vlrefs: the VFS API of each kernel it builds for (Debian's 5.10, 6.1,
 * 6.12 and 7.3), in one place. Every version test of the module is here,
 * each with the release whose change it follows; the rest of vlrefs is
 * written once. Helpers are named vl_* rather than after the kernel
 * function they stand for: Debian's stable kernels carry backports (6.1
 * has inode_set_ctime_current() of 6.6), which a stand-in of the same
 * name would collide with.
 *
 * Macros ending in a comma (VL_IDMAP_PARAM, VL_WB_FLAGS_PARAM, ...) stand
 * for an argument that some kernels have and others do not: they are
 * written in front of the next argument, with no comma of their own.
 */
#ifndef VLREFS_COMPAT_H
#define VLREFS_COMPAT_H

#include <linux/version.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
/* file locks and leases have a header of their own from 6.3 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#include <linux/filelock.h>
#endif

#define VL_AT_LEAST(a, b)	(LINUX_VERSION_CODE >= KERNEL_VERSION(a, b, 0))

/*
 * The id mapping of the mount, first argument of most inode_operations and
 * of the attribute helpers: struct mnt_idmap from 6.3 ("fs: port to
 * mnt_idmap"), the mount's user namespace from 5.12 (idmapped mounts),
 * none before.
 */
#if VL_AT_LEAST(6, 3)
#define VL_IDMAP_PARAM		struct mnt_idmap *idmap,
#define VL_IDMAP_ARG		idmap,
#define VL_NOP_IDMAP		&nop_mnt_idmap,
#define VL_FILE_IDMAP(file)	file_mnt_idmap(file),
#elif VL_AT_LEAST(5, 12)
#define VL_IDMAP_PARAM		struct user_namespace *idmap,
#define VL_IDMAP_ARG		idmap,
#define VL_NOP_IDMAP		&init_user_ns,
#define VL_FILE_IDMAP(file)	file_mnt_user_ns(file),
#else
#define VL_IDMAP_PARAM
#define VL_IDMAP_ARG
#define VL_NOP_IDMAP
#define VL_FILE_IDMAP(file)
#endif

/*
 * Folios came in 5.16 ("mm: Introduce struct folio"); before, the page
 * cache held pages and its methods took them. vlrefs never asks for large
 * folios (no mapping_set_large_folios()), so each of its folios is one
 * page: on 5.10 a folio is a page, and the folio calls vlrefs makes are
 * their page forms. Defined after every kernel header is in, and only
 * where the kernel has no folio at all.
 */
#if !VL_AT_LEAST(5, 16)
#define folio				page
#define page_folio(page)		(page)
#define folio_size(folio)		PAGE_SIZE
#define folio_nr_pages(folio)		1
#define offset_in_folio(folio, p)	offset_in_page(p)
#define folio_get_private(folio)	((void *)page_private(folio))
#define folio_attach_private		attach_page_private
#define folio_detach_private		detach_page_private
#define folio_test_locked		PageLocked
#define folio_lock			lock_page
#define folio_unlock			unlock_page
#define folio_get			get_page
#define folio_put			put_page
#define folio_test_uptodate		PageUptodate
#define folio_mark_uptodate		SetPageUptodate
#define folio_test_dirty		PageDirty
#define folio_test_set_dirty		TestSetPageDirty
#define folio_mark_dirty		set_page_dirty
#define folio_zero_range		zero_user
#define folio_zero_segments		zero_user_segments
#define flush_dcache_folio		flush_dcache_page
#endif

/*
 * address_space_operations went from pages to folios one method at a
 * time: dirty_folio and invalidate_folio in 5.18, read_folio in 5.19,
 * release_folio and write_begin without its flags in 6.0. VL_PAGE_AOPS:
 * the page methods (readpage, set_page_dirty, invalidatepage,
 * releasepage), as 5.10 has them; 5.16 to 5.19, where folios exist but
 * the methods are mixed, have no Debian headers and are not built for.
 */
#if !VL_AT_LEAST(5, 16)
#define VL_PAGE_AOPS
#elif !VL_AT_LEAST(6, 0)
#error "vlrefs: from 5.16 to 5.19 the address_space_operations mix pages and folios"
#endif

/* ->write_begin's flags, gone in 6.0 ("fs: Remove flags parameter from aops->write_begin") */
#if VL_AT_LEAST(6, 0)
#define VL_WB_FLAGS_PARAM
#define VL_WB_NO_FLAGS
#else
#define VL_WB_FLAGS_PARAM	unsigned int flags,
#define VL_WB_NO_FLAGS		0,
#endif

/*
 * What ->write_begin hands back and ->write_end takes: a folio from 6.12
 * ("fs: Convert aops->write_begin to take a folio"), a page before.
 * vl_wb_folio() is the folio of it, vl_wb_out() what to hand back for a
 * folio.
 */
#if VL_AT_LEAST(6, 12)
#define VL_WB_T			struct folio
#define vl_wb_folio(p)		(p)
#define vl_wb_out(folio)	(folio)
#elif VL_AT_LEAST(5, 16)
#define VL_WB_T			struct page
#define vl_wb_folio(p)		page_folio(p)
#define vl_wb_out(folio)	(&(folio)->page)
#else
#define VL_WB_T			struct page
#define vl_wb_folio(p)		(p)
#define vl_wb_out(folio)	(folio)
#endif

/*
 * Their first argument: the kiocb of the write from 6.17 ("fs: change
 * write_begin/write_end interface to take struct kiocb *"), the file
 * before. A caller outside a write passes NULL from 6.17, as
 * page_symlink() does.
 */
#if VL_AT_LEAST(6, 17)
#define VL_WB_CALLER_T		const struct kiocb
#define VL_WB_CALLER(file)	NULL
#else
#define VL_WB_CALLER_T		struct file
#define VL_WB_CALLER(file)	(file)
#endif

/*
 * The locked folio at @pos for ->write_begin: __filemap_get_folio() with
 * FGP_WRITEBEGIN where write_begin hands out a folio (6.12), the page of
 * grab_cache_page_write_begin() before, whose flags went in 6.0.
 */
static inline struct folio *vl_write_begin_folio(struct address_space *mapping, loff_t pos)
{
#if VL_AT_LEAST(6, 12)
	return __filemap_get_folio(mapping, pos >> PAGE_SHIFT, FGP_WRITEBEGIN,
				   mapping_gfp_mask(mapping));
#else
#if VL_AT_LEAST(6, 0)
	struct page *page = grab_cache_page_write_begin(mapping, pos >> PAGE_SHIFT);
#else
	struct page *page = grab_cache_page_write_begin(mapping, pos >> PAGE_SHIFT, 0);
#endif

	return page ? page_folio(page) : ERR_PTR(-ENOMEM);
#endif
}

/*
 * invalidate_lock came in 5.15 ("mm: Protect operations adding pages to
 * page cache with invalidate_lock"). Before, nothing of the page cache
 * orders truncation against faults and reads but i_size and the page
 * lock, as in every filesystem of 5.10 without a lock of its own
 * (shmem, ramfs): vlrefs takes nothing there, and locking.rst 5.10 asks
 * nothing.
 */
#if VL_AT_LEAST(5, 15)
#define vl_invalidate_lock(mapping)		filemap_invalidate_lock(mapping)
#define vl_invalidate_unlock(mapping)		filemap_invalidate_unlock(mapping)
#define vl_assert_invalidate_locked(mapping)	\
	lockdep_assert_held_write(&(mapping)->invalidate_lock)
#else
#define vl_invalidate_lock(mapping)		((void)(mapping))
#define vl_invalidate_unlock(mapping)		((void)(mapping))
#define vl_assert_invalidate_locked(mapping)	((void)(mapping))
#endif

/* alloc_inode_sb() came in 5.18, to charge the inode to the superblock's memcg */
#if VL_AT_LEAST(5, 18)
#define vl_alloc_inode_sb(sb, cache, gfp)	alloc_inode_sb(sb, cache, gfp)
#else
#define vl_alloc_inode_sb(sb, cache, gfp)	kmem_cache_alloc(cache, gfp)
#endif

/*
 * Inode times: ctime through accessors from 6.6 ("fs: add ctime
 * accessors infrastructure"), atime and mtime from 6.7.
 */
static inline void vlrefs_touch(struct inode *inode)
{
#if VL_AT_LEAST(6, 7)
	inode_set_mtime_to_ts(inode, inode_set_ctime_current(inode));
#else
	inode->i_mtime = inode->i_ctime = current_time(inode);
#endif
}

static inline void vlrefs_touch_ctime(struct inode *inode)
{
#if VL_AT_LEAST(6, 6)
	inode_set_ctime_current(inode);
#else
	inode->i_ctime = current_time(inode);
#endif
}

static inline void vl_inode_atime_from_mtime(struct inode *inode)
{
#if VL_AT_LEAST(6, 7)
	inode_set_atime_to_ts(inode, inode_get_mtime(inode));
#else
	inode->i_atime = inode->i_mtime;
#endif
}

/* generic_fillattr() takes the request mask from 6.6 */
static inline void vl_generic_fillattr(VL_IDMAP_PARAM u32 request_mask, struct inode *inode,
				       struct kstat *stat)
{
#if VL_AT_LEAST(6, 6)
	generic_fillattr(VL_IDMAP_ARG request_mask, inode, stat);
#else
	generic_fillattr(VL_IDMAP_ARG inode, stat);
#endif
}

/*
 * RENAME_EXCHANGE: simple_rename_exchange() came in 5.16 ("libfs: Move
 * shmem_exchange to simple_rename_exchange"); before, the same work, as
 * shmem_exchange() of 5.10 did it (the VFS swaps the dentries).
 */
static inline int vl_rename_exchange(struct inode *old_dir, struct dentry *old_dentry,
				     struct inode *new_dir, struct dentry *new_dentry)
{
#if VL_AT_LEAST(5, 16)
	return simple_rename_exchange(old_dir, old_dentry, new_dir, new_dentry);
#else
	bool old_is_dir = d_is_dir(old_dentry);
	bool new_is_dir = d_is_dir(new_dentry);

	if (old_dir != new_dir && old_is_dir != new_is_dir) {
		if (old_is_dir) {
			drop_nlink(old_dir);
			inc_nlink(new_dir);
		} else {
			drop_nlink(new_dir);
			inc_nlink(old_dir);
		}
	}
	vlrefs_touch(old_dir);
	vlrefs_touch(new_dir);
	vlrefs_touch_ctime(d_inode(old_dentry));
	vlrefs_touch_ctime(d_inode(new_dentry));
	return 0;
#endif
}

/*
 * ->tmpfile opens the file itself from 6.1 ("vfs: open inside ->tmpfile()"):
 * it gets a struct file, d_tmpfile() takes it, finish_open_simple() ends it.
 * Before, it got the dentry alone.
 */
#if VL_AT_LEAST(6, 1)
#define VL_TMPFILE_T		struct file
#define vl_finish_tmpfile(t)	finish_open_simple(t, 0)
#else
#define VL_TMPFILE_T		struct dentry
#define vl_finish_tmpfile(t)	0
#endif

/*
 * ->create loses its "excl" argument in 7.3 ("The .create inode_operation
 * no longer receives the 'excl' arg": Debian's 7.2.12 still has it).
 */
#if VL_AT_LEAST(7, 3)
#define VL_CREATE_EXCL_PARAM
#define VL_CREATE_EXCL(excl)
#else
#define VL_CREATE_EXCL_PARAM	, bool excl
#define VL_CREATE_EXCL(excl)	, excl
#endif

/*
 * ->mkdir returns the dentry it used from 6.15 ("Change
 * inode_operations.mkdir to return struct dentry *"): NULL when it is
 * the one it was given, or an error; an int before.
 */
#if VL_AT_LEAST(6, 15)
#define VL_MKDIR_T		struct dentry *
#define VL_MKDIR_RET(err)	ERR_PTR(err)
#else
#define VL_MKDIR_T		int
#define VL_MKDIR_RET(err)	(err)
#endif

/*
 * ->d_revalidate is also given the parent directory and the name from
 * 6.14 ("Pass parent directory inode and expected name to
 * ->d_revalidate()").
 */
#if VL_AT_LEAST(6, 14)
#define VL_D_REVALIDATE_DIR_NAME
#endif

/* vm_operations ->map_pages returns a vm_fault_t from 5.12, nothing before */
#if !VL_AT_LEAST(5, 12)
#define VL_MAP_PAGES_VOID
#endif

/* ->setlease takes a struct file_lease and an int from 6.9 */
#if VL_AT_LEAST(6, 9)
#define VL_LEASE_T		struct file_lease
#define VL_LEASE_ARG_T		int
#else
#define VL_LEASE_T		struct file_lock
#define VL_LEASE_ARG_T		long
#endif

/* splice: filemap_splice_read() replaced generic_file_splice_read() in 6.5 */
#if VL_AT_LEAST(6, 5)
#define vl_splice_read		filemap_splice_read
#else
#define vl_splice_read		generic_file_splice_read
#endif

/*
 * The default dentry_operations: through set_default_d_op() from 6.16
 * ("new helper: set_default_d_op()"), which also sets what the dcache
 * asks of them; sb->s_d_op before.
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
 * A name pinned from its creation to its unlink, as in ramfs: from 6.19
 * ("kill_litter_super() is gone; convert to DCACHE_PERSISTENT use") the
 * dcache holds the pin itself (d_make_persistent(), undone by
 * d_make_discardable()) and kill_anon_super() drops what is left at
 * umount; before, the filesystem took an extra reference (dget) and
 * kill_litter_super() dropped the remaining ones. Like d_make_persistent(),
 * the stand-in hashes a dentry that is not. Neither takes one still in
 * lookup (see vlrefs_lookup()).
 */
#if VL_AT_LEAST(6, 19)
#define vl_make_persistent(dentry, inode)	d_make_persistent(dentry, inode)
#define vl_make_discardable(dentry)		d_make_discardable(dentry)
#define vl_kill_pinned_super(sb)		kill_anon_super(sb)
#else
static inline void vl_make_persistent(struct dentry *dentry, struct inode *inode)
{
	if (d_unhashed(dentry))
		d_add(dentry, inode);
	else
		d_instantiate(dentry, inode);
	dget(dentry);
}
#define vl_make_discardable(dentry)		dput(dentry)
#define vl_kill_pinned_super(sb)		kill_litter_super(sb)
#endif

/* inode->i_state through accessors, under i_lock, from 6.19 ("fs: provide accessors for ->i_state") */
#if VL_AT_LEAST(6, 19)
#define vl_inode_state_set(inode, flags)	inode_state_set(inode, flags)
#define vl_inode_state_clear(inode, flags)	inode_state_clear(inode, flags)
#else
#define vl_inode_state_set(inode, flags)	((inode)->i_state |= (flags))
#define vl_inode_state_clear(inode, flags)	((inode)->i_state &= ~(flags))
#endif

/*
 * folio_unlock() toggles PG_locked from 6.7, where it went through
 * folio_xor_flags_has_waiters(): unlocking a folio that is not locked
 * locks it. Before, it cleared the bit.
 */
#if VL_AT_LEAST(6, 7)
#define VL_FOLIO_UNLOCK_TOGGLES
#endif

#endif
