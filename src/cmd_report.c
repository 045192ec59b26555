// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock report [-j] [--rows N] FILE
 * vfslock report [-j] [--rows N] [--socket PATH]
 *
 * The result of a recording, read elsewhere and later: the same pipeline
 * as the live run, so the same deviations, contention tables and per-task
 * figures it gave. Without FILE, the result so far of a running daemon,
 * made by the same code there.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "daemon_cfg.h"
#include "daemon_client.h"
#include "replay.h"
#include "util.h"

static int report_help(void)
{
	fprintf(stderr,
		"Usage: vfslock [-j] report [OPTIONS] [FILE]\n\n"
		"What a recording shows: deviations, contended locks, tasks, call sites.\n"
		"The older segments of a rotated recording (FILE.1 ...) are read first.\n"
		"Without FILE, what a running `vfslock daemon` has seen so far.\n\n"
		"  -j, --json        JSON, as `vfslock record --json` wrote it live\n"
		"  -r, --rows N      rows per table (default 20, 0 all)\n"
		"      --rules FILE  judge against this locking.rst, not the recorded one\n"
		"                    (`vfslock check --replay` does that, with exit statuses)\n"
		"      --socket PATH the daemon's socket (default $VFSLOCK_SOCKET, else\n"
		"                    " VL_DAEMON_SOCKET ")\n\n"
		"Exit status: 0 read, 2 not readable (damage after a good start is a warning).\n");
	return EXIT_TOOL;
}

/* The daemon's result, made there by the same session code. */
static int report_daemon(const char *sock, int rows)
{
	char req[128];
	int ret;

	snprintf(req, sizeof(req), "{\"request\": \"report\", \"format\": \"%s\", \"rows\": %d}\n",
		 json_output ? "json" : "text", rows);
	/* said under -j too: stdout is the JSON alone, stderr names its source */
	fprintf(stderr, "vfslock: report: from the daemon on %s\n", sock);
	ret = daemon_request(sock, req, stdout);
	if (ret) {
		p_err("report: no FILE given, and no daemon answers on %s (%s)", sock,
		      strerror(-ret));
		return EXIT_TOOL;
	}
	fflush(stdout);
	return EXIT_OK;
}

int do_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument, NULL, 'j' },
		{ "rows",	required_argument, NULL, 'r' },
		{ "rules",	required_argument, NULL, 'R' },
		{ "socket",	required_argument, NULL, 'S' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vl_session s = { 0 };
	struct vl_replay r = { .s = &s };
	const char *sock = getenv("VFSLOCK_SOCKET") ?: VL_DAEMON_SOCKET;
	char err[512], *end;
	int opt, rows = 20, ret = EXIT_OK;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jr:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'r':
			rows = strtol(optarg, &end, 10);
			if (*end || rows < 0) {
				p_err("--rows: '%s' is not a number", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'R':
			s.rs = rules_open(optarg, err, sizeof(err));
			if (!s.rs) {
				p_err("%s", err);
				return EXIT_TOOL;
			}
			break;
		case 'S':
			sock = optarg;
			break;
		default:
			rules_free(s.rs);
			return report_help();
		}
	}
	if (optind == argc && !s.rs)
		return report_daemon(sock, rows);
	if (optind + 1 != argc) {
		rules_free(s.rs);
		return report_help();
	}
	if (replay_run(&r, argv[optind], err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_TOOL;
		goto out;
	}
	replay_warn(&r);
	if (json_output) {
		json_object *o = session_result_json(&s);

		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		session_result_print(&s, stdout, rows);
	}
	fflush(stdout);
out:
	replay_free(&r);
	session_free(&s);
	return ret;
}
