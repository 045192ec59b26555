// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kbtf.h"
#include "util.h"

struct kmod_btf {
	char name[64];
	int fd;
	struct btf *btf;
};

struct kbtf {
	struct btf *vmlinux;
	bool mods_loaded;
	int nmods;
	struct kmod_btf *mods;
};

struct kbtf *kbtf__open(void)
{
	struct kbtf *kb = xcalloc(1, sizeof(*kb));

	kb->vmlinux = btf__load_vmlinux_btf();
	if (!kb->vmlinux) {
		int e = errno;

		free(kb);
		errno = e;
		return NULL;
	}
	return kb;
}

void kbtf__free(struct kbtf *kb)
{
	int i;

	if (!kb)
		return;
	for (i = 0; i < kb->nmods; i++) {
		btf__free(kb->mods[i].btf);
		close(kb->mods[i].fd);
	}
	free(kb->mods);
	btf__free(kb->vmlinux);
	free(kb);
}

/* Module BTFs, loaded once, split on vmlinux's. */
static void load_modules(struct kbtf *kb)
{
	__u32 id = 0;

	if (kb->mods_loaded)
		return;
	kb->mods_loaded = true;
	while (!bpf_btf_get_next_id(id, &id)) {
		struct bpf_btf_info info = {};
		__u32 len = sizeof(info);
		char name[64] = "";
		struct btf *btf;
		int fd;

		fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		info.name = (__u64)(uintptr_t)name;
		info.name_len = sizeof(name);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) || !info.kernel_btf ||
		    !strcmp(name, "vmlinux")) {
			close(fd);
			continue;
		}
		btf = btf__load_from_kernel_by_id_split(id, kb->vmlinux);
		if (!btf) {
			close(fd);
			continue;
		}
		kb->mods = xrealloc(kb->mods, (kb->nmods + 1) * sizeof(*kb->mods));
		snprintf(kb->mods[kb->nmods].name, sizeof(kb->mods[0].name), "%s", name);
		kb->mods[kb->nmods].fd = fd;
		kb->mods[kb->nmods].btf = btf;
		kb->nmods++;
	}
}

int kbtf__find_func(struct kbtf *kb, const char *name, const char *module, struct kbtf_func *out)
{
	int id, i;

	if (!module || !*module) {
		id = btf__find_by_name_kind(kb->vmlinux, name, BTF_KIND_FUNC);
		if (id > 0) {
			*out = (struct kbtf_func){ id, 0, kb->vmlinux };
			return 0;
		}
	}
	load_modules(kb);
	for (i = 0; i < kb->nmods; i++) {
		if (module && *module && strcmp(kb->mods[i].name, module))
			continue;
		id = btf__find_by_name_kind(kb->mods[i].btf, name, BTF_KIND_FUNC);
		if (id > 0) {
			*out = (struct kbtf_func){ id, kb->mods[i].fd, kb->mods[i].btf };
			return 0;
		}
	}
	return -ENOENT;
}

bool kbtf__has_type(struct kbtf *kb, const char *name, int kind)
{
	return btf__find_by_name_kind(kb->vmlinux, name, kind) > 0;
}

bool kbtf__has_enum_value(struct kbtf *kb, const char *ename, const char *value)
{
	int id = btf__find_by_name_kind(kb->vmlinux, ename, BTF_KIND_ENUM);
	const struct btf_type *t;
	const struct btf_enum *v;
	int i;

	if (id <= 0)
		return false;
	t = btf__type_by_id(kb->vmlinux, id);
	v = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++, v++)
		if (!strcmp(btf__name_by_offset(kb->vmlinux, v->name_off), value))
			return true;
	return false;
}

/*
 * Whether functions of modules have BTF to attach to: "bpf: Load and
 * verify kernel module BTFs" (v5.11) brought struct btf_module with it.
 */
bool kbtf__has_module_btf(struct kbtf *kb)
{
	return kbtf__has_type(kb, "btf_module", BTF_KIND_STRUCT);
}

/*
 * Task storage for tracing programs came in v5.12 ("bpf: Enable task local
 * storage for tracing programs"), a release after the helper itself
 * (v5.11, LSM programs only): on 5.11 alone this answers wrongly, and the
 * load that follows fails with the verifier's reason.
 */
bool kbtf__has_task_storage(struct kbtf *kb)
{
	return kbtf__has_enum_value(kb, "bpf_func_id", "BPF_FUNC_task_storage_get");
}

/* Type @id with typedefs and qualifiers peeled off. */
static const struct btf_type *peel(const struct btf *btf, __u32 id, __u32 *out_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_mod(t) || btf_is_typedef(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (out_id)
		*out_id = id;
	return t;
}

static uint8_t arg_kind(const struct btf *btf, __u32 type_id)
{
	/* pointers to these structs name objects whose locks rules mention */
	static const struct {
		const char *name;
		uint8_t kind;
	} by_struct[] = {
		{ "inode", VL_ARG_INODE },	{ "dentry", VL_ARG_DENTRY },
		{ "file", VL_ARG_FILE },	{ "path", VL_ARG_PATH },
		{ "super_block", VL_ARG_SB },	{ "address_space", VL_ARG_MAPPING },
		{ "folio", VL_ARG_FOLIO },	{ "page", VL_ARG_PAGE },
		{ "readahead_control", VL_ARG_RAC },
		{ "vm_fault", VL_ARG_VMF },	{ "vm_area_struct", VL_ARG_VMA },
		{ "file_lock", VL_ARG_FILE_LOCK }, { "file_lease", VL_ARG_FILE_LOCK },
	};
	const struct btf_type *t = peel(btf, type_id, NULL);
	bool out = false;
	const char *name;
	size_t i;

	if (!t || !btf_is_ptr(t))
		return VL_ARG_SCALAR;
	t = peel(btf, t->type, NULL);
	/* a pointer to a folio or page pointer: what the method returns */
	if (t && btf_is_ptr(t)) {
		out = true;
		t = peel(btf, t->type, NULL);
	}
	if (!t || !btf_is_struct(t))
		return VL_ARG_SCALAR;
	name = btf__name_by_offset(btf, t->name_off);
	if (out)
		return !strcmp(name, "folio") ? VL_ARG_FOLIO_OUT :
		       !strcmp(name, "page") ? VL_ARG_PAGE_OUT : VL_ARG_SCALAR;
	for (i = 0; i < ARRAY_SIZE(by_struct); i++)
		if (!strcmp(name, by_struct[i].name))
			return by_struct[i].kind;
	return VL_ARG_SCALAR;
}

int kbtf__func_shape(const struct kbtf_func *f, uint8_t kinds[VL_MAX_ARGS], int *nargs,
		     bool *returns_void)
{
	const struct btf_type *fn = btf__type_by_id(f->btf, f->btf_id), *proto;
	const struct btf_param *p;
	int i, n;

	if (!fn || !btf_is_func(fn))
		return -EINVAL;
	proto = btf__type_by_id(f->btf, fn->type);
	if (!proto || !btf_is_func_proto(proto))
		return -EINVAL;
	n = btf_vlen(proto);
	p = btf_params(proto);
	*nargs = n;
	*returns_void = proto->type == 0;
	memset(kinds, 0, VL_MAX_ARGS);
	for (i = 0; i < n && i < VL_MAX_ARGS; i++)
		kinds[i] = arg_kind(f->btf, p[i].type);
	return 0;
}

int kbtf__fnptr_members(struct kbtf *kb, const char *sname, kbtf_member_fn cb, void *ctx)
{
	const struct btf_type *t;
	const struct btf_member *m;
	int id, i;

	id = btf__find_by_name_kind(kb->vmlinux, sname, BTF_KIND_STRUCT);
	if (id <= 0)
		return -ENOENT;
	t = btf__type_by_id(kb->vmlinux, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++) {
		const struct btf_type *mt = peel(kb->vmlinux, m->type, NULL);

		if (!mt || !btf_is_ptr(mt))
			continue;
		mt = peel(kb->vmlinux, mt->type, NULL);
		if (!mt || !btf_is_func_proto(mt))
			continue;
		cb(ctx, btf__name_by_offset(kb->vmlinux, m->name_off),
		   btf_member_bit_offset(t, i) / 8);
	}
	return 0;
}

int kbtf__member_offset(struct kbtf *kb, const char *sname, const char *member)
{
	const struct btf_type *t;
	const struct btf_member *m;
	int id, i;

	id = btf__find_by_name_kind(kb->vmlinux, sname, BTF_KIND_STRUCT);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(kb->vmlinux, id);
	m = btf_members(t);
	for (i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(kb->vmlinux, m->name_off), member))
			return btf_member_bit_offset(t, i) / 8;
	return -1;
}
