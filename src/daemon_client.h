/* SPDX-License-Identifier: GPL-2.0 */
/* Asking a running `vfslock daemon`: see docs/daemon.md for the requests. */
#ifndef VFSLOCK_DAEMON_CLIENT_H
#define VFSLOCK_DAEMON_CLIENT_H

#include <stdint.h>
#include <stdio.h>

/*
 * Send the request line @req to the daemon on @sock and copy its answer to
 * @out. 0; -ENOENT (or another negative errno) when no daemon answers, with
 * nothing printed: the caller says what it does instead.
 */
int daemon_request(const char *sock, const char *req, FILE *out);

/*
 * The daemon's live records, from now on, as a trace in the recording
 * format (docs/trace-format.md) that replay_stream() reads: its head
 * (META, KSYMS), then EVENTS blocks as they come, an END block when the
 * daemon stops. NULL with errno set (ENOENT: no daemon answers).
 */
/* @buffer: how far behind the daemon may let us lag before dropping (0: its stream_buffer). */
FILE *daemon_stream(const char *sock, uint64_t buffer);

#endif
