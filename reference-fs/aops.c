// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: address_space_operations. A folio that holds written data
 * carries a private mark and is counted against the mount's size; the mark
 * goes, and the count with it, when the folio leaves the page cache
 * (invalidate_folio on truncate, release_folio when the MM drops a clean
 * one). Folios are never written back: they stay dirty, in an unevictable
 * mapping.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "vlrefs.h"

/* the private mark of a folio counted in used_blocks */
#define VLREFS_FOLIO_COUNTED	((void *)0x766c7266UL)

static struct vlrefs_sb_info *vlrefs_folio_sbi(struct folio *folio)
{
	return VLREFS_SB(folio->mapping->host->i_sb);
}

/* folio locked */
static int vlrefs_folio_count(struct folio *folio)
{
	struct vlrefs_sb_info *sbi = vlrefs_folio_sbi(folio);

	if (folio_get_private(folio))
		return 0;
	if (atomic_long_add_return(folio_nr_pages(folio), &sbi->used_blocks) > sbi->max_blocks) {
		atomic_long_sub(folio_nr_pages(folio), &sbi->used_blocks);
		return -ENOSPC;
	}
	folio_attach_private(folio, VLREFS_FOLIO_COUNTED);
	return 0;
}

/* folio locked */
static void vlrefs_folio_uncount(struct folio *folio)
{
	if (folio_get_private(folio) != VLREFS_FOLIO_COUNTED)
		return;
	folio_detach_private(folio);
	atomic_long_sub(folio_nr_pages(folio), &vlrefs_folio_sbi(folio)->used_blocks);
}

/*
 * Folio locked, invalidate_lock shared; unlocks the folio. Nothing was
 * ever written where no folio is: a hole reads as zeroes.
 */
static int vlrefs_read_folio(struct file *file, struct folio *folio)
{
	WARN_ON_ONCE(!folio_test_locked(folio));
	if (vlrefs_breaks_inode(VLREFS_READ_FOLIO_LEAVE_LOCKED, folio->mapping->host)) {
		/* Fault: fail, leaving the folio locked; unlocked later, on the side. */
		vlrefs_fault_hit(VLREFS_READ_FOLIO_LEAVE_LOCKED);
		vlrefs_unlock_folio_later(folio, false);
		return -EIO;
	}
	folio_zero_range(folio, 0, folio_size(folio));
	flush_dcache_folio(folio);
	folio_mark_uptodate(folio);
	folio_unlock(folio);
	return 0;
}

/*
 * i_rwsem exclusive; returns the folio locked. @fsdata comes in NULL from
 * generic_perform_write(), or as a struct vlrefs_prealloc from fallocate.
 */
static int vlrefs_write_begin(VL_WB_CALLER_T *caller, struct address_space *mapping, loff_t pos,
			      unsigned int len, VL_WB_FLAGS_PARAM VL_WB_T **pagep, void **fsdata)
{
	struct vlrefs_prealloc *pa = *fsdata;
	struct folio *folio;
	int err;

	lockdep_assert_held_write(&mapping->host->i_rwsem);
	folio = vl_write_begin_folio(mapping, pos);
	if (IS_ERR(folio))
		return PTR_ERR(folio);
	err = vlrefs_folio_count(folio);
	if (err) {
		folio_unlock(folio);
		folio_put(folio);
		return err;
	}
	if (!folio_test_uptodate(folio) && len != folio_size(folio)) {
		size_t from = offset_in_folio(folio, pos);

		folio_zero_segments(folio, 0, from, from + len, folio_size(folio));
	}
	*pagep = vl_wb_out(folio);
	if (pa && vlrefs_breaks_inode(VLREFS_WRITE_BEGIN_UNLOCKED, mapping->host)) {
		/*
		 * Fault: return the folio unlocked. Only to fallocate, which
		 * is told so and locks it before write_end.
		 */
		vlrefs_fault_hit(VLREFS_WRITE_BEGIN_UNLOCKED);
		folio_unlock(folio);
		pa->unlocked = true;
	}
	return 0;
}

/* i_rwsem exclusive, folio locked; unlocks and puts the folio. */
static int vlrefs_write_end(VL_WB_CALLER_T *caller, struct address_space *mapping, loff_t pos,
			    unsigned int len, unsigned int copied, VL_WB_T *wbp, void *fsdata)
{
	struct folio *folio = vl_wb_folio(wbp);
	struct inode *inode = mapping->host;
	struct vlrefs_prealloc *pa = fsdata;
	loff_t last = pos + copied;

	WARN_ON_ONCE(!folio_test_locked(folio));
	lockdep_assert_held_write(&inode->i_rwsem);
	if (!folio_test_uptodate(folio)) {
		/* a short copy leaves stale bytes: zero them */
		if (copied < len)
			folio_zero_range(folio, offset_in_folio(folio, pos) + copied, len - copied);
		folio_mark_uptodate(folio);
	}
	/* i_rwsem keeps i_size stable */
	if (last > inode->i_size && !(pa && pa->keep_size))
		i_size_write(inode, last);
	folio_mark_dirty(folio);
	folio_unlock(folio);
	folio_put(folio);
	return copied;
}

/*
 * Must not block. The folio stays dirty for as long as it is cached: that
 * is what keeps truncate and drop_caches from taking it as clean.
 */
static bool vlrefs_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	if (folio_test_dirty(folio))
		return false;
	return !folio_test_set_dirty(folio);
}

/* Folio locked, invalidate_lock exclusive (truncate, punch, evict). */
static void vlrefs_invalidate_folio(struct folio *folio, size_t offset, size_t len)
{
	WARN_ON_ONCE(!folio_test_locked(folio));
	vl_assert_invalidate_locked(folio->mapping);
	if (offset == 0 && len == folio_size(folio))
		vlrefs_folio_uncount(folio);
}

/* Folio locked: a clean folio may go (the MM reads a hole back as zeroes). */
static bool vlrefs_release_folio(struct folio *folio, gfp_t gfp)
{
	WARN_ON_ONCE(!folio_test_locked(folio));
	if (folio_test_dirty(folio))
		return false;
	vlrefs_folio_uncount(folio);
	return true;
}

#ifdef VL_PAGE_AOPS
/*
 * The page methods of 5.10 (compat.h), where their prototypes differ from
 * the folio ones: the same work, on the one page a folio is there.
 */
static int vlrefs_set_page_dirty(struct page *page)
{
	return vlrefs_dirty_folio(page->mapping, page);
}

static void vlrefs_invalidatepage(struct page *page, unsigned int offset, unsigned int len)
{
	vlrefs_invalidate_folio(page, offset, len);
}

static int vlrefs_releasepage(struct page *page, gfp_t gfp)
{
	return vlrefs_release_folio(page, gfp);
}

const struct address_space_operations vlrefs_aops = {
	.readpage		= vlrefs_read_folio,
	.write_begin		= vlrefs_write_begin,
	.write_end		= vlrefs_write_end,
	.set_page_dirty		= vlrefs_set_page_dirty,
	.invalidatepage		= vlrefs_invalidatepage,
	.releasepage		= vlrefs_releasepage,
};
#else
const struct address_space_operations vlrefs_aops = {
	.read_folio		= vlrefs_read_folio,
	.write_begin		= vlrefs_write_begin,
	.write_end		= vlrefs_write_end,
	.dirty_folio		= vlrefs_dirty_folio,
	.invalidate_folio	= vlrefs_invalidate_folio,
	.release_folio		= vlrefs_release_folio,
};
#endif
