/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The contention event source: contention_begin/contention_end (tp_btf,
 * which loads where fentry is refused), or on kernels without them (before
 * 5.19) fentry/fexit on the rwsem and mutex slow paths, and where fentry
 * loads, the folio lock's slow path. Its records join the same pipeline as
 * the method and lock records.
 */
#ifndef VFSLOCK_CONTEND_H
#define VFSLOCK_CONTEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe.h"
#include "vfslock_abi.h"

struct contend_bpf;
struct ring_buffer;

struct vl_contend {
	struct contend_bpf *skel;
	bool folio;			/* the folio lock's slow path is traced */
	char folio_why[128];		/* why not, when it is not */
	char source[48];		/* caps_contention_source(): where waits come from */
};

/*
 * Open, configure and load for the kernel @caps (caps_probe()) describes:
 * the tracepoints where they are, the slow paths where they are not; the
 * folio programs only where fentry attaches.
 */
int contend_open(struct vl_contend *c, const struct vl_caps *caps, size_t ring_bytes, char *err,
		 size_t errlen);
int contend_attach(struct vl_contend *c, char *err, size_t errlen);
/* Add its ring buffer to @rb (created by the caller's first source). */
int contend_ring_fd(const struct vl_contend *c);
/* Counters summed over CPUs, indexed by enum vl_stat. */
void contend_stats(const struct vl_contend *c, uint64_t out[VL_STAT_MAX]);
void contend_close(struct vl_contend *c);

#endif
