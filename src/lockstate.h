/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reconstruction of the locks each task holds, from acquire and release
 * events: the one place that knows who holds what, for checks and views.
 */
#ifndef VFSLOCK_LOCKSTATE_H
#define VFSLOCK_LOCKSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "vfslock_abi.h"

struct vl_hold {
	uint64_t lock;		/* lock word address */
	uint64_t obj;		/* embedding object (inode) */
	uint64_t ino;
	uint64_t since;		/* ns, when taken */
	uint32_t dev;
	uint8_t cls;		/* enum vl_lock_class */
	uint8_t mode;		/* enum vl_mode */
	uint8_t prim;		/* enum vl_prim that took it */
	uint8_t depth;		/* shared holds of the same lock by this task */
};

struct vl_task {
	uint32_t tid;
	uint32_t tgid;
	char comm[VL_COMM_LEN];
	bool complete;		/* seen from birth: its hold set is exact */
	int nholds;
	int cap;
	struct vl_hold *holds;
	uint64_t unmatched;	/* releases of locks not known held */
};

struct vl_lockstate_stats {
	uint64_t acquires;
	uint64_t releases;
	uint64_t unmatched_releases;	/* taken before tracing, or events lost */
	uint64_t exits_holding;		/* tasks that exited with locks held */
	uint64_t tasks;			/* live task records */
};

struct vl_lockstate;

struct vl_lockstate *lockstate_new(void);
void lockstate_free(struct vl_lockstate *ls);

/* Tasks started before tracing have unknown holds; children of watched ones do not. */
void lockstate_task_born(struct vl_lockstate *ls, uint32_t tid, uint32_t tgid, const char *comm);
void lockstate_task_exit(struct vl_lockstate *ls, uint32_t tid);
/* Whether @e ended a hold; if so, and @ended, the hold as it was (hold time: ts - since). */
bool lockstate_apply(struct vl_lockstate *ls, const struct vl_ev_lock *e, struct vl_hold *ended);

/* NULL when nothing is known of @tid. */
struct vl_task *lockstate_task(struct vl_lockstate *ls, uint32_t tid);
struct vl_task *lockstate_task_get(struct vl_lockstate *ls, uint32_t tid, uint32_t tgid);

/* Strongest mode in which @t holds lock class @cls of object @obj. */
enum vl_mode lockstate_held(const struct vl_task *t, uint8_t cls, uint64_t obj);

/* Every lock of class @cls on @obj, held by any task: for contention views. */
int lockstate_holders(struct vl_lockstate *ls, uint8_t cls, uint64_t obj,
		      const struct vl_task **out, int max);

const struct vl_lockstate_stats *lockstate_stats(const struct vl_lockstate *ls);

/* "i_rwsem", "s_umount", ...: the names rules use for the lock (prop_key()). */
const char *lock_class_name(uint8_t cls);

#endif
