// SPDX-License-Identifier: GPL-2.0
/*
 * vlbadfs: a directory-only filesystem whose methods sleep on request, for
 * the calling-context rules of locking.rst ("may block: no", "may not block
 * if called in rcu-walk mode"). vl_badcall registers it and calls them:
 *
 *   mount -t vlbadfs none /mnt/vlbad
 *   echo 'block d_hash 1 /mnt/vlbad' > /sys/module/vl_badcall/parameters/run
 *	->d_hash sleeps (never allowed); 0: it does not (the control)
 *   echo 'block permission 1 /mnt/vlbad' > ...
 *	->permission sleeps when told MAY_NOT_BLOCK (rcu-walk); 0: it sleeps
 *	without MAY_NOT_BLOCK, which is allowed (the control)
 *
 *   echo 'return write_begin 1 /mnt/vlbad' > ...
 *	->write_begin of /mnt/vlbad/data returns 0 with its folio unlocked;
 *	0: locked, as it must (the control)
 *   echo 'return fault 1 /mnt/vlbad' > ...
 *	->fault returns VM_FAULT_LOCKED with the page unlocked; 0: locked
 *   echo 'return read_folio 1 /mnt/vlbad' > ...
 *	->read_folio fails with the folio still locked; 0: it unlocks it first
 *   echo 'return write_end 1 /mnt/vlbad' > ...
 *	->write_end returns with the folio still locked; 0: unlocked
 *   echo 'mmap fault 1 /mnt/vlbad' > ...
 *	->fault called without mmap_lock; 0: with it held for read
 *
 * Only the requesting task sleeps, and only inside the calls made for the
 * request: a real rcu-walk sleeping would make the kernel warn. The
 * methods that return a wrong state are called here, by the module, which
 * knows to undo it: through the kernel's own paths the unlocked folio would
 * be unlocked again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "badfs.h"

#define VLBADFS_MAGIC	0x766c6264	/* "vlbd" */

static struct task_struct *sleeper;
/* the task whose write_begin and fault calls return their folio unlocked */
static struct task_struct *unlocker;
/* the task whose read_folio and write_end calls leave their folio locked */
static struct task_struct *holder;
/* the task whose read_folio calls fail, unlocking the folio as they must */
static struct task_struct *failer;

static void maybe_sleep(void)
{
	if (READ_ONCE(sleeper) == current)
		msleep(1);
}

static int vlbad_d_hash(const struct dentry *dentry, struct qstr *name)
{
	maybe_sleep();
	return 0;
}

static int vlbad_permission(VL_IDMAP_PARAM struct inode *inode, int mask)
{
	maybe_sleep();
	return generic_permission(VL_IDMAP_ARG inode, mask);
}

/*
 * /mnt/vlbad/data: a page-cache file whose methods are those of ramfs,
 * but for the unlocker, which gets its folio back unlocked.
 */
static int vlbad_read_folio(struct file *file, struct folio *folio)
{
	if (READ_ONCE(holder) == current)
		return -EIO;
	if (READ_ONCE(failer) == current) {
		folio_unlock(folio);
		return -EIO;
	}
	return vl_ram_read_folio(file, folio);
}

static int vlbad_write_begin(VL_WB_CALLER_T *caller, struct address_space *mapping, loff_t pos,
			     unsigned int len, VL_WB_FLAGS_PARAM VL_WB_T **foliop, void **fsdata)
{
	int err = vl_ram_write_begin(caller, mapping, pos, len, VL_WB_FLAGS_ARG foliop, fsdata);

	if (!err && READ_ONCE(unlocker) == current)
		vl_wb_unlock(*foliop);
	return err;
}

static int vlbad_write_end(VL_WB_CALLER_T *caller, struct address_space *mapping, loff_t pos,
			   unsigned int len, unsigned int copied, VL_WB_T *folio, void *fsdata)
{
	/* the holder's folio stays locked, and referenced: the caller undoes it */
	if (READ_ONCE(holder) == current)
		return copied;
	return vl_ram_write_end(caller, mapping, pos, len, copied, folio, fsdata);
}

#ifdef VL_PAGE_AOPS
/* 5.10, the page methods (compat.h): ramfs' __set_page_dirty_no_writeback(), not exported */
static int vlbad_set_page_dirty(struct page *page)
{
	return !TestSetPageDirty(page);
}

static const struct address_space_operations vlbad_aops = {
	.readpage	= vlbad_read_folio,
	.write_begin	= vlbad_write_begin,
	.write_end	= vlbad_write_end,
	.set_page_dirty	= vlbad_set_page_dirty,
};
#else
static bool vlbad_dirty_folio(struct address_space *mapping, struct folio *folio)
{
	return vl_ram_dirty_folio(mapping, folio);
}

static const struct address_space_operations vlbad_aops = {
	.read_folio	= vlbad_read_folio,
	.write_begin	= vlbad_write_begin,
	.write_end	= vlbad_write_end,
	.dirty_folio	= vlbad_dirty_folio,
};
#endif

static vm_fault_t vlbad_fault(struct vm_fault *vmf)
{
	struct address_space *mapping = vmf->vma->vm_file->f_mapping;
	struct page *page;

	page = find_or_create_page(mapping, vmf->pgoff, mapping_gfp_mask(mapping));
	if (!page)
		return VM_FAULT_OOM;
	vmf->page = page;
	if (READ_ONCE(unlocker) == current)
		unlock_page(page);
	return VM_FAULT_LOCKED;
}

static const struct vm_operations_struct vlbad_vm_ops = {
	.fault		= vlbad_fault,
};

static int vlbad_mmap(struct file *file, struct vm_area_struct *vma)
{
	file_accessed(file);
	vma->vm_ops = &vlbad_vm_ops;
	return 0;
}

static const struct file_operations vlbad_file_ops = {
	.llseek		= generic_file_llseek,
	.read_iter	= generic_file_read_iter,
	.mmap		= vlbad_mmap,
};

/*
 * Unused names go at once (always_delete_dentry(), as tmpfs' did up to
 * 6.12): a ->d_delete of the core kernel's, for "d_delete 0|1" to call
 * on every kernel; 7.3's tmpfs dentries have none.
 */
static const struct dentry_operations vlbad_dops = {
	.d_hash		= vlbad_d_hash,
	.d_delete	= always_delete_dentry,
};

static const struct inode_operations vlbad_dir_iops = {
	.lookup		= simple_lookup,
	.permission	= vlbad_permission,
};

static const struct super_operations vlbad_sops = {
	.statfs		= simple_statfs,
	.drop_inode	= vl_drop_unused_inode,
};

/* The one regular file, so that discovery sees the page-cache methods. */
static int vlbad_add_data(struct dentry *root)
{
	struct dentry *d = d_alloc_name(root, "data");
	struct inode *inode;

	if (!d)
		return -ENOMEM;
	inode = new_inode(root->d_sb);
	if (!inode) {
		dput(d);
		return -ENOMEM;
	}
	inode->i_ino = 2;
	inode->i_mode = S_IFREG | 0644;
	inode->i_fop = &vlbad_file_ops;
	inode->i_mapping->a_ops = &vlbad_aops;
	/* pinned like a ramfs file, until umount (compat.h: how) */
	vl_make_persistent(d, inode);
	dput(d);
	return 0;
}

static int vlbad_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = VLBADFS_MAGIC;
	sb->s_op = &vlbad_sops;
	vl_set_default_d_op(sb, &vlbad_dops);
	sb->s_time_gran = 1;

	root = new_inode(sb);
	if (!root)
		return -ENOMEM;
	root->i_ino = 1;
	root->i_mode = S_IFDIR | 0755;
	root->i_op = &vlbad_dir_iops;
	root->i_fop = &simple_dir_operations;
	set_nlink(root, 2);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return vlbad_add_data(sb->s_root);
}

static int vlbad_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, vlbad_fill_super);
}

static const struct fs_context_operations vlbad_context_ops = {
	.get_tree	= vlbad_get_tree,
};

static int vlbad_init_fs_context(struct fs_context *fc)
{
	fc->ops = &vlbad_context_ops;
	return 0;
}

static struct file_system_type vlbad_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "vlbadfs",
	.init_fs_context	= vlbad_init_fs_context,
	.kill_sb		= vl_kill_pinned_super,
};

/*
 * ->d_hash through a lookup of the name, as any ref-walk lookup calls it;
 * it sleeps when @sleep. The sleeper is set only around the call.
 */
static noinline int block_d_hash(struct dentry *dir, bool sleep)
{
	struct dentry *d;

	inode_lock(d_inode(dir));
	if (sleep)
		WRITE_ONCE(sleeper, current);
	d = vl_lookup("vl_block_probe", dir);
	WRITE_ONCE(sleeper, NULL);
	inode_unlock(d_inode(dir));
	if (IS_ERR(d))
		return PTR_ERR(d);
	dput(d);
	return 0;
}

/*
 * ->permission as may_lookup() calls it, MAY_NOT_BLOCK meaning rcu-walk. It
 * sleeps both ways: only the rcu-walk call breaks the rule.
 */
static noinline int block_permission(struct dentry *dir, bool rcu)
{
	struct inode *inode = d_inode(dir);
	int err;

	WRITE_ONCE(sleeper, current);
	err = inode->i_op->permission(VL_NOP_IDMAP inode, MAY_EXEC | (rcu ? MAY_NOT_BLOCK : 0));
	WRITE_ONCE(sleeper, NULL);
	return err;
}

/* /mnt/vlbad/data, referenced: the file the page-cache calls are made on. */
static struct dentry *vlbad_data(struct dentry *dir)
{
	struct dentry *d = vl_lookup_unlocked("data", dir);

	if (!IS_ERR(d) && d_really_is_negative(d)) {
		dput(d);
		return ERR_PTR(-ENOENT);
	}
	return d;
}

/*
 * ->write_begin as generic_perform_write() calls it, i_rwsem held; the
 * module puts the folio back as write_end would, whatever state it got.
 */
static noinline int return_write_begin(struct dentry *dir, bool bad)
{
	struct dentry *d = vlbad_data(dir);
	struct address_space *mapping;
	void *fsdata = NULL;
	VL_WB_T *folio;
	int err;

	if (IS_ERR(d))
		return PTR_ERR(d);
	mapping = d_inode(d)->i_mapping;
	inode_lock(d_inode(d));
	if (bad)
		WRITE_ONCE(unlocker, current);
	err = mapping->a_ops->write_begin(NULL, mapping, 0, 1, VL_WB_NO_FLAGS &folio, &fsdata);
	WRITE_ONCE(unlocker, NULL);
	if (!err) {
		if (!bad)
			vl_wb_unlock(folio);
		vl_wb_put(folio);
	}
	inode_unlock(d_inode(d));
	dput(d);
	return err;
}

/*
 * ->read_folio as filemap_read_folio() calls it, on the file's first folio,
 * locked, failing: with the folio still locked when @bad, unlocked as it
 * must otherwise. The module unlocks what the method left.
 */
static noinline int return_read_folio(struct dentry *dir, bool bad)
{
	struct dentry *d = vlbad_data(dir);
	struct address_space *mapping;
	struct folio *folio;
	struct page *first;
	int err;

	if (IS_ERR(d))
		return PTR_ERR(d);
	mapping = d_inode(d)->i_mapping;
	err = -ENOMEM;
	first = find_or_create_page(mapping, 0, mapping_gfp_mask(mapping));
	if (!first)
		goto out_put_dentry;
	folio = page_folio(first);
	if (bad)
		WRITE_ONCE(holder, current);
	else
		WRITE_ONCE(failer, current);
	err = vl_call_read_folio(mapping, NULL, folio);
	WRITE_ONCE(holder, NULL);
	WRITE_ONCE(failer, NULL);
	if (bad)
		folio_unlock(folio);
	folio_put(folio);
	/* the failure was asked for */
	err = err == -EIO ? 0 : -EPROTO;
out_put_dentry:
	dput(d);
	return err;
}

/*
 * ->write_end after a ->write_begin, as generic_perform_write() calls them,
 * i_rwsem held: returning with the folio still locked when @bad (the
 * module then unlocks and puts it), unlocked and put otherwise.
 */
static noinline int return_write_end(struct dentry *dir, bool bad)
{
	struct dentry *d = vlbad_data(dir);
	struct address_space *mapping;
	void *fsdata = NULL;
	VL_WB_T *folio;
	int err;

	if (IS_ERR(d))
		return PTR_ERR(d);
	mapping = d_inode(d)->i_mapping;
	inode_lock(d_inode(d));
	err = mapping->a_ops->write_begin(NULL, mapping, 0, 1, VL_WB_NO_FLAGS &folio, &fsdata);
	if (!err) {
		if (bad)
			WRITE_ONCE(holder, current);
		err = mapping->a_ops->write_end(NULL, mapping, 0, 1, 1, folio, fsdata);
		WRITE_ONCE(holder, NULL);
		if (bad) {
			vl_wb_unlock(folio);
			vl_wb_put(folio);
		}
		err = err == 1 ? 0 : -EPROTO;
	}
	inode_unlock(d_inode(d));
	dput(d);
	return err;
}

/*
 * ->fault as __do_fault() calls it, on a vma of the module's making that
 * names the file and the task's mm: with mmap_lock held for read unless
 * @no_mmap_lock, and returning its page unlocked when @bad.
 */
static noinline int call_fault(const struct path *dir, bool bad, bool no_mmap_lock)
{
	struct dentry *d = vlbad_data(dir->dentry);
	struct vm_area_struct *vma;
	struct vm_fault vmf = { 0 };
	struct file *file;
	vm_fault_t ret;
	int err = 0;

	if (IS_ERR(d))
		return PTR_ERR(d);
	vma = kzalloc(sizeof(*vma), GFP_KERNEL);
	if (!vma) {
		err = -ENOMEM;
		goto out_put_dentry;
	}
	file = dentry_open(&(struct path){ .mnt = dir->mnt, .dentry = d }, O_RDONLY,
			   current_cred());
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		goto out_free_vma;
	}
	vma->vm_mm = current->mm;
	vma->vm_file = file;
	vma->vm_ops = &vlbad_vm_ops;
	*(struct vm_area_struct **)&vmf.vma = vma;
	if (!no_mmap_lock)
		mmap_read_lock(current->mm);
	if (bad)
		WRITE_ONCE(unlocker, current);
	ret = vma->vm_ops->fault(&vmf);
	WRITE_ONCE(unlocker, NULL);
	if (!no_mmap_lock)
		mmap_read_unlock(current->mm);
	if (ret & VM_FAULT_ERROR) {
		err = -ENOMEM;
	} else {
		if (!bad)
			unlock_page(vmf.page);
		put_page(vmf.page);
	}
	fput(file);
out_free_vma:
	kfree(vma);
out_put_dentry:
	dput(d);
	return err;
}

/* @dir resolved into @p, if it is a vlbadfs directory. */
static int vlbad_dir(const char *dir, struct path *p)
{
	int err = kern_path(dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, p);

	if (err)
		return err;
	if (p->dentry->d_sb->s_type != &vlbad_fs_type) {
		path_put(p);
		return -EXDEV;
	}
	return 0;
}

noinline int vlbadfs_return(const char *what, const char *method, const char *dir, bool on)
{
	struct path p;
	int err = vlbad_dir(dir, &p);

	if (err)
		return err;
	if (!strcmp(what, "return") && !strcmp(method, "write_begin"))
		err = return_write_begin(p.dentry, on);
	else if (!strcmp(what, "return") && !strcmp(method, "read_folio"))
		err = return_read_folio(p.dentry, on);
	else if (!strcmp(what, "return") && !strcmp(method, "write_end"))
		err = return_write_end(p.dentry, on);
	else if (!strcmp(what, "return") && !strcmp(method, "fault"))
		err = call_fault(&p, on, false);
	else if (!strcmp(what, "mmap") && !strcmp(method, "fault"))
		err = call_fault(&p, false, on);
	else
		err = -EINVAL;
	path_put(&p);
	return err;
}

noinline int vlbadfs_block(const char *method, const char *dir, bool on)
{
	struct path p;
	int err = vlbad_dir(dir, &p);

	if (err)
		return err;
	if (!strcmp(method, "d_hash"))
		err = block_d_hash(p.dentry, on);
	else if (!strcmp(method, "permission"))
		err = block_permission(p.dentry, on);
	else
		err = -EINVAL;
	path_put(&p);
	return err;
}

static int __init vl_badcall_init(void)
{
	return register_filesystem(&vlbad_fs_type);
}

static void __exit vl_badcall_exit(void)
{
	unregister_filesystem(&vlbad_fs_type);
}

module_init(vl_badcall_init);
module_exit(vl_badcall_exit);
