// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "lockstate.h"
#include "util.h"

#define LS_RECENT_BITS	6

struct task_node {
	struct vl_task t;
	UT_hash_handle hh;
};

struct vl_lockstate {
	struct task_node *tasks;
	/* tasks recently looked up, by cache_slot() of their tid */
	struct task_node *recent[1 << LS_RECENT_BITS];
	struct vl_lockstate_stats st;
};

struct vl_lockstate *lockstate_new(void)
{
	return xcalloc(1, sizeof(struct vl_lockstate));
}

static void task_free(struct task_node *n)
{
	free(n->t.holds);
	free(n);
}

void lockstate_free(struct vl_lockstate *ls)
{
	struct task_node *n, *tmp;

	if (!ls)
		return;
	HASH_ITER(hh, ls->tasks, n, tmp) {
		HASH_DEL(ls->tasks, n);
		task_free(n);
	}
	free(ls);
}

struct vl_task *lockstate_task(struct vl_lockstate *ls, uint32_t tid)
{
	struct task_node **slot = &ls->recent[cache_slot(tid, LS_RECENT_BITS)], *n = *slot;

	if (n && n->t.tid == tid)
		return &n->t;
	HASH_FIND(hh, ls->tasks, &tid, sizeof(tid), n);
	if (n)
		*slot = n;
	return n ? &n->t : NULL;
}

/* A task not among the recent ones: the hash, or a new record. */
static __attribute__((noinline)) struct vl_task *task_lookup(struct vl_lockstate *ls, uint32_t tid,
							     uint32_t tgid)
{
	struct task_node **slot = &ls->recent[cache_slot(tid, LS_RECENT_BITS)], *n;

	HASH_FIND(hh, ls->tasks, &tid, sizeof(tid), n);
	if (!n) {
		n = xcalloc(1, sizeof(*n));
		n->t.tid = tid;
		n->t.tgid = tgid;
		HASH_ADD(hh, ls->tasks, t.tid, sizeof(n->t.tid), n);
		ls->st.tasks++;
	}
	*slot = n;
	return &n->t;
}

/* Nearly every record is of a task seen lately: that path stays small, and inline. */
static inline struct vl_task *task_get(struct vl_lockstate *ls, uint32_t tid, uint32_t tgid)
{
	struct task_node *n = ls->recent[cache_slot(tid, LS_RECENT_BITS)];

	return n && n->t.tid == tid ? &n->t : task_lookup(ls, tid, tgid);
}

struct vl_task *lockstate_task_get(struct vl_lockstate *ls, uint32_t tid, uint32_t tgid)
{
	return task_get(ls, tid, tgid);
}

void lockstate_task_born(struct vl_lockstate *ls, uint32_t tid, uint32_t tgid, const char *comm)
{
	struct vl_task *t = lockstate_task_get(ls, tid, tgid);

	/* a recycled tid starts afresh */
	t->nholds = 0;
	t->tgid = tgid;
	t->complete = true;
	if (comm) {
		memcpy(t->comm, comm, sizeof(t->comm) - 1);
		t->comm[sizeof(t->comm) - 1] = '\0';
	}
}

void lockstate_task_exit(struct vl_lockstate *ls, uint32_t tid)
{
	struct task_node *n;

	HASH_FIND(hh, ls->tasks, &tid, sizeof(tid), n);
	if (!n)
		return;
	if (n->t.nholds)
		ls->st.exits_holding++;
	if (ls->recent[cache_slot(tid, LS_RECENT_BITS)] == n)
		ls->recent[cache_slot(tid, LS_RECENT_BITS)] = NULL;
	HASH_DEL(ls->tasks, n);
	task_free(n);
	ls->st.tasks--;
}

static struct vl_hold *find_hold(struct vl_task *t, uint64_t lock)
{
	int i;

	for (i = t->nholds - 1; i >= 0; i--)
		if (t->holds[i].lock == lock)
			return &t->holds[i];
	return NULL;
}

static void drop_hold(struct vl_task *t, struct vl_hold *h)
{
	int i = h - t->holds;

	/* mostly the last taken, first released */
	if (i != t->nholds - 1)
		memmove(&t->holds[i], &t->holds[i + 1], (t->nholds - i - 1) * sizeof(*h));
	t->nholds--;
}

bool lockstate_apply(struct vl_lockstate *ls, const struct vl_ev_lock *e, struct vl_hold *ended)
{
	struct vl_task *t = task_get(ls, e->hdr.tid, e->hdr.tgid);
	struct vl_hold *h;

	switch (e->op) {
	case VL_OP_ACQUIRE:
		ls->st.acquires++;
		h = find_hold(t, e->lock);
		if (h && h->mode == VL_MODE_SHARED && e->mode == VL_MODE_SHARED) {
			/* recursive read: legal for rwsems, if deadlock-prone */
			h->depth++;
			return false;
		}
		if (t->nholds == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 8;
			t->holds = xrealloc(t->holds, t->cap * sizeof(*t->holds));
		}
		h = &t->holds[t->nholds++];
		h->lock = e->lock;
		h->obj = e->inode;
		h->ino = e->ino;
		h->dev = e->dev;
		h->since = e->hdr.ts;
		h->cls = e->cls;
		h->mode = e->mode;
		h->prim = e->prim;
		h->depth = 1;
		return false;
	case VL_OP_RELEASE:
		ls->st.releases++;
		h = find_hold(t, e->lock);
		if (!h) {
			/* taken before we looked, by another task (non-owner), or lost */
			ls->st.unmatched_releases++;
			t->unmatched++;
			return false;
		}
		if (h->mode == VL_MODE_SHARED && h->depth > 1) {
			h->depth--;
			return false;
		}
		if (ended)
			*ended = *h;
		drop_hold(t, h);
		return true;
	case VL_OP_DOWNGRADE:
		h = find_hold(t, e->lock);
		if (h)
			h->mode = VL_MODE_SHARED;
		else
			ls->st.unmatched_releases++;
		return false;
	}
	return false;
}

enum vl_mode lockstate_held(const struct vl_task *t, uint8_t cls, uint64_t obj)
{
	enum vl_mode m = VL_MODE_NONE;
	int i;

	if (!t)
		return VL_MODE_NONE;
	for (i = 0; i < t->nholds; i++)
		if (t->holds[i].cls == cls && t->holds[i].obj == obj && t->holds[i].mode > m)
			m = t->holds[i].mode;
	return m;
}

int lockstate_holders(struct vl_lockstate *ls, uint8_t cls, uint64_t obj,
		      const struct vl_task **out, int max)
{
	struct task_node *n, *tmp;
	int k = 0;

	HASH_ITER(hh, ls->tasks, n, tmp) {
		if (k < max && lockstate_held(&n->t, cls, obj) != VL_MODE_NONE)
			out[k++] = &n->t;
	}
	return k;
}

const struct vl_lockstate_stats *lockstate_stats(const struct vl_lockstate *ls)
{
	return &ls->st;
}

const char *lock_class_name(uint8_t cls)
{
	static const char *const n[VL_LOCK_CLASS_MAX] = {
		[VL_LOCK_I_RWSEM] = "i_rwsem", [VL_LOCK_S_UMOUNT] = "s_umount",
		[VL_LOCK_INVALIDATE] = "invalidate_lock", [VL_LOCK_I_LOCK] = "i_lock",
		[VL_LOCK_D_LOCK] = "d_lock", [VL_LOCK_FOLIO] = "folio_lock",
		[VL_LOCK_MMAP] = "mmap_lock", [VL_LOCK_S_VFS_RENAME] = "s_vfs_rename_mutex",
		[VL_LOCK_F_POS] = "f_pos_lock", [VL_LOCK_FLC] = "flc_lock",
		[VL_LOCK_RENAME_SEQ] = "rename_lock",
	};

	return cls < VL_LOCK_CLASS_MAX && n[cls] ? n[cls] : "?";
}
