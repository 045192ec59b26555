// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock record -o FILE [OPTIONS] [-- CMD [ARG...]]
 *
 * Writes every record the probes send into a trace (docs/trace-format.md),
 * with what reading it elsewhere needs: the rules in force, the traced
 * methods, the mounts, a symbol snapshot. The records also run through the
 * live pipeline, so --json gives the result `vfslock report` will give.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "cmds.h"
#include "discover.h"
#include "recorder.h"
#include "session.h"
#include "trace.h"
#include "util.h"
#include "workload.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int record_help(void)
{
	fprintf(stderr,
		"Usage: vfslock record -o FILE [OPTIONS] [-- CMD [ARG...]]\n\n"
		"Record lock and method events into a trace for `vfslock report`, `check\n"
		"--replay` and `export`. With CMD, its tasks are watched until it exits;\n"
		"without, the whole system until --duration or SIGINT.\n\n"
		"  -o, --output FILE   the trace (rotated as FILE.1 ... with --max-size)\n"
		"      --duration SECS stop after SECS seconds\n"
		"      --max-size SIZE bound the recording's disk use (K, M, G suffixes): the\n"
		"                      oldest of %d segments is dropped when the newest fills\n"
		"      --fs LIST       filesystems whose methods are traced (default: all mounted)\n"
		"      --rules FILE    the locking.rst in force (default: the kernel's)\n"
		"      --lock-events readers|all\n"
		"                      rwsem acquisitions and releases recorded (default all)\n"
		"      --suspect-calls only the method calls the kernel filter finds suspect\n"
		"                      (cheaper; a re-check against other rules then sees less)\n"
		"      --contention-only\n"
		"                      only lock waits, as `vfslock top` sees them\n"
		"      --ring-mb N     ring buffer size in MiB (default 16)\n"
		"      --json FILE     the live result, as `vfslock report -j` gives it\n\n"
		"Exit status: 0 recorded, 2 vfslock could not do its job (the trace holds\n"
		"everything up to the failure).\n", VL_TRACE_SEGMENTS);
	return EXIT_TOOL;
}

struct rec {
	const char *json_path;
	double duration;
	struct vl_workload wl;
	bool has_cmd;
	int status;
	uint64_t t_start;
	struct vl_recorder r;
};

static int setup(struct rec *r)
{
	char err[512];

	if (recorder_open(&r->r, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (r->has_cmd) {
		int ret = workload_spawn(&r->wl);

		if (ret) {
			p_err("starting %s: %s", r->wl.cmd[0], strerror(-ret));
			return EXIT_TOOL;
		}
	}
	if (recorder_attach(&r->r, err, sizeof(err))) {
		p_err("%s", err);
		if (r->has_cmd)
			workload_abort(&r->wl);
		r->has_cmd = false;
		return EXIT_TOOL;
	}
	return 0;
}

static char *end_json(struct rec *r, const char *why)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "stopped", json_object_new_string(why));
	json_object_object_add(o, "seconds", json_object_new_double((now_ns() - r->t_start) / 1e9));
	json_object_object_add(o, "methods_traced",
			       json_object_new_int(r->r.live_open ? r->r.live.nmethods : 0));
	json_object_object_add(o, "lock_primitives",
			       json_object_new_int(r->r.live_open ? r->r.live.nprims : 0));
	if (r->has_cmd)
		json_object_object_add(o, "workload_status", json_object_new_int(
			WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status)));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int write_json(struct rec *r)
{
	json_object *o = session_result_json(&r->r.s);
	int ret = 0;

	if (json_object_to_file_ext(r->json_path, o, JSON_C_TO_STRING_PRETTY)) {
		p_err("writing %s: %s", r->json_path, strerror(errno));
		ret = -EIO;
	}
	json_object_put(o);
	return ret;
}

static int run(struct rec *r)
{
	uint64_t deadline = r->duration > 0 ? now_ns() + r->duration * 1e9 : 0, next_mark;
	uint64_t kill_at = 0;
	const char *why = "interrupted";
	struct vl_trace_wstats ws;
	bool reaped = false;
	char *end;
	int ret, rc = EXIT_OK;

	r->t_start = now_ns();
	next_mark = r->t_start + 1000000000ull;
	if (r->has_cmd) {
		ret = workload_go(&r->wl);
		if (ret) {
			p_err("cannot run %s: %s", r->wl.cmd[0], strerror(-ret));
			r->has_cmd = false;
			rc = EXIT_TOOL;
			why = "workload did not start";
			goto out;
		}
	}
	fprintf(stderr, "vfslock: record: writing %s (%s%s)\n", r->r.path, r->r.s.mode,
		r->has_cmd ? "" : ", whole system");
	for (;;) {
		ret = recorder_poll(&r->r, 100);
		if (ret < 0 && ret != -EINTR) {
			p_err("reading events: %s", strerror(-ret));
			rc = EXIT_TOOL;
			why = "read error";
			break;
		}
		if (now_ns() >= next_mark) {
			recorder_mark(&r->r);
			/* a second's records on disk: kill -9 loses at most that */
			trace_flush(r->r.w);
			next_mark = now_ns() + 1000000000ull;
		}
		if (trace_writer_stats(r->r.w)->error) {
			p_err("recording stopped: %s; the trace holds everything before",
			      trace_writer_error(r->r.w));
			rc = EXIT_TOOL;
			why = "write error";
			break;
		}
		if (r->has_cmd && waitpid(r->wl.pid, &r->status, WNOHANG) == r->wl.pid) {
			reaped = true;
			why = "workload exited";
			break;
		}
		if (deadline && now_ns() >= deadline) {
			why = "duration reached";
			break;
		}
		if (stop_signal) {
			if (!r->has_cmd)
				break;
			if (!kill_at) {
				kill(r->wl.pid, stop_signal);
				kill_at = now_ns() + 5000000000ull;
			} else if (now_ns() > kill_at) {
				kill(r->wl.pid, SIGKILL);
			}
		}
	}
	ring_buffer__consume(r->r.rb);
	recorder_mark(&r->r);
out:
	if (r->has_cmd && !reaped) {
		kill(r->wl.pid, SIGKILL);
		waitpid(r->wl.pid, &r->status, 0);
	}
	end = end_json(r, why);
	ret = trace_writer_close(r->r.w, end, &ws);
	r->r.w = NULL;
	free(end);
	if (ret && rc == EXIT_OK) {
		p_err("%s: %s", r->r.path, strerror(-ret));
		rc = EXIT_TOOL;
	}
	fprintf(stderr, "vfslock: record: %s: %" PRIu64 " records, %" PRIu64 " bytes on disk "
		"(%.2f per record; the records alone %.2f, %.1f%% of %" PRIu64 " raw), %u segment%s%s, %"
		PRIu64 " lost; %s\n", r->r.path, ws.records, ws.bytes,
		ws.records ? (double)ws.bytes / ws.records : 0.0,
		ws.records ? (double)ws.event_bytes / ws.records : 0.0,
		ws.raw_bytes ? 100.0 * ws.event_bytes / ws.raw_bytes : 0.0, ws.raw_bytes, ws.segments,
		ws.segments == 1 ? "" : "s", ws.dropped_segments ? " (oldest dropped)" : "",
		r->r.s.pipe.st.lost, why);
	if (r->json_path && write_json(r) && rc == EXIT_OK)
		rc = EXIT_TOOL;
	return rc;
}

int do_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output",	required_argument, NULL, 'o' },
		{ "duration",	required_argument, NULL, 'd' },
		{ "max-size",	required_argument, NULL, 'M' },
		{ "fs",		required_argument, NULL, 'f' },
		{ "rules",	required_argument, NULL, 'r' },
		{ "lock-events", required_argument, NULL, 'L' },
		{ "suspect-calls", no_argument, NULL, 'S' },
		{ "contention-only", no_argument, NULL, 'C' },
		{ "ring-mb",	required_argument, NULL, 'R' },
		{ "json",	required_argument, NULL, 'J' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct rec r = { .r.ring_bytes = 16 << 20 };
	char *end;
	int opt, ret;
	long mb;

	r.r.s.lock_events = VL_LOCK_EVENTS_ALL;
	r.r.s.all_calls = true;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'o':
			r.r.path = optarg;
			break;
		case 'd':
			r.duration = strtod(optarg, &end);
			if (*end || r.duration <= 0) {
				p_err("--duration: '%s' is not a positive number of seconds", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'M':
			r.r.max_size = strtoull(optarg, &end, 10);
			if (*end == 'K' || *end == 'k')
				r.r.max_size <<= 10, end++;
			else if (*end == 'M' || *end == 'm')
				r.r.max_size <<= 20, end++;
			else if (*end == 'G' || *end == 'g')
				r.r.max_size <<= 30, end++;
			if (*end || r.r.max_size < (16ull << 20)) {
				p_err("--max-size: '%s' is not a size of at least 16M (each of the %d "
				      "segments repeats the symbol snapshot)", optarg,
				      VL_TRACE_SEGMENTS);
				return EXIT_TOOL;
			}
			break;
		case 'f':
			r.r.fslist = optarg;
			break;
		case 'r':
			r.r.rules_path = optarg;
			break;
		case 'L':
			if (!strcmp(optarg, "readers")) {
				r.r.s.lock_events = VL_LOCK_EVENTS_READERS;
			} else if (!strcmp(optarg, "all")) {
				r.r.s.lock_events = VL_LOCK_EVENTS_ALL;
			} else {
				p_err("--lock-events: readers or all, not '%s'", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'S':
			r.r.s.all_calls = false;
			break;
		case 'C':
			r.r.contention_only = true;
			break;
		case 'R':
			mb = strtol(optarg, &end, 10);
			if (*end || mb < 1 || mb > 1024 || (mb & (mb - 1))) {
				p_err("--ring-mb: a power of two from 1 to 1024, not '%s'", optarg);
				return EXIT_TOOL;
			}
			r.r.ring_bytes = (size_t)mb << 20;
			break;
		case 'J':
			r.json_path = optarg;
			break;
		default:
			return record_help();
		}
	}
	if (!r.r.path) {
		p_err("record: no output given (-o FILE)");
		return EXIT_TOOL;
	}
	if (optind < argc) {
		r.wl.cmd = argv + optind;
		r.has_cmd = true;
	}
	if (r.has_cmd)
		r.r.wl = &r.wl;
	ret = setup(&r);
	if (!ret) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		ret = run(&r);
	}
	/* after run(), the trace is closed; after a failed setup, closed without END */
	recorder_close(&r.r, NULL, NULL);
	return ret;
}
