/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The running kernel's BTF: vmlinux and every module's. It says which
 * functions fentry can attach to, what their arguments are, and where each
 * method sits in an operations struct.
 */
#ifndef VFSLOCK_KBTF_H
#define VFSLOCK_KBTF_H

#include <stdbool.h>
#include <stdint.h>

#include "vfslock_abi.h"

struct btf;
struct kbtf;

struct kbtf_func {
	int btf_id;		/* of the BTF_KIND_FUNC */
	int obj_fd;		/* module BTF fd for attach, 0 for vmlinux */
	const struct btf *btf;
};

struct kbtf *kbtf__open(void);
void kbtf__free(struct kbtf *kb);

/* @module "" or NULL searches vmlinux, then every module. */
int kbtf__find_func(struct kbtf *kb, const char *name, const char *module, struct kbtf_func *out);
bool kbtf__has_type(struct kbtf *kb, const char *name, int kind);
/* Whether vmlinux's enum @ename has the value named @value. */
bool kbtf__has_enum_value(struct kbtf *kb, const char *ename, const char *value);
/* Whether the kernel gives modules BTF, so that their functions can be traced. */
bool kbtf__has_module_btf(struct kbtf *kb);
/* Whether tracing programs may keep task storage. */
bool kbtf__has_task_storage(struct kbtf *kb);

/* Argument kinds (enum vl_arg_kind) and return type of @f. */
int kbtf__func_shape(const struct kbtf_func *f, uint8_t kinds[VL_MAX_ARGS], int *nargs,
		     bool *returns_void);

typedef void (*kbtf_member_fn)(void *ctx, const char *member, unsigned int off);

/* Call @cb for every function-pointer member of struct @sname (vmlinux). */
int kbtf__fnptr_members(struct kbtf *kb, const char *sname, kbtf_member_fn cb, void *ctx);

/* Byte offset of @member in struct @sname, or -1. */
int kbtf__member_offset(struct kbtf *kb, const char *sname, const char *member);

#endif
