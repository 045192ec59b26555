/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The aggregates every view reads: waits and holds per lock instance, per
 * task and per call site, with log2 histograms, and the recent deviations.
 * A sink of the pipeline: live, replayed or recorded, the same records give
 * the same figures.
 */
#ifndef VFSLOCK_AGG_H
#define VFSLOCK_AGG_H

#include <stdbool.h>
#include <stdint.h>

#include <uthash.h>

#include "discover.h"
#include "engine.h"
#include "ksyms.h"
#include "pipeline.h"

/* Bucket i counts times in [2^i, 2^(i+1)) ns; the last one everything above. */
#define VL_HIST_BUCKETS	40

struct vl_times {
	uint64_t n, total, max;
};

struct vl_hist {
	uint64_t b[VL_HIST_BUCKETS];
};

/* Side 0: shared (readers), 1: exclusive. */
#define VL_SIDES	2

/* A task's share of one lock's waits or holds. */
struct vl_who {
	uint32_t tid;
	char comm[16];
	struct vl_times t;
};

#define VL_AGG_WHO	8
#define VL_AGG_DEV_KEEP	64		/* recent deviations kept for views */

struct vl_agg_lock {
	uint64_t lock;			/* key: lock address */
	uint64_t obj, ino;
	uint32_t dev;
	uint8_t cls;			/* enum vl_lock_class; VL_LOCK_NONE: named by caller */
	uint64_t caller;		/* first frame outside lock code, of the first wait */
	struct vl_times wait[VL_SIDES], hold[VL_SIDES];
	struct vl_hist wait_hist, hold_hist;
	struct vl_who waiters[VL_AGG_WHO], holders[VL_AGG_WHO];
	/* the owner when the last wait began */
	uint32_t owner_tid;
	int32_t owner_syscall;
	uint8_t owner_state, owner_flags;
	char owner_comm[16];
	uint16_t nstack;
	uint64_t stack[VL_CONTEND_STACK];	/* the last waiter's */
	uint64_t last_ts;
	UT_hash_handle hh;
};

struct vl_agg_task {
	uint32_t tid, tgid;
	char comm[16];
	struct vl_times wait, hold;
	uint64_t last_ts;
	UT_hash_handle hh;
};

struct vl_agg_site {
	uint64_t caller;		/* key, with cls */
	uint8_t cls;
	struct vl_times wait[VL_SIDES];
	uint64_t last_ts;
	UT_hash_handle hh;
};

struct vl_agg_dev {
	uint64_t ts;
	uint32_t tid;
	char comm[16];
	char rule[96];
	char method[64];
	char what[160];
};

struct vl_agg_totals {
	uint64_t waits, wait_ns, holds, hold_ns;
	uint64_t failed_waits;		/* contention_end with an error: signal, timeout */
	uint64_t deviations;
	uint64_t records;
	uint64_t first_ts, last_ts;
	/*
	 * Locks held but never waited for, whose own figures were let go to
	 * bound memory (their holds stay in the totals and the tasks').
	 */
	uint64_t hold_only_dropped;
};

/*
 * Lock instances kept: with --holds every inode's i_rwsem taken is one;
 * past this, those never waited for are let go.
 */
#define VL_AGG_MAX_LOCKS	16384

struct vl_agg;

/* @mounts, @ks name devices and call sites; either may be NULL. */
struct vl_agg *agg_new(const struct vl_mounts *mounts, const struct ksyms *ks);
void agg_free(struct vl_agg *a);
/* The sink to add to a pipeline. */
struct vl_sink agg_sink(struct vl_agg *a);

/* Accessors for views: arrays the caller frees (not their elements). */
int agg_locks(struct vl_agg *a, struct vl_agg_lock ***out);
int agg_tasks(struct vl_agg *a, struct vl_agg_task ***out);
int agg_sites(struct vl_agg *a, struct vl_agg_site ***out);
/* Recent deviations into @out, oldest first; how many. */
int agg_deviations(const struct vl_agg *a, struct vl_agg_dev out[VL_AGG_DEV_KEEP]);
const struct vl_agg_totals *agg_totals(const struct vl_agg *a);
/* Deviations of the rule @id seen so far. */
uint64_t agg_rule_deviations(const struct vl_agg *a, const char *id);
struct vl_agg_lock *agg_lock(struct vl_agg *a, uint64_t lock);

/* "/mnt/tmp/d (tmpfs 0:23 ino 12)", "s_umount of /mnt/tmp", "do_unlinkat": for humans. */
const char *agg_lock_name(const struct vl_agg *a, const struct vl_agg_lock *l, char *buf,
			  size_t len);
/* Short, for a table: the path alone when there is one. */
const char *agg_lock_label(const struct vl_agg *a, const struct vl_agg_lock *l, char *buf,
			   size_t len);
/* The path of @l's object alone ("" if none could be resolved). */
const char *agg_lock_path(const struct vl_agg *a, const struct vl_agg_lock *l, char *buf,
			  size_t len);
/* Filesystem type of device @dev, or "" */
const char *agg_dev_fstype(const struct vl_agg *a, uint32_t dev);
/* "do_unlinkat", or the address */
const char *agg_sym(const struct vl_agg *a, uint64_t ip, char *buf, size_t len);
/* "unlinkat": the owner's system call */
const char *agg_syscall_name(int32_t nr, char *buf, size_t len);
const char *agg_task_state_name(uint8_t st);
/* First frame of @stack outside lock and scheduler code, 0 if none. */
uint64_t agg_caller(const struct vl_agg *a, const uint64_t *stack, int n);

uint64_t times_avg(const struct vl_times *t);
/* Bucket index of @ns. */
int hist_bucket(uint64_t ns);

#endif
