// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "util.h"

#define KSYM_MAX_SPAN	(256 * 1024)

struct ksyms {
	int n;
	struct ksym *syms;
	char *strs;		/* one allocation for every name */
	size_t strs_len, strs_cap;
};

static size_t add_str(struct ksyms *ks, const char *s)
{
	size_t n = strlen(s) + 1, off;

	if (ks->strs_len + n > ks->strs_cap) {
		ks->strs_cap = (ks->strs_cap + n) * 2;
		ks->strs = xrealloc(ks->strs, ks->strs_cap);
	}
	off = ks->strs_len;
	memcpy(ks->strs + off, s, n);
	ks->strs_len += n;
	return off;
}

/* Text symbols only: stacks and method pointers point at code. */
static bool code_symbol(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && is_space(*p))
		p++;
	return p;
}

/*
 * One line of kallsyms, "addr type name [module]", as sscanf's
 * "%x %c %255s [%127[^]]]" reads it, and sscanf's count: a snapshot has
 * hundreds of thousands of lines, and sscanf was most of the time a
 * replay spent before its first record.
 */
static int parse_line(const char *p, const char *end, uint64_t *addr, char *type,
		      char name[256], char mod[128])
{
	const char *s;
	int n, d;

	p = skip_space(p, end);
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit(p[2]))
		p += 2;
	for (*addr = 0, s = p; p < end && isxdigit(*p); p++) {
		d = *p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10;
		*addr = *addr << 4 | d;
	}
	if (p == s)
		return 0;
	p = skip_space(p, end);
	if (p == end)
		return 1;
	*type = *p++;
	p = skip_space(p, end);
	for (n = 0; p < end && !is_space(*p) && n < 255; p++)
		name[n++] = *p;
	name[n] = '\0';
	if (!n)
		return 2;
	p = skip_space(p, end);
	if (p == end || *p++ != '[')
		return 3;
	for (n = 0; p < end && *p != ']' && n < 127; p++)
		mod[n++] = *p;
	mod[n] = '\0';
	return n ? 4 : 3;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static struct ksyms *ksyms__parse(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *eol;
	struct ksyms *ks;
	int cap = 0, nonzero = 0, i;
	bool sorted = true;

	ks = xcalloc(1, sizeof(*ks));
	add_str(ks, "");
	for (; p < end; p = eol + 1) {
		char type = 0, name[256], mod[128] = "";
		uint64_t addr;

		eol = memchr(p, '\n', end - p);
		if (!eol)
			eol = end;
		if (parse_line(p, eol, &addr, &type, name, mod) < 3)
			continue;
		if (!code_symbol(type))
			continue;
		if (ks->n == cap) {
			cap = cap ? cap * 2 : 65536;
			ks->syms = xrealloc(ks->syms, cap * sizeof(*ks->syms));
		}
		if (ks->n && addr < ks->syms[ks->n - 1].addr)
			sorted = false;
		ks->syms[ks->n].addr = addr;
		/* offsets now; the string table may move while it grows */
		ks->syms[ks->n].name = (const char *)(uintptr_t)add_str(ks, name);
		ks->syms[ks->n].module = (const char *)(uintptr_t)(mod[0] ? add_str(ks, mod) : 0);
		nonzero += addr != 0;
		ks->n++;
	}
	for (i = 0; i < ks->n; i++) {
		ks->syms[i].name = ks->strs + (uintptr_t)ks->syms[i].name;
		ks->syms[i].module = ks->strs + (uintptr_t)ks->syms[i].module;
	}
	if (!nonzero) {
		ksyms__free(ks);
		errno = ENOTSUP;
		return NULL;
	}
	/* kallsyms comes sorted but for modules; a sorted list is left as it came */
	if (!sorted)
		qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_addr);
	return ks;
}

struct ksyms *ksyms__load(const char *path)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "r");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	struct ksyms *ks;

	if (!f)
		return NULL;
	/* /proc/kallsyms has no size to stat: read until the end */
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			text = xrealloc(text, cap);
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got);
	fclose(f);
	ks = ksyms__parse(text, len);
	free(text);
	return ks;
}

struct ksyms *ksyms__load_mem(const char *text, size_t len)
{
	if (!len) {
		errno = ENOENT;
		return NULL;
	}
	return ksyms__parse(text, len);
}

char *ksyms__snapshot(const char *path, size_t *len)
{
	FILE *f = fopen(path ? path : "/proc/kallsyms", "r"), *out;
	char line[512], *buf = NULL, type;
	size_t n = 0;

	if (!f)
		return NULL;
	out = open_memstream(&buf, &n);
	if (!out)
		oom();
	while (fgets(line, sizeof(line), f)) {
		char name[256], mod[128];
		uint64_t addr;

		if (parse_line(line, line + strlen(line), &addr, &type, name, mod) >= 2 &&
		    code_symbol(type))
			fputs(line, out);
	}
	fclose(f);
	fclose(out);
	*len = n;
	return buf;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->strs);
	free(ks);
}

const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	int lo = 0, hi = ks ? ks->n - 1 : -1, best = -1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;

		if (ks->syms[mid].addr <= addr) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best >= 0 ? &ks->syms[best] : NULL;
}

const struct ksym *ksyms__name(const struct ksyms *ks, uint64_t addr)
{
	const struct ksym *s = ksyms__find(ks, addr);

	/* past the end of any plausible function: code kallsyms does not name */
	return s && addr - s->addr <= KSYM_MAX_SPAN ? s : NULL;
}

uint64_t ksyms__size(const struct ksyms *ks, const struct ksym *s)
{
	int i;

	for (i = s - ks->syms + 1; i < ks->n; i++)
		if (ks->syms[i].addr > s->addr)
			return ks->syms[i].addr - s->addr;
	return 0;
}

const char *ksyms__format(const struct ksyms *ks, uint64_t addr, char *buf, size_t len)
{
	const struct ksym *s = ksyms__name(ks, addr);

	if (!s)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else if (*s->module)
		snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", s->name, addr - s->addr, s->module);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	return buf;
}

uint64_t ksyms__addr_of(const struct ksyms *ks, const char *name)
{
	int i;

	for (i = 0; ks && i < ks->n; i++)
		if (!strcmp(ks->syms[i].name, name))
			return ks->syms[i].addr;
	return 0;
}

void kallsyms_addrs(const char *path, const char *const *names, uint64_t *addrs, int n)
{
	char line[512], sym[256], mod[128];
	int i, left = n;
	uint64_t addr;
	char type;
	FILE *f = fopen(path ? path : "/proc/kallsyms", "r");

	memset(addrs, 0, n * sizeof(*addrs));
	while (f && left && fgets(line, sizeof(line), f)) {
		if (parse_line(line, line + strlen(line), &addr, &type, sym, mod) < 3)
			continue;
		for (i = 0; i < n; i++)
			if (!addrs[i] && !strcmp(sym, names[i])) {
				addrs[i] = addr;
				left--;
			}
	}
	if (f)
		fclose(f);
}
