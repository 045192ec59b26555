/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's configuration file (docs/daemon.md): `key = value` lines,
 * `#` comments. Read at start and again on SIGHUP.
 */
#ifndef VFSLOCK_DAEMON_CFG_H
#define VFSLOCK_DAEMON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VL_DAEMON_CONFIG	"/etc/vfslock/daemon.conf"
#define VL_DAEMON_SOCKET	"/run/vfslock/vfslock.sock"

struct vl_daemon_cfg {
	char socket[108];		/* sun_path */
	mode_t socket_mode;		/* 0600: root only */
	char trace_dir[256];		/* "": no recording */
	uint64_t trace_max;		/* bytes over every trace in trace_dir */
	char metrics[64];		/* "ADDR:PORT", "" when off */
	char fs[256];			/* "": every mounted filesystem */
	char rules[256];		/* "": the running kernel's */
	uint8_t lock_events;		/* enum vl_lock_events */
	uint64_t stream_buffer;		/* bytes a streaming client may lag behind */
};

void daemon_cfg_defaults(struct vl_daemon_cfg *c);
/*
 * Read @path over the defaults. A missing file is no error when @optional.
 * -1 with @err naming the file, line and key.
 */
int daemon_cfg_load(struct vl_daemon_cfg *c, const char *path, bool optional, char *err,
		    size_t errlen);
/* "64M", "1G", "4096": bytes, with K, M, G suffixes (powers of 1024). */
bool parse_size(const char *v, uint64_t *out);
/* Whether the probes must be reloaded to go from @a to @b. */
bool daemon_cfg_probes_differ(const struct vl_daemon_cfg *a, const struct vl_daemon_cfg *b);

#endif
