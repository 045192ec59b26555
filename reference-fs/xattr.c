// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: extended attributes user.* and trusted.*, kept in memory on a
 * list per inode under a spinlock (simple_xattr_* are not exported to
 * modules), up to XATTR_SIZE_MAX bytes of names and values per inode.
 * ->set runs with i_rwsem exclusive, ->get and ->listxattr without it:
 * the spinlock is what orders them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xattr.h>

#include "vlrefs.h"

struct vlrefs_xattr {
	struct list_head list;
	char *name;			/* full name, prefix included */
	size_t size;
	char value[];
};

static size_t vlrefs_xattr_bytes(const struct vlrefs_xattr *xa)
{
	return xa ? strlen(xa->name) + 1 + xa->size : 0;
}

static struct vlrefs_xattr *vlrefs_xattr_find(struct vlrefs_inode *vi, const char *name)
{
	struct vlrefs_xattr *xa;

	lockdep_assert_held(&vi->xattr_lock);
	list_for_each_entry(xa, &vi->xattrs, list)
		if (!strcmp(xa->name, name))
			return xa;
	return NULL;
}

static void vlrefs_xattr_free(struct vlrefs_xattr *xa)
{
	if (!xa)
		return;
	kfree(xa->name);
	kvfree(xa);
}

static int vlrefs_xattr_get(const struct xattr_handler *handler, struct dentry *dentry,
			    struct inode *inode, const char *suffix, void *buffer, size_t size)
{
	struct vlrefs_inode *vi = VLREFS_I(inode);
	const char *name = xattr_full_name(handler, suffix);
	struct vlrefs_xattr *xa;
	int ret = -ENODATA;

	spin_lock(&vi->xattr_lock);
	xa = vlrefs_xattr_find(vi, name);
	if (xa) {
		ret = xa->size;
		if (size) {
			if (size < xa->size)
				ret = -ERANGE;
			else
				memcpy(buffer, xa->value, xa->size);
		}
	}
	spin_unlock(&vi->xattr_lock);
	return ret;
}

static struct vlrefs_xattr *vlrefs_xattr_alloc(const char *name, const void *value, size_t size)
{
	struct vlrefs_xattr *xa = kvmalloc(struct_size(xa, value, size), GFP_KERNEL);

	if (!xa)
		return NULL;
	xa->name = kstrdup(name, GFP_KERNEL);
	if (!xa->name) {
		kvfree(xa);
		return NULL;
	}
	xa->size = size;
	memcpy(xa->value, value, size);
	return xa;
}

/* i_rwsem exclusive. @value NULL removes the attribute. */
static int vlrefs_xattr_set(const struct xattr_handler *handler, VL_IDMAP_PARAM
			    struct dentry *dentry, struct inode *inode, const char *suffix,
			    const void *value, size_t size, int flags)
{
	struct vlrefs_inode *vi = VLREFS_I(inode);
	const char *name = xattr_full_name(handler, suffix);
	struct vlrefs_xattr *new = NULL, *old;
	int err = 0;

	lockdep_assert_held_write(&inode->i_rwsem);
	if (value) {
		new = vlrefs_xattr_alloc(name, value, size);
		if (!new)
			return -ENOMEM;
	}
	spin_lock(&vi->xattr_lock);
	old = vlrefs_xattr_find(vi, name);
	if (old && (flags & XATTR_CREATE))
		err = -EEXIST;
	else if (!old && ((flags & XATTR_REPLACE) || !value))
		err = -ENODATA;
	else if (vi->xattr_bytes - vlrefs_xattr_bytes(old) + vlrefs_xattr_bytes(new) > XATTR_SIZE_MAX)
		err = -ENOSPC;
	if (err) {
		spin_unlock(&vi->xattr_lock);
		vlrefs_xattr_free(new);
		return err;
	}
	if (old && new)
		list_replace(&old->list, &new->list);
	else if (old)
		list_del(&old->list);
	else
		list_add_tail(&new->list, &vi->xattrs);
	vi->xattr_bytes += vlrefs_xattr_bytes(new) - vlrefs_xattr_bytes(old);
	spin_unlock(&vi->xattr_lock);
	vlrefs_xattr_free(old);
	vlrefs_touch_ctime(inode);
	return 0;
}

static bool vlrefs_xattr_trusted_list(struct dentry *dentry)
{
	return capable(CAP_SYS_ADMIN);
}

static const struct xattr_handler vlrefs_xattr_user_handler = {
	.prefix	= XATTR_USER_PREFIX,
	.get	= vlrefs_xattr_get,
	.set	= vlrefs_xattr_set,
};

static const struct xattr_handler vlrefs_xattr_trusted_handler = {
	.prefix	= XATTR_TRUSTED_PREFIX,
	.list	= vlrefs_xattr_trusted_list,
	.get	= vlrefs_xattr_get,
	.set	= vlrefs_xattr_set,
};

const struct xattr_handler *vlrefs_xattr_handlers[] = {
	&vlrefs_xattr_user_handler,
	&vlrefs_xattr_trusted_handler,
	NULL
};

/* No i_rwsem: the names, NUL-separated, trusted.* only for CAP_SYS_ADMIN. */
ssize_t vlrefs_listxattr(struct dentry *dentry, char *buffer, size_t size)
{
	struct vlrefs_inode *vi = VLREFS_I(d_inode(dentry));
	bool trusted = capable(CAP_SYS_ADMIN);
	struct vlrefs_xattr *xa;
	ssize_t used = 0;

	spin_lock(&vi->xattr_lock);
	list_for_each_entry(xa, &vi->xattrs, list) {
		size_t len = strlen(xa->name) + 1;

		if (!trusted && !strncmp(xa->name, XATTR_TRUSTED_PREFIX, XATTR_TRUSTED_PREFIX_LEN))
			continue;
		if (buffer) {
			if (used + len > size) {
				used = -ERANGE;
				break;
			}
			memcpy(buffer + used, xa->name, len);
		}
		used += len;
	}
	spin_unlock(&vi->xattr_lock);
	return used;
}

/* the inode is going: no one else sees the list */
void vlrefs_xattrs_free(struct vlrefs_inode *vi)
{
	struct vlrefs_xattr *xa, *next;

	list_for_each_entry_safe(xa, next, &vi->xattrs, list) {
		list_del(&xa->list);
		vlrefs_xattr_free(xa);
	}
}
