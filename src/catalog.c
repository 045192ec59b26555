// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "util.h"

/*
 * The array is allocated once, whole: reports and attach failures point
 * into it, and a filesystem mounted mid-run adds to it.
 */
struct vl_fn *catalog_add(struct vl_catalog *c, uint64_t addr, const char *name,
			  const char *module)
{
	struct vl_fn *f;

	if (c->nfns == VL_CATALOG_MAX)
		return NULL;
	if (!c->fns)
		c->fns = xcalloc(VL_CATALOG_MAX, sizeof(*c->fns));
	f = &c->fns[c->nfns];
	memset(f, 0, sizeof(*f));
	f->id = c->nfns++;
	f->addr = addr;
	f->name = xstrdup(name);
	f->module = xstrdup(module);
	f->fstypes = xstrdup("");
	return f;
}

struct vl_fn *catalog_by_addr(struct vl_catalog *c, uint64_t addr)
{
	int i;

	for (i = 0; i < c->nfns; i++)
		if (c->fns[i].addr == addr)
			return &c->fns[i];
	return NULL;
}

const struct vl_fn *catalog_get(const struct vl_catalog *c, uint32_t id)
{
	return id < (uint32_t)c->nfns ? &c->fns[id] : NULL;
}

void catalog_add_role(struct vl_fn *f, const char *ops_struct, const char *method)
{
	int i;

	for (i = 0; i < f->nroles; i++)
		if (!strcmp(f->roles[i].ops_struct, ops_struct) &&
		    !strcmp(f->roles[i].method, method))
			return;
	if (f->nroles == VL_MAX_ROLES)
		return;
	f->roles[f->nroles].ops_struct = xstrdup(ops_struct);
	f->roles[f->nroles].method = xstrdup(method);
	f->nroles++;
}

bool catalog_has_fstype(const struct vl_fn *f, const char *fstype)
{
	size_t n = strlen(fstype);
	const char *p;

	for (p = f->fstypes; (p = strstr(p, fstype)); p += n)
		if ((p == f->fstypes || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

void catalog_add_fstype(struct vl_fn *f, const char *fstype)
{
	char *s;

	if (catalog_has_fstype(f, fstype))
		return;
	s = xmalloc(strlen(f->fstypes) + strlen(fstype) + 2);
	sprintf(s, "%s%s%s", f->fstypes, *f->fstypes ? "," : "", fstype);
	free(f->fstypes);
	f->fstypes = s;
}

void catalog_free(struct vl_catalog *c)
{
	int i, j;

	for (i = 0; i < c->nfns; i++) {
		struct vl_fn *f = &c->fns[i];

		for (j = 0; j < f->nroles; j++) {
			free(f->roles[j].ops_struct);
			free(f->roles[j].method);
		}
		free(f->name);
		free(f->module);
		free(f->fstypes);
	}
	free(c->fns);
	c->fns = NULL;
	c->nfns = 0;
}
