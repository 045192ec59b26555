/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What `vfslock top` shows, independent of how: the views as tables of
 * cells (filtered, sorted), the detail of one lock, and the JSON snapshot.
 * The ncurses screen and the batch output both draw from here.
 */
#ifndef VFSLOCK_TOP_VIEW_H
#define VFSLOCK_TOP_VIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "agg.h"
#include "rules.h"

enum top_view_id { TV_LOCKS, TV_TASKS, TV_SITES, TV_DEVS, TV_RULES, TV_MAX };

struct top_filter {
	char fs[32];			/* filesystem type */
	char comm[16];
	int pid;			/* thread or process id, 0 any */
	int cls;			/* enum vl_lock_class, -1 any */
};

/* What the header says: where the figures come from and what is missing. */
struct top_status {
	char kernel[128];
	char rules_version[32];
	char rules_source[160];
	char mode[32];			/* "contention", "contention+check" */
	char missing[256];		/* what this host cannot show, and why; "" if nothing */
	char waits_from[48];		/* where waits come from (caps_contention_source()); "" */
	char where[96];			/* a replay's file and position; "" live */
	char daemon[108];		/* the socket of the daemon whose stream is shown; "" */
	double events_per_s;
	uint64_t lost;
	uint64_t deviations;
	bool paused;
};

#define TOP_CELL	160
#define TOP_MAX_COLS	10

struct top_col {
	const char *name;
	int width;			/* 0: the rest of the line */
	bool text;			/* sorted ascending as text; numbers descending */
};

struct top_row {
	char cell[TOP_MAX_COLS][TOP_CELL];
	double num[TOP_MAX_COLS];
	uint64_t key;			/* lock address, tid, caller: what the detail opens */
};

struct top_table {
	enum top_view_id view;
	int ncols;
	int sort;			/* the column the rows are sorted by */
	const struct top_col *cols;
	int nrows;
	struct top_row *rows;
};

const char *top_view_name(enum top_view_id v);
/* The view named @s ("locks", "tasks", "sites", "deviations", "rules"), or -1. */
int top_view_parse(const char *s);
/* Column index named @s in @v (case-insensitive), or -1. */
int top_col_parse(enum top_view_id v, const char *s);
int top_view_ncols(enum top_view_id v);
const char *top_col_name(enum top_view_id v, int col);

/* "fs=tmpfs", "comm=stress-ng", "pid=12", "class=i_rwsem", "" clears; -EINVAL if not. */
int top_filter_parse(struct top_filter *f, const char *s);
void top_filter_format(const struct top_filter *f, char *buf, size_t len);

/* Build @v's rows, filtered by @f and sorted by column @sort. */
void top_table_build(struct top_table *t, enum top_view_id v, struct vl_agg *a,
		     const struct vl_ruleset *rs, const struct top_filter *f, int sort);
void top_table_free(struct top_table *t);

/* "1.23ms" */
const char *fmt_ns(uint64_t ns, char *buf, size_t len);

/* Text: the header, then the table, as `top -b` prints it; @max_rows 0 all. */
void top_print_status(FILE *f, const struct top_status *st, const struct vl_agg *a,
		      enum top_view_id v, int sort, const struct top_filter *flt);
void top_print_table(FILE *f, const struct top_table *t, int width, int max_rows);
/* The lines of @lock's detail pane, one per call of @line (for screens and text). */
void top_lock_detail(struct vl_agg *a, uint64_t lock, void (*line)(void *ctx, const char *s),
		     void *ctx);

/* One snapshot: status, totals, and every view's rows as objects. */
json_object *top_snapshot_json(const struct top_status *st, struct vl_agg *a,
			       const struct vl_ruleset *rs, const struct top_filter *f);

#endif
