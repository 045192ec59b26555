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
};

enum {
	CAP_BTF, CAP_RINGBUF, CAP_FENTRY, CAP_FEXIT, CAP_TP_BTF, CAP_ITER,
	CAP_CONTENTION_TP, CAP_MODULE_BTF, CAP_KALLSYMS, CAP_MAX,
};

struct vl_caps {
	char kernel[128];
	char lockdown[32];
	struct vl_cap cap[CAP_MAX];
};

void caps_probe(struct vl_caps *c);

/* One line saying why @c is missing: "fentry: load refused: Operation not permitted". */
const char *cap_reason(const struct vl_cap *c, char *buf, size_t len);

#endif
