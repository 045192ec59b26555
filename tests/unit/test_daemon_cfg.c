// SPDX-License-Identifier: GPL-2.0
/* The daemon's configuration file: what parses, what does not and where. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon_cfg.h"
#include "live.h"
#include "unit.h"

static char path[64];

static const char *write_cfg(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/vl-daemon-cfg-XXXXXX");
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults_and_values(void **state)
{
	struct vl_daemon_cfg c;
	char err[256] = "";

	(void)state;
	daemon_cfg_defaults(&c);
	assert_string_equal(c.socket, VL_DAEMON_SOCKET);
	assert_int_equal(c.socket_mode, 0600);
	assert_string_equal(c.metrics, "127.0.0.1:9464");
	assert_int_equal(c.lock_events, VL_LOCK_EVENTS_READERS);
	assert_int_equal(c.stream_buffer, 8ull << 20);
	write_cfg("# a comment\n\n  socket = /tmp/x.sock   # trailing\n"
		  "socket_mode=0660\ntrace_dir = /srv/traces\ntrace_max_size = 2G\n"
		  "metrics = off\nfs = ext4,xfs\nlock_events = all\nstream_buffer = 64K\n");
	assert_int_equal(daemon_cfg_load(&c, path, false, err, sizeof(err)), 0);
	unlink(path);
	assert_string_equal(c.socket, "/tmp/x.sock");
	assert_int_equal(c.socket_mode, 0660);
	assert_string_equal(c.trace_dir, "/srv/traces");
	assert_int_equal(c.trace_max, 2ull << 30);
	assert_string_equal(c.metrics, "");
	assert_string_equal(c.fs, "ext4,xfs");
	assert_int_equal(c.lock_events, VL_LOCK_EVENTS_ALL);
	assert_int_equal(c.stream_buffer, 64 << 10);
}

/* Each bad line is named by file and line, with the key and what it wants. */
static void test_errors_name_the_line(void **state)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "socket = /a\nnonsense\n", ":2: expected 'key = value'" },
		{ "\n\nsocketmode = 0600\n", ":3: unknown key 'socketmode'" },
		{ "socket = relative.sock\n", ":1: socket: an absolute path, not 'relative.sock'" },
		{ "socket_mode = 0999\n", ":1: socket_mode: an octal mode" },
		{ "trace_max_size = 1M\n", ":1: trace_max_size: a size of at least 64M" },
		{ "metrics = localhost\n", ":1: metrics: ADDR:PORT, or off, not 'localhost'" },
		{ "metrics = 127.0.0.1:70000\n", ":1: metrics: ADDR:PORT" },
		{ "lock_events = some\n", ":1: lock_events: readers or all, not 'some'" },
		{ "stream_buffer = 100\n", ":1: stream_buffer: a size from 4K to 1G" },
	};
	struct vl_daemon_cfg c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		daemon_cfg_defaults(&c);
		write_cfg(bad[i].text);
		err[0] = 0;
		assert_int_equal(daemon_cfg_load(&c, path, false, err, sizeof(err)), -1);
		unlink(path);
		if (!strstr(err, bad[i].want) || strncmp(err, path, strlen(path)))
			fail_msg("%s: got '%s', wanted '%s'", bad[i].text, err, bad[i].want);
	}
}

static void test_missing_file(void **state)
{
	struct vl_daemon_cfg c;
	char err[256] = "";

	(void)state;
	daemon_cfg_defaults(&c);
	assert_int_equal(daemon_cfg_load(&c, "/nonexistent/vfslock.conf", true, err,
					 sizeof(err)), 0);
	assert_int_equal(daemon_cfg_load(&c, "/nonexistent/vfslock.conf", false, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/vfslock.conf: No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_errors_name_the_line),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("daemon_cfg", tests, NULL, NULL);
}
