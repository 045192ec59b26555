// SPDX-License-Identifier: GPL-2.0
/*
 * Parser for Documentation/filesystems/locking.rst.
 *
 * The document is reStructuredText written by hand over twenty years: tabs
 * and spaces mixed in tables, op names with and without a colon, prototypes
 * with typos. Lines are tab-expanded to 8 columns first, as docutils does,
 * and table cells are cut by the column positions of the top border, with
 * each word going to the column it starts in.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockdoc.h"
#include "util.h"

struct lines {
	int n;
	char **v;		/* tab-expanded, right-trimmed; v[i] is line i + 1 */
};

struct parser {
	const char *name;
	struct lines L;
	struct ld_doc *doc;
	struct ld_section *cur;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	return -EINVAL;
}

static char *expand_tabs(const char *s, size_t len)
{
	size_t col = 0, cap = len + 64, i;
	char *out = xmalloc(cap);

	for (i = 0; i < len; i++) {
		if (col + 9 >= cap) {
			cap *= 2;
			out = xrealloc(out, cap);
		}
		if (s[i] == '\t') {
			do
				out[col++] = ' ';
			while (col % 8);
		} else if (s[i] != '\r') {
			out[col++] = s[i];
		}
	}
	while (col && isspace((unsigned char)out[col - 1]))
		col--;
	out[col] = '\0';
	return out;
}

static void split_lines(struct lines *L, const char *text, size_t len)
{
	size_t start = 0, i;

	L->n = 0;
	L->v = NULL;
	for (i = 0; i <= len; i++) {
		if (i == len || text[i] == '\n') {
			if (i == len && start == len)
				break;
			L->v = xrealloc(L->v, (L->n + 1) * sizeof(*L->v));
			L->v[L->n++] = expand_tabs(text + start, i - start);
			start = i + 1;
		}
	}
}

static const char *line_at(struct parser *p, int i)
{
	return i >= 0 && i < p->L.n ? p->L.v[i] : NULL;
}

static bool blank(const char *s)
{
	return !s || !*s;
}

static bool indented(const char *s)
{
	return s && (*s == ' ');
}

/* A run of one punctuation character, as used for titles and transitions. */
static bool rule_line(const char *s, char c, size_t min)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; *s; s++, n++)
		if (*s != c)
			return false;
	return n >= min;
}

/* A simple-table border: two or more runs of '=' separated by spaces. */
static bool table_border(const char *s)
{
	int runs = 0;
	bool in_run = false;

	if (!s || *s != '=')
		return false;
	for (; *s; s++) {
		if (*s == '=') {
			if (!in_run)
				runs++;
			in_run = true;
		} else if (*s == ' ') {
			in_run = false;
		} else {
			return false;
		}
	}
	return runs >= 2;
}

static bool heading_underline(const char *s)
{
	return rule_line(s, '=', 3) || rule_line(s, '-', 3) || rule_line(s, '~', 3);
}

/* "Title" followed by an underline at least as long. */
static bool is_heading(struct parser *p, int i)
{
	const char *t = line_at(p, i), *u = line_at(p, i + 1);

	if (blank(t) || indented(t) || table_border(t) || heading_underline(t))
		return false;
	if (!u || !heading_underline(u) || table_border(u))
		return false;
	return strlen(u) >= strlen(t);
}

char *ld_collapse(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	bool space = false;

	for (i = 0; i < len && s[i]; i++) {
		if (isspace((unsigned char)s[i])) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static struct ld_section *new_section(struct parser *p, const char *title, int line)
{
	struct ld_doc *d = p->doc;
	struct ld_section *s;

	d->sections = xrealloc(d->sections, (d->nsections + 1) * sizeof(*d->sections));
	s = &d->sections[d->nsections++];
	memset(s, 0, sizeof(*s));
	s->title = ld_collapse(title, strlen(title));
	s->line = line;
	p->cur = s;
	return s;
}

static struct ld_section *cur_section(struct parser *p, int line)
{
	/* Text before the first heading belongs to an untitled preamble. */
	return p->cur ? p->cur : new_section(p, "", line);
}

static void add_para(struct ld_para **v, int *n, int first, int last, const char *text)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].line = first;
	(*v)[*n].end_line = last;
	(*v)[*n].text = ld_collapse(text, strlen(text));
	(*n)++;
}

/* ---- prototypes ---------------------------------------------------------- */

static bool base_type_word(const char *w)
{
	static const char *const words[] = {
		"int", "long", "short", "char", "signed", "unsigned", "bool",
		"float", "double", "void", NULL,
	};
	int i;

	for (i = 0; words[i]; i++)
		if (!strcmp(w, words[i]))
			return true;
	return false;
}

static bool qualifier_word(const char *w)
{
	return !strcmp(w, "const") || !strcmp(w, "volatile") || !strcmp(w, "__user") ||
	       !strcmp(w, "restrict");
}

static bool tag_word(const char *w)
{
	return !strcmp(w, "struct") || !strcmp(w, "enum") || !strcmp(w, "union");
}

/*
 * "struct dentry *dentry", "unsigned open_flag", "unsigned int", "void*":
 * a name is the last word when a '*' precedes it, or when what precedes it
 * is a whole type already.
 */
static void parse_arg(const char *text, size_t len, struct ld_arg *a)
{
	char *s = ld_collapse(text, len), *buf, *tok, *save = NULL;
	const char *words[16];
	int nw = 0, first = 0, ntype, i;
	bool named = false;
	size_t cap;

	memset(a, 0, sizeof(*a));
	for (tok = s; *tok; tok++)
		a->ptr += *tok == '*';
	buf = xstrdup(s);
	for (tok = strtok_r(buf, " *", &save); tok && nw < 16; tok = strtok_r(NULL, " *", &save))
		words[nw++] = tok;
	while (first < nw && qualifier_word(words[first]))
		first++;

	if (nw && s[strlen(s) - 1] != '*') {
		const char *last = words[nw - 1];
		const char *star = strrchr(s, '*');

		if (star && star < s + strlen(s) - strlen(last))
			named = true;
		else if (first < nw && tag_word(words[first]))
			named = nw - first >= 3;
		else
			named = nw - first >= 2 && !base_type_word(last) && !qualifier_word(last);
	}
	ntype = named ? nw - 1 : nw;
	if (named)
		a->name = xstrdup(words[nw - 1]);
	for (i = first; i + 1 < ntype; i++) {
		if (tag_word(words[i])) {
			a->tag = xstrdup(words[i + 1]);
			break;
		}
	}
	cap = strlen(s) + 8;
	a->type = xmalloc(cap);
	a->type[0] = '\0';
	for (i = 0; i < ntype; i++) {
		if (i)
			strcat(a->type, " ");
		strcat(a->type, words[i]);
	}
	if (a->ptr) {
		strcat(a->type, " ");
		for (i = 0; i < a->ptr; i++)
			strcat(a->type, "*");
	}
	free(buf);
	free(s);
}

int ld_proto_parse(const char *text, int line, struct ld_proto *p)
{
	const char *star, *name, *q, *args, *end, *start;
	char *piece;
	int depth;

	memset(p, 0, sizeof(*p));
	p->line = line;
	p->text = ld_collapse(text, strlen(text));
	star = strstr(p->text, "(*");
	if (!star)
		return -EINVAL;
	p->ret = ld_collapse(p->text, star - p->text);
	name = star + 2;
	while (*name == ' ')
		name++;
	for (q = name; isalnum((unsigned char)*q) || *q == '_'; q++)
		;
	if (q == name)
		return -EINVAL;
	p->name = strndup(name, q - name);
	if (!p->name)
		oom();
	/* ") (" then the argument list; "((" is a typo seen in d_dname */
	while (*q && *q != '(')
		q++;
	while (*q == '(' || *q == ' ')
		q++;
	args = q;
	depth = 1;
	for (end = args; *end; end++) {
		if (*end == '(')
			depth++;
		else if (*end == ')' && --depth == 0)
			break;
	}
	/* Split on top-level commas. */
	depth = 0;
	for (q = start = args; q <= end; q++) {
		if (q < end && *q != ',') {
			depth += (*q == '(') - (*q == ')');
			continue;
		}
		if (q < end && depth)
			continue;
		piece = ld_collapse(start, q - start);
		if (*piece && strcmp(piece, "void")) {
			p->args = xrealloc(p->args, (p->nargs + 1) * sizeof(*p->args));
			parse_arg(piece, strlen(piece), &p->args[p->nargs++]);
		}
		free(piece);
		start = q + 1;
	}
	return 0;
}

void ld_proto_free(struct ld_proto *p)
{
	int i;

	for (i = 0; i < p->nargs; i++) {
		free(p->args[i].type);
		free(p->args[i].name);
		free(p->args[i].tag);
	}
	free(p->args);
	free(p->name);
	free(p->text);
	free(p->ret);
}

static void strip_comments(char *s)
{
	char *a, *b;

	while ((a = strstr(s, "/*")) && (b = strstr(a + 2, "*/")))
		memmove(a, b + 2, strlen(b + 2) + 1);
}

static int paren_depth(const char *s)
{
	int d = 0;

	for (; *s; s++)
		d += (*s == '(') - (*s == ')');
	return d;
}

/* The literal block after "prototypes::": indented lines, blank lines. */
static int parse_prototypes(struct parser *p, int i)
{
	struct ld_section *sec = cur_section(p, i + 1);
	char *acc = NULL;
	int acc_line = 0;
	size_t acclen = 0;

	for (i++; i < p->L.n; i++) {
		const char *l = line_at(p, i);
		char *piece;
		bool done;

		if (!blank(l) && !indented(l))
			break;
		if (blank(l))
			continue;
		piece = xstrdup(l);
		strip_comments(piece);
		if (!acc) {
			acc_line = i + 1;
			acc = xstrdup("");
			acclen = 0;
		}
		acc = xrealloc(acc, acclen + strlen(piece) + 2);
		acclen += sprintf(acc + acclen, " %s", piece);
		free(piece);

		{
			char *t = ld_collapse(acc, acclen);
			size_t tl = strlen(t);

			done = tl && (t[tl - 1] == ';' ||
				      (t[tl - 1] == ')' && paren_depth(t) <= 0));
			free(t);
		}
		if (done) {
			struct ld_proto pr;

			if (ld_proto_parse(acc, acc_line, &pr) == 0) {
				sec->protos = xrealloc(sec->protos,
						       (sec->nprotos + 1) * sizeof(*sec->protos));
				sec->protos[sec->nprotos++] = pr;
			} else {
				ld_proto_free(&pr);
				add_para(&sec->paras, &sec->nparas, acc_line, i + 1, acc);
			}
			free(acc);
			acc = NULL;
		}
	}
	if (acc) {
		/* an unterminated declaration is kept as text, not lost */
		add_para(&sec->paras, &sec->nparas, acc_line, i, acc);
		free(acc);
	}
	return i;
}

/* ---- tables ---------------------------------------------------------------- */

static int column_starts(const char *border, int **starts)
{
	int n = 0, pos;
	bool in_run = false;

	*starts = NULL;
	for (pos = 0; border[pos]; pos++) {
		if (border[pos] == '=' && !in_run) {
			*starts = xrealloc(*starts, (n + 1) * sizeof(**starts));
			(*starts)[n++] = pos;
		}
		in_run = border[pos] == '=';
	}
	return n;
}

/* Cut @l into @ncols cells; each word goes to the column it starts in. */
static char **cut_cells(const char *l, const int *starts, int ncols)
{
	char **cells = xcalloc(ncols, sizeof(*cells));
	size_t *len = xcalloc(ncols, sizeof(*len));
	int pos = 0, c;

	for (c = 0; c < ncols; c++)
		cells[c] = xstrdup("");
	while (l[pos]) {
		int w = pos, col = 0;

		if (l[pos] == ' ') {
			pos++;
			continue;
		}
		while (l[pos] && l[pos] != ' ')
			pos++;
		for (c = 0; c < ncols; c++)
			if (w >= starts[c])
				col = c;
		cells[col] = xrealloc(cells[col], len[col] + (pos - w) + 2);
		if (len[col])
			cells[col][len[col]++] = ' ';
		memcpy(cells[col] + len[col], l + w, pos - w);
		len[col] += pos - w;
		cells[col][len[col]] = '\0';
	}
	free(len);
	return cells;
}

static void free_cells(char **cells, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(cells[i]);
	free(cells);
}

static char *op_name(const char *cell)
{
	size_t n = strlen(cell);

	while (n && (cell[n - 1] == ':' || cell[n - 1] == ' '))
		n--;
	return strndup(cell, n);
}

static int parse_table(struct parser *p, int i)
{
	struct ld_section *sec = cur_section(p, i + 1);
	struct ld_table *t;
	int top = i, *starts, ncols, k;
	int head_end = -1, bottom = -1;

	ncols = column_starts(line_at(p, i), &starts);
	for (k = i + 1; k < p->L.n; k++) {
		const char *l = line_at(p, k);

		if (table_border(l)) {
			if (head_end < 0) {
				head_end = k;
			} else {
				bottom = k;
				break;
			}
		} else if (head_end >= 0 && blank(l)) {
			/* simple tables may hold blank lines, but not end on one */
			continue;
		} else if (head_end < 0 && blank(l)) {
			free(starts);
			return fail(p, top + 1, "table: no header border under the header row");
		} else if (is_heading(p, k)) {
			break;
		}
	}
	if (head_end < 0 || head_end == top + 1) {
		free(starts);
		return fail(p, top + 1, "table: header row missing");
	}
	if (bottom < 0) {
		free(starts);
		return fail(p, top + 1, "table: no closing border");
	}

	sec->tables = xrealloc(sec->tables, (sec->ntables + 1) * sizeof(*sec->tables));
	t = &sec->tables[sec->ntables++];
	memset(t, 0, sizeof(*t));
	t->line = top + 1;
	t->ncols = ncols;
	t->head = xcalloc(ncols, sizeof(*t->head));
	for (k = 0; k < ncols; k++)
		t->head[k] = xstrdup("");

	for (k = top + 1; k < head_end; k++) {
		char **cells = cut_cells(line_at(p, k), starts, ncols);
		int c;

		for (c = 0; c < ncols; c++) {
			if (!*cells[c])
				continue;
			if (*t->head[c]) {
				char *j = xmalloc(strlen(t->head[c]) + strlen(cells[c]) + 2);

				sprintf(j, "%s %s", t->head[c], cells[c]);
				free(t->head[c]);
				t->head[c] = j;
			} else {
				free(t->head[c]);
				t->head[c] = xstrdup(cells[c]);
			}
		}
		free_cells(cells, ncols);
	}

	for (k = head_end + 1; k < bottom; k++) {
		const char *l = line_at(p, k);
		char **cells;
		int c;

		if (blank(l))
			continue;
		cells = cut_cells(l, starts, ncols);
		if (!*cells[0] && t->nrows) {
			/* RST: an empty first column continues the row above */
			struct ld_row *r = &t->rows[t->nrows - 1];

			for (c = 1; c < ncols; c++) {
				char *j;

				if (!*cells[c])
					continue;
				j = xmalloc(strlen(r->cells[c - 1]) + strlen(cells[c]) + 2);
				sprintf(j, "%s%s%s", r->cells[c - 1], *r->cells[c - 1] ? " " : "",
					cells[c]);
				free(r->cells[c - 1]);
				r->cells[c - 1] = j;
			}
			free_cells(cells, ncols);
			continue;
		}
		if (!*cells[0]) {
			free_cells(cells, ncols);
			free(starts);
			return fail(p, k + 1, "table: row without an op name");
		}
		t->rows = xrealloc(t->rows, (t->nrows + 1) * sizeof(*t->rows));
		t->rows[t->nrows].line = k + 1;
		t->rows[t->nrows].op = op_name(cells[0]);
		t->rows[t->nrows].cells = xcalloc(ncols > 1 ? ncols - 1 : 1, sizeof(char *));
		for (c = 1; c < ncols; c++) {
			t->rows[t->nrows].cells[c - 1] = cells[c];
			cells[c] = NULL;
		}
		t->nrows++;
		free_cells(cells, ncols);
	}
	free(starts);
	return bottom + 1;
}

/* ---- driver ------------------------------------------------------------------ */

static bool starts_with_ci(const char *s, const char *prefix)
{
	return s && !strncasecmp(s, prefix, strlen(prefix));
}

static const char *ltrim(const char *s)
{
	while (s && *s == ' ')
		s++;
	return s;
}

static int parse_lines(struct parser *p)
{
	int i = 0;

	while (i < p->L.n) {
		const char *l = line_at(p, i);
		const char *t = ltrim(l);

		if (blank(l)) {
			i++;
			continue;
		}
		/* Overlined document title: ===, Title, === */
		if (rule_line(l, '=', 3) && !blank(line_at(p, i + 1)) &&
		    rule_line(line_at(p, i + 2), '=', 3)) {
			new_section(p, ltrim(line_at(p, i + 1)), i + 2);
			i += 3;
			continue;
		}
		if (is_heading(p, i)) {
			new_section(p, l, i + 1);
			i += 2;
			continue;
		}
		/* A transition; a short lone line after it titles what follows. */
		if (rule_line(l, '-', 4)) {
			int j = i + 1;

			while (j < p->L.n && blank(line_at(p, j)))
				j++;
			if (j < p->L.n && strlen(ltrim(line_at(p, j))) <= 40 &&
			    blank(line_at(p, j + 1))) {
				new_section(p, ltrim(line_at(p, j)), j + 1);
				i = j + 1;
			} else {
				i++;
			}
			continue;
		}
		if (table_border(l)) {
			int r = parse_table(p, i);

			if (r < 0)
				return r;
			i = r;
			continue;
		}
		if (starts_with_ci(t, "prototypes:")) {
			i = parse_prototypes(p, i);
			continue;
		}
		if (starts_with_ci(t, "locking rules:")) {
			struct ld_section *s = cur_section(p, i + 1);

			for (i++; i < p->L.n; i++) {
				const char *sl = line_at(p, i);

				if (blank(sl) || table_border(sl))
					break;
				add_para(&s->stmts, &s->nstmts, i + 1, i + 1, sl);
			}
			continue;
		}
		/* Prose: up to a blank line or anything structural. */
		{
			struct ld_section *s = cur_section(p, i + 1);
			int first = i;
			size_t cap = 256, len = 0;
			char *buf = xmalloc(cap);

			buf[0] = '\0';
			while (i < p->L.n) {
				const char *pl = line_at(p, i);

				if (blank(pl) || table_border(pl) || is_heading(p, i) ||
				    (i > first && starts_with_ci(ltrim(pl), "locking rules:")) ||
				    (i > first && starts_with_ci(ltrim(pl), "prototypes:")))
					break;
				while (len + strlen(pl) + 2 > cap) {
					cap *= 2;
					buf = xrealloc(buf, cap);
				}
				len += sprintf(buf + len, "%s%s", len ? " " : "", pl);
				i++;
			}
			add_para(&s->paras, &s->nparas, first + 1, i, buf);
			free(buf);
		}
	}
	return 0;
}

static bool looks_like_locking_rst(const struct ld_doc *d)
{
	int i, protos = 0, tables = 0;

	for (i = 0; i < d->nsections; i++) {
		protos += d->sections[i].nprotos;
		tables += d->sections[i].ntables;
	}
	return protos > 0 && tables > 0;
}

int ld_parse(const char *name, const char *text, size_t len, struct ld_doc **out,
	     char *err, size_t errlen)
{
	struct parser p = { .name = name, .err = err, .errlen = errlen };
	int ret, i;

	*out = NULL;
	if (memchr(text, '\0', len))
		return fail(&p, 1, "binary data, not a locking.rst");
	split_lines(&p.L, text, len);
	p.doc = xcalloc(1, sizeof(*p.doc));
	p.doc->name = xstrdup(name);
	p.doc->nlines = p.L.n;
	ret = parse_lines(&p);
	if (!ret && !looks_like_locking_rst(p.doc))
		ret = fail(&p, 1, "not a locking.rst: no section has both prototypes and "
			   "a table of locking rules");
	for (i = 0; i < p.L.n; i++)
		free(p.L.v[i]);
	free(p.L.v);
	if (ret) {
		ld_free(p.doc);
		return ret;
	}
	*out = p.doc;
	return 0;
}

int ld_parse_file(const char *path, struct ld_doc **out, char *err, size_t errlen)
{
	size_t len;
	char *text;
	int ret;

	text = read_file(path, &len);
	if (!text) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	ret = ld_parse(path, text, len, out, err, errlen);
	free(text);
	return ret;
}

static void free_paras(struct ld_para *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(v[i].text);
	free(v);
}

void ld_free(struct ld_doc *doc)
{
	int i, j, k;

	if (!doc)
		return;
	for (i = 0; i < doc->nsections; i++) {
		struct ld_section *s = &doc->sections[i];

		for (j = 0; j < s->nprotos; j++)
			ld_proto_free(&s->protos[j]);
		free(s->protos);
		for (j = 0; j < s->ntables; j++) {
			struct ld_table *t = &s->tables[j];

			for (k = 0; k < t->nrows; k++) {
				free_cells(t->rows[k].cells, t->ncols - 1);
				free(t->rows[k].op);
			}
			free(t->rows);
			free_cells(t->head, t->ncols);
		}
		free(s->tables);
		free_paras(s->stmts, s->nstmts);
		free_paras(s->paras, s->nparas);
		free(s->title);
	}
	free(doc->sections);
	free(doc->name);
	free(doc);
}

const struct ld_section *ld_section_find(const struct ld_doc *doc, const char *title)
{
	int i;

	for (i = 0; i < doc->nsections; i++)
		if (!strcmp(doc->sections[i].title, title))
			return &doc->sections[i];
	return NULL;
}

const struct ld_proto *ld_proto_find(const struct ld_section *s, const char *name)
{
	int i;

	for (i = 0; s && i < s->nprotos; i++)
		if (!strcmp(s->protos[i].name, name))
			return &s->protos[i];
	return NULL;
}
