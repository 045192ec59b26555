// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: the filesystem type, its mount options and its super_operations.
 *
 *   mount -t vlrefs [-o casefold,mode=0755,size=64m] none /mnt/r
 *
 * Like ramfs, the data lives in page-cache folios that are never written
 * back: the mappings are unevictable and the dentries pinned, so that
 * nothing is lost until unlink or umount.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "vlrefs.h"

static struct kmem_cache *vlrefs_inode_cachep;

static struct inode *vlrefs_alloc_inode(struct super_block *sb)
{
	struct vlrefs_inode *vi = vl_alloc_inode_sb(sb, vlrefs_inode_cachep, GFP_KERNEL);

	if (!vi)
		return NULL;
	INIT_LIST_HEAD(&vi->xattrs);
	vi->xattr_bytes = 0;
	vi->symlink = NULL;
	vi->flags = 0;
	return &vi->vfs_inode;
}

/* Called from an RCU callback: an rcu-walk get_link may still read the target. */
static void vlrefs_free_inode(struct inode *inode)
{
	struct vlrefs_inode *vi = VLREFS_I(inode);

	kfree(vi->symlink);
	kmem_cache_free(vlrefs_inode_cachep, vi);
}

/*
 * Called with i_lock held and must not sleep. An inode nobody holds has
 * nothing left to cache: its dentry pinned it while it had a name.
 */
static int vlrefs_drop_inode(struct inode *inode)
{
	if (vlrefs_breaks_inode(VLREFS_SLEEP_DROP_INODE, inode) &&
	    preempt_count() == 1 && !rcu_preempt_depth() && !irqs_disabled()) {
		/*
		 * Fault: sleep. i_lock is dropped around the sleep, with
		 * I_WILL_FREE set so that no one takes the inode meanwhile,
		 * as iput_final() does around write_inode_now(); only when
		 * i_lock is the one thing making the context atomic.
		 */
		vlrefs_fault_hit(VLREFS_SLEEP_DROP_INODE);
		vl_inode_state_set(inode, I_WILL_FREE);
		spin_unlock(&inode->i_lock);
		vlrefs_fault_sleep();
		spin_lock(&inode->i_lock);
		vl_inode_state_clear(inode, I_WILL_FREE);
	}
	return 1;
}

/* The page cache is the data: drop it, and the xattrs, with the inode. */
static void vlrefs_evict_inode(struct inode *inode)
{
	struct address_space *mapping = &inode->i_data;

	/* ->invalidate_folio wants invalidate_lock exclusive */
	vl_invalidate_lock(mapping);
	truncate_inode_pages_final(mapping);
	vl_invalidate_unlock(mapping);
	clear_inode(inode);
	vlrefs_xattrs_free(VLREFS_I(inode));
	atomic_long_dec(&VLREFS_SB(inode->i_sb)->nr_inodes);
}

static int vlrefs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct vlrefs_sb_info *sbi = VLREFS_SB(dentry->d_sb);
	long used = atomic_long_read(&sbi->used_blocks);

	buf->f_type = VLREFS_MAGIC;
	buf->f_bsize = PAGE_SIZE;
	buf->f_namelen = NAME_MAX;
	buf->f_blocks = sbi->max_blocks;
	buf->f_bfree = buf->f_bavail = used < sbi->max_blocks ? sbi->max_blocks - used : 0;
	buf->f_files = atomic_long_read(&sbi->nr_inodes);
	buf->f_ffree = LONG_MAX;
	return 0;
}

/* s_umount held shared: nothing is ever written back, so nothing to sync. */
static int vlrefs_sync_fs(struct super_block *sb, int wait)
{
	lockdep_assert_held_read(&sb->s_umount);
	return 0;
}

static int vlrefs_show_options(struct seq_file *m, struct dentry *root)
{
	struct vlrefs_sb_info *sbi = VLREFS_SB(root->d_sb);

	if (sbi->casefold)
		seq_puts(m, ",casefold");
	if (sbi->root_mode != VLREFS_DEFAULT_MODE)
		seq_printf(m, ",mode=%o", sbi->root_mode);
	seq_printf(m, ",size=%luk", sbi->max_blocks << (PAGE_SHIFT - 10));
	return 0;
}

/*
 * s_umount held exclusive, every inode evicted: every folio that held data
 * has been given back (aops.c counts them).
 */
static void vlrefs_put_super(struct super_block *sb)
{
	struct vlrefs_sb_info *sbi = VLREFS_SB(sb);

	lockdep_assert_held_write(&sb->s_umount);
	WARN_ON_ONCE(atomic_long_read(&sbi->used_blocks));
	WARN_ON_ONCE(atomic_long_read(&sbi->nr_inodes));
}

static const struct super_operations vlrefs_sops = {
	.alloc_inode	= vlrefs_alloc_inode,
	.free_inode	= vlrefs_free_inode,
	.drop_inode	= vlrefs_drop_inode,
	.evict_inode	= vlrefs_evict_inode,
	.statfs		= vlrefs_statfs,
	.sync_fs	= vlrefs_sync_fs,
	.show_options	= vlrefs_show_options,
	.put_super	= vlrefs_put_super,
};

enum vlrefs_param {
	Opt_casefold,
	Opt_mode,
	Opt_size,
};

static const struct fs_parameter_spec vlrefs_fs_parameters[] = {
	fsparam_flag("casefold", Opt_casefold),
	fsparam_u32oct("mode", Opt_mode),
	fsparam_string("size", Opt_size),
	{}
};

static int vlrefs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct vlrefs_sb_info *sbi = fc->s_fs_info;
	struct fs_parse_result result;
	unsigned long long size;
	char *rest;
	int opt;

	opt = fs_parse(fc, vlrefs_fs_parameters, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_casefold:
		sbi->casefold = true;
		break;
	case Opt_mode:
		sbi->root_mode = result.uint_32 & S_IALLUGO;
		break;
	case Opt_size:
		size = memparse(param->string, &rest);
		if (*rest || size < PAGE_SIZE)
			return invalfc(fc, "size: bytes (with k, m or g), at least a page");
		sbi->max_blocks = size >> PAGE_SHIFT;
		break;
	}
	return 0;
}

static int vlrefs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct vlrefs_sb_info *sbi = VLREFS_SB(sb);
	struct inode *root;

	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = VLREFS_MAGIC;
	sb->s_op = &vlrefs_sops;
	vl_set_default_d_op(sb, sbi->casefold ? &vlrefs_ci_dops : &vlrefs_dops);
	sb->s_xattr = vlrefs_xattr_handlers;
	sb->s_time_gran = 1;

	root = vlrefs_get_inode(VL_NOP_IDMAP sb, NULL, S_IFDIR | sbi->root_mode, 0);
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

static int vlrefs_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, vlrefs_fill_super);
}

/* remount: only the size may change; folding names differently would strand dentries */
static int vlrefs_reconfigure(struct fs_context *fc)
{
	struct vlrefs_sb_info *sbi = VLREFS_SB(fc->root->d_sb);
	struct vlrefs_sb_info *new = fc->s_fs_info;

	if (new->casefold != sbi->casefold)
		return invalfc(fc, "casefold cannot change on remount");
	sbi->max_blocks = new->max_blocks;
	return 0;
}

static void vlrefs_free_fc(struct fs_context *fc)
{
	kfree(fc->s_fs_info);
}

static const struct fs_context_operations vlrefs_context_ops = {
	.parse_param	= vlrefs_parse_param,
	.get_tree	= vlrefs_get_tree,
	.reconfigure	= vlrefs_reconfigure,
	.free		= vlrefs_free_fc,
};

static int vlrefs_init_fs_context(struct fs_context *fc)
{
	struct vlrefs_sb_info *sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);

	if (!sbi)
		return -ENOMEM;
	sbi->root_mode = VLREFS_DEFAULT_MODE;
	/* half of RAM by default, as tmpfs */
	sbi->max_blocks = totalram_pages() / 2;
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE) {
		struct vlrefs_sb_info *cur = VLREFS_SB(fc->root->d_sb);

		sbi->casefold = cur->casefold;
		sbi->root_mode = cur->root_mode;
		sbi->max_blocks = cur->max_blocks;
	}
	fc->s_fs_info = sbi;
	fc->ops = &vlrefs_context_ops;
	return 0;
}

/* The pinned names go (compat.h: how depends on the kernel); then the options. */
static void vlrefs_kill_sb(struct super_block *sb)
{
	struct vlrefs_sb_info *sbi = VLREFS_SB(sb);

	vl_kill_pinned_super(sb);
	kfree(sbi);
}

static struct file_system_type vlrefs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "vlrefs",
	.init_fs_context	= vlrefs_init_fs_context,
	.parameters		= vlrefs_fs_parameters,
	.kill_sb		= vlrefs_kill_sb,
};
MODULE_ALIAS_FS("vlrefs");

static void vlrefs_inode_init_once(void *p)
{
	struct vlrefs_inode *vi = p;

	spin_lock_init(&vi->xattr_lock);
	inode_init_once(&vi->vfs_inode);
}

static int __init vlrefs_init(void)
{
	int err;

	vlrefs_inode_cachep = kmem_cache_create("vlrefs_inode_cache", sizeof(struct vlrefs_inode),
						0, SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
						vlrefs_inode_init_once);
	if (!vlrefs_inode_cachep)
		return -ENOMEM;
	err = vlrefs_faults_init();
	if (err)
		goto destroy_inode_cache;
	err = register_filesystem(&vlrefs_fs_type);
	if (err)
		goto exit_faults;
	return 0;

exit_faults:
	vlrefs_faults_exit();
destroy_inode_cache:
	kmem_cache_destroy(vlrefs_inode_cachep);
	return err;
}

static void __exit vlrefs_exit(void)
{
	unregister_filesystem(&vlrefs_fs_type);
	vlrefs_faults_exit();
	/* free_inode runs from RCU callbacks */
	rcu_barrier();
	kmem_cache_destroy(vlrefs_inode_cachep);
}

module_init(vlrefs_init);
module_exit(vlrefs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vlrefs: in-memory reference filesystem for the VFS locking rules");
