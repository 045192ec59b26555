/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live event source: loads and attaches the probes, feeds ring-buffer
 * records to a callback, and detaches everything on close.
 */
#ifndef VFSLOCK_LIVE_H
#define VFSLOCK_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "discover.h"
#include "engine.h"
#include "kbtf.h"

struct bpf_link;

typedef int (*vl_record_fn)(void *ctx, void *data, size_t size);

struct vl_live_opts {
	bool watch_all;
	bool locks_only;		/* lock probes alone: no method is traced */
	uint8_t lock_events;		/* enum vl_lock_events */
	bool all_calls;			/* compliant calls streamed too (recording) */
	size_t ring_bytes;
	struct kbtf *kb;
	const struct vl_catalog *cat;
	struct vl_engine *eng;
	const struct vl_discovery *disc;
	vl_record_fn on_record;
	void *ctx;
};

struct vl_attach_fail {
	const struct vl_fn *fn;
	char why[128];
};

/* What one program cost: bpf_enable_stats() must have been on meanwhile. */
struct vl_prog_stat {
	char prog[32];			/* the program: template or primitive probe */
	char target[96];		/* what it is attached to */
	uint64_t runs, ns;
	uint64_t misses;		/* runs the kernel skipped for recursion */
};

struct vl_live {
	struct vfslock_bpf *skel;
	struct ring_buffer *rb;
	int nlinks, nprogs;
	int *links, *progs;
	const struct vl_fn **prog_fns;	/* the method each of @progs traces */
	const char **prog_kinds;	/* "entry" or "exit" */
	int nmethods;			/* implementations attached */
	int nfails;
	struct vl_attach_fail *fails;
	int nprims;			/* lock primitives attached */
	struct bpf_link *switch_link;	/* sched_switch, once a method may not block */
	char prims_missing[256];	/* those the kernel lacks */
	int ndropped;			/* programs the kernel refused and check does without */
	struct {
		char prog[64];
		char why[256];
	} dropped[8];
};

/* Open, configure, load; nothing attached yet. Errors in @err. */
int live_open(struct vl_live *lv, const struct vl_live_opts *o, char *err, size_t errlen);
/*
 * Load check's programs as live_open() would, and a clone of each method
 * template, attaching nothing: whether check can run here. 0, or a
 * negative errno with @err saying what failed; @without: the programs the
 * kernel refused and check would do without, and what that leaves out.
 */
int live_dry_load(struct kbtf *kb, char *err, size_t errlen, char *without, size_t wlen);
int live_watch_task(struct vl_live *lv, uint32_t tid);
/* Whether program @name was left out because the kernel refused it. */
bool live_dropped(const struct vl_live *lv, const char *name);
/* Attach lock primitives and every checked method implementation. */
int live_attach(struct vl_live *lv, const struct vl_live_opts *o, char *err, size_t errlen);
/*
 * Watch what a discovery made after the start found: @d's filesystem types
 * and superblocks, and the catalog's implementations from @from on. The
 * number attached, or a negative errno with @err set.
 */
int live_add(struct vl_live *lv, const struct vl_live_opts *o, const struct vl_discovery *d,
	     int from, char *err, size_t errlen);
/* >= 0: records consumed; -EINTR is not an error. */
int live_poll(struct vl_live *lv, int timeout_ms);
int live_drain(struct vl_live *lv);
void live_stats(struct vl_live *lv, uint64_t out[VL_STAT_MAX]);
/* Runs of every program the kernel skipped for recursion (VL_STAT_SKIPPED). */
uint64_t live_skipped_runs(struct vl_live *lv);
/* Hands the filter's per-implementation counts of compliant calls to @eng. */
void live_calls_met(struct vl_live *lv, const struct vl_catalog *cat, struct vl_engine *eng);
/* Turn the kernel's BPF run statistics on until the returned fd closes. */
int live_enable_prog_stats(void);
/* Run counts and times of every loaded program, costliest first; how many. */
int live_prog_stats(struct vl_live *lv, struct vl_prog_stat **out);
/* Detach and free every kernel object; the attach report stays readable. */
void live_detach(struct vl_live *lv);
void live_close(struct vl_live *lv);

#endif
