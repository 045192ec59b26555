// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

#include "attrib.h"
#include "util.h"

/*
 * The stop-list: prefixes of helpers that filesystems install directly in
 * their operations tables (simple_lookup, generic_file_llseek,
 * block_dirty_folio). A filesystem checked alone would otherwise claim them,
 * and core code in those helpers would pass for the filesystem's own. The
 * derivation also drops any prefix two filesystems claim, so this list needs
 * only the helpers one filesystem may be the sole user of in a run.
 */
static const char *const generic_prefixes[] = {
	"always_", "block_", "buffer_", "d_", "dcache_", "default_", "empty_", "file_",
	"filemap_", "folio_", "generic_", "iomap_", "iter_", "mpage_", "no_", "noop_",
	"page_", "seq_", "simple_", "single_", "splice_", "vfs_",
};

bool attrib_generic_prefix(const char *prefix)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(generic_prefixes); i++)
		if (!strcmp(prefix, generic_prefixes[i]))
			return true;
	return false;
}

const char *attrib_name(enum vl_attrib a)
{
	static const char *const n[VL_ATTR_MAX] = {
		[VL_ATTR_UNKNOWN] = "unknown", [VL_ATTR_FILESYSTEM] = "filesystem",
		[VL_ATTR_MODULE] = "module", [VL_ATTR_CORE] = "core",
	};

	return a < VL_ATTR_MAX ? n[a] : "?";
}

/* "ext4_" of "ext4_rename"; false for "_raw_x", "foo", "foo_". */
static bool name_prefix(const char *name, char *buf, size_t len)
{
	const char *u = strchr(name, '_');
	size_t n;

	if (!u || u == name || !u[1])
		return false;
	n = u - name + 1;
	if (n >= len)
		return false;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return true;
}

void attrib_prefixes(const struct vl_catalog *cat, struct vl_prefixes *out)
{
	bool *shared = NULL;
	char p[64];
	int i, k, n = 0;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < cat->nfns; i++) {
		const struct vl_fn *f = &cat->fns[i];

		/* a module's code is told by its module; one filesystem alone */
		if (f->module[0] || !f->fstypes[0] || strchr(f->fstypes, ','))
			continue;
		if (!name_prefix(f->name, p, sizeof(p)) || attrib_generic_prefix(p))
			continue;
		for (k = 0; k < n; k++)
			if (!strcmp(out->v[k].prefix, p))
				break;
		if (k < n) {
			if (strcmp(out->v[k].fstype, f->fstypes))
				shared[k] = true;
			continue;
		}
		out->v = xrealloc(out->v, (n + 1) * sizeof(*out->v));
		shared = xrealloc(shared, (n + 1) * sizeof(*shared));
		out->v[n].fstype = xstrdup(f->fstypes);
		out->v[n].prefix = xstrdup(p);
		shared[n++] = false;
	}
	for (i = 0; i < n; i++) {
		if (shared[i]) {
			free(out->v[i].fstype);
			free(out->v[i].prefix);
			continue;
		}
		out->v[out->n++] = out->v[i];
	}
	free(shared);
}

void attrib_prefixes_free(struct vl_prefixes *p)
{
	int i;

	for (i = 0; i < p->n; i++) {
		free(p->v[i].fstype);
		free(p->v[i].prefix);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* A vmlinux symbol of one of @fn's built-in filesystems. */
static bool fs_symbol(const struct vl_fn *fn, const char *name, const struct vl_prefixes *pf)
{
	int i;

	for (i = 0; pf && i < pf->n; i++)
		if (!strncmp(name, pf->v[i].prefix, strlen(pf->v[i].prefix)) &&
		    catalog_has_fstype(fn, pf->v[i].fstype))
			return true;
	return false;
}

/*
 * BPF programs and trampolines ([bpf]) and ftrace's and kprobes' trampolines
 * ([__builtin__ftrace]) are tracing machinery, vfslock's own among them:
 * they call nothing on the kernel's behalf, so they are no caller.
 */
static bool tracing_frame(const struct ksym *s)
{
	return !strcmp(s->module, "bpf") || !strncmp(s->module, "__builtin__", 11);
}

enum vl_attrib attrib_stack(const struct vl_fn *fn, const struct ksym *const *syms, int n,
			    const struct vl_prefixes *pf, int *frame)
{
	bool named = false;
	int i;

	*frame = -1;
	for (i = 1; i < n; i++) {
		const struct ksym *s = syms[i];

		if (!s || tracing_frame(s))
			continue;
		named = true;
		if (s->module[0] && fn->module[0] && !strcmp(s->module, fn->module)) {
			*frame = i;
			return VL_ATTR_FILESYSTEM;
		}
		if (s->module[0]) {
			*frame = i;
			return VL_ATTR_MODULE;
		}
		if (fs_symbol(fn, s->name, pf)) {
			*frame = i;
			return VL_ATTR_FILESYSTEM;
		}
	}
	return named ? VL_ATTR_CORE : VL_ATTR_UNKNOWN;
}
