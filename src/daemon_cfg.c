// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's configuration file: see daemon_cfg.h and docs/daemon.md.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_cfg.h"
#include "live.h"

void daemon_cfg_defaults(struct vl_daemon_cfg *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->socket, sizeof(c->socket), "%s", VL_DAEMON_SOCKET);
	c->socket_mode = 0600;
	snprintf(c->trace_dir, sizeof(c->trace_dir), "/var/lib/vfslock");
	c->trace_max = 1ull << 30;
	snprintf(c->metrics, sizeof(c->metrics), "127.0.0.1:9464");
	c->lock_events = VL_LOCK_EVENTS_READERS;
	c->stream_buffer = 8ull << 20;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* "512M", "1G", "65536": bytes; false if not a size */
bool parse_size(const char *v, uint64_t *out)
{
	char *end;
	uint64_t n = strtoull(v, &end, 10);

	if (end == v)
		return false;
	switch (*end) {
	case 'K': case 'k': n <<= 10; end++; break;
	case 'M': case 'm': n <<= 20; end++; break;
	case 'G': case 'g': n <<= 30; end++; break;
	}
	*out = n;
	return !*end;
}

static int set_str(char *dst, size_t len, const char *v)
{
	if (strlen(v) >= len)
		return -1;
	snprintf(dst, len, "%s", v);
	return 0;
}

/* 0, or -1 with @why set */
static int set_key(struct vl_daemon_cfg *c, const char *k, const char *v, const char **why)
{
	char *end;

	*why = "value too long";
	if (!strcmp(k, "socket"))
		return *v == '/' ? set_str(c->socket, sizeof(c->socket), v) :
				   (*why = "an absolute path", -1);
	if (!strcmp(k, "socket_mode")) {
		long m = strtol(v, &end, 8);

		*why = "an octal mode such as 0600";
		if (*end || end == v || m < 0 || m > 0777)
			return -1;
		c->socket_mode = m;
		return 0;
	}
	if (!strcmp(k, "trace_dir"))
		return *v == '/' || !*v ? set_str(c->trace_dir, sizeof(c->trace_dir), v) :
					  (*why = "an absolute path, or empty", -1);
	if (!strcmp(k, "trace_max_size")) {
		*why = "a size of at least 64M (K, M, G suffixes)";
		return parse_size(v, &c->trace_max) && c->trace_max >= (64ull << 20) ? 0 : -1;
	}
	if (!strcmp(k, "stream_buffer")) {
		*why = "a size from 4K to 1G (K, M, G suffixes)";
		return parse_size(v, &c->stream_buffer) && c->stream_buffer >= 4096 &&
		       c->stream_buffer <= (1ull << 30) ? 0 : -1;
	}
	if (!strcmp(k, "metrics")) {
		const char *colon = strrchr(v, ':');

		*why = "ADDR:PORT, or off";
		if (!strcmp(v, "off"))
			return c->metrics[0] = 0, 0;
		if (!colon || colon == v || strtol(colon + 1, &end, 10) <= 0 || *end ||
		    strtol(colon + 1, NULL, 10) > 65535)
			return -1;
		return set_str(c->metrics, sizeof(c->metrics), v);
	}
	if (!strcmp(k, "fs"))
		return set_str(c->fs, sizeof(c->fs), v);
	if (!strcmp(k, "rules"))
		return set_str(c->rules, sizeof(c->rules), v);
	if (!strcmp(k, "lock_events")) {
		*why = "readers or all";
		if (!strcmp(v, "readers"))
			c->lock_events = VL_LOCK_EVENTS_READERS;
		else if (!strcmp(v, "all"))
			c->lock_events = VL_LOCK_EVENTS_ALL;
		else
			return -1;
		return 0;
	}
	*why = "unknown key";
	return -1;
}

int daemon_cfg_load(struct vl_daemon_cfg *c, const char *path, bool optional, char *err,
		    size_t errlen)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		if (optional && errno == ENOENT)
			return 0;
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *eq, *hash;
		const char *why;

		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			fclose(f);
			return snprintf(err, errlen, "%s:%d: line too long", path, n), -1;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		k = trim(line);
		if (!*k)
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fclose(f);
			return snprintf(err, errlen, "%s:%d: expected 'key = value'", path, n), -1;
		}
		*eq = 0;
		v = trim(eq + 1);
		k = trim(k);
		if (set_key(c, k, v, &why)) {
			fclose(f);
			if (!strcmp(why, "unknown key"))
				return snprintf(err, errlen, "%s:%d: unknown key '%s'", path, n, k), -1;
			return snprintf(err, errlen, "%s:%d: %s: %s, not '%s'", path, n, k, why, v), -1;
		}
	}
	fclose(f);
	return 0;
}

bool daemon_cfg_probes_differ(const struct vl_daemon_cfg *a, const struct vl_daemon_cfg *b)
{
	return strcmp(a->fs, b->fs) || strcmp(a->rules, b->rules) ||
	       a->lock_events != b->lock_events || strcmp(a->trace_dir, b->trace_dir) ||
	       a->trace_max != b->trace_max;
}
