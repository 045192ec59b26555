// SPDX-License-Identifier: GPL-2.0
/*
 * vl_badcall: calls VFS methods without the locks locking.rst requires,
 * on demand, so that tests can prove vfslock flags each case. Test-only.
 *
 *   echo 'lookup_unlocked /mnt/tmp' > /sys/module/vl_badcall/parameters/run
 *   echo 'unlink_victim_unlocked /mnt/tmp name' > ...
 *   echo 'rename_one_parent /mnt/tmp/a name /mnt/tmp/b name2' > ...
 *   echo 'setattr_unlocked /mnt/tmp/file' > ...
 *   echo 'mkdir_shared /mnt/tmp name' > ...
 *   echo 'lookup_locked /mnt/tmp' > ...       (the compliant control)
 *   echo 'sync_fs 0|1 /mnt/ext4' > ...         s_umount held by another task / shared
 *   echo 'drop_inode 0|1 /mnt/tmp/file' > ...  i_lock
 *   echo 'd_delete 0|1 /mnt/vlbad/data' > ...  d_lock (vlbadfs' always_delete_dentry())
 *   echo 'partial 0|1 /mnt/ext4/file' > ...    ->is_partially_uptodate, folio lock
 *   echo 'iterate 0|1 /mnt/tmp' > ...            ->iterate_shared, f_pos_lock
 *   echo 'xattr_set 0|1 /mnt/ext4/file' > ...    user xattr handler's ->set, i_rwsem
 *   echo 'lease_change 0|1 /mnt/tmp/file' > ...  lease_modify() as ->lm_change, flc_lock
 *   echo 'block d_hash|permission 0|1 /mnt/vlbad' > ...  sleeping methods (badfs.c)
 *   echo 'return write_begin|fault 0|1 /mnt/vlbad' > ... a folio returned unlocked
 *   echo 'mmap fault 0|1 /mnt/vlbad' > ...  ->fault without mmap_lock
 *
 * Each runs in the writing task, so `vfslock check -- sh -c 'echo ...'`
 * watches it. The calls are made the way the VFS makes them, minus the
 * lock under test, and leave the filesystem consistent.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/dcache.h>
#include <linux/kthread.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xattr.h>

#include "badfs.h"

#define PROBE_NAME "vl_badcall_probe"

static int dir_path(const char *name, struct path *p)
{
	return kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, p);
}

/* ->lookup with the directory's i_rwsem (un)held: @lock picks which. */
static noinline int do_lookup(const char *dir, bool lock)
{
	struct inode *inode;
	struct dentry *d, *ret;
	struct path p;
	int err;

	err = dir_path(dir, &p);
	if (err)
		return err;
	inode = d_inode(p.dentry);
	d = d_alloc_name(p.dentry, PROBE_NAME);
	if (!d) {
		err = -ENOMEM;
		goto out_put_path;
	}
	if (lock)
		inode_lock_shared(inode);
	ret = inode->i_op->lookup(inode, d, 0);
	if (lock)
		inode_unlock_shared(inode);
	if (IS_ERR(ret))
		err = PTR_ERR(ret);
	else if (ret)
		dput(ret);
	dput(d);
out_put_path:
	path_put(&p);
	return err;
}

/* ->unlink with the parent locked but not the victim. */
static noinline int do_unlink_victim_unlocked(const char *dir, const char *name)
{
	struct inode *inode, *victim;
	struct dentry *d;
	struct path p;
	int err;

	err = dir_path(dir, &p);
	if (err)
		return err;
	inode = d_inode(p.dentry);
	inode_lock_nested(inode, I_MUTEX_PARENT);
	d = vl_lookup(name, p.dentry);
	if (IS_ERR(d)) {
		err = PTR_ERR(d);
		goto out_unlock;
	}
	if (d_is_negative(d) || d_is_dir(d)) {
		err = d_is_negative(d) ? -ENOENT : -EISDIR;
		goto out_dput;
	}
	/* as do_unlinkat(): the victim outlives d_delete() until we are done */
	victim = d_inode(d);
	ihold(victim);
	err = inode->i_op->unlink(inode, d);
	if (!err)
		d_delete(d);
	iput(victim);
out_dput:
	dput(d);
out_unlock:
	inode_unlock(inode);
	path_put(&p);
	return err;
}

/* Cross-directory ->rename holding the old parent only. */
static noinline int do_rename_one_parent(const char *d1, const char *n1, const char *d2,
					 const char *n2)
{
	struct dentry *old, *new;
	struct inode *odir, *ndir;
	struct path p1, p2;
	int err;

	err = dir_path(d1, &p1);
	if (err)
		return err;
	err = dir_path(d2, &p2);
	if (err)
		goto out_put1;
	odir = d_inode(p1.dentry);
	ndir = d_inode(p2.dentry);
	err = -EXDEV;
	if (p1.mnt->mnt_sb != p2.mnt->mnt_sb || odir == ndir)
		goto out_put2;

	inode_lock_nested(ndir, I_MUTEX_PARENT);
	new = vl_lookup(n2, p2.dentry);
	inode_unlock(ndir);
	if (IS_ERR(new)) {
		err = PTR_ERR(new);
		goto out_put2;
	}
	inode_lock_nested(odir, I_MUTEX_PARENT);
	old = vl_lookup(n1, p1.dentry);
	if (IS_ERR(old)) {
		err = PTR_ERR(old);
		goto out_unlock;
	}
	err = -ENOENT;
	if (d_is_negative(old) || d_is_positive(new) || d_is_dir(old))
		goto out_dput_old;
	inode_lock(d_inode(old));
	err = odir->i_op->rename(VL_NOP_IDMAP odir, old, ndir, new, 0);
	if (!err)
		d_move(old, new);
	inode_unlock(d_inode(old));
out_dput_old:
	dput(old);
out_unlock:
	inode_unlock(odir);
	dput(new);
out_put2:
	path_put(&p2);
out_put1:
	path_put(&p1);
	return err;
}

/* ->setattr without the inode's i_rwsem (notify_change would WARN). */
static noinline int do_setattr_unlocked(const char *file)
{
	struct iattr ia = { .ia_valid = ATTR_MODE };
	struct path p;
	int err;

	err = kern_path(file, 0, &p);
	if (err)
		return err;
	ia.ia_mode = d_inode(p.dentry)->i_mode;
	err = d_inode(p.dentry)->i_op->setattr(VL_NOP_IDMAP p.dentry, &ia);
	path_put(&p);
	return err;
}

/* ->mkdir with the parent's i_rwsem held shared instead of exclusive. */
static noinline int do_mkdir_shared(const char *dir, const char *name)
{
	struct inode *inode;
	struct dentry *d;
	struct path p;
	int err;

	err = dir_path(dir, &p);
	if (err)
		return err;
	inode = d_inode(p.dentry);
	inode_lock_shared(inode);
	d = vl_lookup(name, p.dentry);
	if (IS_ERR(d)) {
		err = PTR_ERR(d);
		goto out_unlock;
	}
	err = d_is_positive(d) ? -EEXIST :
	      vl_mkdir_result(inode->i_op->mkdir(VL_NOP_IDMAP inode, d, 0755));
	dput(d);
out_unlock:
	inode_unlock_shared(inode);
	path_put(&p);
	return err;
}

struct umount_holder {
	struct super_block *sb;
	struct completion held;
};

/* Holds s_umount shared until kthread_stop(). */
static int hold_s_umount(void *arg)
{
	struct umount_holder *h = arg;

	down_read(&h->sb->s_umount);
	complete(&h->held);
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
	up_read(&h->sb->s_umount);
	return 0;
}

/*
 * ->sync_fs with s_umount held shared by this task (@lock), or by another
 * task only: ext4 asserts rwsem_is_locked(), which a holder elsewhere
 * satisfies, while locking.rst asks it of the caller.
 */
static noinline int do_sync_fs(const char *dir, bool lock)
{
	struct umount_holder h;
	struct task_struct *t = NULL;
	struct super_block *sb;
	struct path p;
	int err;

	err = dir_path(dir, &p);
	if (err)
		return err;
	sb = p.mnt->mnt_sb;
	err = -EOPNOTSUPP;
	if (!sb->s_op->sync_fs)
		goto out_put_path;
	if (lock) {
		down_read(&sb->s_umount);
	} else {
		h.sb = sb;
		init_completion(&h.held);
		t = kthread_run(hold_s_umount, &h, "vl_badcall_umount");
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			goto out_put_path;
		}
		wait_for_completion(&h.held);
	}
	err = sb->s_op->sync_fs(sb, 0);
	if (lock) {
		up_read(&sb->s_umount);
	} else {
		kthread_stop(t);
	}
out_put_path:
	path_put(&p);
	return err;
}

/* ->drop_inode with or without inode->i_lock; its verdict is ignored. */
static noinline int do_drop_inode(const char *file, bool lock)
{
	struct inode *inode;
	struct path p;
	int err;

	err = kern_path(file, 0, &p);
	if (err)
		return err;
	inode = d_inode(p.dentry);
	err = -EOPNOTSUPP;
	if (!inode->i_sb->s_op->drop_inode)
		goto out_put_path;
	if (lock)
		spin_lock(&inode->i_lock);
	inode->i_sb->s_op->drop_inode(inode);
	if (lock)
		spin_unlock(&inode->i_lock);
	err = 0;
out_put_path:
	path_put(&p);
	return err;
}

/* ->d_delete with or without dentry->d_lock; its verdict is ignored. */
static noinline int do_d_delete(const char *file, bool lock)
{
	struct dentry *d;
	struct path p;
	int err;

	err = kern_path(file, 0, &p);
	if (err)
		return err;
	d = p.dentry;
	err = -EOPNOTSUPP;
	if (!d->d_op || !d->d_op->d_delete)
		goto out_put_path;
	if (lock)
		spin_lock(&d->d_lock);
	d->d_op->d_delete(d);
	if (lock)
		spin_unlock(&d->d_lock);
	err = 0;
out_put_path:
	path_put(&p);
	return err;
}

/*
 * The "user." handler's ->set, as __vfs_setxattr() calls it, with the
 * inode's i_rwsem held exclusive or without.
 */
static noinline int do_xattr_set(const char *file, bool lock)
{
	const struct xattr_handler *const *hp, *h = NULL;
	struct inode *inode;
	struct path p;
	int err;

	err = kern_path(file, 0, &p);
	if (err)
		return err;
	inode = d_inode(p.dentry);
	for (hp = (const struct xattr_handler *const *)inode->i_sb->s_xattr; hp && *hp; hp++)
		if ((*hp)->prefix && !strcmp((*hp)->prefix, XATTR_USER_PREFIX) && (*hp)->set)
			h = *hp;
	err = -EOPNOTSUPP;
	if (!h)
		goto out_put_path;
	if (lock)
		inode_lock(inode);
	err = h->set(h, VL_NOP_IDMAP p.dentry, inode, "vl_probe", "1", 1, 0);
	if (lock)
		inode_unlock(inode);
out_put_path:
	path_put(&p);
	return err;
}

/*
 * The kernel's own ->lm_change (lease_modify(), fs/locks.c), as a lease
 * break calls it, with the inode's flc_lock held or without, on a lease of
 * the module's making that is on no list: F_RDLCK on a read lease changes
 * nothing. The file must have a lock context: lock it once beforehand.
 */
static noinline int do_lease_change(const char *path, bool lock)
{
	struct file_lock_context *ctx;
	LIST_HEAD(dispose);
	struct file *file;
	VL_LEASE_T *fl;
	int err = -ENOLCK;

	file = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ctx = READ_ONCE(file_inode(file)->i_flctx);
	if (!ctx)
		goto out_close;
	err = -ENOMEM;
	fl = vl_lease_alloc();
	if (!fl)
		goto out_close;
	VL_LEASE(fl, file) = file;
	VL_LEASE(fl, type) = F_RDLCK;
	VL_LEASE(fl, flags) = FL_LEASE;
	if (lock)
		spin_lock(&ctx->flc_lock);
	err = lease_modify(fl, F_RDLCK, &dispose);
	if (lock)
		spin_unlock(&ctx->flc_lock);
	vl_lease_free(fl);
out_close:
	filp_close(file, NULL);
	return err;
}

static VL_FILLDIR_T skip_entry(struct dir_context *ctx, const char *name, int namlen, loff_t off,
			       u64 ino, unsigned int type)
{
	return VL_FILLDIR_GO_ON;
}

/*
 * ->iterate_shared as getdents calls it, i_rwsem shared, with the file's
 * f_pos_lock (which 6.12's locking.rst asks for) or without.
 */
static noinline int do_iterate(const char *dir, bool lock)
{
	struct dir_context ctx = { .actor = skip_entry };
	struct inode *inode;
	struct file *file;
	int err = -ENOTDIR;

	file = filp_open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	inode = file_inode(file);
	if (!file->f_op->iterate_shared)
		goto out_close;
	if (lock)
		mutex_lock(&file->f_pos_lock);
	inode_lock_shared(inode);
	err = file->f_op->iterate_shared(file, &ctx);
	inode_unlock_shared(inode);
	if (lock)
		mutex_unlock(&file->f_pos_lock);
out_close:
	filp_close(file, NULL);
	return err;
}

/* ->is_partially_uptodate on the file's first folio, locked or not. */
static noinline int do_partial(const char *file, bool lock)
{
	struct address_space *mapping;
	struct folio *folio;
	struct path p;
	int err;

	err = kern_path(file, 0, &p);
	if (err)
		return err;
	mapping = d_inode(p.dentry)->i_mapping;
	err = -EOPNOTSUPP;
	if (!mapping->a_ops->is_partially_uptodate)
		goto out_put_path;
	err = -ENOENT;
	folio = vl_get_folio(mapping, 0);
	if (IS_ERR_OR_NULL(folio))
		goto out_put_path;
	if (lock)
		folio_lock(folio);
	mapping->a_ops->is_partially_uptodate(folio, 0, 1);
	if (lock)
		folio_unlock(folio);
	folio_put(folio);
	err = 0;
out_put_path:
	path_put(&p);
	return err;
}

static int run_set(const char *val, const struct kernel_param *kp)
{
	char *buf, *argv[6] = { NULL }, *s;
	int argc = 0, err = -EINVAL;

	buf = kstrdup(val, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	s = strim(buf);
	while (s && *s && argc < (int)ARRAY_SIZE(argv))
		argv[argc++] = strsep(&s, " ");
	if (argc == 2 && !strcmp(argv[0], "lookup_unlocked"))
		err = do_lookup(argv[1], false);
	else if (argc == 2 && !strcmp(argv[0], "lookup_locked"))
		err = do_lookup(argv[1], true);
	else if (argc == 3 && !strcmp(argv[0], "unlink_victim_unlocked"))
		err = do_unlink_victim_unlocked(argv[1], argv[2]);
	else if (argc == 5 && !strcmp(argv[0], "rename_one_parent"))
		err = do_rename_one_parent(argv[1], argv[2], argv[3], argv[4]);
	else if (argc == 2 && !strcmp(argv[0], "setattr_unlocked"))
		err = do_setattr_unlocked(argv[1]);
	else if (argc == 3 && !strcmp(argv[0], "mkdir_shared"))
		err = do_mkdir_shared(argv[1], argv[2]);
	else if (argc == 3 && !strcmp(argv[0], "sync_fs"))
		err = do_sync_fs(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 3 && !strcmp(argv[0], "drop_inode"))
		err = do_drop_inode(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 3 && !strcmp(argv[0], "d_delete"))
		err = do_d_delete(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 3 && !strcmp(argv[0], "lease_change"))
		err = do_lease_change(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 3 && !strcmp(argv[0], "xattr_set"))
		err = do_xattr_set(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 3 && !strcmp(argv[0], "iterate"))
		err = do_iterate(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 3 && !strcmp(argv[0], "partial"))
		err = do_partial(argv[2], !strcmp(argv[1], "1"));
	else if (argc == 4 && !strcmp(argv[0], "block"))
		err = vlbadfs_block(argv[1], argv[3], !strcmp(argv[2], "1"));
	else if (argc == 4 && (!strcmp(argv[0], "return") || !strcmp(argv[0], "mmap")))
		err = vlbadfs_return(argv[0], argv[1], argv[3], !strcmp(argv[2], "1"));
	else
		pr_warn("unknown request '%s'\n", val);
	kfree(buf);
	return err;
}

static const struct kernel_param_ops run_ops = {
	.set = run_set,
};
module_param_cb(run, &run_ops, NULL, 0200);
MODULE_PARM_DESC(run, "a call to make without the lock it needs");

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Calls VFS methods without the locks locking.rst requires (tests only)");
