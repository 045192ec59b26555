// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "top_ui.h"
#include "util.h"

static volatile sig_atomic_t ui_active;
/* the rows drawn last: what Enter opens */
static struct top_table shown;

/* The detail pane's lines, kept to scroll through them. */
static char **dlines;
static int ndlines;

static void detail_collect(void *ctx, const char *line)
{
	dlines = xrealloc(dlines, (ndlines + 1) * sizeof(*dlines));
	dlines[ndlines++] = xstrdup(line);
	(void)ctx;
}

static void detail_clear(void)
{
	while (ndlines > 0)
		free(dlines[--ndlines]);
	free(dlines);
	dlines = NULL;
}

static void fatal_signal(int sig)
{
	/* not async-signal-safe, but a dead terminal is worse; then die as we would have */
	if (ui_active)
		endwin();
	ui_active = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

bool top_ui_open(void)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };
	size_t i;

	if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return false;
	if (!initscr())
		return false;
	ui_active = 1;
	for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	atexit(top_ui_close);
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(50);
	return true;
}

void top_ui_close(void)
{
	if (!ui_active)
		return;
	ui_active = 0;
	curs_set(1);
	endwin();
	top_table_free(&shown);
	detail_clear();
}

static void put_line(int y, const char *s, int attr)
{
	if (y >= LINES)
		return;
	attron(attr);
	mvprintw(y, 0, "%-*.*s", COLS, COLS, s);
	attroff(attr);
}

static void draw_table(struct top_state *s, int y, const char *empty)
{
	char line[1024];
	int r, c, n, avail = LINES - y - 2;	/* header row, bottom line */
	size_t len;

	len = 0;
	for (c = 0; c < shown.ncols && len < sizeof(line); c++) {
		const struct top_col *col = &shown.cols[c];
		const char *mark = c == s->sort[s->view] ? "*" : "";
		char name[32];

		snprintf(name, sizeof(name), "%s%s", col->name, mark);
		len += snprintf(line + len, sizeof(line) - len, col->text ? "%-*s " : "%*s ",
				col->width, name);
	}
	put_line(y++, line, A_REVERSE);
	n = shown.nrows;
	if (s->sel >= n)
		s->sel = n ? n - 1 : 0;
	if (s->sel < s->scroll)
		s->scroll = s->sel;
	if (avail > 0 && s->sel >= s->scroll + avail)
		s->scroll = s->sel - avail + 1;
	for (r = s->scroll; r < n && r < s->scroll + avail; r++) {
		len = 0;
		for (c = 0; c < shown.ncols && len < sizeof(line); c++) {
			const struct top_col *col = &shown.cols[c];

			if (!col->width)
				len += snprintf(line + len, sizeof(line) - len, "%s",
						shown.rows[r].cell[c]);
			else
				len += snprintf(line + len, sizeof(line) - len,
						col->text ? "%-*.*s " : "%*.*s ", col->width,
						col->width, shown.rows[r].cell[c]);
		}
		put_line(y++, line, r == s->sel && s->view != TV_RULES ? A_REVERSE : 0);
	}
	if (!n)
		put_line(y, empty, 0);
}

static const char *const help_text[] = {
	"vfslock top: keys",
	"",
	"  l 1  locks        t 2  tasks       c 3  call sites",
	"  d 4  deviations   r 5  rules",
	"  < >  sort by the column left or right   s  next sort column",
	"  f /  filter: fs=TYPE comm=NAME pid=N class=CLASS (empty clears)",
	"  up down pgup pgdn home end  j k  select a row",
	"  enter  detail of the selected lock (histograms, waiters, holders, stack)",
	"  esc    close the detail     space p  pause the display",
	"  + -    refresh slower, faster          q  quit",
	"  replay: space pause, n step, [ ] 10 s back, on, g go to a second",
	"",
	"Waits come from contention_begin/end (before 5.19: the rwsem and mutex",
	"slow paths); holds from traced acquire/release (with --holds); deviations",
	"from the rules of locking.rst (with --check).",
	"",
	"any key returns",
};

void top_ui_draw(struct top_state *s, const struct top_status *st, struct vl_agg *a,
		 const struct vl_ruleset *rs)
{
	const struct vl_agg_totals *tot = agg_totals(a);
	char line[512], w[32], h[32], fl[96];
	int y = 0;
	size_t i;

	if (!ui_active)
		return;
	erase();
	if (s->help) {
		for (i = 0; i < sizeof(help_text) / sizeof(help_text[0]); i++)
			put_line(y++, help_text[i], i ? 0 : A_REVERSE);
		refresh();
		return;
	}
	/* PAUSED before the source of waits, which a narrow screen may cut */
	snprintf(line, sizeof(line), "vfslock top  %s  mode %s%s%s%s", st->kernel, st->mode,
		 s->paused ? "  PAUSED" : "", st->waits_from[0] ? "  waits: " : "",
		 st->waits_from);
	put_line(y++, line, A_REVERSE);
	snprintf(line, sizeof(line), "rules %s (%s)", st->rules_version[0] ? st->rules_version : "?",
		 st->rules_source);
	put_line(y++, line, 0);
	if (st->where[0])
		put_line(y++, st->where, A_REVERSE);
	snprintf(line, sizeof(line), "ev/s %.0f  lost %llu  devs %llu  waits %llu (%s)  holds %llu (%s)",
		 st->events_per_s, (unsigned long long)st->lost,
		 (unsigned long long)st->deviations, (unsigned long long)tot->waits,
		 fmt_ns(tot->wait_ns, w, sizeof(w)), (unsigned long long)tot->holds,
		 fmt_ns(tot->hold_ns, h, sizeof(h)));
	put_line(y++, line, 0);
	top_filter_format(&s->filter, fl, sizeof(fl));
	snprintf(line, sizeof(line), "view %s  sort %s  filter %s  every %.1fs",
		 top_view_name(s->view), top_col_name(s->view, s->sort[s->view]), fl,
		 s->delay_ms / 1000.0);
	put_line(y++, line, 0);
	if (st->missing[0]) {
		/* the reason matters more than the layout: wrap it on a second line */
		snprintf(line, sizeof(line), "missing: %s", st->missing);
		put_line(y++, line, 0);
		if ((int)strlen(line) > COLS)
			put_line(y++, line + COLS, 0);
	}
	if (!s->paused || !shown.rows) {
		top_table_free(&shown);
		top_table_build(&shown, s->view, a, rs, &s->filter, s->sort[s->view]);
	}
	if (s->detail && s->view == TV_LOCKS) {
		int avail = LINES - y - 2, r;

		detail_clear();
		top_lock_detail(a, s->detail_key, detail_collect, NULL);
		if (s->dscroll > ndlines - avail)
			s->dscroll = ndlines > avail ? ndlines - avail : 0;
		snprintf(line, sizeof(line), "detail, lines %d-%d of %d (up, down, pgup, pgdn; esc closes)",
			 s->dscroll + 1, s->dscroll + avail < ndlines ? s->dscroll + avail : ndlines,
			 ndlines);
		put_line(y++, line, A_REVERSE);
		for (r = s->dscroll; r < ndlines && r < s->dscroll + avail; r++)
			put_line(y++, dlines[r], 0);
	} else {
		draw_table(s, y, s->view != TV_DEVS ? "  (nothing yet)" :
			   strstr(st->mode, "check") ? "  (no deviation seen)" :
			   "  (no rule is checked in this mode)");
	}
	put_line(LINES - 1, s->msg[0] ? s->msg :
		 "q quit  h help  l t c d r views  < > sort  f filter  enter detail  space pause",
		 A_REVERSE);
	refresh();
}

/* A line typed at the bottom, for the filter. */
static void prompt(const char *what, char *out, size_t len)
{
	echo();
	curs_set(1);
	nodelay(stdscr, FALSE);
	timeout(-1);
	mvprintw(LINES - 1, 0, "%-*s", COLS, "");
	mvprintw(LINES - 1, 0, "%s", what);
	getnstr(out, len - 1);
	noecho();
	curs_set(0);
}

bool top_ui_key(struct top_state *s, int timeout_ms)
{
	int ch, ncols = top_view_ncols(s->view), page = LINES > 8 ? LINES - 8 : 1;
	char buf[96];

	timeout(timeout_ms);
	ch = getch();
	if (ch == ERR)
		return false;
	s->msg[0] = '\0';
	if (s->help) {
		s->help = false;
		return true;
	}
	if (s->detail) {
		/* the selection stays put under the pane: these scroll it */
		switch (ch) {
		case KEY_UP:
		case 'k':
			if (s->dscroll > 0)
				s->dscroll--;
			return true;
		case KEY_DOWN:
		case 'j':
			s->dscroll++;
			return true;
		case KEY_PPAGE:
			s->dscroll = s->dscroll > page ? s->dscroll - page : 0;
			return true;
		case KEY_NPAGE:
			s->dscroll += page;
			return true;
		case KEY_HOME:
			s->dscroll = 0;
			return true;
		default:
			break;
		}
	}
	switch (ch) {
	case 'q':
	case 'Q':
		s->quit = true;
		break;
	case 'h':
	case '?':
		s->help = true;
		break;
	case 'l': case '1': s->view = TV_LOCKS; s->detail = false; s->sel = s->scroll = 0; break;
	case 't': case '2': s->view = TV_TASKS; s->detail = false; s->sel = s->scroll = 0; break;
	case 'c': case '3': s->view = TV_SITES; s->detail = false; s->sel = s->scroll = 0; break;
	case 'd': case '4': s->view = TV_DEVS; s->detail = false; s->sel = s->scroll = 0; break;
	case 'r': case '5': s->view = TV_RULES; s->detail = false; s->sel = s->scroll = 0; break;
	case '<':
		s->sort[s->view] = (s->sort[s->view] + ncols - 1) % ncols;
		break;
	case '>':
	case 's':
		s->sort[s->view] = (s->sort[s->view] + 1) % ncols;
		break;
	case ' ':
	case 'p':
		s->paused = !s->paused;
		break;
	case 'f':
	case '/':
		prompt("filter (fs= comm= pid= class=, empty clears): ", buf, sizeof(buf));
		if (top_filter_parse(&s->filter, buf))
			snprintf(s->msg, sizeof(s->msg), "bad filter '%.60s': fs=, comm=, pid=, class=",
				 buf);
		s->sel = s->scroll = 0;
		break;
	case KEY_UP:
	case 'k':
		if (s->sel > 0)
			s->sel--;
		break;
	case KEY_DOWN:
	case 'j':
		s->sel++;
		break;
	case KEY_PPAGE:
		s->sel = s->sel > page ? s->sel - page : 0;
		break;
	case KEY_NPAGE:
		s->sel += page;
		break;
	case KEY_HOME:
		s->sel = 0;
		break;
	case KEY_END:
		s->sel = shown.nrows ? shown.nrows - 1 : 0;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (s->detail)
			s->detail = false;
		else if (s->view == TV_LOCKS && s->sel < shown.nrows) {
			s->detail = true;
			s->dscroll = 0;
			s->detail_key = shown.rows[s->sel].key;
		}
		break;
	case 27:		/* esc */
	case KEY_BACKSPACE:
		s->detail = false;
		break;
	case '+':
		if (s->delay_ms < 60000)
			s->delay_ms += s->delay_ms >= 1000 ? 1000 : 100;
		break;
	case '-':
		if (s->delay_ms > 100)
			s->delay_ms -= s->delay_ms > 1000 ? 1000 : 100;
		break;
	case KEY_RESIZE:
		break;
	case 'n':
	case '.':
		if (!s->replay)
			return false;
		s->step = true;
		break;
	case '[':
	case ']':
		if (!s->replay)
			return false;
		s->jump_s = ch == '[' ? -10 : 10;
		break;
	case 'g':
		if (!s->replay)
			return false;
		prompt("go to second: ", buf, sizeof(buf));
		if (sscanf(buf, "%lf", &s->goto_s) != 1 || s->goto_s < 0) {
			s->goto_s = -1;
			snprintf(s->msg, sizeof(s->msg), "'%.60s' is not a second of the recording",
				 buf);
		}
		break;
	default:
		return false;
	}
	return true;
}
