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
 * Only the requesting task sleeps, and only inside the calls made for the
 * request: a real rcu-walk sleeping would make the kernel warn.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/sched.h>
#include <linux/version.h>

#include "badfs.h"

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define VL_IDMAP_T	struct mnt_idmap
#define VL_IDMAP	(&nop_mnt_idmap)
#else
#define VL_IDMAP_T	struct user_namespace
#define VL_IDMAP	(&init_user_ns)
#endif

#define VLBADFS_MAGIC	0x766c6264	/* "vlbd" */

static struct task_struct *sleeper;

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

static int vlbad_permission(VL_IDMAP_T *idmap, struct inode *inode, int mask)
{
	maybe_sleep();
	return generic_permission(idmap, inode, mask);
}

static const struct dentry_operations vlbad_dops = {
	.d_hash		= vlbad_d_hash,
};

static const struct inode_operations vlbad_dir_iops = {
	.lookup		= simple_lookup,
	.permission	= vlbad_permission,
};

static const struct super_operations vlbad_sops = {
	.statfs		= simple_statfs,
	.drop_inode	= generic_delete_inode,
};

static int vlbad_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = VLBADFS_MAGIC;
	sb->s_op = &vlbad_sops;
	sb->s_d_op = &vlbad_dops;
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
	return sb->s_root ? 0 : -ENOMEM;
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
	.kill_sb		= kill_litter_super,
};

/*
 * ->d_hash through lookup_one_len(), as any ref-walk lookup calls it; it
 * sleeps when @sleep. The sleeper is set only around the call.
 */
static noinline int block_d_hash(struct dentry *dir, bool sleep)
{
	struct dentry *d;

	inode_lock(d_inode(dir));
	if (sleep)
		WRITE_ONCE(sleeper, current);
	d = lookup_one_len("vl_block_probe", dir, 14);
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
	err = inode->i_op->permission(VL_IDMAP, inode, MAY_EXEC | (rcu ? MAY_NOT_BLOCK : 0));
	WRITE_ONCE(sleeper, NULL);
	return err;
}

noinline int vlbadfs_block(const char *method, const char *dir, bool on)
{
	struct path p;
	int err;

	err = kern_path(dir, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (err)
		return err;
	if (p.dentry->d_sb->s_type != &vlbad_fs_type) {
		err = -EXDEV;
		goto out_put_path;
	}
	if (!strcmp(method, "d_hash"))
		err = block_d_hash(p.dentry, on);
	else if (!strcmp(method, "permission"))
		err = block_permission(p.dentry, on);
	else
		err = -EINVAL;
out_put_path:
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
