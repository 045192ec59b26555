/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's OpenMetrics exposition (docs/daemon.md): deviations by rule
 * and filesystem, lock wait and hold histograms by lock class, events and
 * losses, probe and recording status. Read from the session's sinks, the
 * same that `vfslock report` prints.
 */
#ifndef VFSLOCK_METRICS_H
#define VFSLOCK_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "session.h"

struct vl_metrics_status {
	bool methods;			/* method calls checked (fentry), or waits only */
	int methods_traced, lock_primitives;
	uint64_t kernel_lost;		/* the ring buffer was full */
	bool recording;			/* the trace is being written */
	int clients;
	uint64_t client_dropped;	/* bytes not sent to clients too slow to read them */
	uint64_t stream_dropped;	/* records not streamed to clients that lagged behind */
	double uptime;
};

void metrics_write(FILE *f, struct vl_session *s, const struct vl_metrics_status *st);

#endif
