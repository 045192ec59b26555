// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock top: which locks are contended, who waits, who holds, from where,
 * live. Contention comes from tracepoints that load even where fentry is
 * refused; what cannot be seen here is named in the header, not faked.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "agg.h"
#include "cmds.h"
#include "contend.h"
#include "daemon_cfg.h"
#include "daemon_client.h"
#include "discover.h"
#include "engine.h"
#include "kbtf.h"
#include "ksyms.h"
#include "live.h"
#include "pipeline.h"
#include "probe.h"
#include "replay.h"
#include "rules.h"
#include "top_ui.h"
#include "top_view.h"
#include "util.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int top_help(void)
{
	fprintf(stderr,
		"Usage: vfslock [-j] top [OPTIONS]\n"
		"\n"
		"Live view of lock contention: locks, tasks, call sites, deviations, rules.\n"
		"\n"
		"  -d, --delay SECS      refresh interval (default 1, at least 0.1)\n"
		"  -b, --batch           print text snapshots instead of the screen (like top -b)\n"
		"  -n, --iterations N    stop after N refreshes\n"
		"  -j, --json            batch, one JSON snapshot per line\n"
		"  -v, --view VIEW       start in locks, tasks, sites, deviations or rules\n"
		"  -s, --sort COLUMN     sort the view by COLUMN (its header name)\n"
		"  -f, --filter F        fs=TYPE, comm=NAME, pid=N, class=CLASS (repeatable)\n"
		"  -r, --rows N          rows per batch snapshot (default 20, 0 all)\n"
		"      --holds           also time holds: trace i_rwsem (and the rwsems the rules\n"
		"                        name) acquire and release (needs fentry; costs more)\n"
		"      --check           also check the rules of locking.rst live (needs fentry)\n"
		"      --fs LIST         filesystems --holds and --check watch (default all)\n"
		"      --rules FILE      the locking.rst in force (default: the kernel's; with\n"
		"                        --replay, the recorded one)\n"
		"      --replay FILE     a recording (vfslock record) instead of this host, one\n"
		"                        refresh interval of its time per refresh; keys: space\n"
		"                        pause, n step, [ ] 10 s back and on, g go to a second\n"
		"      --socket PATH     the daemon's socket (default %s): when a daemon answers\n"
		"                        there, top shows its records and loads no probe\n"
		"      --standalone      load top's own probes even when a daemon runs\n"
		"\n"
		"Keys: h in the screen.\n", VL_DAEMON_SOCKET);
	return EXIT_TOOL;
}

struct top {
	struct top_state s;
	struct top_status st;
	bool batch;
	bool holds, check;		/* the fentry probes of `vfslock check` too */
	int iterations, rows;
	const char *rules_path, *fslist, *replay, *sock;
	bool standalone;
	struct kbtf *kb;
	struct vl_catalog cat;
	struct vl_discovery disc;
	struct vl_engine *eng;
	struct vl_live live;
	bool live_open;
	struct vl_ruleset *rs;
	struct ksyms *ks;
	struct vl_mounts mounts;
	struct vl_pipeline p;
	struct vl_agg *agg;
	struct vl_contend c;
	struct vl_caps caps;		/* what this host allows, from probe_host() */
	struct ring_buffer *rb;
};

/* What this host lets top see; the rest goes into the header's "missing". */
static bool probe_host(struct top *t, bool *fentry)
{
	struct vl_caps *cp = &t->caps, c;
	char buf[256];

	caps_probe(cp);
	c = *cp;
	snprintf(t->st.kernel, sizeof(t->st.kernel), "%s", c.kernel);
	if (!caps_contention(&c)) {
		p_err("cannot watch contention on kernel %s: %s", c.kernel,
		      cap_reason(caps_contention_missing(&c), buf, sizeof(buf)));
		return false;
	}
	snprintf(t->st.waits_from, sizeof(t->st.waits_from), "%s", caps_contention_source(&c));
	*fentry = c.cap[CAP_FENTRY].ok && c.cap[CAP_FEXIT].ok;
	snprintf(t->st.mode, sizeof(t->st.mode), "contention");
	if (!*fentry)
		snprintf(t->st.missing, sizeof(t->st.missing),
			 "hold times, folio lock waits and rule checks: %s",
			 cap_reason(&c.cap[!c.cap[CAP_FENTRY].ok ? CAP_FENTRY : CAP_FEXIT], buf,
				    sizeof(buf)));
	else if (!t->holds && !t->check)
		snprintf(t->st.missing, sizeof(t->st.missing),
			 "hold times and rule checks: off (--holds, --check)");
	else if (!t->holds)
		snprintf(t->st.missing, sizeof(t->st.missing), "hold times: off (--holds)");
	else if (!t->check)
		snprintf(t->st.missing, sizeof(t->st.missing), "rule checks: off (--check)");
	if ((t->holds || t->check) && !*fentry) {
		p_err("--holds and --check trace acquisitions and method calls, which kernel %s "
		      "refuses: %s", c.kernel, cap_reason(&c.cap[!c.cap[CAP_FENTRY].ok ? CAP_FENTRY :
						       CAP_FEXIT], buf, sizeof(buf)));
		return false;
	}
	snprintf(t->st.mode, sizeof(t->st.mode), "contention%s%s", t->holds ? "+holds" : "",
		 t->check ? "+check" : "");
	return true;
}

static struct vl_live_opts live_opts(struct top *t)
{
	return (struct vl_live_opts){
		.watch_all = true,
		.locks_only = !t->check,
		.lock_events = t->holds ? VL_LOCK_EVENTS_ALL : VL_LOCK_EVENTS_READERS,
		.ring_bytes = 16 << 20,
		.kb = t->kb,
		.cat = &t->cat,
		.eng = t->eng,
		.disc = &t->disc,
		.on_record = pipeline_feed_cb,
		.ctx = &t->p,
	};
}

/* The probes of `vfslock check`: lock holds (--holds), method calls (--check). */
static int live_setup(struct top *t, char *err, size_t errlen)
{
	struct vl_live_opts lo;
	int ret;

	if (!t->rs)
		return snprintf(err, errlen, "--holds and --check need the rules: %s",
				t->st.rules_source), -ENOENT;
	t->kb = kbtf__open();
	if (!t->kb)
		return snprintf(err, errlen, "reading the kernel's BTF: %s", strerror(errno)), -errno;
	t->ks = ksyms__load(NULL);
	if (!t->ks)
		return snprintf(err, errlen, "reading /proc/kallsyms: %s", strerror(errno)), -errno;
	ret = discover_mounts(NULL, t->fslist, &t->mounts);
	if (ret || !t->mounts.n)
		return snprintf(err, errlen, "no mounted filesystem of type %s",
				t->fslist ? t->fslist : "any"), -ENOENT;
	ret = discover_methods(&t->mounts, t->kb, t->ks, &t->cat, &t->disc);
	if (ret)
		return snprintf(err, errlen, "reading the filesystems' operation tables: %s",
				strerror(-ret)), ret;
	t->eng = engine_new(t->rs, &t->cat, t->ks);
	engine_set_lock_events(t->eng, t->holds ? VL_LOCK_EVENTS_ALL : VL_LOCK_EVENTS_READERS);
	if (t->check)
		t->p.eng = t->eng;
	lo = live_opts(t);
	ret = live_open(&t->live, &lo, err, errlen);
	t->live_open = true;
	return ret;
}

static int setup(struct top *t)
{
	struct vl_sink sink;
	bool fentry = false;
	char err[512];
	int ret;

	if (!probe_host(t, &fentry))
		return EXIT_TOOL;
	t->rs = rules_load(t->rules_path, NULL, err, sizeof(err));
	if (t->rs) {
		snprintf(t->st.rules_version, sizeof(t->st.rules_version), "%s", t->rs->version);
		snprintf(t->st.rules_source, sizeof(t->st.rules_source), "%s", t->rs->source);
	} else {
		/* the rules are only shown here: contention needs none of them */
		snprintf(t->st.rules_source, sizeof(t->st.rules_source), "none: %.140s", err);
	}
	pipeline_init(&t->p, NULL);

	if (t->holds || t->check) {
		ret = live_setup(t, err, sizeof(err));
		if (ret) {
			p_err("%s", err);
			return EXIT_TOOL;
		}
	}
	ret = contend_open(&t->c, &t->caps, 4 << 20, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (!t->c.folio && fentry && t->c.folio_why[0])
		snprintf(t->st.missing + strlen(t->st.missing),
			 sizeof(t->st.missing) - strlen(t->st.missing), "; %s", t->c.folio_why);
	if (t->live_open) {
		/* one poll for both sources, into the one pipeline */
		t->rb = t->live.rb;
		ret = ring_buffer__add(t->rb, contend_ring_fd(&t->c), pipeline_feed_cb, &t->p);
		if (ret) {
			p_err("ring buffer: %s", strerror(-ret));
			return EXIT_TOOL;
		}
	} else {
		t->rb = ring_buffer__new(contend_ring_fd(&t->c), pipeline_feed_cb, &t->p, NULL);
	}
	if (!t->rb) {
		p_err("ring buffer: %s", strerror(errno));
		return EXIT_TOOL;
	}
	ret = contend_attach(&t->c, err, sizeof(err));
	if (ret) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (t->live_open) {
		struct vl_live_opts lo = live_opts(t);

		ret = live_attach(&t->live, &lo, err, sizeof(err));
		if (ret) {
			p_err("%s", err);
			return EXIT_TOOL;
		}
	}
	/* read after the programs are in: their own frames then have names to skip */
	ksyms__free(t->ks);
	t->ks = ksyms__load(NULL);
	if (!t->ks)
		p_warn("reading /proc/kallsyms: %s; call sites are shown as addresses",
		       strerror(errno));
	if (!t->mounts.n)
		discover_mounts(NULL, NULL, &t->mounts);
	t->agg = agg_new(&t->mounts, t->ks);
	sink = agg_sink(t->agg);
	pipeline_add_sink(&t->p, &sink);
	return 0;
}

static void cleanup(struct top *t)
{
	top_ui_close();
	if (t->live_open) {
		live_close(&t->live);	/* frees the ring buffer both sources share */
	} else {
		ring_buffer__free(t->rb);
	}
	t->rb = NULL;
	contend_close(&t->c);
	pipeline_fini(&t->p);
	agg_free(t->agg);
	engine_free(t->eng);
	catalog_free(&t->cat);
	discovery_free(&t->disc);
	kbtf__free(t->kb);
	mounts_free(&t->mounts);
	ksyms__free(t->ks);
	rules_free(t->rs);
}

static void update_status(struct top *t, uint64_t *last_records, uint64_t *last_ns)
{
	uint64_t st[VL_STAT_MAX], now = now_ns(), rec = t->p.st.records;

	contend_stats(&t->c, st);
	t->st.lost = st[VL_STAT_LOST];
	if (t->live_open) {
		live_stats(&t->live, st);
		t->st.lost += st[VL_STAT_LOST];
	}
	t->st.deviations = agg_totals(t->agg)->deviations;
	if (now > *last_ns)
		t->st.events_per_s = (rec - *last_records) * 1e9 / (now - *last_ns);
	*last_records = rec;
	*last_ns = now;
	t->st.paused = t->s.paused;
}

static void print_snapshot(struct top *t)
{
	if (json_output) {
		json_object *o = top_snapshot_json(&t->st, t->agg, t->rs, &t->s.filter);

		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		struct top_table tb;

		top_print_status(stdout, &t->st, t->agg, t->s.view, t->s.sort[t->s.view],
				 &t->s.filter);
		top_table_build(&tb, t->s.view, t->agg, t->rs, &t->s.filter,
				t->s.sort[t->s.view]);
		top_print_table(stdout, &tb, 0, t->rows);
		top_table_free(&tb);
		putchar('\n');
	}
	fflush(stdout);
}

static int loop(struct top *t)
{
	uint64_t last_rec = 0, last_ns = now_ns(), next = now_ns() + t->s.delay_ms * 1000000ULL;
	int done = 0, ret;
	bool dirty = true;

	while (!stop_signal && !t->s.quit) {
		/*
		 * Each poll wakes us on the CPUs we watch: batch wakes at most
		 * twice a second, the screen ten times, for its keys.
		 */
		ret = ring_buffer__poll(t->rb, !t->batch ? 0 :
					t->s.delay_ms < 500 ? t->s.delay_ms : 500);
		/* the programs wake us only when much is pending: take the rest now */
		if (ret >= 0)
			ret = ring_buffer__consume(t->rb);
		if (ret < 0 && ret != -EINTR) {
			p_err("reading events: %s", strerror(-ret));
			return EXIT_TOOL;
		}
		if (!t->batch && top_ui_key(&t->s, 100))
			dirty = true;
		if (now_ns() >= next) {
			update_status(t, &last_rec, &last_ns);
			next = now_ns() + t->s.delay_ms * 1000000ULL;
			if (t->batch)
				print_snapshot(t);
			dirty = true;
			if (t->iterations && ++done >= t->iterations)
				break;
		}
		if (!t->batch && dirty) {
			t->st.paused = t->s.paused;
			top_ui_draw(&t->s, &t->st, t->agg, t->rs);
			dirty = false;
		}
	}
	ring_buffer__consume(t->rb);
	return EXIT_OK;
}

/* --replay: the recording's own time drives the refreshes */
struct replayer {
	struct top *t;
	struct vl_session *s;
	const char *name;
	uint64_t first_ts, next_frame, frame_records;
	double target_s;		/* frames before this second are not shown */
	bool restart;
	int shown;
};

static double replay_pos(const struct replayer *r, uint64_t ts)
{
	return ts > r->first_ts ? (ts - r->first_ts) / 1e9 : 0;
}

/* The header's figures from a session fed by a recording or a daemon's stream. */
static void status_of_session(struct top *t, struct vl_session *s)
{
	t->agg = s->agg;
	snprintf(t->st.kernel, sizeof(t->st.kernel), "%s", s->kernel);
	snprintf(t->st.mode, sizeof(t->st.mode), "%s", s->mode);
	snprintf(t->st.rules_version, sizeof(t->st.rules_version), "%s",
		 s->rs ? s->rs->version : "");
	snprintf(t->st.rules_source, sizeof(t->st.rules_source), "%s",
		 s->rs ? s->rs->source : "none");
	/* the probes' losses; from a daemon, also the records it dropped when we lagged */
	t->st.lost = s->pipe.st.lost;
	t->st.deviations = s->agg ? agg_totals(s->agg)->deviations : 0;
}

static void replay_status(struct replayer *r, uint64_t ts, bool end)
{
	struct top *t = r->t;
	struct vl_session *s = r->s;

	status_of_session(t, s);
	snprintf(t->st.where, sizeof(t->st.where), "replay %.60s at %.1f s%s", r->name,
		 replay_pos(r, ts), end ? " (end)" : t->s.paused ? " (paused)" : "");
	t->st.events_per_s = s->pipe.st.records - r->frame_records;
	t->st.events_per_s *= 1000.0 / t->s.delay_ms;
	r->frame_records = s->pipe.st.records;
}

/* A frame of the recording's time ends at @ts: show it; on the screen, at its pace. */
static int replay_frame(struct replayer *r, uint64_t ts, bool end)
{
	struct top *t = r->t;
	uint64_t until;
	double want;

	replay_status(r, ts, end);
	if (t->batch) {
		print_snapshot(t);
		return t->iterations && ++r->shown >= t->iterations;
	}
	top_ui_draw(&t->s, &t->st, t->agg, r->s->rs);
	until = now_ns() + t->s.delay_ms * 1000000ULL;
	for (;;) {
		if (top_ui_key(&t->s, 100)) {
			replay_status(r, ts, end);
			top_ui_draw(&t->s, &t->st, t->agg, r->s->rs);
		}
		if (t->s.quit || stop_signal)
			return 1;
		if (t->s.goto_s >= 0 || t->s.jump_s) {
			want = t->s.goto_s >= 0 ? t->s.goto_s : replay_pos(r, ts) + t->s.jump_s;
			t->s.goto_s = -1;
			t->s.jump_s = 0;
			r->target_s = want > 0 ? want : 0;
			if (r->target_s < replay_pos(r, ts)) {
				/* the state at an earlier moment: read again from the start */
				r->restart = true;
				return 1;
			}
			return 0;
		}
		if (t->s.step) {
			t->s.step = false;
			return 0;
		}
		if (!end && !t->s.paused && now_ns() >= until)
			return 0;
	}
}

static int replay_tap(void *ctx, const void *rec, size_t size)
{
	const struct vl_ev_hdr *h = rec;
	struct replayer *r = ctx;
	uint64_t frame = r->t->s.delay_ms * 1000000ULL;
	int ret;

	if (!r->first_ts) {
		r->first_ts = h->ts;
		r->next_frame = h->ts + frame;
	}
	/* an hour of nothing is not shown second by second */
	if (h->ts > r->next_frame + 3600 * frame)
		r->next_frame = h->ts - h->ts % frame;
	while (h->ts >= r->next_frame) {
		uint64_t at = r->next_frame;

		r->next_frame += frame;
		if (replay_pos(r, at) < r->target_s)
			continue;
		ret = replay_frame(r, at, false);
		if (ret)
			return ret;
		frame = r->t->s.delay_ms * 1000000ULL;
	}
	return 0;
}

static int replay_top(struct top *t)
{
	struct replayer r = { .t = t, .target_s = -1 };
	const char *slash = strrchr(t->replay, '/');
	char err[512];
	int ret;

	r.name = slash ? slash + 1 : t->replay;
	t->s.replay = true;
	t->s.goto_s = -1;
	if (!t->batch && !top_ui_open()) {
		p_err("standard input and output must be a terminal; -b prints snapshots instead");
		return EXIT_TOOL;
	}
	for (;;) {
		struct vl_session s = { 0 };
		struct vl_replay rp = { .s = &s, .tap = replay_tap, .tap_ctx = &r };

		if (t->rules_path && !(s.rs = rules_open(t->rules_path, err, sizeof(err)))) {
			top_ui_close();
			p_err("%s", err);
			return EXIT_TOOL;
		}
		r.s = &s;
		r.first_ts = r.frame_records = 0;
		r.restart = false;
		ret = replay_run(&rp, t->replay, err, sizeof(err));
		if (ret < 0) {
			top_ui_close();
			p_err("%s", err);
		} else if (!ret) {
			/* the end: the last frame, on the screen until q */
			if (!t->batch || !t->iterations || r.shown < t->iterations)
				replay_frame(&r, s.pipe.st.last_ts, true);
		}
		t->agg = NULL;
		if (!r.restart) {
			top_ui_close();
			replay_warn(&rp);
		}
		replay_free(&rp);
		session_free(&s);
		if (!r.restart)
			return ret < 0 ? EXIT_TOOL : EXIT_OK;
	}
}

/*
 * Attached to a daemon: its live records, streamed as a trace, go through
 * this session's pipeline like a recording's; frames follow the wall clock.
 * The daemon sends its counters every second, so an idle host still
 * refreshes and reads keys that often.
 */
struct attacher {
	struct top *t;
	struct vl_session *s;
	uint64_t next_frame, next_key, last_ns, last_records;
	int shown, reattached;
	bool ended;
};

static void attach_status(struct attacher *a)
{
	struct top *t = a->t;
	struct vl_session *s = a->s;
	uint64_t now = now_ns();

	status_of_session(t, s);
	snprintf(t->st.where, sizeof(t->st.where), "daemon %.70s%s", t->sock,
		 a->ended ? " (ended)" : a->reattached ? " (probes reloaded)" : "");
	snprintf(t->st.daemon, sizeof(t->st.daemon), "%s", t->sock);
	if (now > a->last_ns)
		t->st.events_per_s = (s->pipe.st.records - a->last_records) * 1e9 /
				     (now - a->last_ns);
	a->last_ns = now;
	a->last_records = s->pipe.st.records;
	t->st.paused = t->s.paused;
}

static int attach_frame(struct attacher *a)
{
	struct top *t = a->t;

	attach_status(a);
	if (t->batch) {
		print_snapshot(t);
		return t->iterations && ++a->shown >= t->iterations;
	}
	top_ui_draw(&t->s, &t->st, t->agg, a->s->rs);
	return 0;
}

static int attach_tap(void *ctx, const void *rec, size_t size)
{
	struct attacher *a = ctx;
	struct top *t = a->t;
	uint64_t now = now_ns();

	if (stop_signal || t->s.quit)
		return 1;
	if (!t->batch && now >= a->next_key) {
		a->next_key = now + 50 * 1000000ull;
		if (top_ui_key(&t->s, 0) && a->s->agg && !t->s.paused)
			top_ui_draw(&t->s, &t->st, t->agg, a->s->rs);
	}
	if (now < a->next_frame)
		return 0;
	a->next_frame = now + t->s.delay_ms * 1000000ull;
	if (t->s.paused && !t->batch)
		return 0;
	return attach_frame(a);
}

/* A reload of the daemon's probes ends every stream; its next one has the new probes. */
static bool probes_reloaded(const struct vl_replay *rp)
{
	return rp->end_json && strstr(rp->end_json, "\"reloaded\"");
}

/* Takes @f, the daemon's stream, and follows the daemon across reloads. */
static int attach_top(struct top *t, FILE *f)
{
	struct attacher a = { .t = t, .last_ns = now_ns() };
	char err[512], name[160];
	int ret = EXIT_OK;

	a.next_frame = now_ns() + t->s.delay_ms * 1000000ull;
	fprintf(stderr, "vfslock: top: attached to the daemon on %s: its probes, none loaded "
		"here\n", t->sock);
	if (!t->batch && !top_ui_open()) {
		p_err("standard input and output must be a terminal; -b prints snapshots instead");
		fclose(f);
		return EXIT_TOOL;
	}
	snprintf(name, sizeof(name), "the daemon's stream on %s", t->sock);
	while (f) {
		struct vl_session s = { 0 };
		struct vl_replay rp = { .s = &s, .tap = attach_tap, .tap_ctx = &a };

		a.s = &s;
		if (t->rules_path && !(s.rs = rules_open(t->rules_path, err, sizeof(err)))) {
			ret = -1;
			fclose(f);
			break;
		}
		/* 0: the daemon ended the stream (or went away); positive: we stopped */
		ret = replay_stream(&rp, f, name, err, sizeof(err));
		a.ended = ret == 0 && !stop_signal;
		if (ret == 0)
			ret = replay_stream_end(&rp, name, err, sizeof(err));
		fclose(f);
		f = NULL;
		/* the new probes' session starts afresh, like a new recording */
		if (a.ended && ret >= 0 && probes_reloaded(&rp) && (f = daemon_stream(t->sock, 0))) {
			a.reattached++;
			a.ended = false;
			a.last_records = 0;
			a.last_ns = now_ns();
			/* said as attaching was: a snapshot's counts start again after it */
			if (t->batch)
				fprintf(stderr, "vfslock: top: the daemon reloaded its probes; "
					"attached to its new stream\n");
		} else if (ret >= 0 && s.agg && t->batch &&
			   (!t->iterations || a.shown < t->iterations)) {
			/* the last state, when a signal or the daemon's end cut the run short */
			attach_status(&a);
			print_snapshot(t);
		}
		if (!f && a.ended && ret >= 0) {
			top_ui_close();
			p_info("top: the daemon ended the stream%s%s", rp.end_json ? ": " : "",
			       rp.end_json ? rp.end_json : " (it went away)");
		}
		t->agg = NULL;
		replay_free(&rp);
		session_free(&s);
	}
	top_ui_close();
	if (ret < 0)
		p_err("%s", err);
	return ret < 0 ? EXIT_TOOL : EXIT_OK;
}

int do_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay",	required_argument, NULL, 'd' },
		{ "batch",	no_argument, NULL, 'b' },
		{ "iterations",	required_argument, NULL, 'n' },
		{ "json",	no_argument, NULL, 'j' },
		{ "view",	required_argument, NULL, 'v' },
		{ "sort",	required_argument, NULL, 's' },
		{ "filter",	required_argument, NULL, 'f' },
		{ "rows",	required_argument, NULL, 'r' },
		{ "rules",	required_argument, NULL, 'R' },
		{ "holds",	no_argument, NULL, 'H' },
		{ "check",	no_argument, NULL, 'C' },
		{ "fs",		required_argument, NULL, 'F' },
		{ "replay",	required_argument, NULL, 'P' },
		{ "socket",	required_argument, NULL, 'S' },
		{ "standalone",	no_argument, NULL, 'A' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct top t;
	const char *sort = NULL;
	char *end;
	double d;
	int opt, ret, v;

	memset(&t, 0, sizeof(t));
	t.sock = getenv("VFSLOCK_SOCKET") ?: VL_DAEMON_SOCKET;
	t.s.delay_ms = 1000;
	t.s.filter.cls = -1;
	t.s.sort[TV_LOCKS] = 2;		/* total wait */
	t.s.sort[TV_TASKS] = 3;
	t.s.sort[TV_SITES] = 3;
	t.s.sort[TV_DEVS] = 0;
	t.s.sort[TV_RULES] = 0;
	t.rows = 20;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:bn:jv:s:f:r:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'd':
			d = strtod(optarg, &end);
			if (*end || d < 0.1 || d > 3600) {
				p_err("--delay: '%s' is not a number of seconds from 0.1 to 3600", optarg);
				return EXIT_TOOL;
			}
			t.s.delay_ms = d * 1000;
			break;
		case 'b':
			t.batch = true;
			break;
		case 'n':
			t.iterations = strtol(optarg, &end, 10);
			if (*end || t.iterations <= 0) {
				p_err("--iterations: '%s' is not a positive number", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'j':
			json_output = true;
			break;
		case 'v':
			v = top_view_parse(optarg);
			if (v < 0) {
				p_err("--view: '%s' is none of locks, tasks, sites, deviations, rules",
				      optarg);
				return EXIT_TOOL;
			}
			t.s.view = v;
			break;
		case 's':
			sort = optarg;
			break;
		case 'f':
			if (top_filter_parse(&t.s.filter, optarg)) {
				p_err("--filter: '%s' is none of fs=TYPE, comm=NAME, pid=N, class=CLASS",
				      optarg);
				return EXIT_TOOL;
			}
			break;
		case 'r':
			t.rows = strtol(optarg, &end, 10);
			if (*end || t.rows < 0) {
				p_err("--rows: '%s' is not a number", optarg);
				return EXIT_TOOL;
			}
			break;
		case 'R':
			t.rules_path = optarg;
			break;
		case 'H':
			t.holds = true;
			break;
		case 'C':
			t.check = true;
			break;
		case 'F':
			t.fslist = optarg;
			break;
		case 'P':
			t.replay = optarg;
			break;
		case 'S':
			t.sock = optarg;
			break;
		case 'A':
			t.standalone = true;
			break;
		default:
			return top_help();
		}
	}
	if (optind < argc)
		return top_help();
	if (sort) {
		v = top_col_parse(t.s.view, sort);
		if (v < 0) {
			p_err("--sort: the %s view has no column '%s'", top_view_name(t.s.view), sort);
			return EXIT_TOOL;
		}
		t.s.sort[t.s.view] = v;
	}
	if (json_output)
		t.batch = true;
	if (t.replay) {
		if (t.holds || t.check || t.fslist) {
			p_err("--replay shows what the recording holds: no --holds, --check or --fs");
			return EXIT_TOOL;
		}
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		ret = replay_top(&t);
		cleanup(&t);
		return ret;
	}

	if (!t.standalone) {
		FILE *f = daemon_stream(t.sock, 0);

		if (f && (t.holds || t.check || t.fslist)) {
			fclose(f);
			p_err("a daemon runs on %s, whose probes top shares: --holds, --check and "
			      "--fs are chosen in its configuration; --standalone loads top's own",
			      t.sock);
			return EXIT_TOOL;
		}
		if (f) {
			sigaction(SIGINT, &sa, NULL);
			sigaction(SIGTERM, &sa, NULL);
			sigaction(SIGHUP, &sa, NULL);
			ret = attach_top(&t, f);
			cleanup(&t);
			return ret;
		}
	}
	ret = setup(&t);
	if (ret) {
		cleanup(&t);
		return ret;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!t.batch && !top_ui_open()) {
		p_err("standard input and output must be a terminal; -b prints snapshots instead");
		cleanup(&t);
		return EXIT_TOOL;
	}
	if (t.batch)
		fprintf(stderr, "vfslock: top: watching, mode %s\n", t.st.mode);
	ret = loop(&t);
	top_ui_close();
	/* a last snapshot on the way out, so a batch run killed early still reports */
	if (t.batch && ret == EXIT_OK && stop_signal) {
		uint64_t r = 0, n = now_ns();

		update_status(&t, &r, &n);
		print_snapshot(&t);
	}
	cleanup(&t);
	return ret;
}
