/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vlrefs: an in-memory, page-cache backed filesystem whose every VFS method
 * is its own function and keeps the rules of locking.rst, so that a checker
 * has a known-good filesystem to watch; faults.c breaks one rule at a time
 * on request (see docs/reference-fs.md).
 */
#ifndef VLREFS_H
#define VLREFS_H

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "compat.h"

#define VLREFS_MAGIC		0x766c7266	/* "vlrf" */
#define VLREFS_DEFAULT_MODE	0755

/* what one mount was asked for (mount options) */
struct vlrefs_sb_info {
	bool casefold;
	umode_t root_mode;
	unsigned long max_blocks;	/* page-cache folios the data may hold */
	atomic_long_t used_blocks;	/* folios holding written data (see aops.c) */
	atomic_long_t nr_inodes;
};

/* VLREFS_I_BREAK: the inode was given a name starting with VLREFS_BREAK_PREFIX */
#define VLREFS_I_BREAK		0

struct vlrefs_xattr;

struct vlrefs_inode {
	spinlock_t xattr_lock;
	struct list_head xattrs;	/* of struct vlrefs_xattr, under xattr_lock */
	size_t xattr_bytes;		/* their names and values, under xattr_lock */
	const char *symlink;		/* target of a symlink, freed with the inode */
	unsigned long flags;
	struct inode vfs_inode;
};

static inline struct vlrefs_inode *VLREFS_I(const struct inode *inode)
{
	return container_of(inode, struct vlrefs_inode, vfs_inode);
}

static inline struct vlrefs_sb_info *VLREFS_SB(const struct super_block *sb)
{
	return sb->s_fs_info;
}

/* inode.c */
struct inode *vlrefs_get_inode(VL_IDMAP_PARAM struct super_block *sb,
			       const struct inode *dir, umode_t mode, dev_t dev);
void vlrefs_mark_name(struct inode *inode, const struct qstr *name);
extern const struct inode_operations vlrefs_file_iops;
extern const struct inode_operations vlrefs_symlink_iops;
extern const struct inode_operations vlrefs_special_iops;
int vlrefs_setattr(VL_IDMAP_PARAM struct dentry *dentry, struct iattr *iattr);
int vlrefs_getattr(VL_IDMAP_PARAM const struct path *path, struct kstat *stat,
		   u32 request_mask, unsigned int query_flags);

/* dir.c */
extern const struct inode_operations vlrefs_dir_iops;
extern const struct file_operations vlrefs_dir_fops;

/* file.c */
int vlrefs_fsync(struct file *file, loff_t start, loff_t end, int datasync);
extern const struct file_operations vlrefs_file_fops;

/* aops.c */
extern const struct address_space_operations vlrefs_aops;
/* fsdata a caller other than generic_perform_write() gives write_begin */
struct vlrefs_prealloc {
	bool keep_size;		/* write_end leaves i_size alone */
	bool unlocked;		/* write_begin returned its folio unlocked (a fault) */
};

/* mmap.c */
int vlrefs_file_mmap(struct file *file, struct vm_area_struct *vma);

/* xattr.c */
extern const struct xattr_handler *vlrefs_xattr_handlers[];
ssize_t vlrefs_listxattr(struct dentry *dentry, char *buffer, size_t size);
void vlrefs_xattrs_free(struct vlrefs_inode *vi);

/* dentry.c */
extern const struct dentry_operations vlrefs_dops;
extern const struct dentry_operations vlrefs_ci_dops;

/* faults.c: the rule breaking asked for through the "break" parameter */
#define VLREFS_BREAK_PREFIX	"vlbreak"

enum vlrefs_fault {
	VLREFS_SLEEP_D_COMPARE,
	VLREFS_SLEEP_D_DELETE,
	VLREFS_SLEEP_DROP_INODE,
	VLREFS_SETATTR_UNLOCKED,
	VLREFS_CREATE_SHARED,
	VLREFS_WRITE_BEGIN_UNLOCKED,
	VLREFS_FAULT_LOCKED_LIE,
	VLREFS_READ_FOLIO_LEAVE_LOCKED,
	VLREFS_NR_FAULTS
};

bool vlrefs_breaks(enum vlrefs_fault fault);
void vlrefs_fault_hit(enum vlrefs_fault fault);
bool vlrefs_is_break_name(const unsigned char *name, unsigned int len);
bool vlrefs_breaks_name(enum vlrefs_fault fault, const struct qstr *name);
bool vlrefs_breaks_inode(enum vlrefs_fault fault, const struct inode *inode);
void vlrefs_fault_call_begin(void);
void vlrefs_fault_call_end(void);
bool vlrefs_in_fault_call(void);
void vlrefs_fault_sleep(void);
void vlrefs_unlock_folio_later(struct folio *folio, bool after_relock);
void vlrefs_fault_sleep_d_compare(struct dentry *dentry);
void vlrefs_fault_sleep_d_delete(struct dentry *dentry);
void vlrefs_fault_setattr_unlocked(struct file *file);
int vlrefs_faults_init(void);
void vlrefs_faults_exit(void);

#endif
