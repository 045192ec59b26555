// SPDX-License-Identifier: GPL-2.0
/*
 * From a parsed locking.rst to rules: the meaning of table cells, of the
 * whole-section statements and of the prose sentences that carry locking
 * requirements. The vocabulary lives here (what "exclusive (both)" or
 * "on victim" means); the requirements themselves always come from the text.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

#include <bpf/btf.h>

#include "rules.h"
#include "util.h"

/* ---- names -------------------------------------------------------------- */

static const char *const prop_keys[VL_PROP_MAX] = {
	[VL_PROP_OTHER]			= "other",
	[VL_PROP_I_RWSEM]		= "i_rwsem",
	[VL_PROP_S_UMOUNT]		= "s_umount",
	[VL_PROP_D_LOCK]		= "d_lock",
	[VL_PROP_I_LOCK]		= "i_lock",
	[VL_PROP_RENAME_LOCK]		= "rename_lock",
	[VL_PROP_S_VFS_RENAME]		= "s_vfs_rename",
	[VL_PROP_INVALIDATE_LOCK]	= "invalidate_lock",
	[VL_PROP_MMAP_LOCK]		= "mmap_lock",
	[VL_PROP_FOLIO_LOCK]		= "folio_lock",
	[VL_PROP_OPEN_MUTEX]		= "open_mutex",
	[VL_PROP_FLC_LOCK]		= "flc_lock",
	[VL_PROP_BLOCKED_LOCK_LOCK]	= "blocked_lock_lock",
	[VL_PROP_F_POS_LOCK]		= "f_pos_lock",
	[VL_PROP_RCU]			= "rcu",
	[VL_PROP_MAY_BLOCK]		= "may_block",
	[VL_PROP_RCU_WALK]		= "rcu_walk",
	[VL_PROP_NOTE]			= "note",
};

bool rule_on_context(const struct vl_rule *r)
{
	return r->prop == VL_PROP_MAY_BLOCK || r->prop == VL_PROP_RCU_WALK;
}

const char *prop_key(enum vl_prop p)
{
	return p < VL_PROP_MAX ? prop_keys[p] : "?";
}

const char *req_kind_name(enum vl_req_kind k)
{
	static const char *const n[] = {
		[VL_REQ_NONE] = "none", [VL_REQ_HELD] = "held",
		[VL_REQ_UNKNOWN] = "unknown", [VL_REQ_MAY_BLOCK] = "may-block",
		[VL_REQ_NO_BLOCK] = "no-block", [VL_REQ_NO_RCU_WALK] = "not-in-rcu-walk",
		[VL_REQ_MAY_RCU_WALK] = "may-rcu-walk", [VL_REQ_HELD_UNLOCKS] = "held-unlocks",
		[VL_REQ_LOCKS] = "locks", [VL_REQ_MAY_RETURN_LOCKED] = "may-return-locked",
		[VL_REQ_TAKES] = "takes", [VL_REQ_NOT_HELD] = "not-held",
	};
	return k < ARRAY_SIZE(n) && n[k] ? n[k] : "?";
}

const char *req_mode_name(enum vl_req_mode m)
{
	switch (m) {
	case VL_RMODE_SHARED:
		return "shared";
	case VL_RMODE_EXCL:
		return "exclusive";
	default:
		return "held";
	}
}

const char *target_name(enum vl_target t)
{
	static const char *const n[] = {
		[VL_TGT_DEFAULT] = "inode", [VL_TGT_BOTH] = "both", [VL_TGT_ALL] = "all",
		[VL_TGT_PARENTS] = "parents", [VL_TGT_VICTIM] = "victim",
		[VL_TGT_NONDIR] = "nondir", [VL_TGT_MOVED_SUBDIR] = "subdir",
		[VL_TGT_SB] = "sb", [VL_TGT_FILE] = "file", [VL_TGT_FOLIO] = "folio",
	};
	return t < ARRAY_SIZE(n) && n[t] ? n[t] : "?";
}

const char *cond_name(enum vl_cond c)
{
	static const char *const n[] = {
		[VL_COND_NONE] = "", [VL_COND_ARG_FLAG] = "arg-flag",
		[VL_COND_CROSS_DIR] = "cross-directory", [VL_COND_REF_WALK] = "ref-walk",
		[VL_COND_RCU_WALK] = "rcu-walk", [VL_COND_OTHER] = "other",
	};
	return c < ARRAY_SIZE(n) && n[c] ? n[c] : "?";
}

/* ---- small string helpers ------------------------------------------------- */

static char *lower_dup(const char *s)
{
	char *d = xstrdup(s), *p;

	for (p = d; *p; p++)
		*p = tolower((unsigned char)*p);
	return d;
}

/* Remove every occurrence of @what from @s, in place. */
static void erase(char *s, const char *what)
{
	size_t n = strlen(what);
	char *p;

	while ((p = strstr(s, what)))
		memmove(p, p + n, strlen(p + n) + 1);
}

static bool word_at(const char *s, const char *w)
{
	size_t n = strlen(w);

	return !strncmp(s, w, n) && !isalnum((unsigned char)s[n]) && s[n] != '_';
}

static bool has(const char *s, const char *w)
{
	return strstr(s, w) != NULL;
}

/* ---- columns ---------------------------------------------------------------- */

static enum vl_prop prop_of_header(const char *head)
{
	static const struct {
		const char *pat;
		enum vl_prop prop;
	} map[] = {
		{ "i_rwsem", VL_PROP_I_RWSEM },
		{ "i_mutex", VL_PROP_I_RWSEM },
		{ "s_umount", VL_PROP_S_UMOUNT },
		/* before d_lock, which its name contains */
		{ "blocked_lock_lock", VL_PROP_BLOCKED_LOCK_LOCK },
		{ "d_lock", VL_PROP_D_LOCK },
		{ "i_lock", VL_PROP_I_LOCK },
		{ "rename_lock", VL_PROP_RENAME_LOCK },
		{ "invalidate_lock", VL_PROP_INVALIDATE_LOCK },
		{ "mmap_lock", VL_PROP_MMAP_LOCK },
		{ "mmap_sem", VL_PROP_MMAP_LOCK },
		{ "folio locked", VL_PROP_FOLIO_LOCK },
		{ "pagelocked", VL_PROP_FOLIO_LOCK },
		{ "page locked", VL_PROP_FOLIO_LOCK },
		{ "open_mutex", VL_PROP_OPEN_MUTEX },
		{ "bd_mutex", VL_PROP_OPEN_MUTEX },
		{ "flc_lock", VL_PROP_FLC_LOCK },
		{ "may block", VL_PROP_MAY_BLOCK },
		{ "rcu-walk", VL_PROP_RCU_WALK },
		{ "note", VL_PROP_NOTE },
	};
	char *h = lower_dup(head);
	enum vl_prop p = VL_PROP_OTHER;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(map); i++) {
		if (has(h, map[i].pat)) {
			p = map[i].prop;
			break;
		}
	}
	free(h);
	return p;
}

/* Id key of a column: the prop, or the header made an identifier. */
static char *column_key(enum vl_prop p, const char *head)
{
	char *k, *s;

	if (p != VL_PROP_OTHER)
		return xstrdup(prop_key(p));
	k = lower_dup(head);
	for (s = k; *s; s++)
		if (!isalnum((unsigned char)*s))
			*s = '_';
	return k;
}

static char *section_key(const char *title)
{
	char *k = lower_dup(title), *s;

	for (s = k; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			*s = '_';
	return k;
}

const char *rules_struct_of_section(const char *title, char *buf, size_t len)
{
	const char *sp = strchr(title, ' ');

	/* "xattr_handler operations" -> xattr_handler; "inode_operations" as is */
	if (sp && !strcmp(sp + 1, "operations"))
		snprintf(buf, len, "%.*s", (int)(sp - title), title);
	else
		snprintf(buf, len, "%s", title);
	return buf;
}

/* ---- cells --------------------------------------------------------------------- */

static struct vl_req *add_req(struct vl_rule *r)
{
	struct vl_req *q;

	if (r->nreqs >= VL_RULE_MAX_REQS)
		return NULL;
	q = &r->reqs[r->nreqs++];
	memset(q, 0, sizeof(*q));
	return q;
}

/* The name of the argument a cell's words refer to ("open flags" -> open_flag). */
static void arg_named_like(const struct ld_proto *pr, const char *words, char *out, size_t len)
{
	int i;

	out[0] = '\0';
	for (i = 0; pr && i < pr->nargs; i++) {
		const char *n = pr->args[i].name;

		if (n && strstr(n, "flag") && has(words, "flag")) {
			snprintf(out, len, "%s", n);
			return;
		}
	}
}

static void lock_cell(struct vl_rule *r, const char *cell, const struct ld_proto *pr)
{
	char *v = lower_dup(cell);
	struct vl_req *q = add_req(r);

	erase(v, "(see below)");
	erase(v, "[1]_");
	strtrim(v);
	if (word_at(v, "no")) {
		q->kind = VL_REQ_NONE;
	} else if (word_at(v, "maybe") || has(v, "maybe-") || has(v, "maybe(")) {
		q->kind = VL_REQ_UNKNOWN;
	} else if (word_at(v, "read/write")) {
		q->kind = VL_REQ_HELD;
		q->mode = VL_RMODE_SHARED;
	} else if (word_at(v, "shared") || word_at(v, "read")) {
		q->kind = VL_REQ_HELD;
		q->mode = VL_RMODE_SHARED;
	} else if (word_at(v, "exclusive") || word_at(v, "write")) {
		q->kind = VL_REQ_HELD;
		q->mode = VL_RMODE_EXCL;
	} else if (word_at(v, "yes")) {
		q->kind = VL_REQ_HELD;
		q->mode = VL_RMODE_ANY;
	} else {
		q->kind = VL_REQ_UNKNOWN;
	}

	if (has(v, "(both parents"))
		q->target = VL_TGT_PARENTS;
	else if (has(v, "(both)"))
		q->target = VL_TGT_BOTH;
	else if (has(v, "(all)"))
		q->target = VL_TGT_ALL;

	/* "shared (exclusive if O_CREAT is set in open flags)" */
	if (has(v, "(exclusive if o_creat")) {
		struct vl_req *x = add_req(r);

		if (x) {
			*x = *q;
			x->mode = VL_RMODE_EXCL;
			x->cond = VL_COND_ARG_FLAG;
			x->cond_flag = O_CREAT;
			arg_named_like(pr, v, x->cond_arg, sizeof(x->cond_arg));
			if (!x->cond_arg[0])
				x->cond = VL_COND_OTHER;
		}
	} else if (has(v, " if ") || has(v, "(if ")) {
		q->cond = VL_COND_OTHER;
	}
	free(v);
}

static void block_cell(struct vl_rule *r, const char *cell)
{
	char *v = lower_dup(cell);
	struct vl_req *q = add_req(r);

	strtrim(v);
	if (word_at(v, "yes")) {
		q->kind = VL_REQ_MAY_BLOCK;
		if (has(v, "(ref-walk)")) {
			/* may block in ref-walk only: not in rcu-walk */
			struct vl_req *x = add_req(r);

			if (x) {
				x->kind = VL_REQ_NO_BLOCK;
				x->cond = VL_COND_RCU_WALK;
			}
		}
	} else if (word_at(v, "no")) {
		q->kind = VL_REQ_NO_BLOCK;
	} else {
		q->kind = VL_REQ_UNKNOWN;
	}
	free(v);
}

static void rcuwalk_cell(struct vl_rule *r, const char *cell)
{
	char *v = lower_dup(cell);
	struct vl_req *q = add_req(r);

	strtrim(v);
	if (word_at(v, "no"))
		q->kind = VL_REQ_NO_RCU_WALK;
	else if (word_at(v, "maybe") || word_at(v, "yes"))
		q->kind = VL_REQ_MAY_RCU_WALK;
	else
		q->kind = VL_REQ_UNKNOWN;
	free(v);
}

static void folio_cell(struct vl_rule *r, const char *cell)
{
	char *v = lower_dup(cell);
	struct vl_req *q = add_req(r);

	erase(v, "(see below)");
	strtrim(v);
	q->target = VL_TGT_FOLIO;
	if (has(v, "unlocks")) {
		q->kind = VL_REQ_HELD_UNLOCKS;
	} else if (word_at(v, "locks")) {
		q->kind = VL_REQ_LOCKS;
	} else if (has(v, "can return with")) {
		q->kind = VL_REQ_MAY_RETURN_LOCKED;
	} else if (word_at(v, "yes")) {
		q->kind = VL_REQ_HELD;
	} else if (word_at(v, "no")) {
		q->kind = VL_REQ_NONE;
	} else {
		q->kind = VL_REQ_UNKNOWN;
	}
	free(v);
}

/* A free-text note column: only a few notes name a lock or a context. */
static enum vl_prop note_prop(const char *cell)
{
	char *v = lower_dup(cell);
	enum vl_prop p = VL_PROP_NOTE;

	if (has(v, "i_lock"))
		p = VL_PROP_I_LOCK;
	else if (has(v, "rcu callback"))
		p = VL_PROP_RCU;
	free(v);
	return p;
}

static void note_cell(struct vl_rule *r, const char *cell)
{
	add_req(r)->kind = r->prop == VL_PROP_NOTE ? VL_REQ_UNKNOWN : VL_REQ_HELD;
}

/* ---- building ---------------------------------------------------------------------- */

struct builder {
	struct vl_ruleset *rs;
};

static bool id_taken(const struct vl_ruleset *rs, const char *id)
{
	return rules_find(rs, id) != NULL;
}

static struct vl_rule *new_rule(struct builder *b, const struct ld_section *s,
				const char *method, const char *column, const char *text,
				int line, enum vl_origin origin, enum vl_prop prop,
				const char *key, const char *suffix)
{
	struct vl_ruleset *rs = b->rs;
	char *sk = section_key(s->title);
	char id[256];
	struct vl_rule *r;
	int n = 2;

	snprintf(id, sizeof(id), "%s.%s.%s%s%s", sk, method, key, suffix ? "." : "",
		 suffix ? suffix : "");
	while (id_taken(rs, id)) {
		snprintf(id, sizeof(id), "%s.%s.%s%s%s-%d", sk, method, key, suffix ? "." : "",
			 suffix ? suffix : "", n++);
	}
	free(sk);
	rs->rules = xrealloc(rs->rules, (rs->nrules + 1) * sizeof(*rs->rules));
	r = &rs->rules[rs->nrules++];
	memset(r, 0, sizeof(*r));
	r->id = xstrdup(id);
	r->section = xstrdup(s->title);
	r->method = xstrdup(method);
	r->column = xstrdup(column);
	r->text = xstrdup(text);
	r->line = line;
	r->origin = origin;
	r->prop = prop;
	return r;
}

static void build_table(struct builder *b, const struct ld_section *s, const struct ld_table *t)
{
	int row, c;

	for (row = 0; row < t->nrows; row++) {
		const struct ld_row *rw = &t->rows[row];
		const struct ld_proto *pr = ld_proto_find(s, rw->op);

		for (c = 1; c < t->ncols; c++) {
			const char *cell = rw->cells[c - 1];
			enum vl_prop col = prop_of_header(t->head[c]), p = col;
			char *key;
			struct vl_rule *r;

			if (!*cell)
				continue;
			if (col == VL_PROP_NOTE)
				p = note_prop(cell);
			key = column_key(p, t->head[c]);
			r = new_rule(b, s, rw->op, t->head[c], cell, rw->line, VL_FROM_TABLE, p,
				     key, NULL);
			free(key);
			switch (col) {
			case VL_PROP_MAY_BLOCK:
				block_cell(r, cell);
				break;
			case VL_PROP_RCU_WALK:
				rcuwalk_cell(r, cell);
				break;
			case VL_PROP_FOLIO_LOCK:
				folio_cell(r, cell);
				break;
			case VL_PROP_NOTE:
				note_cell(r, cell);
				break;
			case VL_PROP_OTHER:
				add_req(r)->kind = VL_REQ_UNKNOWN;
				break;
			default:
				lock_cell(r, cell, pr);
				/* "no (may not block if called in rcu-walk mode)" */
				if (has(cell, "may not block")) {
					struct vl_rule *x;

					x = new_rule(b, s, rw->op, t->head[c], cell, rw->line,
						     VL_FROM_TABLE, VL_PROP_MAY_BLOCK, "may_block",
						     has(cell, "rcu-walk") ? "rcu_walk" : "cell");
					add_req(x)->kind = VL_REQ_NO_BLOCK;
					x->reqs[0].cond = has(cell, "rcu-walk") ? VL_COND_RCU_WALK
									 : VL_COND_OTHER;
				}
				break;
			}
		}
	}
}

/* Every op the section knows: prototypes first, then table rows. */
static int section_ops(const struct ld_section *s, const char ***out)
{
	const char **v = NULL;
	int n = 0, i, j, k;

	for (i = 0; i < s->nprotos; i++) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = s->protos[i].name;
	}
	for (i = 0; i < s->ntables; i++) {
		for (j = 0; j < s->tables[i].nrows; j++) {
			const char *op = s->tables[i].rows[j].op;

			for (k = 0; k < n && strcmp(v[k], op); k++)
				;
			if (k == n) {
				v = xrealloc(v, (n + 1) * sizeof(*v));
				v[n++] = op;
			}
		}
	}
	*out = v;
	return n;
}

static bool in_list(const char *w, size_t wlen, const char **v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) == wlen && !strncmp(v[i], w, wlen))
			return true;
	return false;
}

/*
 * "all may block", "All may block [not true, see below]",
 * "All except dirty_folio and free_folio may block".
 */
static void build_statement(struct builder *b, const struct ld_section *s, const struct ld_para *st)
{
	char *v = lower_dup(st->text), *exc;
	const char **ops;
	int nops, i;

	if (!has(v, "may block")) {
		free(v);
		return;
	}
	nops = section_ops(s, &ops);
	exc = strstr(v, "except ");
	for (i = 0; i < nops; i++) {
		bool excepted = false;
		struct vl_rule *r;

		if (exc) {
			const char *p = exc + 7, *end = strstr(exc, "may block");

			while (p < end) {
				size_t wl;

				while (p < end && !(isalnum((unsigned char)*p) || *p == '_'))
					p++;
				wl = 0;
				while (p + wl < end && (isalnum((unsigned char)p[wl]) || p[wl] == '_'))
					wl++;
				if (wl && strlen(ops[i]) == wl && !strncasecmp(p, ops[i], wl))
					excepted = true;
				p += wl;
			}
		}
		r = new_rule(b, s, ops[i], "", st->text, st->line, VL_FROM_STATEMENT,
			     VL_PROP_MAY_BLOCK, "may_block", NULL);
		add_req(r)->kind = excepted ? VL_REQ_NO_BLOCK : VL_REQ_MAY_BLOCK;
		if (has(v, "not true"))
			r->reqs[0].kind = excepted ? VL_REQ_NO_BLOCK : VL_REQ_UNKNOWN;
	}
	free(ops);
	free(v);
}

/* ---- prose ------------------------------------------------------------------------- */

struct sentence {
	char *text;		/* as written */
	char *low;		/* lower case */
	int line;
};

static bool abbreviation_before(const char *text, const char *dot)
{
	static const char *const abbr[] = { "e.g", "i.e", "etc", "vs", "cf" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(abbr); i++) {
		size_t n = strlen(abbr[i]);

		if (dot - text >= (long)n && !strncasecmp(dot - n, abbr[i], n))
			return true;
	}
	return false;
}

static int split_sentences(const struct ld_para *p, struct sentence **out)
{
	const char *t = p->text, *start = t, *q;
	struct sentence *v = NULL;
	int n = 0;

	for (q = t;; q++) {
		bool end = !*q || (*q == '.' && (q[1] == ' ' || !q[1]) &&
				   !abbreviation_before(t, q));

		if (!end)
			continue;
		if (q > start) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n].text = ld_collapse(start, q - start + (*q == '.'));
			v[n].low = lower_dup(v[n].text);
			v[n].line = p->line;
			n++;
		}
		if (!*q)
			break;
		start = q + 1;
		if (!q[1])
			break;
	}
	*out = v;
	return n;
}

/* Methods a sentence names: "->name", "the name implementation", or a leading name. */
static int sentence_methods(const char *s, const char **ops, int nops, const char ***out)
{
	const char **v = NULL;
	const char *p;
	int n = 0, i;

	for (p = s; (p = strstr(p, "->")); p += 2) {
		const char *w = p + 2;
		size_t wl = 0;

		while (isalnum((unsigned char)w[wl]) || w[wl] == '_')
			wl++;
		/* "like ->read_folio()", "such as ->remap_file_range": a comparison */
		if ((p - s >= 5 && !strncmp(p - 5, "like ", 5)) ||
		    (p - s >= 3 && !strncmp(p - 3, "as ", 3)) ||
		    (p - s >= 3 && !strncmp(p - 3, "or ", 3) && strstr(s, "such as")))
			continue;
		if (wl && in_list(w, wl, ops, nops)) {
			for (i = 0; i < nops; i++) {
				if (strlen(ops[i]) == wl && !strncmp(ops[i], w, wl)) {
					int k;

					for (k = 0; k < n && v[k] != ops[i]; k++)
						;
					if (k == n) {
						v = xrealloc(v, (n + 1) * sizeof(*v));
						v[n++] = ops[i];
					}
				}
			}
		}
	}
	for (i = 0; i < nops && !n; i++) {
		char pat[96];

		snprintf(pat, sizeof(pat), "the %s implementation", ops[i]);
		if (strstr(s, pat) || (word_at(s, ops[i]) && !strncmp(s, ops[i], strlen(ops[i])))) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			v[n++] = ops[i];
		}
	}
	*out = v;
	return n;
}

struct prose_rule {
	enum vl_prop prop;
	struct vl_req req;
	const char *suffix;
};

static enum vl_req_mode mode_near(const char *s, const char *lock)
{
	const char *p = strstr(s, lock);
	const char *stop;

	if (!p)
		return VL_RMODE_ANY;
	/* the clause after the lock name: up to the next comma or "and" */
	stop = strstr(p, ", and");
	if (!stop)
		stop = p + strlen(p);
	{
		char *clause = strndup(p, stop - p);
		enum vl_req_mode m = VL_RMODE_ANY;

		if (!clause)
			oom();
		if (has(clause, "exclusive") || has(clause, "for writing"))
			m = VL_RMODE_EXCL;
		else if (has(clause, "for reading") || has(clause, "shared"))
			m = VL_RMODE_SHARED;
		free(clause);
		return m;
	}
}

static bool held_verb(const char *s)
{
	return has(s, " have ") || has(s, " has ") || has(s, "called with") ||
	       has(s, " held") || has(s, "is locked") || has(s, "kept locked") ||
	       has(s, "takes a write-locked");
}

static bool takes_verb(const char *s)
{
	return has(s, "must take") || has(s, "must lock") || has(s, "must exclusively acquire") ||
	       has(s, "must acquire");
}

/* Requirements one sentence carries, in the order they appear. */
static int prose_reqs(const struct sentence *st, struct prose_rule *out, int max)
{
	const char *s = st->low;
	int n = 0;

#define PUSH(...) do { if (n < max) { out[n] = (struct prose_rule){ __VA_ARGS__ }; n++; } } while (0)

	if (has(s, "i_rwsem") && !has(s, "can be used")) {
		enum vl_target t = VL_TGT_DEFAULT;

		if (has(s, "on victim"))
			t = VL_TGT_VICTIM;
		else if (has(s, "non-directories"))
			t = VL_TGT_NONDIR;
		else if (has(s, "subdirectory that changes parent"))
			t = VL_TGT_MOVED_SUBDIR;
		if (held_verb(s))
			PUSH(.prop = VL_PROP_I_RWSEM,
			     .req = { .kind = VL_REQ_HELD, .mode = mode_near(s, "i_rwsem"), .target = t },
			     .suffix = t == VL_TGT_DEFAULT ? NULL : target_name(t));
	}
	if ((has(s, "s_vfs_rename_sem") || has(s, "s_vfs_rename_mutex")) && held_verb(s))
		PUSH(.prop = VL_PROP_S_VFS_RENAME,
		     .req = { .kind = VL_REQ_HELD, .target = VL_TGT_SB,
			      .cond = has(s, "cross-directory") ? VL_COND_CROSS_DIR : VL_COND_NONE });
	if (has(s, "f_pos_lock") && held_verb(s))
		PUSH(.prop = VL_PROP_F_POS_LOCK,
		     .req = { .kind = VL_REQ_HELD, .mode = mode_near(s, "f_pos_lock"),
			      .target = VL_TGT_FILE });
	if (has(s, "invalidate_lock")) {
		bool before_call = has(s, "calling into ->") || has(s, "before invalidating");

		if (takes_verb(s) && !before_call)
			PUSH(.prop = VL_PROP_INVALIDATE_LOCK,
			     .req = { .kind = VL_REQ_TAKES,
				      .mode = has(s, "exclusively") ? VL_RMODE_EXCL : VL_RMODE_ANY,
				      .cond = (!strncmp(s, "if ", 3) || has(s, ", then"))
					      ? VL_COND_OTHER : VL_COND_NONE },
			     .suffix = "takes");
		else if (takes_verb(s) && before_call)
			PUSH(.prop = VL_PROP_INVALIDATE_LOCK,
			     .req = { .kind = VL_REQ_HELD,
				      .mode = has(s, "exclusively") ? VL_RMODE_EXCL : VL_RMODE_ANY });
	}
	if (has(s, "rcu lock held") || has(s, "with the rcu lock"))
		PUSH(.prop = VL_PROP_RCU, .req = { .kind = VL_REQ_HELD });
	if (has(s, "page table locked") || has(s, "page table lock held"))
		PUSH(.prop = VL_PROP_OTHER, .req = { .kind = VL_REQ_HELD }, .suffix = "page_table_lock");
	if (has(s, "must not block") || has(s, "should not block") || has(s, "may not block"))
		PUSH(.prop = VL_PROP_MAY_BLOCK,
		     .req = { .kind = VL_REQ_NO_BLOCK,
			      .cond = has(s, "lease") || has(s, " if ") ? VL_COND_OTHER : VL_COND_NONE });
	if (has(s, "mmap_lock may not be held"))
		PUSH(.prop = VL_PROP_MMAP_LOCK, .req = { .kind = VL_REQ_NONE });
	if ((has(s, "unlocks the folio") || has(s, "unlocks the page")) && !has(s, "then unlock"))
		PUSH(.prop = VL_PROP_FOLIO_LOCK,
		     .req = { .kind = VL_REQ_HELD_UNLOCKS, .target = VL_TGT_FOLIO }, .suffix = "unlocks");
	if (has(s, "return with vm_fault_locked") || has(s, "return with the page locked"))
		PUSH(.prop = VL_PROP_FOLIO_LOCK,
		     .req = { .kind = VL_REQ_MAY_RETURN_LOCKED, .target = VL_TGT_FOLIO },
		     .suffix = "return");
	if ((has(s, "folio is locked") || has(s, "kept locked")) && !has(s, " or "))
		PUSH(.prop = VL_PROP_FOLIO_LOCK, .req = { .kind = VL_REQ_HELD, .target = VL_TGT_FOLIO },
		     .suffix = "held");
	if (has(s, "s_umount") && has(s, "(shared)"))
		PUSH(.prop = VL_PROP_S_UMOUNT,
		     .req = { .kind = VL_REQ_HELD, .mode = VL_RMODE_SHARED, .target = VL_TGT_SB,
			      .cond = has(s, "when ") ? VL_COND_OTHER : VL_COND_NONE });
	if (has(s, "takes a write-locked superblock"))
		PUSH(.prop = VL_PROP_S_UMOUNT,
		     .req = { .kind = VL_REQ_HELD, .mode = VL_RMODE_EXCL, .target = VL_TGT_SB });
	if (has(s, "superblock should be locked on return"))
		PUSH(.prop = VL_PROP_S_UMOUNT,
		     .req = { .kind = VL_REQ_LOCKS, .mode = VL_RMODE_EXCL, .target = VL_TGT_SB });
	if (has(s, "is called with swap_lock"))
		PUSH(.prop = VL_PROP_OTHER, .req = { .kind = VL_REQ_HELD }, .suffix = "swap_lock");
#undef PUSH
	return n;
}

/*
 * ".. [1]: ->fl_release_private for flock...": an RST footnote. Its label
 * would be a sentence of its own ("..") and hide the method the text
 * begins with, which the later sentences speak of.
 */
static struct ld_para without_footnote_label(const struct ld_para *p)
{
	struct ld_para q = *p;
	const char *e;

	if (strncmp(q.text, ".. [", 4) || !(e = strchr(q.text, ']')))
		return q;
	for (e++; *e == ':' || *e == ' '; e++)
		;
	q.text = (char *)e;
	return q;
}

static void build_prose(struct builder *b, const struct ld_section *s, const struct ld_para *para,
			const char **ops, int nops)
{
	struct ld_para text = without_footnote_label(para);
	struct sentence *st;
	const char **subject = NULL;
	int nsubject = 0, ns, i, j, k;

	ns = split_sentences(&text, &st);
	for (i = 0; i < ns; i++) {
		struct prose_rule pr[8];
		const char **m;
		int nm, npr;

		nm = sentence_methods(st[i].text, ops, nops, &m);
		if (i == 0 && nm) {
			/* later sentences without a method of their own speak of these */
			subject = m;
			nsubject = nm;
		}
		npr = prose_reqs(&st[i], pr, 8);
		if (!nm && npr && nsubject) {
			m = subject;
			nm = nsubject;
		}
		for (j = 0; j < nm && npr; j++) {
			for (k = 0; k < npr; k++) {
				struct vl_rule *r;

				r = new_rule(b, s, m[j], "", st[i].text, st[i].line, VL_FROM_PROSE,
					     pr[k].prop, prop_key(pr[k].prop), pr[k].suffix ? pr[k].suffix
						     : "prose");
				r->reqs[0] = pr[k].req;
				r->nreqs = 1;
			}
		}
		if (m != subject)
			free(m);
		free(st[i].text);
		free(st[i].low);
	}
	free(subject);
	free(st);
}

/*
 * "All may block [not true, see below]": the exceptions are the rows
 * below that hold a spinlock ("!!!inode->i_lock!!!") or run in an RCU
 * callback ("called from RCU callback"), neither of which may sleep; the
 * other methods may block. Resolved once the whole section is built.
 */
static void resolve_not_true(struct vl_ruleset *rs)
{
	int i, k;

	for (i = 0; i < rs->nrules; i++) {
		struct vl_rule *r = &rs->rules[i];
		bool atomic = false;

		if (r->origin != VL_FROM_STATEMENT || r->prop != VL_PROP_MAY_BLOCK ||
		    !r->nreqs || r->reqs[0].kind != VL_REQ_UNKNOWN)
			continue;
		for (k = 0; k < rs->nrules; k++) {
			const struct vl_rule *o = &rs->rules[k];

			if (strcmp(o->section, r->section) || strcmp(o->method, r->method) ||
			    !o->nreqs || o->reqs[0].kind != VL_REQ_HELD)
				continue;
			if (o->prop == VL_PROP_I_LOCK || o->prop == VL_PROP_D_LOCK ||
			    o->prop == VL_PROP_RCU)
				atomic = true;
		}
		r->reqs[0].kind = atomic ? VL_REQ_NO_BLOCK : VL_REQ_MAY_BLOCK;
	}
}

struct vl_ruleset *rules_build(struct ld_doc *doc, const char *source, const char *version)
{
	struct builder b;
	int i, j;

	b.rs = xcalloc(1, sizeof(*b.rs));
	b.rs->doc = doc;
	b.rs->source = xstrdup(source);
	b.rs->version = xstrdup(version ? version : "");
	b.rs->why = xstrdup("");
	for (i = 0; i < doc->nsections; i++) {
		const struct ld_section *s = &doc->sections[i];
		const char **ops;
		int nops;

		for (j = 0; j < s->ntables; j++)
			build_table(&b, s, &s->tables[j]);
		for (j = 0; j < s->nstmts; j++)
			build_statement(&b, s, &s->stmts[j]);
		nops = section_ops(s, &ops);
		for (j = 0; j < s->nparas && nops; j++)
			build_prose(&b, s, &s->paras[j], ops, nops);
		free(ops);
	}
	resolve_not_true(b.rs);
	return b.rs;
}

void rules_free(struct vl_ruleset *rs)
{
	int i;

	if (!rs)
		return;
	for (i = 0; i < rs->nrules; i++) {
		struct vl_rule *r = &rs->rules[i];

		free(r->id);
		free(r->section);
		free(r->method);
		free(r->column);
		free(r->text);
	}
	free(rs->rules);
	free(rs->source);
	free(rs->text);
	free(rs->version);
	free(rs->why);
	ld_free(rs->doc);
	free(rs);
}

const struct vl_rule *rules_find(const struct vl_ruleset *rs, const char *id)
{
	int i;

	for (i = 0; i < rs->nrules; i++)
		if (!strcmp(rs->rules[i].id, id))
			return &rs->rules[i];
	return NULL;
}

const struct ld_section *rules_section_of(const struct vl_ruleset *rs, const char *ops_struct)
{
	int i;

	for (i = 0; i < rs->doc->nsections; i++) {
		char buf[128];

		if (!strcmp(rules_struct_of_section(rs->doc->sections[i].title, buf, sizeof(buf)),
			    ops_struct))
			return &rs->doc->sections[i];
	}
	return NULL;
}

/* ---- the kernel's own structs --------------------------------------------------------- */

/* Whether struct or union @t of @btf has member @name, anonymous members searched too. */
static bool btf_has_member(const struct btf *btf, const struct btf_type *t, const char *name,
			   int depth)
{
	const struct btf_member *m = btf_members(t);
	int i;

	for (i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		const struct btf_type *mt;

		if (mn && *mn) {
			if (!strcmp(mn, name))
				return true;
			continue;
		}
		/* an anonymous struct or union: its members are the outer struct's */
		mt = btf__type_by_id(btf, m->type);
		while (mt && (btf_is_mod(mt) || btf_is_typedef(mt)))
			mt = btf__type_by_id(btf, mt->type);
		if (mt && btf_is_composite(mt) && depth < 4 &&
		    btf_has_member(btf, mt, name, depth + 1))
			return true;
	}
	return false;
}

int rules_method_in_btf(const struct btf *btf, const struct vl_rule *r, char *why, size_t len)
{
	const char *names[2];
	char ops[128];
	int n = 1, found = 0, i;

	names[0] = rules_struct_of_section(r->section, ops, sizeof(ops));
	/* the lease methods moved to their own struct in 6.9; the document did not */
	if (!strcmp(ops, "lock_manager_operations"))
		names[n++] = "lease_manager_operations";
	for (i = 0; i < n; i++) {
		int id = btf__find_by_name_kind(btf, names[i], BTF_KIND_STRUCT);

		if (id <= 0)
			continue;
		found++;
		if (btf_has_member(btf, btf__type_by_id(btf, id), r->method, 0)) {
			snprintf(why, len, "struct %s has %s", names[i], r->method);
			return 1;
		}
	}
	if (!found) {
		snprintf(why, len, "no struct %s in this kernel's BTF", ops);
		return -1;
	}
	snprintf(why, len, "struct %s%s has no member %s", names[0],
		 found > 1 ? " (nor lease_manager_operations)" : "", r->method);
	return 0;
}

/* ---- which document -------------------------------------------------------------- */

int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);

		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if (!isdigit((unsigned char)*a) || !isdigit((unsigned char)*b)) {
			bool ea = !isdigit((unsigned char)*a), eb = !isdigit((unsigned char)*b);

			if (ea && eb)
				return 0;
			return ea ? -1 : 1;
		}
	}
	return 0;
}

/* Digits at @s, at most @max of them, as a number; -1 if none or too many. */
static int small_number(const char **s, int max)
{
	int n = 0, d = 0;

	while (isdigit((unsigned char)**s)) {
		if (++d > max)
			return -1;
		n = n * 10 + (*(*s)++ - '0');
	}
	return d ? n : -1;
}

int rules_kernel_series(const char *version, char *series, size_t len)
{
	const char *s = version;
	int maj, min;

	if (!s)
		return -EINVAL;
	if (*s == 'v')
		s++;
	maj = small_number(&s, 3);
	if (maj <= 0 || *s++ != '.')
		return -EINVAL;
	min = small_number(&s, 3);
	/* then nothing, or what uname -r and stable releases append: ".118", "-13-amd64" */
	if (min < 0 || (*s && !strchr(".-+~_", *s)))
		return -EINVAL;
	snprintf(series, len, "%d.%d", maj, min);
	return 0;
}

void rules_running_series(char *buf, size_t len)
{
	struct utsname u;

	buf[0] = '\0';
	if (uname(&u) == 0 && rules_kernel_series(u.release, buf, len))
		buf[0] = '\0';
}

int rules_pick(const char *const *v, int n, const char *series, enum vl_pick *how)
{
	int maj = atoi(series), older = -1, newer = -1, below = -1, oldest = -1, newest = -1, i;

	for (i = 0; i < n; i++) {
		int c = version_cmp(v[i], series);

		if (!c) {
			*how = VL_PICK_EXACT;
			return i;
		}
		if (oldest < 0 || version_cmp(v[i], v[oldest]) < 0)
			oldest = i;
		if (newest < 0 || version_cmp(v[i], v[newest]) > 0)
			newest = i;
		if (c < 0 && (below < 0 || version_cmp(v[i], v[below]) > 0))
			below = i;
		if (atoi(v[i]) != maj)
			continue;
		if (c < 0 && (older < 0 || version_cmp(v[i], v[older]) > 0))
			older = i;
		if (c > 0 && (newer < 0 || version_cmp(v[i], v[newer]) < 0))
			newer = i;
	}
	if (n == 0)
		return -1;
	/* beyond either end, whatever the major: say so */
	*how = VL_PICK_NEWEST;
	if (version_cmp(series, v[newest]) > 0)
		return newest;
	*how = VL_PICK_OLDEST;
	if (version_cmp(series, v[oldest]) < 0)
		return oldest;
	*how = VL_PICK_OLDER;
	if (older >= 0)
		return older;
	*how = VL_PICK_NEWER;
	if (newer >= 0)
		return newer;
	/* a major without copies between two that have some: the newest older copy */
	*how = VL_PICK_OLDER;
	return below;
}

static char *gz_slurp(const char *path, size_t *len)
{
	gzFile g = gzopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *buf;
	int r;

	if (!g)
		return NULL;
	buf = xmalloc(cap);
	while ((r = gzread(g, buf + n, cap - n - 1)) > 0) {
		n += r;
		if (n + 1 == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	gzclose(g);
	if (r < 0) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

struct vl_ruleset *rules_from_text(const char *name, const char *text, size_t len,
				   const char *source, const char *version,
				   char *err, size_t errlen)
{
	struct vl_ruleset *rs;
	struct ld_doc *doc;

	if (ld_parse(name, text, len, &doc, err, errlen))
		return NULL;
	rs = rules_build(doc, source, version);
	/* kept whole: a recording carries the document it was checked against */
	rs->text = xmalloc(len + 1);
	memcpy(rs->text, text, len);
	rs->text[len] = '\0';
	rs->text_len = len;
	return rs;
}

/* The kernel's own document from Debian's linux-doc-X.Y, if installed; else NULL. */
static struct vl_ruleset *linux_doc_rules(const char *series, char *err, size_t errlen,
					  bool *failed)
{
	const char *dir = getenv("VFSLOCK_DOC_DIR") ? getenv("VFSLOCK_DOC_DIR") : "/usr/share/doc";
	char path[512], src[600], why[600];
	struct vl_ruleset *rs;
	size_t len;
	char *text;

	*failed = false;
	snprintf(path, sizeof(path), "%s/linux-doc-%s/Documentation/filesystems/locking.rst.gz",
		 dir, series);
	text = series[0] ? gz_slurp(path, &len) : NULL;
	if (!text)
		return NULL;
	snprintf(src, sizeof(src), "linux-doc:%s", path);
	rs = rules_from_text(path, text, len, src, series, err, errlen);
	free(text);
	*failed = !rs;
	if (rs) {
		snprintf(why, sizeof(why), "the kernel's own document: linux-doc-%s is installed",
			 series);
		free(rs->why);
		rs->why = xstrdup(why);
	}
	return rs;
}

/* What the source line and the reason say of an embedded copy chosen for @series. */
static void describe_pick(const char *series, const char *kernel, const char *chosen,
			  enum vl_pick how, char *src, size_t slen, char *why, size_t wlen)
{
	bool same_major = atoi(series) == atoi(chosen);

	switch (how) {
	case VL_PICK_EXACT:
		snprintf(src, slen, "embedded:%s", chosen);
		snprintf(why, wlen, "%s: the embedded copy of its own series (linux-doc-%s is not "
			 "installed)", kernel, chosen);
		break;
	case VL_PICK_OLDER:
		snprintf(src, slen, "embedded:%s (closest to %s)", chosen, series);
		if (same_major)
			snprintf(why, wlen, "%s has no embedded copy: %s is the newest copy of the "
				 "%d.x series not newer than it", kernel, chosen, atoi(series));
		else
			snprintf(why, wlen, "%s has no embedded copy, nor has its major: %s is the "
				 "newest copy older than it", kernel, chosen);
		break;
	case VL_PICK_NEWER:
		snprintf(src, slen, "embedded:%s (closest to %s)", chosen, series);
		snprintf(why, wlen, "%s has no embedded copy, nor an older one of the %d.x series: "
			 "%s is the nearest newer %d.x copy", kernel, atoi(series), chosen,
			 atoi(series));
		break;
	case VL_PICK_NEWEST:
		snprintf(src, slen, "embedded:%s (newest copy, %s is newer than all)", chosen,
			 series);
		snprintf(why, wlen, "%s is newer than every embedded copy: the newest, %s, which "
			 "knows nothing of what changed since", kernel, chosen);
		break;
	case VL_PICK_OLDEST:
		snprintf(src, slen, "embedded:%s (oldest copy, %s is older than all)", chosen,
			 series);
		snprintf(why, wlen, "%s is older than every embedded copy: the oldest, %s", kernel,
			 chosen);
		break;
	}
}

/* The embedded copy for @series ("" when the running kernel's is unknown: the newest). */
static struct vl_ruleset *embedded_rules(const char *series, const char *kernel,
					 char *err, size_t errlen)
{
	const char *versions[64];
	char src[256], why[512], name[64];
	struct vl_ruleset *rs;
	enum vl_pick how;
	int n = 0, k;

	while (n < (int)ARRAY_SIZE(versions) && vl_embedded_docs[n].version) {
		versions[n] = vl_embedded_docs[n].version;
		n++;
	}
	k = rules_pick(versions, n, series[0] ? series : "999.0", &how);
	if (k < 0) {
		snprintf(err, errlen, "no locking.rst available: give one with --rules FILE");
		return NULL;
	}
	if (series[0]) {
		describe_pick(series, kernel, versions[k], how, src, sizeof(src), why, sizeof(why));
	} else {
		snprintf(src, sizeof(src), "embedded:%s (newest copy, kernel version unknown)",
			 versions[k]);
		snprintf(why, sizeof(why), "the running kernel's release does not say its "
			 "version: the newest embedded copy, %s", versions[k]);
	}
	snprintf(name, sizeof(name), "embedded:locking-v%s.rst", versions[k]);
	rs = rules_from_text(name, vl_embedded_docs[k].text, vl_embedded_docs[k].len, src,
			     versions[k], err, errlen);
	if (rs) {
		free(rs->why);
		rs->why = xstrdup(why);
	}
	return rs;
}

struct vl_ruleset *rules_load(const char *path, const char *want_version, char *err, size_t errlen)
{
	char series[32], kernel[64], src[512];
	struct vl_ruleset *rs;
	bool failed;
	size_t len;
	char *text;

	if (want_version && rules_kernel_series(want_version, series, sizeof(series))) {
		snprintf(err, errlen, "kernel version \"%s\": not a kernel version (X.Y, as 6.12, "
			 "or a release, as 6.1.0-13-amd64)", want_version);
		return NULL;
	}
	if (path) {
		text = read_file(path, &len);
		if (!text) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		snprintf(src, sizeof(src), "file:%s", path);
		rs = rules_from_text(path, text, len, src, want_version ? series : NULL, err,
				     errlen);
		free(text);
		if (rs) {
			free(rs->why);
			rs->why = xstrdup("the file given");
		}
		return rs;
	}

	if (want_version) {
		snprintf(kernel, sizeof(kernel), "kernel %s", series);
	} else {
		rules_running_series(series, sizeof(series));
		snprintf(kernel, sizeof(kernel), "the running kernel (%s)", series);
	}
	rs = linux_doc_rules(series, err, errlen, &failed);
	if (rs || failed)
		return rs;
	return embedded_rules(series, kernel, err, errlen);
}

struct vl_ruleset *rules_open(const char *spec, char *err, size_t errlen)
{
	const struct vl_embedded_doc *d;
	struct vl_ruleset *rs;
	const char *v = spec;
	char have[128] = "";

	if (access(spec, F_OK) == 0)
		return rules_load(spec, NULL, err, errlen);
	if (!strncmp(v, "embedded:", 9))
		v += 9;
	if (*v == 'v')
		v++;
	for (d = vl_embedded_docs; d->version; d++) {
		char name[64], src[64];

		if (strcmp(d->version, v)) {
			snprintf(have + strlen(have), sizeof(have) - strlen(have), " %s", d->version);
			continue;
		}
		snprintf(name, sizeof(name), "embedded:locking-v%s.rst", d->version);
		snprintf(src, sizeof(src), "embedded:%s", d->version);
		rs = rules_from_text(name, d->text, d->len, src, d->version, err, errlen);
		if (rs) {
			free(rs->why);
			rs->why = xstrdup("the embedded copy asked for by its version");
		}
		return rs;
	}
	snprintf(err, errlen, "%s: no such file, nor an embedded version (embedded:%s)", spec, have);
	return NULL;
}
