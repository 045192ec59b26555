// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: dentry_operations. With -o casefold, names match without regard
 * to ASCII case: d_hash and d_compare fold them, in rcu-walk as in
 * ref-walk, without blocking.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ctype.h>
#include <linux/dcache.h>
#include <linux/namei.h>
#include <linux/stringhash.h>

#include "vlrefs.h"

/*
 * May block in ref-walk only; in rcu-walk (LOOKUP_RCU) it must not, and
 * must not touch the inode. Nothing changes behind the VFS's back in
 * memory: every dentry stays valid.
 */
#ifdef VL_D_REVALIDATE_DIR_NAME
static int vlrefs_d_revalidate(struct inode *dir, const struct qstr *name, struct dentry *dentry,
			       unsigned int flags)
#else
static int vlrefs_d_revalidate(struct dentry *dentry, unsigned int flags)
#endif
{
	return 1;
}

/*
 * Must not block: unused dentries are let go at once, as ramfs does. The
 * names in use are pinned, so this only lets negative and unlinked ones
 * go. Called with d_lock held.
 */
static int vlrefs_d_delete(const struct dentry *dentry)
{
	if (vlrefs_in_fault_call() &&
	    vlrefs_breaks_name(VLREFS_SLEEP_D_DELETE, &dentry->d_name)) {
		struct dentry *d = (struct dentry *)dentry;

		/*
		 * Fault: sleep. Only in the call unlink makes itself (see
		 * faults.c), which holds a reference: d_lock is dropped
		 * around the sleep so that the kernel is not atomic in it.
		 */
		vlrefs_fault_hit(VLREFS_SLEEP_D_DELETE);
		spin_unlock(&d->d_lock);
		vlrefs_fault_sleep();
		spin_lock(&d->d_lock);
	}
	return 1;
}

/* Must not block; may run in rcu-walk, the name may change under it. */
static int vlrefs_d_hash(const struct dentry *dir, struct qstr *name)
{
	unsigned long hash = init_name_hash(dir);
	unsigned int i;

	for (i = 0; i < name->len; i++)
		hash = partial_name_hash(tolower(name->name[i]), hash);
	name->hash = end_name_hash(hash);
	return 0;
}

/*
 * Must not block; in rcu-walk @str may change under it (the caller
 * rechecks the sequence count), so it is read once, byte by byte.
 */
static int vlrefs_d_compare(const struct dentry *dentry, unsigned int len, const char *str,
			    const struct qstr *name)
{
	unsigned int i;

	if (vlrefs_in_fault_call() && vlrefs_breaks_name(VLREFS_SLEEP_D_COMPARE, name)) {
		/* Fault: sleep, only in the call mknod makes itself (see faults.c). */
		vlrefs_fault_hit(VLREFS_SLEEP_D_COMPARE);
		vlrefs_fault_sleep();
	}
	if (len != name->len)
		return 1;
	for (i = 0; i < len; i++)
		if (tolower(READ_ONCE(str[i])) != tolower(name->name[i]))
			return 1;
	return 0;
}

const struct dentry_operations vlrefs_dops = {
	.d_revalidate	= vlrefs_d_revalidate,
	.d_delete	= vlrefs_d_delete,
};

const struct dentry_operations vlrefs_ci_dops = {
	.d_revalidate	= vlrefs_d_revalidate,
	.d_hash		= vlrefs_d_hash,
	.d_compare	= vlrefs_d_compare,
	.d_delete	= vlrefs_d_delete,
};
