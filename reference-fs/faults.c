// SPDX-License-Identifier: GPL-2.0
/*
 * vlrefs: fault injection. The "break" parameter names the faults in force,
 * comma-separated ("" or "none" for none), at load time or at run time:
 *
 *   echo sleep_drop_inode,setattr_unlocked > /sys/module/vlrefs/parameters/break
 *
 * Each breaks one rule of locking.rst, and only on an object named
 * VLREFS_BREAK_PREFIX* (a file created, linked or renamed under such a
 * name, or a name being looked up or unlinked): the rest of the system
 * stays compliant. Each leaves the kernel able to go on: a lock left taken
 * is dropped later on the side, and a method that sleeps where it must not
 * does so only where the kernel is not atomic. A fault this kernel does
 * not let vlrefs make is refused, and the "faults" parameter says why.
 * docs/reference-fs.md has the table, and how to trigger each from a shell.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "vlrefs.h"

static const char *const vlrefs_fault_names[VLREFS_NR_FAULTS] = {
	[VLREFS_SLEEP_D_COMPARE]	 = "sleep_d_compare",
	[VLREFS_SLEEP_D_DELETE]		 = "sleep_d_delete",
	[VLREFS_SLEEP_DROP_INODE]	 = "sleep_drop_inode",
	[VLREFS_SETATTR_UNLOCKED]	 = "setattr_unlocked",
	[VLREFS_CREATE_SHARED]		 = "create_shared",
	[VLREFS_WRITE_BEGIN_UNLOCKED]	 = "write_begin_unlocked",
	[VLREFS_FAULT_LOCKED_LIE]	 = "fault_locked_lie",
	[VLREFS_READ_FOLIO_LEAVE_LOCKED] = "read_folio_leave_locked",
};

static unsigned long vlrefs_faults;

/*
 * Why @fault cannot be made on this kernel, or NULL. sleep_drop_inode
 * sleeps only where i_lock is the one thing making the context atomic,
 * which it reads from preempt_count(): without CONFIG_PREEMPT_COUNT
 * (Debian's 5.10, CONFIG_PREEMPT_VOLUNTARY alone) spin_lock() counts
 * nothing there and the fault would never happen. Such a fault is left
 * out: refused by "break", and listed as such by "faults".
 */
static const char *vlrefs_fault_unavailable(enum vlrefs_fault fault)
{
	if (fault == VLREFS_SLEEP_DROP_INODE && !IS_ENABLED(CONFIG_PREEMPT_COUNT))
		return "needs CONFIG_PREEMPT_COUNT, for preempt_count() to see i_lock held";
	return NULL;
}

/* "name,name" (or "none"), newline-terminated */
static int vlrefs_faults_print(char *buffer, size_t size, unsigned long faults)
{
	int i, len = 0;

	for (i = 0; i < VLREFS_NR_FAULTS; i++)
		if (faults & BIT(i))
			len += scnprintf(buffer + len, size - len, "%s%s",
					 len ? "," : "", vlrefs_fault_names[i]);
	len += scnprintf(buffer + len, size - len, "%s\n", len ? "" : "none");
	return len;
}

static int vlrefs_break_get(char *buffer, const struct kernel_param *kp)
{
	return vlrefs_faults_print(buffer, PAGE_SIZE, READ_ONCE(vlrefs_faults));
}

static int vlrefs_break_set(const char *val, const struct kernel_param *kp)
{
	char *buf, *cur, *tok, msg[256];	/* every name fits in msg */
	unsigned long faults = 0;
	int i, err = 0;

	buf = kstrdup(val, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = strim(buf);
	while ((tok = strsep(&cur, ",")) != NULL) {
		tok = strim(tok);
		if (!*tok || !strcmp(tok, "none"))
			continue;
		i = match_string(vlrefs_fault_names, VLREFS_NR_FAULTS, tok);
		if (i < 0) {
			pr_warn("break: unknown fault '%s'\n", tok);
			err = -EINVAL;
			goto free_buf;
		}
		if (vlrefs_fault_unavailable(i)) {
			pr_warn("break: %s cannot be made on this kernel: %s\n", tok,
				vlrefs_fault_unavailable(i));
			err = -EOPNOTSUPP;
			goto free_buf;
		}
		faults |= BIT(i);
	}
	WRITE_ONCE(vlrefs_faults, faults);
	vlrefs_faults_print(msg, sizeof(msg), faults);
	pr_info("break: %s", msg);
free_buf:
	kfree(buf);
	return err;
}

static const struct kernel_param_ops vlrefs_break_ops = {
	.set	= vlrefs_break_set,
	.get	= vlrefs_break_get,
};
module_param_cb(break, &vlrefs_break_ops, NULL, 0644);
MODULE_PARM_DESC(break, "faults in force, comma-separated (see docs/reference-fs.md)");

bool vlrefs_breaks(enum vlrefs_fault fault)
{
	return READ_ONCE(vlrefs_faults) & BIT(fault);
}

/* how many times each fault broke its rule, for tests to see that it did */
static atomic_long_t vlrefs_fault_hits[VLREFS_NR_FAULTS];

void vlrefs_fault_hit(enum vlrefs_fault fault)
{
	atomic_long_inc(&vlrefs_fault_hits[fault]);
}

/* one line per fault: "NAME COUNT" */
static int vlrefs_break_hits_get(char *buffer, const struct kernel_param *kp)
{
	int i, len = 0;

	for (i = 0; i < VLREFS_NR_FAULTS; i++)
		len += scnprintf(buffer + len, PAGE_SIZE - len, "%s %ld\n", vlrefs_fault_names[i],
				 atomic_long_read(&vlrefs_fault_hits[i]));
	return len;
}

static const struct kernel_param_ops vlrefs_break_hits_ops = {
	.get	= vlrefs_break_hits_get,
};
module_param_cb(break_hits, &vlrefs_break_hits_ops, NULL, 0444);
MODULE_PARM_DESC(break_hits, "how many times each fault broke its rule");

/* one line per fault: "NAME", or "NAME unavailable: WHY" where it cannot be made */
static int vlrefs_faults_get(char *buffer, const struct kernel_param *kp)
{
	int i, len = 0;

	for (i = 0; i < VLREFS_NR_FAULTS; i++) {
		const char *why = vlrefs_fault_unavailable(i);

		len += scnprintf(buffer + len, PAGE_SIZE - len, "%s%s%s\n", vlrefs_fault_names[i],
				 why ? " unavailable: " : "", why ?: "");
	}
	return len;
}

static const struct kernel_param_ops vlrefs_faults_ops = {
	.get	= vlrefs_faults_get,
};
module_param_cb(faults, &vlrefs_faults_ops, NULL, 0444);
MODULE_PARM_DESC(faults, "the faults this kernel lets vlrefs make, and why not the others");

bool vlrefs_is_break_name(const unsigned char *name, unsigned int len)
{
	return len >= strlen(VLREFS_BREAK_PREFIX) &&
	       !memcmp(name, VLREFS_BREAK_PREFIX, strlen(VLREFS_BREAK_PREFIX));
}

bool vlrefs_breaks_name(enum vlrefs_fault fault, const struct qstr *name)
{
	return vlrefs_breaks(fault) && vlrefs_is_break_name(name->name, name->len);
}

bool vlrefs_breaks_inode(enum vlrefs_fault fault, const struct inode *inode)
{
	return vlrefs_breaks(fault) && test_bit(VLREFS_I_BREAK, &VLREFS_I(inode)->flags);
}

/*
 * The dentry methods that must not block are called by the kernel only
 * where it is atomic (under rcu_read_lock or d_lock): they sleep only in
 * the calls vlrefs makes itself, from process context, one at a time.
 */
static DEFINE_MUTEX(vlrefs_fault_call_mutex);
static struct task_struct *vlrefs_fault_caller;

void vlrefs_fault_call_begin(void)
{
	mutex_lock(&vlrefs_fault_call_mutex);
	WRITE_ONCE(vlrefs_fault_caller, current);
}

void vlrefs_fault_call_end(void)
{
	WRITE_ONCE(vlrefs_fault_caller, NULL);
	mutex_unlock(&vlrefs_fault_call_mutex);
}

bool vlrefs_in_fault_call(void)
{
	return READ_ONCE(vlrefs_fault_caller) == current;
}

/* a voluntary context switch: what a checker of "may block: no" looks for */
void vlrefs_fault_sleep(void)
{
	msleep(1);
}

/* sleep_d_compare: mknod compares the new name with itself through d_compare */
void vlrefs_fault_sleep_d_compare(struct dentry *dentry)
{
	if (!vlrefs_breaks_name(VLREFS_SLEEP_D_COMPARE, &dentry->d_name) ||
	    !dentry->d_op || !dentry->d_op->d_compare)
		return;
	vlrefs_fault_call_begin();
	dentry->d_op->d_compare(dentry, dentry->d_name.len, dentry->d_name.name, &dentry->d_name);
	vlrefs_fault_call_end();
}

/* sleep_d_delete: unlink asks d_delete about the victim, under its d_lock */
void vlrefs_fault_sleep_d_delete(struct dentry *dentry)
{
	if (!vlrefs_breaks_name(VLREFS_SLEEP_D_DELETE, &dentry->d_name) ||
	    !dentry->d_op || !dentry->d_op->d_delete)
		return;
	vlrefs_fault_call_begin();
	spin_lock(&dentry->d_lock);
	dentry->d_op->d_delete(dentry);
	spin_unlock(&dentry->d_lock);
	vlrefs_fault_call_end();
}

/* setattr_unlocked: fsync stamps mtime and ctime through ->setattr, without i_rwsem */
void vlrefs_fault_setattr_unlocked(struct file *file)
{
	struct dentry *dentry = file->f_path.dentry;
	struct inode *inode = d_inode(dentry);
	struct iattr attr = { .ia_valid = ATTR_MTIME | ATTR_CTIME };

	if (!vlrefs_breaks_inode(VLREFS_SETATTR_UNLOCKED, inode))
		return;
	attr.ia_mtime = attr.ia_ctime = current_time(inode);
	vlrefs_fault_hit(VLREFS_SETATTR_UNLOCKED);
	inode->i_op->setattr(VL_FILE_IDMAP(file) dentry, &attr);
}

/*
 * A folio lock left behind by a fault, dropped later: after a while when
 * the fault holds it (read_folio), or once the caller's unlock has toggled
 * the bit back on (fault, where folio_unlock() toggles: from 6.7).
 */
struct vlrefs_unlock_work {
	struct work_struct work;
	struct folio *folio;
	bool after_relock;
};

static struct workqueue_struct *vlrefs_fault_wq;

#define VLREFS_UNLOCK_DELAY_MS	20
#define VLREFS_RELOCK_WAIT_MS	2000

static void vlrefs_unlock_work_fn(struct work_struct *work)
{
	struct vlrefs_unlock_work *uw = container_of(work, struct vlrefs_unlock_work, work);
	struct folio *folio = uw->folio;
	unsigned long deadline = jiffies + msecs_to_jiffies(VLREFS_RELOCK_WAIT_MS);

	if (uw->after_relock)
		while (!folio_test_locked(folio) && time_before(jiffies, deadline))
			msleep(1);
	else
		msleep(VLREFS_UNLOCK_DELAY_MS);
	if (folio_test_locked(folio))
		folio_unlock(folio);
	folio_put(folio);
	kfree(uw);
}

void vlrefs_unlock_folio_later(struct folio *folio, bool after_relock)
{
	struct vlrefs_unlock_work *uw;

#ifndef VL_FOLIO_UNLOCK_TOGGLES
	/* folio_unlock() clears the bit: the caller's unlock leaves nothing to undo */
	if (after_relock)
		return;
#endif
	/* without it the lock would stay, and whoever waits on the folio hang */
	uw = kmalloc(sizeof(*uw), GFP_NOFS | __GFP_NOFAIL);
	INIT_WORK(&uw->work, vlrefs_unlock_work_fn);
	folio_get(folio);
	uw->folio = folio;
	uw->after_relock = after_relock;
	queue_work(vlrefs_fault_wq, &uw->work);
}

int vlrefs_faults_init(void)
{
	vlrefs_fault_wq = alloc_workqueue("vlrefs_fault", WQ_UNBOUND, 0);
	return vlrefs_fault_wq ? 0 : -ENOMEM;
}

/* every lock left behind is dropped before the code that drops it goes */
void vlrefs_faults_exit(void)
{
	destroy_workqueue(vlrefs_fault_wq);
}
