// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock export --perfetto [-o OUT] FILE
 *
 * Lock waits and holds per task as spans on a timeline, in the Chrome
 * trace event format (JSON) that the Perfetto UI and chrome://tracing
 * open. Written as the records stream by: memory stays that of the
 * pipeline, whatever the trace's length.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "cmds.h"
#include "replay.h"
#include "util.h"

struct named {
	uint32_t tid;
	UT_hash_handle hh;
};

struct exporter {
	FILE *f;
	struct vl_session *s;
	uint64_t t0;
	uint64_t spans;
	bool first;
	struct named *named;		/* threads already given a name */
};

static int export_help(void)
{
	fprintf(stderr,
		"Usage: vfslock export --perfetto [-o OUT] FILE\n\n"
		"Lock waits and holds of each task as spans, deviations as instants, in the\n"
		"Chrome trace event JSON that ui.perfetto.dev opens. Default output: stdout.\n");
	return EXIT_TOOL;
}

static void sep(struct exporter *x)
{
	fputs(x->first ? "\n" : ",\n", x->f);
	x->first = false;
}

/* µs since the first record, as the format wants them */
static double us(const struct exporter *x, uint64_t ts)
{
	return ts >= x->t0 ? (ts - x->t0) / 1e3 : -((x->t0 - ts) / 1e3);
}

static void name_thread(struct exporter *x, uint32_t tid, uint32_t tgid, const char *comm)
{
	struct named *n;
	json_object *js;

	HASH_FIND(hh, x->named, &tid, sizeof(tid), n);
	if (n || !comm[0])
		return;
	n = xcalloc(1, sizeof(*n));
	n->tid = tid;
	HASH_ADD(hh, x->named, tid, sizeof(n->tid), n);
	js = json_object_new_string_len(comm, strnlen(comm, VL_COMM_LEN));
	sep(x);
	fprintf(x->f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%u,\"tid\":%u,"
		"\"args\":{\"name\":%s}}", tgid, tid, json_object_to_json_string(js));
	json_object_put(js);
}

static void on_record(void *ctx, const struct vl_ev_hdr *h)
{
	struct exporter *x = ctx;

	if (!x->t0)
		x->t0 = h->ts;
	if (h->type == VL_EV_CONTEND) {
		const struct vl_ev_contend *c = (const void *)h;
		uint64_t begin = h->ts - c->wait_ns;

		name_thread(x, h->tid, h->tgid, c->comm);
		sep(x);
		fprintf(x->f, "{\"ph\":\"X\",\"cat\":\"wait\",\"name\":\"wait %s\",\"pid\":%u,"
			"\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"lock\":\"%#" PRIx64
			"\",\"ino\":%" PRIu64 ",\"owner_tid\":%u,\"mode\":\"%s\",\"ret\":%d}}",
			c->cls ? lock_class_name(c->cls) : "lock", h->tgid, h->tid, us(x, begin),
			c->wait_ns / 1e3, (uint64_t)c->lock, (uint64_t)c->ino, c->owner_tid,
			c->mode == VL_MODE_SHARED ? "read" : "write", c->ret);
		x->spans++;
	} else if (h->type == VL_EV_METHOD_ENTER || h->type == VL_EV_METHOD_EXIT) {
		const struct vl_ev_method *m = (const void *)h;

		name_thread(x, h->tid, h->tgid, m->comm);
	}
}

static void on_hold_end(void *ctx, const struct vl_hold *hold, uint32_t tid, uint64_t ts)
{
	struct exporter *x = ctx;
	const struct vl_task *t = lockstate_task(x->s->pipe.ls, tid);

	sep(x);
	fprintf(x->f, "{\"ph\":\"X\",\"cat\":\"hold\",\"name\":\"hold %s %s\",\"pid\":%u,"
		"\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"lock\":\"%#" PRIx64 "\",\"ino\":%"
		PRIu64 "}}", lock_class_name(hold->cls),
		hold->mode == VL_MODE_SHARED ? "shared" : "exclusive", t ? t->tgid : tid, tid,
		us(x, hold->since), (ts - hold->since) / 1e3, hold->lock, hold->ino);
	x->spans++;
}

static void on_deviation(void *ctx, const struct vl_deviation *d)
{
	struct exporter *x = ctx;
	const struct vl_ev_hdr *h = &d->ev->hdr;

	sep(x);
	fprintf(x->f, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"deviation\",\"name\":\"%s\",\"pid\":%u,"
		"\"tid\":%u,\"ts\":%.3f,\"args\":{\"function\":\"%s\"}}", d->rule->id, h->tgid,
		h->tid, us(x, h->ts), d->fn ? d->fn->name : "?");
}

int do_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "perfetto",	no_argument, NULL, 'p' },
		{ "output",	required_argument, NULL, 'o' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vl_session s = { 0 };
	struct vl_replay r = { .s = &s };
	struct exporter x = { .s = &s, .first = true };
	const char *out = NULL;
	struct named *n, *tmp;
	bool perfetto = false;
	char err[512];
	int opt, ret = EXIT_OK;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'p':
			perfetto = true;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return export_help();
		}
	}
	if (!perfetto || optind + 1 != argc)
		return export_help();
	x.f = out ? fopen(out, "w") : stdout;
	if (!x.f) {
		p_err("%s: %s", out, strerror(errno));
		return EXIT_TOOL;
	}
	s.extra = (struct vl_sink){ .ctx = &x, .on_record = on_record, .on_hold_end = on_hold_end,
				    .on_deviation = on_deviation };
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", x.f);
	if (replay_run(&r, argv[optind], err, sizeof(err))) {
		p_err("%s", err);
		ret = EXIT_TOOL;
	} else {
		replay_warn(&r);
	}
	fprintf(x.f, "\n],\"otherData\":{\"kernel\":\"%s\",\"spans\":%" PRIu64 "}}\n",
		s.kernel, x.spans);
	if ((out && fclose(x.f)) || (!out && fflush(stdout))) {
		p_err("%s: %s", out ? out : "stdout", strerror(errno));
		ret = EXIT_TOOL;
	}
	if (ret == EXIT_OK && out)
		p_info("%s: %" PRIu64 " spans", out, x.spans);
	HASH_ITER(hh, x.named, n, tmp) {
		HASH_DEL(x.named, n);
		free(n);
	}
	replay_free(&r);
	session_free(&s);
	return ret;
}
