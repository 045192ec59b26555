/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command a check or a recording watches: started held on a pipe, so
 * that its first system call comes after every probe is attached.
 */
#ifndef VFSLOCK_WORKLOAD_H
#define VFSLOCK_WORKLOAD_H

#include <sys/types.h>

struct vl_workload {
	char **cmd;
	pid_t pid;
	int go_fd;			/* a byte written here lets it run */
	int err_fd;			/* the errno of a failed exec comes back here */
};

/* Fork, held. 0, or a negative errno. */
int workload_spawn(struct vl_workload *w);
/* Let it run; 0, or a negative errno with the exec's failure (the child reaped). */
int workload_go(struct vl_workload *w);
/* Kill a workload never let go. */
void workload_abort(struct vl_workload *w);

#endif
