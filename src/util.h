/* SPDX-License-Identifier: GPL-2.0 */
/* Allocation that cannot fail quietly, file slurping, and the one error path. */
#ifndef VFSLOCK_UTIL_H
#define VFSLOCK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * The slot of @key in a direct-mapped cache of 1 << @bits entries (Fibonacci
 * hashing): kept in front of a hash table whose lookups, one or more per
 * record, cost a chain walk each.
 */
static inline unsigned int cache_slot(uint64_t key, unsigned int bits)
{
	return (key * 0x9e3779b97f4a7c15ull) >> (64 - bits);
}

extern bool json_output;	/* -j: machine-readable output */
extern int verbose;		/* -v, repeatable */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
struct json_object;
/* The string member @key of @o, or "" when it is absent or not a string. */
const char *json_str(struct json_object *o, const char *key);

/* Close @f, written as @path: 0, or -1 with "writing PATH: why" in @err if any write failed. */
int close_written(FILE *f, const char *path, char *err, size_t errlen);
__attribute__((noreturn)) void oom(void);

/* Whole file, NUL-terminated; NULL with errno set on failure. */
char *read_file(const char *path, size_t *len);

/* Strips leading and trailing white space from @s, in place; returns @s. */
char *strtrim(char *s);

/*
 * Errors go through p_err() only: text on stderr, or under -j a JSON object
 * {"error": "..."} on stdout, so scripts parsing -j output see it too.
 */
void p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void p_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic nanoseconds, the clock bpf_ktime_get_ns() reads. */
uint64_t now_ns(void);

#endif
