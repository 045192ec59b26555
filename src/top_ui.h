/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interactive screen of `vfslock top`: ncurses, plain ASCII and one
 * attribute (reverse), so it works in 80x24 and over a serial console.
 */
#ifndef VFSLOCK_TOP_UI_H
#define VFSLOCK_TOP_UI_H

#include <stdbool.h>

#include "top_view.h"

/* What the keys change; the loop in cmd_top.c owns it. */
struct top_state {
	enum top_view_id view;
	int sort[TV_MAX];		/* column per view */
	struct top_filter filter;
	bool paused;
	bool help;
	bool detail;			/* the locks view's detail pane is open */
	uint64_t detail_key;
	int dscroll;			/* first detail line shown */
	int sel, scroll;		/* selected row, first row shown */
	int delay_ms;			/* refresh interval */
	bool quit;
	char msg[128];			/* one line of feedback, e.g. a bad filter */
	/* --replay: where to go in the recording; the loop takes and clears them */
	bool replay;
	bool step;			/* one refresh interval on, while paused */
	double jump_s;			/* move by this much, back or forth */
	double goto_s;			/* go to this second, when >= 0 */
};

/* Take the terminal; false if it is not one. */
bool top_ui_open(void);
/* Give it back as it was: safe to call more than once, and from a fatal signal. */
void top_ui_close(void);
void top_ui_draw(struct top_state *s, const struct top_status *st, struct vl_agg *a,
		 const struct vl_ruleset *rs);
/* Wait up to @timeout_ms for a key; handle it. True if something changed. */
bool top_ui_key(struct top_state *s, int timeout_ms);

#endif
