// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules_diff.h"
#include "util.h"

const char *change_name(enum vl_change c)
{
	return c == VL_ADDED ? "added" : c == VL_REMOVED ? "removed" : "changed";
}

static void push(struct vl_diff *d, bool proto, const char *id, enum vl_change c,
		 const char *a, int la, const char *b, int lb)
{
	struct vl_diff_item *it;

	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	it = &d->v[d->n++];
	it->proto = proto;
	it->id = xstrdup(id);
	it->change = c;
	it->a = a ? xstrdup(a) : NULL;
	it->b = b ? xstrdup(b) : NULL;
	it->line_a = la;
	it->line_b = lb;
}

/* A prototype as its types: "int (struct inode *, struct dentry *)". Names do not count. */
static char *proto_shape(const struct ld_proto *p)
{
	size_t len = strlen(p->ret) + 8;
	char *s;
	int i;

	for (i = 0; i < p->nargs; i++)
		len += strlen(p->args[i].type) + 2;
	s = xmalloc(len);
	sprintf(s, "%s (", p->ret);
	for (i = 0; i < p->nargs; i++)
		sprintf(s + strlen(s), "%s%s", i ? ", " : "", p->args[i].type);
	strcat(s, ")");
	return s;
}

struct proto_ref {
	char id[160];
	const struct ld_proto *p;
};

static int protos_of(const struct vl_ruleset *rs, struct proto_ref **out)
{
	struct proto_ref *v = NULL;
	int n = 0, i, j;

	for (i = 0; i < rs->doc->nsections; i++) {
		const struct ld_section *s = &rs->doc->sections[i];
		char key[128], *k;

		snprintf(key, sizeof(key), "%s", s->title);
		for (k = key; *k; k++)
			if (*k == ' ')
				*k = '_';
		for (j = 0; j < s->nprotos; j++) {
			v = xrealloc(v, (n + 1) * sizeof(*v));
			snprintf(v[n].id, sizeof(v[n].id), "%s.%s", key, s->protos[j].name);
			v[n].p = &s->protos[j];
			n++;
		}
	}
	*out = v;
	return n;
}

static const struct proto_ref *find_proto(const struct proto_ref *v, int n, const char *id)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return &v[i];
	return NULL;
}

void rules_diff(const struct vl_ruleset *a, const struct vl_ruleset *b, struct vl_diff *out)
{
	struct proto_ref *pa, *pb;
	int na, nb, i;

	memset(out, 0, sizeof(*out));
	na = protos_of(a, &pa);
	nb = protos_of(b, &pb);
	for (i = 0; i < nb; i++) {
		const struct proto_ref *o = find_proto(pa, na, pb[i].id);
		char *sa, *sb;

		if (!o) {
			push(out, true, pb[i].id, VL_ADDED, NULL, 0, pb[i].p->text, pb[i].p->line);
			continue;
		}
		sa = proto_shape(o->p);
		sb = proto_shape(pb[i].p);
		if (strcmp(sa, sb))
			push(out, true, pb[i].id, VL_CHANGED, o->p->text, o->p->line, pb[i].p->text,
			     pb[i].p->line);
		free(sa);
		free(sb);
	}
	for (i = 0; i < na; i++)
		if (!find_proto(pb, nb, pa[i].id))
			push(out, true, pa[i].id, VL_REMOVED, pa[i].p->text, pa[i].p->line, NULL, 0);
	free(pa);
	free(pb);

	for (i = 0; i < b->nrules; i++) {
		const struct vl_rule *rb = &b->rules[i], *ra = rules_find(a, rb->id);

		if (!ra)
			push(out, false, rb->id, VL_ADDED, NULL, 0, rb->text, rb->line);
		else if (strcmp(ra->text, rb->text))
			push(out, false, rb->id, VL_CHANGED, ra->text, ra->line, rb->text, rb->line);
	}
	for (i = 0; i < a->nrules; i++)
		if (!rules_find(b, a->rules[i].id))
			push(out, false, a->rules[i].id, VL_REMOVED, a->rules[i].text, a->rules[i].line,
			     NULL, 0);
}

void rules_diff_free(struct vl_diff *d)
{
	int i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].id);
		free(d->v[i].a);
		free(d->v[i].b);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}
