// SPDX-License-Identifier: GPL-2.0
/*
 * The recording core of `vfslock record` and `vfslock daemon`: see
 * recorder.h. Records go to the trace first, as they came, then through
 * the pipeline, so that a report of the trace gives the live result.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"
#include "recorder.h"
#include "util.h"

/* Every record is written as it came, then goes through the live pipeline. */
static int on_record(void *ctx, void *data, size_t size)
{
	struct vl_recorder *r = ctx;
	const struct vl_ev_hdr *h = data;
	size_t len = size;

	/* a method record without a stack is shorter than its ring-buffer slot */
	if (size >= sizeof(*h) && h->size >= sizeof(*h) && h->size <= size)
		len = h->size;
	if (r->w)
		trace_write_record(r->w, data, len);
	pipeline_feed(&r->s.pipe, data, len);
	if (r->tap)
		r->tap(r->tap_ctx, data, len);
	return 0;
}

void recorder_stats(struct vl_recorder *r, uint64_t st[VL_STAT_MAX])
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

void recorder_mark(struct vl_recorder *r)
{
	struct vl_ev_stats s = { 0 };
	uint64_t ts = now_ns(), v[VL_STAT_MAX];
	int i;

	recorder_stats(r, v);
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

static struct vl_live_opts live_opts(struct vl_recorder *r)
{
	return (struct vl_live_opts){
		.watch_all = !r->wl,
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

static int setup_checks(struct vl_recorder *r, char *err, size_t errlen)
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
	lo = live_opts(r);
	ret = live_open(&r->live, &lo, err, errlen);
	r->live_open = true;
	/* after the load: the rules of probes the kernel refused are not traced */
	r->s.traced = xcalloc(VL_CATALOG_MAX, 1);
	for (i = 0; i < r->s.cat.nfns; i++)
		r->s.traced[i] = engine_fn_checked(r->s.eng, &r->s.cat.fns[i]);
	return ret;
}

static int attach(struct vl_recorder *r, char *err, size_t errlen)
{
	struct vl_live_opts lo = live_opts(r);
	int ret = contend_attach(&r->c, err, errlen);

	if (ret || !r->live_open)
		return ret;
	if (r->wl && live_watch_task(&r->live, r->wl->pid))
		return snprintf(err, errlen, "watching the workload: %s", strerror(errno)), -errno;
	return live_attach(&r->live, &lo, err, errlen);
}

/* META (the session's context) and KSYMS (@text, a symbol snapshot) into @w. */
static int write_head(struct vl_recorder *r, struct vl_trace_writer *w, const char *text,
		      size_t len)
{
	char *meta = session_meta_json(&r->s);
	int ret = trace_write_meta(w, VL_BLK_META, meta, strlen(meta));

	if (!ret)
		ret = trace_write_meta(w, VL_BLK_KSYMS, text, len);
	free(meta);
	return ret;
}

/*
 * What of /proc/modules moves symbols: each module's name and address (its
 * reference count changes with every mount). "" where there are no modules.
 */
static char *modules_key(void)
{
	char *text = read_file("/proc/modules", NULL), *key, *line, *save = NULL;
	size_t n = 0;

	if (!text)
		return xstrdup("");
	key = xmalloc(strlen(text) + 1);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128];
		unsigned long long addr = 0;

		if (sscanf(line, "%127s %*s %*s %*s %*s %llx", name, &addr) >= 1)
			n += sprintf(key + n, "%s %llx\n", name, addr);
	}
	key[n] = 0;
	free(text);
	return key;
}

/* The symbols now, as the text a trace's KSYMS block holds; kept for later heads. */
static int read_ksyms(struct vl_recorder *r, char *modules)
{
	size_t len;
	char *text = ksyms__snapshot(NULL, &len);

	if (!text) {
		free(modules);
		return -errno ?: -ENOMEM;
	}
	free(r->ksyms_text);
	free(r->ksyms_modules);
	r->ksyms_text = text;
	r->ksyms_len = len;
	r->ksyms_modules = modules;
	r->ksyms_reads++;
	return 0;
}

/* After attach: the probes' own frames then have names. The snapshot is what we read. */
static int snapshot(struct vl_recorder *r, char *err, size_t errlen)
{
	struct ksyms *ks;
	int ret = read_ksyms(r, modules_key());

	if (ret)
		return snprintf(err, errlen, "reading /proc/kallsyms: %s", strerror(-ret)), ret;
	ks = ksyms__load_mem(r->ksyms_text, r->ksyms_len);
	if (!ks)
		return snprintf(err, errlen, "reading /proc/kallsyms: %s", strerror(errno)), -errno;
	ksyms__free(r->s.ks);
	r->s.ks = ks;
	if (r->s.eng)
		engine_set_ksyms(r->s.eng, ks);
	if (!r->s.mounts.n)
		discover_mounts(NULL, NULL, &r->s.mounts);
	session_start(&r->s);
	if (r->wl)
		lockstate_task_born(r->s.pipe.ls, r->wl->pid, r->wl->pid, NULL);
	if (r->w) {
		ret = write_head(r, r->w, r->ksyms_text, r->ksyms_len);
		if (ret)
			snprintf(err, errlen, "%s", trace_writer_error(r->w));
	}
	/* some MB of text: kept only where streams' heads will want it again */
	if (!r->tap) {
		free(r->ksyms_text);
		r->ksyms_text = NULL;
	}
	return ret;
}

int recorder_open(struct vl_recorder *r, char *err, size_t errlen)
{
	struct vl_caps c;
	struct utsname u;
	char buf[256];
	int ret;

	caps_probe(&c);
	if (!caps_contention(&c))
		return snprintf(err, errlen, "cannot record on kernel %s: %s", c.kernel,
				cap_reason(caps_contention_missing(&c), buf, sizeof(buf))), -1;
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
	r->s.rs = rules_load(r->rules_path, NULL, err, errlen);
	if (!r->s.rs && !r->contention_only)
		return -1;
	if (r->s.rs)
		snprintf(r->s.rec_rules, sizeof(r->s.rec_rules), "%s", r->s.rs->source);
	/* no path: checking and aggregates only (a daemon without a trace_dir) */
	if (r->path) {
		r->w = trace_writer_open(r->path, r->max_size, 3, err, errlen);
		if (!r->w)
			return -1;
	}
	if (!r->contention_only && setup_checks(r, err, errlen))
		return -1;
	ret = contend_open(&r->c, &c, r->ring_bytes / 4, err, errlen);
	if (ret)
		return -1;
	if (r->live_open) {
		r->rb = r->live.rb;
		ret = ring_buffer__add(r->rb, contend_ring_fd(&r->c), on_record, r);
	} else {
		r->rb = ring_buffer__new(contend_ring_fd(&r->c), on_record, r, NULL);
		ret = r->rb ? 0 : -errno;
	}
	if (ret)
		return snprintf(err, errlen, "ring buffer: %s", strerror(-ret)), -1;
	return 0;
}

int recorder_attach(struct vl_recorder *r, char *err, size_t errlen)
{
	return attach(r, err, errlen) || snapshot(r, err, errlen) ? -1 : 0;
}

int recorder_poll(struct vl_recorder *r, int timeout_ms)
{
	int ret = ring_buffer__poll(r->rb, timeout_ms);

	if (ret >= 0)
		ret = ring_buffer__consume(r->rb);
	return ret;
}

int recorder_close(struct vl_recorder *r, const char *end_json, struct vl_trace_wstats *ws)
{
	int ret = 0;

	if (r->w)
		ret = trace_writer_close(r->w, end_json, ws);
	r->w = NULL;
	if (r->live_open)
		live_close(&r->live);
	else if (r->rb)
		ring_buffer__free(r->rb);
	r->live_open = false;
	r->rb = NULL;
	contend_close(&r->c);
	discovery_free(&r->disc);
	kbtf__free(r->kb);
	r->kb = NULL;
	session_free(&r->s);
	free(r->ksyms_text);
	free(r->ksyms_modules);
	r->ksyms_text = r->ksyms_modules = NULL;
	return ret;
}

int recorder_write_head(struct vl_recorder *r, struct vl_trace_writer *w)
{
	char *modules = modules_key();

	/*
	 * /proc/kallsyms takes 30-160 ms to read, on the daemon's one loop, for
	 * every viewer that connects: read it again only when a module came or went.
	 */
	if (!r->ksyms_text || strcmp(modules, r->ksyms_modules)) {
		if (read_ksyms(r, modules))
			return -ENOMEM;
	} else {
		free(modules);
	}
	return write_head(r, w, r->ksyms_text, r->ksyms_len);
}

int recorder_new_trace(struct vl_recorder *r, const char *path, char *err, size_t errlen)
{
	int ret;

	r->w = trace_writer_open(path, r->max_size, 3, err, errlen);
	if (!r->w) {
		/* a disk still full leaves nothing behind: no empty trace at each try */
		unlink(path);
		return -1;
	}
	r->path = path;
	ret = recorder_write_head(r, r->w);
	if (ret) {
		snprintf(err, errlen, "%s", ret == -ENOMEM ? "reading /proc/kallsyms" :
			 trace_writer_error(r->w));
		trace_writer_close(r->w, NULL, NULL);
		r->w = NULL;
		unlink(path);
		return -1;
	}
	return 0;
}
