// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: file_operations of regular files. Reads and writes go through
 * the page cache (generic_file_*_iter take what they need: i_rwsem for a
 * write, invalidate_lock shared to fill a folio); fallocate preallocates
 * zeroed folios through write_begin/write_end, or punches holes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/falloc.h>	/* after fs.h: it needs its types */
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/splice.h>
#include <linux/uio.h>


#include "vlrefs.h"

/* no lock: i_size is read once, with i_size_read() */
static loff_t vlrefs_llseek(struct file *file, loff_t offset, int whence)
{
	return generic_file_llseek(file, offset, whence);
}

static ssize_t vlrefs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return generic_file_read_iter(iocb, to);
}

/* takes i_rwsem exclusive itself, as write_begin and write_end need it */
static ssize_t vlrefs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return generic_file_write_iter(iocb, from);
}

static ssize_t vlrefs_splice_read(struct file *in, loff_t *ppos, struct pipe_inode_info *pipe,
				  size_t len, unsigned int flags)
{
	return vl_splice_read(in, ppos, pipe, len, flags);
}

/* through ->write_iter, which takes i_rwsem */
static ssize_t vlrefs_splice_write(struct pipe_inode_info *pipe, struct file *out, loff_t *ppos,
				   size_t len, unsigned int flags)
{
	return iter_file_splice_write(pipe, out, ppos, len, flags);
}

/* Nothing to write back: the page cache is the storage. No lock held. */
int vlrefs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	vlrefs_fault_setattr_unlocked(file);
	return 0;
}

/* One page-cache folio of zeroes, or what is already there, for [pos, pos + len). */
static int vlrefs_prealloc(struct file *file, loff_t pos, unsigned int len, bool keep_size)
{
	struct address_space *mapping = file->f_mapping;
	const struct address_space_operations *aops = mapping->a_ops;
	struct vlrefs_prealloc pa = { .keep_size = keep_size };
	void *fsdata = &pa;
	VL_WB_T *wbp;
	struct folio *folio;
	size_t from;
	int err;

	err = aops->write_begin(VL_WB_CALLER(file), mapping, pos, len, VL_WB_NO_FLAGS &wbp, &fsdata);
	if (err)
		return err;
	folio = vl_wb_folio(wbp);
	/* write_begin_unlocked: take the lock the folio should have come with */
	if (pa.unlocked)
		folio_lock(folio);
	if (!folio_test_uptodate(folio)) {
		from = offset_in_folio(folio, pos);
		folio_zero_range(folio, from, len);
	}
	err = aops->write_end(VL_WB_CALLER(file), mapping, pos, len, len, wbp, fsdata);
	return err < 0 ? err : 0;
}

static long vlrefs_fallocate_range(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	loff_t end = offset + len;
	loff_t pos = offset;
	int err;

	if (!(mode & FALLOC_FL_KEEP_SIZE)) {
		err = inode_newsize_ok(inode, end);
		if (err)
			return err;
	}
	while (pos < end) {
		unsigned int chunk = min_t(loff_t, PAGE_SIZE - offset_in_page(pos), end - pos);

		err = vlrefs_prealloc(file, pos, chunk, mode & FALLOC_FL_KEEP_SIZE);
		if (err)
			return err;
		pos += chunk;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * Takes i_rwsem exclusive, as write_begin and write_end need it, and
 * invalidate_lock exclusive to punch, as ->invalidate_folio needs it.
 */
static long vlrefs_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	struct address_space *mapping = inode->i_mapping;
	long err = 0;

	if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
		return -EOPNOTSUPP;
	inode_lock(inode);
	if (mode & FALLOC_FL_PUNCH_HOLE) {
		vl_invalidate_lock(mapping);
		truncate_pagecache_range(inode, offset, offset + len - 1);
		vl_invalidate_unlock(mapping);
	} else {
		err = vlrefs_fallocate_range(file, mode, offset, len);
	}
	if (!err)
		vlrefs_touch(inode);
	inode_unlock(inode);
	return err;
}

/* POSIX locks, kept by the VFS: fcntl(F_SETLK/F_SETLKW/F_GETLK) */
static int vlrefs_lock(struct file *file, int cmd, struct file_lock *fl)
{
	if (cmd == F_CANCELLK)
		return 0;
	if (IS_GETLK(cmd)) {
		posix_test_lock(file, fl);
		return 0;
	}
	return posix_lock_file(file, fl, NULL);
}

static int vlrefs_flock(struct file *file, int cmd, struct file_lock *fl)
{
	return locks_lock_file_wait(file, fl);
}

/* leases are kept by the VFS alone: nothing of ours to record */
static int vlrefs_setlease(struct file *file, VL_LEASE_ARG_T arg, VL_LEASE_T **lease, void **priv)
{
	return generic_setlease(file, arg, lease, priv);
}

const struct file_operations vlrefs_file_fops = {
	.llseek		= vlrefs_llseek,
	.read_iter	= vlrefs_read_iter,
	.write_iter	= vlrefs_write_iter,
	.mmap		= vlrefs_file_mmap,
	.fsync		= vlrefs_fsync,
	.fallocate	= vlrefs_fallocate,
	.splice_read	= vlrefs_splice_read,
	.splice_write	= vlrefs_splice_write,
	.lock		= vlrefs_lock,
	.flock		= vlrefs_flock,
	.setlease	= vlrefs_setlease,
};
