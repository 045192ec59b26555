// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock check [--fs LIST] [--rules FILE] [--suppressions FILE] -- CMD [ARG...]
 *
 * Runs CMD with every task it creates watched, checks each VFS method call
 * they make against the rules in force, and says what broke them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "baseline.h"
#include "catalog.h"
#include "cmds.h"
#include "discover.h"
#include "engine.h"
#include "junit.h"
#include "kbtf.h"
#include "ksyms.h"
#include "live.h"
#include "pipeline.h"
#include "probe.h"
#include "daemon_cfg.h"
#include "daemon_client.h"
#include "replay.h"
#include "report.h"
#include "rules.h"
#include "suppress.h"
#include "util.h"
#include "workload.h"

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static int check_help(void)
{
	fprintf(stderr,
		"Usage: vfslock check [OPTIONS] -- CMD [ARG...]\n"
		"       vfslock check --all [--duration S] [OPTIONS] [-- CMD [ARG...]]\n\n"
		"Run CMD and check the VFS locking rules its tasks exercise.\n\n"
		"  --all            check every task of the system, not only CMD's: while CMD\n"
		"                   runs, or without CMD until --duration or SIGINT/SIGTERM\n"
		"  --duration S     with --all and no CMD: stop after S seconds\n"
		"  --fs LIST        filesystem types to check, comma separated (default: all mounted)\n"
		"  --rules FILE     locking.rst to check against (default: the running kernel's)\n"
		"  --kernel X.Y     use the embedded locking.rst of kernel X.Y\n"
		"  --ring-mb N      ring buffer size in MiB (default 16)\n"
		"  --json FILE      also write the report as JSON to FILE\n"
		"  --junit FILE     also write it as JUnit XML: a test case per rule judged,\n"
		"                   a failure per distinct deviation (docs/ci.md)\n"
		"  --baseline FILE  deviations known (a --write-baseline file): listed, not failing\n"
		"  --write-baseline FILE\n"
		"                   write the distinct deviations found as a baseline\n"
		"  --lock-events readers|all\n"
		"                   rwsem acquisitions and releases streamed (default readers:\n"
		"                   exclusive holds are read from the lock words at each call;\n"
		"                   all also rebuilds them and checks them against the words)\n"
		"  --prog-stats     measure each probe's run count and time (kernel BPF\n"
		"                   statistics: they cost a little themselves)\n"
		"  --suppressions FILE\n"
		"                   deviations known and accepted, with reasons (repeatable;\n"
		"                   docs/suppressions.md)\n"
		"  --replay FILE    judge a recording (vfslock record) instead of a command:\n"
		"                   against its own rules, or those of --rules / --kernel\n"
		"  --socket PATH    the daemon's socket (default %s): when a daemon answers,\n"
		"                   check judges CMD's tasks in its stream, loading no probe\n"
		"  --standalone     load check's own probes even when a daemon runs\n\n"
		"Exit status: 0 no deviation, 1 deviations, 2 vfslock could not do its job,\n"
		"3 this kernel cannot be checked (vfslock probe says why).\n", VL_DAEMON_SOCKET);
	return EXIT_TOOL;
}

struct check {
	const char *fslist;
	const char *rules_path;
	const char *kernel;
	const char *json_path;
	const char *junit_path;
	const char *baseline_out;
	bool all;
	double duration;
	size_t ring_bytes;
	struct vl_workload wl;
	struct vl_supps supps;

	struct vl_ruleset *rs;
	struct kbtf *kb;
	struct ksyms *ks;
	struct vl_mounts mounts;
	struct vl_catalog cat;
	struct vl_discovery disc;
	struct vl_engine *eng;
	struct vl_pipeline pipe;
	struct vl_report *rep;
	struct vl_live live;
	bool live_open;
	uint8_t lock_events;		/* enum vl_lock_events */
	bool prog_stats;
	int stats_fd;
	int nprog_stats;
	struct vl_prog_stat *prog_stat;

	pid_t child;
	int status;
	uint64_t t_start, t_end;
	double cpu_start, cpu_end;	/* vfslock's own CPU time around the workload */
	uint64_t stats[VL_STAT_MAX];
	int mounts_fd;			/* /proc/self/mountinfo, polled for changes */
	int pickups;			/* filesystems mounted and picked up mid-run */
};

static bool prerequisites(void)
{
	static const int needed[] = { CAP_BTF, CAP_RINGBUF, CAP_FENTRY, CAP_FEXIT, CAP_ITER,
				      CAP_KALLSYMS };
	struct vl_caps c;
	char buf[256], all[1024] = "";
	size_t i;
	bool ok = true;

	caps_probe(&c);
	for (i = 0; i < ARRAY_SIZE(needed); i++) {
		if (c.cap[needed[i]].ok)
			continue;
		ok = false;
		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s", all[0] ? "; " : "",
			 cap_reason(&c.cap[needed[i]], buf, sizeof(buf)));
	}
	if (!ok)
		p_err("cannot check on kernel %s (lockdown: %s): %s. 'vfslock check' needs these to "
		      "see VFS method calls and lock holds; 'vfslock probe' shows what this kernel "
		      "allows. Run the check in a VM instead (tests/vm/run, docs/testing.md).",
		      c.kernel, c.lockdown, all);
	return ok;
}

/* CPU time vfslock itself used: what the workload lost to the daemon. */
static double self_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void print_summary(struct check *ck, FILE *f)
{
	const struct vl_engine_stats *es = engine_stats(ck->eng);
	const struct vl_lockstate_stats *ls = lockstate_stats(ck->pipe.ls);
	struct vl_report_counts rc;
	int i;

	fprintf(f, "vfslock check: rules from %s\n", ck->rs->source);
	fprintf(f, "  filesystems   ");
	for (i = 0; i < ck->disc.ntypes; i++)
		fprintf(f, "%s%s", i ? ", " : "", ck->disc.types[i].name);
	fprintf(f, "\n  traced        %d method implementations, %d lock primitives\n",
		ck->live.nmethods, ck->live.nprims);
	if (verbose && ck->live.prims_missing[0])
		fprintf(f, "  not in kernel %s\n", ck->live.prims_missing);
	for (i = 0; i < ck->live.ndropped; i++)
		fprintf(f, "  NOT LOADED    %s: refused by the kernel: %s\n", ck->live.dropped[i].prog,
			ck->live.dropped[i].why);
	for (i = 0; i < ck->live.nfails; i++)
		fprintf(f, "  NOT TRACED    %s (%s): %s\n", ck->live.fails[i].fn->name,
			ck->live.fails[i].fn->roles[0].method, ck->live.fails[i].why);
	if (!ck->child)
		fprintf(f, "  workload      every task, for %.1f s\n", (ck->t_end - ck->t_start) / 1e9);
	else if (WIFEXITED(ck->status))
		fprintf(f, "  workload      exited %d after %.1f s\n", WEXITSTATUS(ck->status),
			(ck->t_end - ck->t_start) / 1e9);
	else if (WIFSIGNALED(ck->status))
		fprintf(f, "  workload      killed by signal %d after %.1f s\n", WTERMSIG(ck->status),
			(ck->t_end - ck->t_start) / 1e9);
	fprintf(f, "  events        %" PRIu64 " received, %" PRIu64 " lost, %" PRIu64 " malformed\n",
		ck->pipe.st.records, ck->stats[VL_STAT_LOST], ck->pipe.st.bad);
	fprintf(f, "  vfslock CPU   %.2f s while the workload ran, %.2f s in all\n",
		ck->cpu_end - ck->cpu_start, self_cpu());
	fprintf(f, "  judged        %" PRIu64 " method calls: %" PRIu64 " compliant in the kernel's "
		"filter, %" PRIu64 " in vfslock (%" PRIu64 " rule checks, %" PRIu64 " unverifiable, %"
		PRIu64 " internal helper calls)\n", es->calls + ck->stats[VL_STAT_CALLS_MET],
		ck->stats[VL_STAT_CALLS_MET], es->calls, es->checks, es->unverifiable,
		es->internal_calls);
	if (ck->pipe.st.by_type[VL_EV_METHOD_BLOCK] || ck->stats[VL_STAT_NB_STALE])
		fprintf(f, "  sleeps        %" PRIu64 " inside methods that may not block; %" PRIu64
			" no-block calls not followed (nested in an interrupt, or no memory) or "
			"whose exit went unseen\n",
			ck->pipe.st.by_type[VL_EV_METHOD_BLOCK], ck->stats[VL_STAT_NB_STALE]);
	if (ck->stats[VL_STAT_TOO_DEEP])
		fprintf(f, "  too deep      %" PRIu64 " method calls nested in interrupts deeper "
			"than vfslock's record buffers (not judged)\n", ck->stats[VL_STAT_TOO_DEEP]);
	if (ck->stats[VL_STAT_SKIPPED])
		fprintf(f, "  skipped       %" PRIu64 " probe runs the kernel skipped, the probe "
			"being preempted on that CPU (reader holds then read from the owner "
			"word)\n", ck->stats[VL_STAT_SKIPPED]);
	if (ck->stats[VL_STAT_CLOBBERED])
		fprintf(f, "  overwritten   %" PRIu64 " method records another task's program "
			"overwrote on a preempted CPU level (not judged)\n",
			ck->stats[VL_STAT_CLOBBERED]);
	if (ck->stats[VL_STAT_NO_CFG])
		fprintf(f, "  unconfigured  %" PRIu64 " method calls found no configuration "
			"(not judged)\n", ck->stats[VL_STAT_NO_CFG]);
	if (ck->stats[VL_STAT_VMA_LOCK])
		fprintf(f, "  per-VMA lock  %" PRIu64 " vm_operations calls under their vma's lock, "
			"not mmap_lock (the first of each method reported)\n",
			ck->stats[VL_STAT_VMA_LOCK]);
	fprintf(f, "  locks         %" PRIu64 " acquisitions, %" PRIu64 " releases, %" PRIu64
		" unmatched releases%s\n", ls->acquires, ls->releases, ls->unmatched_releases,
		ck->lock_events == VL_LOCK_EVENTS_READERS ?
		" (reader holds; exclusive ones read from lock words)" : "");
	if (es->state_mismatch || es->no_stack)
		fprintf(f, "  consistency   %" PRIu64 " lock-word mismatches, %" PRIu64
			" deviations without stack\n", es->state_mismatch, es->no_stack);
	report_counts(ck->rep, &rc);
	fprintf(f, "  deviations    %" PRIu64 " (%d distinct: %d by the filesystem, %d by a module, "
		"%d unknown)\n", rc.deviations - rc.by_attrib[VL_ATTR_CORE],
		rc.distinct - rc.distinct_by_attrib[VL_ATTR_CORE],
		rc.distinct_by_attrib[VL_ATTR_FILESYSTEM], rc.distinct_by_attrib[VL_ATTR_MODULE],
		rc.distinct_by_attrib[VL_ATTR_UNKNOWN]);
	fprintf(f, "  drift         %" PRIu64 " (%d distinct: core kernel calls locking.rst does "
		"not describe)\n", rc.by_attrib[VL_ATTR_CORE], rc.distinct_by_attrib[VL_ATTR_CORE]);
	if (rc.supp_entries)
		fprintf(f, "  suppressed    %" PRIu64 " (%d distinct) by %d of %d entries, %d unused\n",
			rc.suppressed, rc.suppressed_distinct, rc.supp_entries - rc.supp_unused,
			rc.supp_entries, rc.supp_unused);
}

/*
 * The last line of check's output, whatever came before: the verdict, which
 * a CI log shows folded and a script can take with tail -1.
 */
static void print_verdict(FILE *f, int status, const struct vl_report_counts *rc,
			  uint64_t calls, const char *incomplete, const char *rules)
{
	fprintf(f, "vfslock check: %s: ", status == EXIT_OK ? "PASS" :
		status == EXIT_DEVIATION ? "FAIL" : "INCOMPLETE");
	if (status == EXIT_DEVIATION)
		fprintf(f, "%" PRIu64 " deviation%s (%d distinct)", rc->deviations,
			rc->deviations == 1 ? "" : "s", rc->distinct);
	else if (status == EXIT_OK)
		fprintf(f, "no deviation");
	else
		fprintf(f, "%s; no deviation in the", incomplete);
	fprintf(f, " %s%" PRIu64 " method calls judged against %s",
		status == EXIT_OK || status == EXIT_DEVIATION ? "in " : "", calls, rules);
	if (rc->suppressed)
		fprintf(f, ", %" PRIu64 " suppressed", rc->suppressed);
	fprintf(f, "; exit %d\n", status);
}

static json_object *prog_stats_json(const struct check *ck)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < ck->nprog_stats; i++) {
		const struct vl_prog_stat *st = &ck->prog_stat[i];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "program", json_object_new_string(st->prog));
		json_object_object_add(x, "target", json_object_new_string(st->target));
		json_object_object_add(x, "runs", json_object_new_int64(st->runs));
		json_object_object_add(x, "ns", json_object_new_int64(st->ns));
		json_object_object_add(x, "skipped", json_object_new_int64(st->misses));
		json_object_array_add(a, x);
	}
	return a;
}

/* The costliest probes; all of them are in the JSON. */
static void print_prog_stats(const struct check *ck, FILE *f)
{
	int i;

	fprintf(f, "\n%-24s %-36s %12s %14s %8s %9s\n", "program", "attached to", "runs", "ns",
		"ns/run", "skipped");
	for (i = 0; i < ck->nprog_stats && i < 20; i++) {
		const struct vl_prog_stat *st = &ck->prog_stat[i];

		if (!st->runs)
			break;
		fprintf(f, "%-24s %-36.36s %12" PRIu64 " %14" PRIu64 " %8" PRIu64 " %9" PRIu64 "\n",
			st->prog, st->target, st->runs, st->ns, st->ns / st->runs, st->misses);
	}
}

static json_object *summary_json(struct check *ck)
{
	const struct vl_engine_stats *es = engine_stats(ck->eng);
	const struct vl_lockstate_stats *ls = lockstate_stats(ck->pipe.ls);
	json_object *o = json_object_new_object(), *fs = json_object_new_array();
	json_object *nt = json_object_new_array(), *ev = json_object_new_object();
	json_object *by = json_object_new_object();
	struct vl_report_counts rc;
	int i;

	json_object_object_add(o, "rules_source", json_object_new_string(ck->rs->source));
	json_object_object_add(o, "rules_version", json_object_new_string(ck->rs->version));
	for (i = 0; i < ck->disc.ntypes; i++)
		json_object_array_add(fs, json_object_new_string(ck->disc.types[i].name));
	json_object_object_add(o, "filesystems", fs);
	json_object_object_add(o, "mounts_picked_up", json_object_new_int(ck->pickups));
	json_object_object_add(o, "methods_traced", json_object_new_int(ck->live.nmethods));
	json_object_object_add(o, "lock_primitives", json_object_new_int(ck->live.nprims));
	for (i = 0; i < ck->live.nfails; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "function", json_object_new_string(ck->live.fails[i].fn->name));
		json_object_object_add(x, "why", json_object_new_string(ck->live.fails[i].why));
		json_object_array_add(nt, x);
	}
	json_object_object_add(o, "not_traced", nt);
	nt = json_object_new_array();
	for (i = 0; i < ck->live.ndropped; i++) {
		json_object *x = json_object_new_object();

		json_object_object_add(x, "program", json_object_new_string(ck->live.dropped[i].prog));
		json_object_object_add(x, "why", json_object_new_string(ck->live.dropped[i].why));
		json_object_array_add(nt, x);
	}
	json_object_object_add(o, "programs_not_loaded", nt);
	json_object_object_add(o, "whole_system", json_object_new_boolean(ck->all));
	json_object_object_add(o, "workload_status", !ck->child ? NULL : json_object_new_int(
		WIFEXITED(ck->status) ? WEXITSTATUS(ck->status) : 128 + WTERMSIG(ck->status)));
	json_object_object_add(o, "workload_seconds",
			       json_object_new_double((ck->t_end - ck->t_start) / 1e9));
	json_object_object_add(o, "vfslock_cpu_seconds", json_object_new_double(self_cpu()));
	json_object_object_add(o, "vfslock_cpu_seconds_during_workload",
			       json_object_new_double(ck->cpu_end - ck->cpu_start));
	json_object_object_add(ev, "received", json_object_new_int64(ck->pipe.st.records));
	json_object_object_add(ev, "lost", json_object_new_int64(ck->stats[VL_STAT_LOST]));
	json_object_object_add(ev, "malformed", json_object_new_int64(ck->pipe.st.bad));
	json_object_object_add(ev, "lock", json_object_new_int64(ck->pipe.st.by_type[VL_EV_LOCK]));
	json_object_object_add(ev, "method",
			       json_object_new_int64(ck->pipe.st.by_type[VL_EV_METHOD_ENTER]));
	json_object_object_add(ev, "stacks", json_object_new_int64(ck->stats[VL_STAT_STACKS]));
	json_object_object_add(ev, "sleeps",
			       json_object_new_int64(ck->pipe.st.by_type[VL_EV_METHOD_BLOCK]));
	json_object_object_add(ev, "unconfigured_calls",
			       json_object_new_int64(ck->stats[VL_STAT_NO_CFG]));
	json_object_object_add(ev, "stale_calls",
			       json_object_new_int64(ck->stats[VL_STAT_NB_STALE]));
	json_object_object_add(ev, "exits",
			       json_object_new_int64(ck->pipe.st.by_type[VL_EV_METHOD_EXIT]));
	json_object_object_add(ev, "vma_locked_calls",
			       json_object_new_int64(ck->stats[VL_STAT_VMA_LOCK]));
	json_object_object_add(ev, "nested_in_interrupt",
			       json_object_new_int64(ck->stats[VL_STAT_IRQ_NESTED]));
	json_object_object_add(ev, "nested_too_deep",
			       json_object_new_int64(ck->stats[VL_STAT_TOO_DEEP]));
	json_object_object_add(ev, "skipped_runs",
			       json_object_new_int64(ck->stats[VL_STAT_SKIPPED]));
	json_object_object_add(ev, "records_overwritten",
			       json_object_new_int64(ck->stats[VL_STAT_CLOBBERED]));
	json_object_object_add(o, "events", ev);
	json_object_object_add(o, "method_calls",
			       json_object_new_int64(es->calls + ck->stats[VL_STAT_CALLS_MET]));
	json_object_object_add(o, "method_calls_met_in_kernel",
			       json_object_new_int64(ck->stats[VL_STAT_CALLS_MET]));
	json_object_object_add(o, "rule_checks", json_object_new_int64(es->checks));
	json_object_object_add(o, "unverifiable", json_object_new_int64(es->unverifiable));
	json_object_object_add(o, "internal_calls", json_object_new_int64(es->internal_calls));
	json_object_object_add(o, "lock_events", json_object_new_string(
		ck->lock_events == VL_LOCK_EVENTS_READERS ? "readers" : "all"));
	json_object_object_add(o, "lock_acquisitions", json_object_new_int64(ls->acquires));
	json_object_object_add(o, "unmatched_releases", json_object_new_int64(ls->unmatched_releases));
	json_object_object_add(o, "state_mismatch", json_object_new_int64(es->state_mismatch));
	json_object_object_add(o, "deviations_without_stack", json_object_new_int64(es->no_stack));
	report_counts(ck->rep, &rc);
	/* every deviation reported, drift included, as deviation_list */
	json_object_object_add(o, "deviations", json_object_new_int64(rc.deviations));
	json_object_object_add(o, "distinct", json_object_new_int(rc.distinct));
	json_object_object_add(o, "drift", json_object_new_int64(rc.by_attrib[VL_ATTR_CORE]));
	json_object_object_add(o, "drift_distinct",
			       json_object_new_int(rc.distinct_by_attrib[VL_ATTR_CORE]));
	for (i = 0; i < VL_ATTR_MAX; i++)
		json_object_object_add(by, attrib_name(i), json_object_new_int64(rc.by_attrib[i]));
	json_object_object_add(o, "attribution", by);
	json_object_object_add(o, "suppressed", json_object_new_int64(rc.suppressed));
	json_object_object_add(o, "suppressed_distinct", json_object_new_int(rc.suppressed_distinct));
	if (ck->prog_stats)
		json_object_object_add(o, "programs", prog_stats_json(ck));
	return o;
}

static void cleanup(struct check *ck)
{
	if (ck->live_open)
		live_close(&ck->live);
	if (ck->stats_fd >= 0)
		close(ck->stats_fd);
	free(ck->prog_stat);
	pipeline_fini(&ck->pipe);
	report_free(ck->rep);
	engine_free(ck->eng);
	catalog_free(&ck->cat);
	discovery_free(&ck->disc);
	mounts_free(&ck->mounts);
	if (ck->mounts_fd >= 0)
		close(ck->mounts_fd);
	ksyms__free(ck->ks);
	kbtf__free(ck->kb);
	rules_free(ck->rs);
	supp_free(&ck->supps);
}

/* The implementations the kernel would not let be traced, from the @from-th on. */
static void warn_not_traced(const struct check *ck, int from)
{
	int i;

	for (i = from; i < ck->live.nfails; i++)
		p_warn("%s (%s->%s) not traced: %s", ck->live.fails[i].fn->name,
		       ck->live.fails[i].fn->roles[0].ops_struct,
		       ck->live.fails[i].fn->roles[0].method, ck->live.fails[i].why);
}

/* Whether the mount table changed since the last call: mountinfo polls so. */
static bool mounts_changed(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	return fd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & (POLLPRI | POLLERR));
}

/*
 * Filesystems mounted while the workload runs: their methods are found
 * and traced from then on, their types and superblocks watched. Calls
 * made before the pickup are not seen; the message says when it happened.
 */
static void pick_up_mounts(struct check *ck, const struct vl_live_opts *lo)
{
	struct vl_discovery d = { 0 };
	struct vl_mounts fresh;
	int from = ck->cat.nfns, nfails = ck->live.nfails, n, i, err;
	char msg[512];

	if (discover_new_mounts(NULL, ck->fslist, &ck->mounts, &fresh) || !fresh.n) {
		mounts_free(&fresh);
		return;
	}
	err = discover_methods(&fresh, ck->kb, ck->ks, &ck->cat, &d);
	if (err) {
		p_warn("reading the operation tables of %s: %s; not checked", fresh.v[0].mnt,
		       strerror(-err));
		goto out;
	}
	n = live_add(&ck->live, lo, &d, from, msg, sizeof(msg));
	if (n < 0) {
		p_warn("tracing the methods of %s: %s", fresh.v[0].mnt, msg);
		goto out;
	}
	discovery_merge(&ck->disc, &d);
	warn_not_traced(ck, nfails);
	for (i = 0; i < fresh.n; i++)
		p_info("picked up %s mounted at %s after %.1f s: %d more method implementations "
		       "traced", fresh.v[i].fstype, fresh.v[i].mnt,
		       (now_ns() - ck->t_start) / 1e9, n);
	ck->pickups += fresh.n;
out:
	discovery_free(&d);
	mounts_free(&fresh);
}

/*
 * The files a check writes from its result @o, live or replayed alike:
 * --json, --junit, --write-baseline. EXIT_OK, or EXIT_TOOL when one fails.
 */
static int write_outputs(const struct check *ck, json_object *o, const struct vl_ruleset *rs,
			 const struct vl_engine *eng, const char *kernel, double seconds)
{
	json_object *devs = NULL, *supp = NULL, *c;
	char err[512];
	int ret = EXIT_OK;

	/* a replay's result holds its deviations in "check", a live one's at the top */
	if (!json_object_object_get_ex(o, "deviation_list", &devs) &&
	    json_object_object_get_ex(o, "check", &c))
		json_object_object_get_ex(c, "deviation_list", &devs);
	json_object_object_get_ex(o, "suppressed_list", &supp);
	if (ck->json_path && json_object_to_file_ext(ck->json_path, o, JSON_C_TO_STRING_PRETTY)) {
		p_err("writing %s: %s", ck->json_path, strerror(errno));
		ret = EXIT_TOOL;
	}
	if (ck->junit_path && junit_write(ck->junit_path, rs, eng, kernel, devs, supp, seconds, err,
					  sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_TOOL;
	}
	if (ck->baseline_out &&
	    baseline_write(ck->baseline_out, devs, supp, rs->source, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_TOOL;
	}
	if (json_output)
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	return ret;
}

/* Files to write, or -j: the result is put together as JSON. */
static bool wants_result(const struct check *ck)
{
	return json_output || ck->json_path || ck->junit_path || ck->baseline_out;
}

static int run(struct check *ck)
{
	struct vl_report_counts rc;
	struct vl_live_opts lo = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct vl_sink sink;
	char err[512], why[64];
	int ret, i;
	bool checked_any = false;
	uint64_t kill_at = 0, lost;

	if (!prerequisites())
		return EXIT_UNSUPPORTED;
	ck->rs = rules_load(ck->rules_path, ck->kernel, err, sizeof(err));
	if (!ck->rs) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	p_info("rules from %s", ck->rs->source);
	ck->kb = kbtf__open();
	if (!ck->kb) {
		p_err("reading the kernel's BTF: %s", strerror(errno));
		return EXIT_TOOL;
	}
	ck->ks = ksyms__load(NULL);
	if (!ck->ks) {
		p_err("reading /proc/kallsyms: %s", strerror(errno));
		return EXIT_TOOL;
	}
	/* opened first: a mount made from here on shows as a change */
	ck->mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	ret = discover_mounts(NULL, ck->fslist, &ck->mounts);
	if (ret || !ck->mounts.n) {
		/*
		 * Methods are found through a mounted superblock, and traced
		 * from before CMD starts: a filesystem CMD mounts itself is
		 * picked up only on top of one already checked.
		 */
		p_err("no mounted filesystem of type %s: mount it before the check starts",
		      ck->fslist ? ck->fslist : "any");
		return EXIT_TOOL;
	}
	ret = discover_methods(&ck->mounts, ck->kb, ck->ks, &ck->cat, &ck->disc);
	if (ret) {
		p_err("reading the filesystems' operation tables: %s", strerror(-ret));
		return EXIT_TOOL;
	}
	ck->eng = engine_new(ck->rs, &ck->cat, ck->ks);
	engine_set_lock_events(ck->eng, ck->lock_events);
	for (i = 0; i < ck->cat.nfns; i++)
		checked_any |= engine_fn_checked(ck->eng, &ck->cat.fns[i]);
	if (!checked_any) {
		p_err("nothing to check: no method of %s has a rule vfslock checks in %s",
		      ck->fslist ? ck->fslist : "the mounted filesystems", ck->rs->source);
		return EXIT_TOOL;
	}

	pipeline_init(&ck->pipe, ck->eng);
	ck->rep = report_new(ck->ks, &ck->mounts, &ck->cat);
	report_suppress(ck->rep, &ck->supps);
	report_set_lock_events(ck->rep, ck->lock_events);
	sink = (struct vl_sink){ .ctx = ck->rep, .on_deviation = report_on_deviation };
	pipeline_add_sink(&ck->pipe, &sink);

	lo.lock_events = ck->lock_events;
	lo.watch_all = ck->all;
	lo.ring_bytes = ck->ring_bytes;
	lo.kb = ck->kb;
	lo.cat = &ck->cat;
	lo.eng = ck->eng;
	lo.disc = &ck->disc;
	lo.on_record = pipeline_feed_cb;
	lo.ctx = &ck->pipe;
	ret = live_open(&ck->live, &lo, err, sizeof(err));
	ck->live_open = true;
	if (ret) {
		p_err("%s", err);
		return EXIT_TOOL;
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (ck->wl.cmd) {
		ret = workload_spawn(&ck->wl);
		if (ret) {
			p_err("starting %s: %s", ck->wl.cmd[0], strerror(-ret));
			return EXIT_TOOL;
		}
		ck->child = ck->wl.pid;
		lockstate_task_born(ck->pipe.ls, ck->child, ck->child, NULL);
	}
	if ((ck->child && live_watch_task(&ck->live, ck->child)) ||
	    live_attach(&ck->live, &lo, err, sizeof(err))) {
		if (!err[0])
			snprintf(err, sizeof(err), "watching the workload: %s", strerror(errno));
		p_err("%s", err);
		if (ck->child)
			workload_abort(&ck->wl);
		return EXIT_TOOL;
	}
	warn_not_traced(ck, 0);
	if (ck->wl.cmd)
		p_info("%d method implementations and %d lock primitives traced; starting %s",
		       ck->live.nmethods, ck->live.nprims, ck->wl.cmd[0]);
	else
		p_info("%d method implementations and %d lock primitives traced; checking every "
		       "task %s", ck->live.nmethods, ck->live.nprims,
		       ck->duration ? "for the --duration given" : "until SIGINT or SIGTERM");

	if (ck->prog_stats) {
		/* on until the fd closes; the counters start at attach, before the workload */
		ck->stats_fd = live_enable_prog_stats();
		if (ck->stats_fd < 0)
			p_warn("--prog-stats: the kernel refused BPF statistics: %s",
			       strerror(-ck->stats_fd));
	}
	ck->t_start = now_ns();
	ck->cpu_start = self_cpu();
	ret = ck->wl.cmd ? workload_go(&ck->wl) : 0;
	if (ret) {
		p_err("cannot run %s: %s", ck->wl.cmd[0], strerror(-ret));
		return EXIT_TOOL;
	}

	for (;;) {
		pid_t w;

		if (live_poll(&ck->live, 100) < 0)
			break;
		if (mounts_changed(ck->mounts_fd))
			pick_up_mounts(ck, &lo);
		if (!ck->child) {
			/* --all alone: a signal or the duration ends it */
			if (stop_signal || (ck->duration &&
					    now_ns() - ck->t_start >= ck->duration * 1e9))
				break;
			continue;
		}
		w = waitpid(ck->child, &ck->status, WNOHANG);
		if (w == ck->child)
			break;
		if (stop_signal && !kill_at) {
			/* pass the request on; results so far are still reported */
			kill(ck->child, stop_signal);
			kill_at = now_ns() + 5000000000ull;
		} else if (kill_at && now_ns() > kill_at) {
			kill(ck->child, SIGKILL);
		}
	}
	ck->t_end = now_ns();
	live_drain(&ck->live);
	ck->cpu_end = self_cpu();
	live_stats(&ck->live, ck->stats);
	live_calls_met(&ck->live, &ck->cat, ck->eng);
	if (ck->prog_stats)
		ck->nprog_stats = live_prog_stats(&ck->live, &ck->prog_stat);
	live_detach(&ck->live);

	if (wants_result(ck)) {
		json_object *o = summary_json(ck);
		struct utsname u = { 0 };

		uname(&u);
		json_object_object_add(o, "deviation_list", report_json(ck->rep));
		report_json_suppressions(ck->rep, o);
		ret = write_outputs(ck, o, ck->rs, ck->eng, u.release,
				    (ck->t_end - ck->t_start) / 1e9);
		json_object_put(o);
		if (ret)
			return ret;
	}
	if (!json_output) {
		report_print(ck->rep, stdout);
		print_summary(ck, stdout);
		if (ck->prog_stats)
			print_prog_stats(ck, stdout);
	}
	fflush(stdout);

	report_counts(ck->rep, &rc);
	ret = EXIT_OK;
	lost = ck->stats[VL_STAT_LOST] + ck->pipe.st.bad;
	snprintf(why, sizeof(why), "%" PRIu64 " events lost", lost);
	if (rc.deviations) {
		ret = EXIT_DEVIATION;
	} else if (lost) {
		p_err("%s: the check is incomplete; a larger --ring-mb may help", why);
		ret = EXIT_TOOL;
	}
	if (!json_output) {
		/* after the error above: stderr first, so that the verdict ends a merged log */
		fflush(stderr);
		print_verdict(stdout, ret, &rc, engine_stats(ck->eng)->calls +
			      ck->stats[VL_STAT_CALLS_MET], why, ck->rs->source);
		fflush(stdout);
	}
	return ret;
}

/* The rules a recorded session is judged against: its own, unless --rules or --kernel. */
static int session_rules(struct check *ck, struct vl_session *s)
{
	char err[512];

	if (!ck->rules_path && !ck->kernel)
		return 0;
	s->rs = ck->rules_path ? rules_load(ck->rules_path, NULL, err, sizeof(err)) :
				 rules_open(ck->kernel, err, sizeof(err));
	if (!s->rs) {
		p_err("%s", err);
		return -1;
	}
	return 0;
}

/*
 * The judgement of a session fed by a recording, or by a daemon's stream
 * (@attached): the same report, outputs and exit statuses as a live check.
 */
static int judge_session(struct check *ck, struct vl_session *s, struct vl_replay *r,
			 const char *name, bool attached)
{
	struct vl_report_counts rc;
	const char *incomplete = NULL;
	int ret = EXIT_OK;

	if (!s->eng) {
		p_err("%s: %s without method calls (%s): nothing to judge", name,
		      attached ? "the daemon watches" : "recorded", s->mode);
		/* a daemon without them runs where the kernel refuses fentry */
		return attached ? EXIT_UNSUPPORTED : EXIT_TOOL;
	}
	if (!attached)
		replay_warn(r);
	if (wants_result(ck)) {
		json_object *o = session_result_json(s);
		const struct vl_pipeline_stats *ps = &s->pipe.st;

		report_json_suppressions(s->rep, o);
		ret = write_outputs(ck, o, s->rs, s->eng, s->kernel,
				    ps->last_ts > ps->first_ts ? (ps->last_ts - ps->first_ts) / 1e9 : 0);
		json_object_put(o);
	}
	if (!json_output) {
		const struct vl_engine_stats *es = engine_stats(s->eng);

		report_print(s->rep, stdout);
		printf("vfslock check: %s %s (kernel %s) against the rules of %s\n",
		       attached ? "attached to the daemon on" : "replay of", name, s->kernel,
		       s->rs->source);
		printf("  judged        %" PRIu64 " method calls, %" PRIu64 " rule checks, %" PRIu64
		       " unverifiable\n", es->calls, es->checks, es->unverifiable);
		report_counts(s->rep, &rc);
		printf("  deviations    %" PRIu64 " (%d distinct)\n", rc.deviations, rc.distinct);
		if (s->pipe.st.lost)
			printf("  lost          %" PRIu64 " records %s\n", s->pipe.st.lost,
			       attached ? "on the way" : "when recorded");
	}
	fflush(stdout);
	report_counts(s->rep, &rc);
	if (ret == EXIT_OK && rc.deviations)
		ret = EXIT_DEVIATION;
	else if (ret == EXIT_OK && (s->pipe.st.lost || r->damage[0] || (!attached && !r->ended))) {
		incomplete = r->damage[0] ? (attached ? "stream cut" : "recording cut or damaged") :
			     s->pipe.st.lost ? (attached ? "records lost on the way" :
					        "records lost when recorded") :
			     "recording cut short";
		p_err("%s: the %s: no deviation in what it holds", name, incomplete);
		ret = EXIT_TOOL;
	}
	/* not when an output could not be written: that error is the last word */
	if (!json_output && (ret != EXIT_TOOL || incomplete)) {
		fflush(stderr);
		print_verdict(stdout, ret, &rc, engine_stats(s->eng)->calls, incomplete,
			      s->rs->source);
		fflush(stdout);
	}
	return ret;
}

/*
 * The same judgement over a recording's records: its catalog and symbols,
 * the recorded rules or others, the same report and exit statuses.
 */
static int check_replay(struct check *ck, const char *path)
{
	struct vl_session s = { .supps = &ck->supps };
	struct vl_replay r = { .s = &s };
	char err[512];
	int ret;

	if (session_rules(ck, &s))
		return EXIT_TOOL;
	if (replay_run(&r, path, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_TOOL;
	} else {
		ret = judge_session(ck, &s, &r, path, false);
	}
	replay_free(&r);
	session_free(&s);
	return ret;
}

/*
 * Attached to a daemon: its stream, read as a recording, judged for CMD's
 * tasks alone (or every task with --all), followed through the fork and
 * exit records the daemon sends for every task. CMD starts with the first
 * record, so that nothing of it comes before the stream's head.
 */
struct follow {
	struct check *ck;
	uint32_t *tids;
	int ntids, cap;
	bool started;
	uint64_t reaped_at, end_at, kill_at;
	int err;			/* the workload could not run */
};

static bool follows(const struct follow *f, uint32_t tid)
{
	int i;

	for (i = 0; i < f->ntids; i++)
		if (f->tids[i] == tid)
			return true;
	return false;
}

static void follow_add(struct follow *f, uint32_t tid)
{
	if (f->ntids == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->tids = xrealloc(f->tids, f->cap * sizeof(*f->tids));
	}
	f->tids[f->ntids++] = tid;
}

static int follow_tap(void *ctx, const void *rec, size_t size)
{
	const struct vl_ev_hdr *h = rec;
	struct follow *f = ctx;
	struct check *ck = f->ck;
	uint64_t now = now_ns();

	if (!f->started) {
		f->started = true;
		ck->t_start = now;
		if (ck->duration)
			f->end_at = now + ck->duration * 1e9;
		if (ck->wl.cmd) {
			f->err = workload_spawn(&ck->wl);
			if (!f->err) {
				ck->child = ck->wl.pid;
				follow_add(f, ck->child);
				f->err = workload_go(&ck->wl);
			}
			if (f->err) {
				ck->child = 0;
				return 1;
			}
		}
	}
	if (ck->child && !f->reaped_at && waitpid(ck->child, &ck->status, WNOHANG) == ck->child)
		f->reaped_at = now;
	if (stop_signal && ck->child && !f->reaped_at && !f->kill_at) {
		kill(ck->child, stop_signal);
		f->kill_at = now + 5000000000ull;
	} else if (f->kill_at && !f->reaped_at && now > f->kill_at) {
		kill(ck->child, SIGKILL);
	}
	if (stop_signal && !ck->child)
		return 1;
	/*
	 * The stream is in order: the daemon's first counters a quarter of a
	 * second after CMD was reaped come after everything CMD did.
	 */
	if (h->type == VL_EV_STATS && ((f->reaped_at && h->ts > f->reaped_at + 250000000ull) ||
				       (f->end_at && h->ts >= f->end_at)))
		return 1;
	return 0;
}

static bool follow_keep(void *ctx, const void *rec, size_t size)
{
	const struct vl_ev_hdr *h = rec;
	struct follow *f = ctx;
	bool mine;

	if (f->ck->all || h->type == VL_EV_STATS || h->type == VL_EV_LOST)
		return true;
	mine = follows(f, h->tid);
	if (mine && h->type == VL_EV_TASK_FORK)
		follow_add(f, ((const struct vl_ev_task *)rec)->child_tid);
	return mine;
}

static int check_attached(struct check *ck, FILE *stream, const char *sock)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vl_session s = { .supps = &ck->supps };
	struct follow f = { .ck = ck };
	struct vl_replay r = { .s = &s, .tap = follow_tap, .keep = follow_keep, .tap_ctx = &f };
	char err[512];
	int ret;

	if (session_rules(ck, &s))
		return EXIT_TOOL;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	p_info("check: attached to the daemon on %s: its probes, none loaded here", sock);
	ret = replay_stream(&r, stream, sock, err, sizeof(err));
	if (ck->child && !f.reaped_at) {
		/* the stream ended first (the daemon stopped): CMD is not left behind */
		kill(ck->child, SIGKILL);
		waitpid(ck->child, &ck->status, 0);
	}
	if (f.err) {
		p_err("cannot run %s: %s", ck->wl.cmd[0], strerror(-f.err));
		ret = EXIT_TOOL;
	} else if (ret < 0) {
		p_err("%s", err);
		ret = EXIT_TOOL;
	} else if (replay_stream_end(&r, sock, err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_TOOL;
	} else {
		/* a signal cut the read: that is no damage, the run was stopped */
		if (stop_signal)
			r.damage[0] = '\0';
		if (!f.started || (ret == 0 && ck->child && !f.reaped_at)) {
			p_warn("check: the daemon ended the stream before the end of the run%s%s",
			       r.end_json ? ": " : "", r.end_json ? r.end_json : "");
			/* what CMD did after it went unseen: no PASS for half a run */
			snprintf(r.damage, sizeof(r.damage),
				 "the daemon ended the stream before the end of the run");
		}
		ret = judge_session(ck, &s, &r, sock, true);
	}
	free(f.tids);
	replay_free(&r);
	session_free(&s);
	return ret;
}

int do_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fs",		required_argument, NULL, 'f' },
		{ "rules",	required_argument, NULL, 'r' },
		{ "kernel",	required_argument, NULL, 'k' },
		{ "ring-mb",	required_argument, NULL, 'R' },
		{ "json",	required_argument, NULL, 'J' },
		{ "junit",	required_argument, NULL, 'U' },
		{ "baseline",	required_argument, NULL, 'B' },
		{ "write-baseline", required_argument, NULL, 'W' },
		{ "all",	no_argument, NULL, 'A' },
		{ "duration",	required_argument, NULL, 'D' },
		{ "suppressions", required_argument, NULL, 'S' },
		{ "prog-stats",	no_argument, NULL, 'P' },
		{ "lock-events", required_argument, NULL, 'L' },
		{ "replay",	required_argument, NULL, 'X' },
		{ "socket",	required_argument, NULL, 'O' },
		{ "standalone",	no_argument, NULL, 'T' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	struct check ck = { .ring_bytes = 16 << 20, .mounts_fd = -1, .stats_fd = -1 };
	const char *replay = NULL, *sock = getenv("VFSLOCK_SOCKET") ?: VL_DAEMON_SOCKET;
	bool standalone = false;
	char err[512];
	int opt, ret;
	char *end;
	long mb;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+f:r:k:R:J:U:B:W:AD:S:PL:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'f':
			ck.fslist = optarg;
			break;
		case 'r':
			ck.rules_path = optarg;
			break;
		case 'k':
			ck.kernel = optarg;
			break;
		case 'J':
			ck.json_path = optarg;
			break;
		case 'U':
			ck.junit_path = optarg;
			break;
		case 'W':
			ck.baseline_out = optarg;
			break;
		case 'A':
			ck.all = true;
			break;
		case 'D':
			ck.duration = strtod(optarg, &end);
			if (*end || !(ck.duration > 0)) {
				p_err("--duration: seconds, more than 0, not '%s'", optarg);
				supp_free(&ck.supps);
				return EXIT_TOOL;
			}
			break;
		case 'P':
			ck.prog_stats = true;
			break;
		case 'X':
			replay = optarg;
			break;
		case 'O':
			sock = optarg;
			break;
		case 'T':
			standalone = true;
			break;
		case 'L':
			if (!strcmp(optarg, "readers")) {
				ck.lock_events = VL_LOCK_EVENTS_READERS;
			} else if (!strcmp(optarg, "all")) {
				ck.lock_events = VL_LOCK_EVENTS_ALL;
			} else {
				p_err("--lock-events: readers or all, not '%s'", optarg);
				supp_free(&ck.supps);
				return EXIT_TOOL;
			}
			break;
		case 'S':
		case 'B':
			/*
			 * now, before anything is loaded: a typo should cost nothing.
			 * A baseline is a suppression file written by --write-baseline.
			 */
			if (supp_load(&ck.supps, optarg, err, sizeof(err))) {
				p_err("%s", err);
				supp_free(&ck.supps);
				return EXIT_TOOL;
			}
			break;
		case 'R':
			mb = strtol(optarg, NULL, 10);
			if (mb < 1 || mb > 1024 || (mb & (mb - 1))) {
				p_err("--ring-mb: a power of two from 1 to 1024, not '%s'", optarg);
				supp_free(&ck.supps);
				return EXIT_TOOL;
			}
			ck.ring_bytes = (size_t)mb << 20;
			break;
		default:
			supp_free(&ck.supps);
			return check_help();
		}
	}
	if (replay) {
		if (optind < argc || ck.all || ck.duration) {
			p_err("check: --replay judges a recording: no command, --all or --duration "
			      "with it");
			supp_free(&ck.supps);
			return EXIT_TOOL;
		}
		ret = check_replay(&ck, replay);
		supp_free(&ck.supps);
		return ret;
	}
	if (ck.duration && (!ck.all || optind < argc)) {
		p_err("check: --duration is for --all without a command");
		supp_free(&ck.supps);
		return EXIT_TOOL;
	}
	if (optind >= argc && !ck.all) {
		p_err("check: no command given (vfslock check [OPTIONS] -- CMD [ARG...], or --all)");
		supp_free(&ck.supps);
		return EXIT_TOOL;
	}
	if (optind < argc)
		ck.wl.cmd = argv + optind;
	if (!standalone) {
		FILE *f = daemon_stream(sock, 0);

		if (f && (ck.fslist || ck.lock_events || ck.prog_stats || ck.ring_bytes != 16 << 20)) {
			fclose(f);
			p_err("check: a daemon runs on %s, whose probes check shares: --fs, "
			      "--lock-events, --ring-mb and --prog-stats are its configuration's; "
			      "--standalone loads check's own", sock);
			supp_free(&ck.supps);
			return EXIT_TOOL;
		}
		if (f) {
			ret = check_attached(&ck, f, sock);
			fclose(f);
			supp_free(&ck.supps);
			return ret;
		}
	}
	ret = run(&ck);
	cleanup(&ck);
	return ret;
}
