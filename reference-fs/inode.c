// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: making inodes, and the inode_operations every kind of inode has
 * (setattr, getattr, listxattr), with those of regular files, symlinks and
 * special files.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/pagemap.h>
#include <linux/string.h>

#include "vlrefs.h"

struct inode *vlrefs_get_inode(VL_IDMAP_PARAM struct super_block *sb,
			       const struct inode *dir, umode_t mode, dev_t dev)
{
	struct inode *inode = new_inode(sb);

	if (!inode)
		return NULL;
	inode->i_ino = get_next_ino();
	inode_init_owner(VL_IDMAP_ARG inode, dir, mode);
	inode->i_mapping->a_ops = &vlrefs_aops;
	mapping_set_gfp_mask(inode->i_mapping, GFP_HIGHUSER);
	/* the page cache is the only copy of the data: reclaim must not drop it */
	mapping_set_unevictable(inode->i_mapping);
	vlrefs_touch(inode);
	vl_inode_atime_from_mtime(inode);
	switch (mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &vlrefs_file_iops;
		inode->i_fop = &vlrefs_file_fops;
		break;
	case S_IFDIR:
		inode->i_op = &vlrefs_dir_iops;
		inode->i_fop = &vlrefs_dir_fops;
		/* "." */
		inc_nlink(inode);
		break;
	case S_IFLNK:
		inode->i_op = &vlrefs_symlink_iops;
		break;
	default:
		inode->i_op = &vlrefs_special_iops;
		init_special_inode(inode, mode, dev);
		break;
	}
	atomic_long_inc(&VLREFS_SB(sb)->nr_inodes);
	return inode;
}

/* Faults act on inodes that were once named VLREFS_BREAK_PREFIX*. */
void vlrefs_mark_name(struct inode *inode, const struct qstr *name)
{
	if (vlrefs_is_break_name(name->name, name->len))
		set_bit(VLREFS_I_BREAK, &VLREFS_I(inode)->flags);
}

/*
 * Truncate with invalidate_lock held exclusive, so that no fault or read
 * brings back a folio past the new size while it goes, and as
 * ->invalidate_folio requires.
 */
static void vlrefs_truncate(struct inode *inode, loff_t size)
{
	struct address_space *mapping = inode->i_mapping;

	vl_invalidate_lock(mapping);
	truncate_setsize(inode, size);
	vl_invalidate_unlock(mapping);
}

/* i_rwsem exclusive (notify_change() takes it for us) */
int vlrefs_setattr(VL_IDMAP_PARAM struct dentry *dentry, struct iattr *iattr)
{
	struct inode *inode = d_inode(dentry);
	int err;

	lockdep_assert_held_write(&inode->i_rwsem);
	err = setattr_prepare(VL_IDMAP_ARG dentry, iattr);
	if (err)
		return err;
	if ((iattr->ia_valid & ATTR_SIZE) && iattr->ia_size != i_size_read(inode))
		vlrefs_truncate(inode, iattr->ia_size);
	setattr_copy(VL_IDMAP_ARG inode, iattr);
	return 0;
}

/* no lock needed: the fields are read as they are, as generic_fillattr() does */
int vlrefs_getattr(VL_IDMAP_PARAM const struct path *path, struct kstat *stat,
		   u32 request_mask, unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);

	vl_generic_fillattr(VL_IDMAP_ARG request_mask, inode, stat);
	stat->blocks = inode->i_mapping->nrpages << (PAGE_SHIFT - 9);
	return 0;
}

/*
 * The target lives with the inode until free_inode, which runs after an
 * RCU grace period: rcu-walk (dentry NULL) may read it without blocking.
 */
static const char *vlrefs_get_link(struct dentry *dentry, struct inode *inode,
				   struct delayed_call *done)
{
	return VLREFS_I(inode)->symlink;
}

const struct inode_operations vlrefs_file_iops = {
	.setattr	= vlrefs_setattr,
	.getattr	= vlrefs_getattr,
	.listxattr	= vlrefs_listxattr,
};

const struct inode_operations vlrefs_symlink_iops = {
	.get_link	= vlrefs_get_link,
	.setattr	= vlrefs_setattr,
	.getattr	= vlrefs_getattr,
	.listxattr	= vlrefs_listxattr,
};

const struct inode_operations vlrefs_special_iops = {
	.setattr	= vlrefs_setattr,
	.getattr	= vlrefs_getattr,
	.listxattr	= vlrefs_listxattr,
};
