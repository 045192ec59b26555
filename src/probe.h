/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel lets vfslock do, found by trying: a kernel may
 * have BTF and still refuse fentry (a lockdown or a platform policy), so
 * nothing is inferred from versions or config.
 */
#ifndef VFSLOCK_PROBE_H
#define VFSLOCK_PROBE_H

#include <stdbool.h>

struct vl_cap {
	const char *name;	/* "fentry" */
	bool ok;
	int err;		/* errno of the failing step, 0 when ok */
	const char *step;	/* "load", "attach", "open"... */
	const char *what;	/* what it is for */
	char detail[192];	/* more than errno says (a dry load's error); "" if none */
};

enum {
	CAP_BTF, CAP_RINGBUF, CAP_FENTRY, CAP_FEXIT, CAP_TP_BTF, CAP_ITER,
	CAP_CONTENTION_TP, CAP_CONTENTION_SLOW, CAP_MODULE_BTF, CAP_KALLSYMS,
	/* dry loads, made by caps_probe_loads() only */
	CAP_CHECK_LOAD, CAP_CONTENTION_LOAD,
	CAP_MAX,
};

struct vl_caps {
	char kernel[128];
	char lockdown[32];
	struct vl_cap cap[CAP_MAX];
	/* what the contention programs need to know of this kernel's functions */
	char folio_lock_fn[24];		/* "__folio_lock" (5.16+), "__lock_page", "" */
	int rwsem_read_slow_nargs;	/* rwsem_down_read_slowpath()'s arguments */
};

/* Everything but the dry loads: cheap enough for every command's start. */
void caps_probe(struct vl_caps *c);
/*
 * Load check's and top's programs as they would, attaching nothing (some
 * seconds under emulation): CAP_CHECK_LOAD and CAP_CONTENTION_LOAD.
 */
void caps_probe_loads(struct vl_caps *c);

/* Whether lock waits can be seen here, by the tracepoints or the slow paths. */
bool caps_contention(const struct vl_caps *c);
/* The capability whose absence stops contention (for cap_reason()). */
const struct vl_cap *caps_contention_missing(const struct vl_caps *c);
/* Where waits come from here: "contention tracepoints", "rwsem/mutex slow paths (fentry)" */
const char *caps_contention_source(const struct vl_caps *c);

/* One line saying why @c is missing: "fentry: load refused: Operation not permitted". */
const char *cap_reason(const struct vl_cap *c, char *buf, size_t len);

#endif
