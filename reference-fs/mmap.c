// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: mmap of regular files and their vm_operations, over the page
 * cache helpers (filemap_fault takes invalidate_lock shared to fill a
 * folio, and returns it locked with VM_FAULT_LOCKED).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>

#include "vlrefs.h"

/* mmap_lock held for read (or the vma's own lock); returns the folio locked */
static vm_fault_t vlrefs_vm_fault(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	vm_fault_t ret = filemap_fault(vmf);

	if (!(ret & VM_FAULT_LOCKED))
		return ret;
	if (vlrefs_breaks_inode(VLREFS_FAULT_LOCKED_LIE, inode)) {
		struct folio *folio = page_folio(vmf->page);

		/*
		 * Fault: say VM_FAULT_LOCKED with the folio unlocked. Where
		 * the caller's unlock toggles the bit, it locks the folio:
		 * that lock is undone later, on the side.
		 */
		vlrefs_fault_hit(VLREFS_FAULT_LOCKED_LIE);
		folio_unlock(folio);
		vlrefs_unlock_folio_later(folio, true);
		return ret;
	}
	WARN_ON_ONCE(!folio_test_locked(page_folio(vmf->page)));
	return ret;
}

/*
 * RCU read lock held: must not block, maps only the folios it can take at
 * once. fault_locked_lie: maps nothing, so that every fault reaches ->fault.
 */
#ifdef VL_MAP_PAGES_VOID
static void vlrefs_vm_map_pages(struct vm_fault *vmf, pgoff_t start, pgoff_t end)
{
	if (!vlrefs_breaks_inode(VLREFS_FAULT_LOCKED_LIE, file_inode(vmf->vma->vm_file)))
		filemap_map_pages(vmf, start, end);
}
#else
static vm_fault_t vlrefs_vm_map_pages(struct vm_fault *vmf, pgoff_t start, pgoff_t end)
{
	if (vlrefs_breaks_inode(VLREFS_FAULT_LOCKED_LIE, file_inode(vmf->vma->vm_file)))
		return 0;
	return filemap_map_pages(vmf, start, end);
}
#endif

/* mmap_lock held for read; returns the folio locked and dirty, or VM_FAULT_NOPAGE */
static vm_fault_t vlrefs_vm_page_mkwrite(struct vm_fault *vmf)
{
	vm_fault_t ret = filemap_page_mkwrite(vmf);

	if (ret & VM_FAULT_LOCKED)
		WARN_ON_ONCE(!folio_test_locked(page_folio(vmf->page)));
	return ret;
}

static const struct vm_operations_struct vlrefs_vm_ops = {
	.fault		= vlrefs_vm_fault,
	.map_pages	= vlrefs_vm_map_pages,
	.page_mkwrite	= vlrefs_vm_page_mkwrite,
};

/* mmap_lock held for write */
int vlrefs_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	file_accessed(file);
	vma->vm_ops = &vlrefs_vm_ops;
	return 0;
}
