// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: directories. The dcache is the directory, as in ramfs: a name is
 * a dentry pinned by an extra reference from its creation to its unlink,
 * and readdir walks the children of the dentry.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vlrefs.h"

/* Give @dentry its new inode and pin it until unlink (compat.h: how). */
static void vlrefs_instantiate(struct dentry *dentry, struct inode *inode)
{
	vl_make_persistent(dentry, inode);
}

/* i_rwsem of @dir shared, or exclusive for an open with O_CREAT */
static struct dentry *vlrefs_lookup(struct inode *dir, struct dentry *dentry, unsigned int flags)
{
	lockdep_assert_held(&dir->i_rwsem);
	if (dentry->d_name.len > NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	if (vlrefs_breaks_name(VLREFS_CREATE_SHARED, &dentry->d_name)) {
		/*
		 * Fault: a name looked up is made at once, through ->create,
		 * under the lock lookup was called with: shared for a plain
		 * lookup, where ->create needs it exclusive. The lookup is
		 * done first (a negative dentry, hashed, as ->create is
		 * always given): a dentry still in lookup cannot be pinned
		 * (d_make_persistent(), 6.19).
		 */
		int err;

		d_add(dentry, NULL);
		vlrefs_fault_hit(VLREFS_CREATE_SHARED);
		err = dir->i_op->create(VL_NOP_IDMAP dir, dentry, S_IFREG | 0644 VL_CREATE_EXCL(false));
		return err ? ERR_PTR(err) : NULL;
	}
	/* not found: a negative dentry, which d_delete lets go when unused */
	d_add(dentry, NULL);
	return NULL;
}

/*
 * The work of mknod, create and mkdir. A helper rather than ->mknod itself:
 * vfslock folds a method implementation's call of another into the caller
 * only when the caller's frame is on the stack, and create's call, the
 * last thing it does, compiles to a jump that leaves none.
 */
static int vlrefs_new_node(VL_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
			   umode_t mode, dev_t dev)
{
	struct inode *inode;

	inode = vlrefs_get_inode(VL_IDMAP_ARG dir->i_sb, dir, mode, dev);
	if (!inode)
		return -ENOSPC;
	vlrefs_mark_name(inode, &dentry->d_name);
	vlrefs_fault_sleep_d_compare(dentry);
	vlrefs_instantiate(dentry, inode);
	vlrefs_touch(dir);
	return 0;
}

/* i_rwsem of @dir exclusive, for mknod, create, mkdir and symlink alike */
static int vlrefs_mknod(VL_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
			umode_t mode, dev_t dev)
{
	lockdep_assert_held_write(&dir->i_rwsem);
	return vlrefs_new_node(VL_IDMAP_ARG dir, dentry, mode, dev);
}

static int vlrefs_create(VL_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
			 umode_t mode VL_CREATE_EXCL_PARAM)
{
	lockdep_assert_held_write(&dir->i_rwsem);
	return vlrefs_new_node(VL_IDMAP_ARG dir, dentry, mode | S_IFREG, 0);
}

/* the dentry it was given is the one used: NULL from 6.15 (compat.h) */
static VL_MKDIR_T vlrefs_mkdir(VL_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
			       umode_t mode)
{
	int err;

	lockdep_assert_held_write(&dir->i_rwsem);
	err = vlrefs_new_node(VL_IDMAP_ARG dir, dentry, mode | S_IFDIR, 0);
	/* the child's ".." */
	if (!err)
		inc_nlink(dir);
	return VL_MKDIR_RET(err);
}

static int vlrefs_symlink(VL_IDMAP_PARAM struct inode *dir, struct dentry *dentry,
			  const char *symname)
{
	size_t len = strlen(symname);
	struct inode *inode;
	char *target;

	lockdep_assert_held_write(&dir->i_rwsem);
	target = kmemdup(symname, len + 1, GFP_KERNEL);
	if (!target)
		return -ENOMEM;
	inode = vlrefs_get_inode(VL_IDMAP_ARG dir->i_sb, dir, S_IFLNK | 0777, 0);
	if (!inode) {
		kfree(target);
		return -ENOSPC;
	}
	VLREFS_I(inode)->symlink = target;
	inode->i_size = len;
	vlrefs_mark_name(inode, &dentry->d_name);
	vlrefs_instantiate(dentry, inode);
	vlrefs_touch(dir);
	return 0;
}

/* i_rwsem exclusive on @dir and on the inode linked to */
static int vlrefs_link(struct dentry *old_dentry, struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);

	lockdep_assert_held_write(&dir->i_rwsem);
	lockdep_assert_held_write(&inode->i_rwsem);
	vlrefs_touch_ctime(inode);
	vlrefs_touch(dir);
	inc_nlink(inode);
	ihold(inode);
	vlrefs_mark_name(inode, &dentry->d_name);
	vlrefs_instantiate(dentry, inode);
	return 0;
}

/* i_rwsem exclusive on @dir and on the victim */
static int vlrefs_unlink(struct inode *dir, struct dentry *dentry)
{
	struct inode *inode = d_inode(dentry);

	lockdep_assert_held_write(&dir->i_rwsem);
	lockdep_assert_held_write(&inode->i_rwsem);
	vlrefs_fault_sleep_d_delete(dentry);
	vlrefs_touch_ctime(inode);
	vlrefs_touch(dir);
	drop_nlink(inode);
	/* the pin taken at creation: the last dput frees the name */
	vl_make_discardable(dentry);
	return 0;
}

static int vlrefs_rmdir(struct inode *dir, struct dentry *dentry)
{
	if (!simple_empty(dentry))
		return -ENOTEMPTY;
	/* its "." */
	drop_nlink(d_inode(dentry));
	vlrefs_unlink(dir, dentry);
	/* its ".." */
	drop_nlink(dir);
	return 0;
}

/*
 * i_rwsem exclusive on both parents, on the non-directories involved and
 * on a directory that changes parent; s_vfs_rename_mutex across parents.
 */
static int vlrefs_rename(VL_IDMAP_PARAM struct inode *old_dir, struct dentry *old_dentry,
			 struct inode *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	struct inode *inode = d_inode(old_dentry);
	struct inode *victim = d_inode(new_dentry);
	bool is_dir = d_is_dir(old_dentry);

	lockdep_assert_held_write(&old_dir->i_rwsem);
	lockdep_assert_held_write(&new_dir->i_rwsem);
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if (flags & RENAME_EXCHANGE) {
		vlrefs_mark_name(inode, &new_dentry->d_name);
		vlrefs_mark_name(victim, &old_dentry->d_name);
		return vl_rename_exchange(old_dir, old_dentry, new_dir, new_dentry);
	}
	/* RENAME_NOREPLACE: the VFS saw new_dentry negative under the locks held */
	if (victim) {
		if (is_dir) {
			if (!simple_empty(new_dentry))
				return -ENOTEMPTY;
			drop_nlink(victim);
			drop_nlink(old_dir);
		}
		vlrefs_unlink(new_dir, new_dentry);
	} else if (is_dir) {
		drop_nlink(old_dir);
		inc_nlink(new_dir);
	}
	vlrefs_mark_name(inode, &new_dentry->d_name);
	vlrefs_touch(old_dir);
	if (new_dir != old_dir)
		vlrefs_touch(new_dir);
	vlrefs_touch_ctime(inode);
	return 0;
}

/* no i_rwsem: the file has no name yet (@tmp: the open file from 6.1, its dentry before) */
static int vlrefs_tmpfile(VL_IDMAP_PARAM struct inode *dir, VL_TMPFILE_T *tmp, umode_t mode)
{
	struct inode *inode = vlrefs_get_inode(VL_IDMAP_ARG dir->i_sb, dir, mode, 0);

	if (!inode)
		return -ENOSPC;
	d_tmpfile(tmp, inode);
	return vl_finish_tmpfile(tmp);
}

const struct inode_operations vlrefs_dir_iops = {
	.create		= vlrefs_create,
	.lookup		= vlrefs_lookup,
	.link		= vlrefs_link,
	.unlink		= vlrefs_unlink,
	.symlink	= vlrefs_symlink,
	.mkdir		= vlrefs_mkdir,
	.rmdir		= vlrefs_rmdir,
	.mknod		= vlrefs_mknod,
	.rename		= vlrefs_rename,
	.tmpfile	= vlrefs_tmpfile,
	.setattr	= vlrefs_setattr,
	.getattr	= vlrefs_getattr,
	.listxattr	= vlrefs_listxattr,
};

/* i_rwsem shared, f_pos_lock held: the children of the dentry, from the cursor */
static int vlrefs_readdir(struct file *file, struct dir_context *ctx)
{
	lockdep_assert_held(&file_inode(file)->i_rwsem);
	return dcache_readdir(file, ctx);
}

/* moves the readdir cursor, under i_rwsem shared as dcache_dir_lseek() takes it */
static loff_t vlrefs_dir_llseek(struct file *file, loff_t offset, int whence)
{
	return dcache_dir_lseek(file, offset, whence);
}

const struct file_operations vlrefs_dir_fops = {
	.open		= dcache_dir_open,
	.release	= dcache_dir_close,
	.llseek		= vlrefs_dir_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= vlrefs_readdir,
	.fsync		= vlrefs_fsync,
};
