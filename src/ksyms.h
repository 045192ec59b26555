/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel symbols from /proc/kallsyms, for stacks and for method addresses. */
#ifndef VFSLOCK_KSYMS_H
#define VFSLOCK_KSYMS_H

#include <stdint.h>
#include <stdio.h>

struct ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* "" for vmlinux */
};

struct ksyms;

/* NULL with errno set; addresses all zero (kptr_restrict) is ENOTSUP. */
struct ksyms *ksyms__load(const char *path);
/* From kallsyms text in memory (a recording's snapshot). */
struct ksyms *ksyms__load_mem(const char *text, size_t len);
/* The lines of @path (NULL: /proc/kallsyms) ksyms__load() keeps, for a recording. */
char *ksyms__snapshot(const char *path, size_t *len);
void ksyms__free(struct ksyms *ks);

/* The symbol containing @addr, or NULL. */
const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr);

/*
 * The symbol naming @addr: as ksyms__find(), but NULL past the end of any
 * plausible function, where the nearest symbol below is not its name.
 */
const struct ksym *ksyms__name(const struct ksyms *ks, uint64_t addr);

/* Bytes from @s to the next symbol at a higher address; 0 for the last. */
uint64_t ksyms__size(const struct ksyms *ks, const struct ksym *s);

/* "name+0x1f [module]" into @buf. */
const char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len);

/* Address of the text symbol @name in @ks, or 0. */
uint64_t ksyms__addr_of(const struct ksyms *ks, const char *name);

/*
 * Addresses of the symbols @names[0..n) of any type (data too) in @path
 * (NULL: /proc/kallsyms), in one pass; 0 for a name not there.
 */
void kallsyms_addrs(const char *path, const char *const *names, uint64_t *addrs, int n);

#endif
