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
#include "contend.h"
#include "discover.h"
#include "kbtf.h"
#include "live.h"
#include "probe.h"
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
	const char *path, *json_path, *fslist, *rules_path;
	double duration;
	uint64_t max_size;
	size_t ring_bytes;
	bool contention_only;
	struct vl_workload wl;
	bool has_cmd;
	int status;

	struct vl_session s;
	struct kbtf *kb;
	struct vl_discovery disc;
	struct vl_live live;
	bool live_open, fentry;
	struct vl_contend c;
	struct ring_buffer *rb;
	struct vl_trace_writer *w;
	uint64_t last_lost, last_lost_lock, last_lost_method, last_stats_ts;
	uint64_t t_start;
};

/* Every record is written as it came, then goes through the live pipeline. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct rec *r = ctx;
	const struct vl_ev_hdr *h = data;
	size_t len = size;

	/* a method record without a stack is shorter than its ring-buffer slot */
	if (size >= sizeof(*h) && h->size >= sizeof(*h) && h->size <= size)
		len = h->size;
	trace_write_record(r->w, data, len);
	pipeline_feed(&r->s.pipe, data, len);
	return 0;
}

static void stats_now(struct rec *r, uint64_t st[VL_STAT_MAX])
{
	uint64_t more[VL_STAT_MAX];
	int i;

	contend_stats(&r->c, st);
	if (r->live_open) {
		live_stats(&r->live, more);
		for (i = 0; i < VL_STAT_MAX; i++)
			st[i] += more[i];
	}
}

/* The counters, and what was lost since the last reading, as records in their place. */
static void mark_counters(struct rec *r)
{
	struct vl_ev_stats s = { 0 };
	uint64_t ts = now_ns(), v[VL_STAT_MAX];
	int i;

	stats_now(r, v);
	for (i = 0; i < VL_STAT_MAX; i++)
		s.v[i] = v[i];
	if (s.v[VL_STAT_LOST] > r->last_lost) {
		struct vl_ev_lost l = {
			.hdr = { .ts = ts, .type = VL_EV_LOST, .size = sizeof(l) },
			.lost = s.v[VL_STAT_LOST] - r->last_lost,
			.lost_lock = s.v[VL_STAT_LOST_LOCK] - r->last_lost_lock,
			.lost_method = s.v[VL_STAT_LOST_METHOD] - r->last_lost_method,
			.since = r->last_stats_ts,
		};

		on_record(r, &l, sizeof(l));
		r->last_lost = s.v[VL_STAT_LOST];
		r->last_lost_lock = s.v[VL_STAT_LOST_LOCK];
		r->last_lost_method = s.v[VL_STAT_LOST_METHOD];
	}
	s.hdr = (struct vl_ev_hdr){ .ts = ts, .type = VL_EV_STATS, .size = sizeof(s) };
	s.nstat = VL_STAT_MAX;
	on_record(r, &s, sizeof(s));
	r->last_stats_ts = ts;
}

static struct vl_live_opts live_opts(struct rec *r)
{
	return (struct vl_live_opts){
		.watch_all = !r->has_cmd,
		.lock_events = r->s.lock_events,
		.all_calls = r->s.all_calls,
		.ring_bytes = r->ring_bytes,
		.kb = r->kb,
		.cat = &r->s.cat,
		.eng = r->s.eng,
		.disc = &r->disc,
		.on_record = on_record,
		.ctx = r,
	};
}

static int setup_checks(struct rec *r, char *err, size_t errlen)
{
	struct vl_live_opts lo;
	struct ksyms *ks;
	int ret, i;

	r->kb = kbtf__open();
	if (!r->kb)
		return snprintf(err, errlen, "reading the kernel's BTF: %s", strerror(errno)), -errno;
	ks = ksyms__load(NULL);
	if (!ks)
		return snprintf(err, errlen, "reading /proc/kallsyms: %s", strerror(errno)), -errno;
	r->s.ks = ks;
	ret = discover_mounts(NULL, r->fslist, &r->s.mounts);
	if (ret || !r->s.mounts.n)
		return snprintf(err, errlen, "no mounted filesystem of type %s",
				r->fslist ? r->fslist : "any"), -ENOENT;
	ret = discover_methods(&r->s.mounts, r->kb, ks, &r->s.cat, &r->disc);
	if (ret)
		return snprintf(err, errlen, "reading the filesystems' operation tables: %s",
				strerror(-ret)), ret;
	r->s.eng = engine_new(r->s.rs, &r->s.cat, ks);
	engine_set_lock_events(r->s.eng, r->s.lock_events);
	r->s.traced = xcalloc(VL_CATALOG_MAX, 1);
	for (i = 0; i < r->s.cat.nfns; i++)
		r->s.traced[i] = engine_fn_checked(r->s.eng, &r->s.cat.fns[i]);
	lo = live_opts(r);
	ret = live_open(&r->live, &lo, err, errlen);
	r->live_open = true;
	return ret;
}

static int attach(struct rec *r, char *err, size_t errlen)
{
	struct vl_live_opts lo = live_opts(r);
	int ret = contend_attach(&r->c, err, errlen);

	if (ret || !r->live_open)
		return ret;
	if (r->has_cmd && live_watch_task(&r->live, r->wl.pid))
		return snprintf(err, errlen, "watching the workload: %s", strerror(errno)), -errno;
	return live_attach(&r->live, &lo, err, errlen);
}

/* After attach: the probes' own frames then have names. The snapshot is what we read. */
static int snapshot(struct rec *r, char *err, size_t errlen)
{
	size_t len;
	char *text = ksyms__snapshot(NULL, &len), *meta;
	struct ksyms *ks;
	int ret;

	if (!text)
		return snprintf(err, errlen, "reading /proc/kallsyms: %s", strerror(errno)), -errno;
	ks = ksyms__load_mem(text, len);
	if (!ks) {
		free(text);
		return snprintf(err, errlen, "reading /proc/kallsyms: %s", strerror(errno)), -errno;
	}
	ksyms__free(r->s.ks);
	r->s.ks = ks;
	if (r->s.eng)
		engine_set_ksyms(r->s.eng, ks);
	if (!r->s.mounts.n)
		discover_mounts(NULL, NULL, &r->s.mounts);
	session_start(&r->s);
	if (r->has_cmd)
		lockstate_task_born(r->s.pipe.ls, r->wl.pid, r->wl.pid, NULL);
	meta = session_meta_json(&r->s);
	ret = trace_write_meta(r->w, VL_BLK_META, meta, strlen(meta));
	if (!ret)
		ret = trace_write_meta(r->w, VL_BLK_KSYMS, text, len);
	free(meta);
	free(text);
	if (ret)
		snprintf(err, errlen, "%s", trace_writer_error(r->w));
	return ret;
}

static int setup(struct rec *r)
{
	struct vl_caps c;
	struct utsname u;
	char err[512], buf[256];
	int ret;

	caps_probe(&c);
	if (!c.cap[CAP_RINGBUF].ok || !c.cap[CAP_CONTENTION_TP].ok) {
		p_err("cannot record on kernel %s: %s", c.kernel,
		      cap_reason(!c.cap[CAP_RINGBUF].ok ? &c.cap[CAP_RINGBUF] :
				 &c.cap[CAP_CONTENTION_TP], buf, sizeof(buf)));
		return EXIT_TOOL;
	}
	r->fentry = c.cap[CAP_FENTRY].ok && c.cap[CAP_FEXIT].ok && c.cap[CAP_BTF].ok &&
		    c.cap[CAP_ITER].ok && c.cap[CAP_KALLSYMS].ok;
	uname(&u);
	snprintf(r->s.kernel, sizeof(r->s.kernel), "%s", u.release);
	if (!r->fentry && !r->contention_only) {
		p_warn("kernel %s: %s; recording lock waits only (method calls and lock holds "
		       "need fentry)", c.kernel, cap_reason(&c.cap[!c.cap[CAP_FENTRY].ok ?
				CAP_FENTRY : CAP_FEXIT], buf, sizeof(buf)));
		r->contention_only = true;
	}
	snprintf(r->s.mode, sizeof(r->s.mode), "%s", r->contention_only ? "contention" :
		 "check+contention");
	r->s.rs = rules_load(r->rules_path, NULL, err, sizeof(err));
	if (!r->s.rs && !r->contention_only) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (r->s.rs)
		snprintf(r->s.rec_rules, sizeof(r->s.rec_rules), "%s", r->s.rs->source);
	r->w = trace_writer_open(r->path, r->max_size, 3, err, sizeof(err));
	if (!r->w) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (!r->contention_only && setup_checks(r, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	ret = contend_open(&r->c, r->fentry, r->ring_bytes / 4, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (r->live_open) {
		r->rb = r->live.rb;
		ret = ring_buffer__add(r->rb, contend_ring_fd(&r->c), on_record, r);
	} else {
		r->rb = ring_buffer__new(contend_ring_fd(&r->c), on_record, r, NULL);
		ret = r->rb ? 0 : -errno;
	}
	if (ret) {
		p_err("ring buffer: %s", strerror(-ret));
		return EXIT_TOOL;
	}
	if (r->has_cmd) {
		ret = workload_spawn(&r->wl);
		if (ret) {
			p_err("starting %s: %s", r->wl.cmd[0], strerror(-ret));
			return EXIT_TOOL;
		}
	}
	if (attach(r, err, sizeof(err)) || snapshot(r, err, sizeof(err))) {
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
			       json_object_new_int(r->live_open ? r->live.nmethods : 0));
	json_object_object_add(o, "lock_primitives",
			       json_object_new_int(r->live_open ? r->live.nprims : 0));
	if (r->has_cmd)
		json_object_object_add(o, "workload_status", json_object_new_int(
			WIFEXITED(r->status) ? WEXITSTATUS(r->status) : 128 + WTERMSIG(r->status)));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int write_json(struct rec *r)
{
	json_object *o = session_result_json(&r->s);
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
	fprintf(stderr, "vfslock: record: writing %s (%s%s)\n", r->path, r->s.mode,
		r->has_cmd ? "" : ", whole system");
	for (;;) {
		ret = ring_buffer__poll(r->rb, 100);
		if (ret >= 0)
			ret = ring_buffer__consume(r->rb);
		if (ret < 0 && ret != -EINTR) {
			p_err("reading events: %s", strerror(-ret));
			rc = EXIT_TOOL;
			why = "read error";
			break;
		}
		if (now_ns() >= next_mark) {
			mark_counters(r);
			/* a second's records on disk: kill -9 loses at most that */
			trace_flush(r->w);
			next_mark = now_ns() + 1000000000ull;
		}
		if (trace_writer_stats(r->w)->error) {
			p_err("recording stopped: %s; the trace holds everything before",
			      trace_writer_error(r->w));
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
	ring_buffer__consume(r->rb);
	mark_counters(r);
out:
	if (r->has_cmd && !reaped) {
		kill(r->wl.pid, SIGKILL);
		waitpid(r->wl.pid, &r->status, 0);
	}
	end = end_json(r, why);
	ret = trace_writer_close(r->w, end, &ws);
	r->w = NULL;
	free(end);
	if (ret && rc == EXIT_OK) {
		p_err("%s: %s", r->path, strerror(-ret));
		rc = EXIT_TOOL;
	}
	fprintf(stderr, "vfslock: record: %s: %" PRIu64 " records, %" PRIu64 " bytes on disk "
		"(%.2f per record; the records alone %.2f, %.1f%% of %" PRIu64 " raw), %u segment%s%s, %"
		PRIu64 " lost; %s\n", r->path, ws.records, ws.bytes,
		ws.records ? (double)ws.bytes / ws.records : 0.0,
		ws.records ? (double)ws.event_bytes / ws.records : 0.0,
		ws.raw_bytes ? 100.0 * ws.event_bytes / ws.raw_bytes : 0.0, ws.raw_bytes, ws.segments,
		ws.segments == 1 ? "" : "s", ws.dropped_segments ? " (oldest dropped)" : "",
		r->s.pipe.st.lost, why);
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
	struct rec r = { .ring_bytes = 16 << 20 };
	char *end;
	int opt, ret;
	long mb;

	r.s.lock_events = VL_LOCK_EVENTS_ALL;
	r.s.all_calls = true;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'o':
			r.path = optarg;
			break;
		case 'd':
			r.duration = strtod(optarg, &end);
			if (*end || r.duration <= 0) {
				p_err("--duration: '%s' is not a positive number of seconds", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'M':
			r.max_size = strtoull(optarg, &end, 10);
			if (*end == 'K' || *end == 'k')
				r.max_size <<= 10, end++;
			else if (*end == 'M' || *end == 'm')
				r.max_size <<= 20, end++;
			else if (*end == 'G' || *end == 'g')
				r.max_size <<= 30, end++;
			if (*end || r.max_size < (16ull << 20)) {
				p_err("--max-size: '%s' is not a size of at least 16M (each of the %d "
				      "segments repeats the symbol snapshot)", optarg,
				      VL_TRACE_SEGMENTS);
				return EXIT_TOOL;
			}
			break;
		case 'f':
			r.fslist = optarg;
			break;
		case 'r':
			r.rules_path = optarg;
			break;
		case 'L':
			if (!strcmp(optarg, "readers")) {
				r.s.lock_events = VL_LOCK_EVENTS_READERS;
			} else if (!strcmp(optarg, "all")) {
				r.s.lock_events = VL_LOCK_EVENTS_ALL;
			} else {
				p_err("--lock-events: readers or all, not '%s'", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'S':
			r.s.all_calls = false;
			break;
		case 'C':
			r.contention_only = true;
			break;
		case 'R':
			mb = strtol(optarg, &end, 10);
			if (*end || mb < 1 || mb > 1024 || (mb & (mb - 1))) {
				p_err("--ring-mb: a power of two from 1 to 1024, not '%s'", optarg);
				return EXIT_TOOL;
			}
			r.ring_bytes = (size_t)mb << 20;
			break;
		case 'J':
			r.json_path = optarg;
			break;
		default:
			return record_help();
		}
	}
	if (!r.path) {
		p_err("record: no output given (-o FILE)");
		return EXIT_TOOL;
	}
	if (optind < argc) {
		r.wl.cmd = argv + optind;
		r.has_cmd = true;
	}
	ret = setup(&r);
	if (!ret) {
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		ret = run(&r);
	} else if (r.w) {
		trace_writer_close(r.w, NULL, NULL);
	}
	r.w = NULL;
	if (r.live_open)
		live_close(&r.live);
	else if (r.rb)
		ring_buffer__free(r.rb);
	contend_close(&r.c);
	discovery_free(&r.disc);
	kbtf__free(r.kb);
	session_free(&r.s);
	return ret;
}
