// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "insn_patch.h"
#include "live.h"
#include "vfslock_filter.h"
#include "util.h"
#include "vfslock.skel.h"
/* "fexit/down_write" -> "down_write"; "fentry" -> NULL (a template) */
static const char *sec_target(const struct bpf_program *p)
{
	const char *s = bpf_program__section_name(p), *slash = strchr(s, '/');

	return slash ? slash + 1 : NULL;
}

static bool is_template(const struct bpf_program *p)
{
	const char *s = bpf_program__section_name(p);

	return !strcmp(s, "fentry") || !strcmp(s, "fexit");
}

/* The template for a function with @nargs arguments, entry side. */
static struct bpf_program *enter_template(struct vfslock_bpf *skel, int nargs)
{
	struct bpf_program *t[] = {
		NULL, skel->progs.method_enter_1, skel->progs.method_enter_2,
		skel->progs.method_enter_3, skel->progs.method_enter_4,
		skel->progs.method_enter_5, skel->progs.method_enter_6,
	};

	return nargs >= 1 && nargs <= 6 ? t[nargs] : NULL;
}

/* Why @fn, which has no BTF, cannot be traced. */
static const char *no_btf_why(struct kbtf *kb, const struct vl_fn *fn)
{
	if (fn->module[0] && !kbtf__has_module_btf(kb))
		return "in a module, and this kernel gives modules no BTF (5.11+)";
	return "no BTF for it";
}

/* @e: errno behind @why, or 0 */
static void add_fail(struct vl_live *lv, const struct vl_fn *fn, const char *why, int e)
{
	lv->fails = xrealloc(lv->fails, (lv->nfails + 1) * sizeof(*lv->fails));
	lv->fails[lv->nfails].fn = fn;
	snprintf(lv->fails[lv->nfails].why, sizeof(lv->fails[0].why), "%s%s%s", why,
		 e ? ": " : "", e ? strerror(e) : "");
	lv->nfails++;
}

/* Whether @fn gets probes: checked, and with a known argument count. */
static bool fn_traced(const struct vl_live_opts *o, const struct vl_fn *fn)
{
	return !o->locks_only && fn->nargs >= 1 && engine_fn_checked(o->eng, fn);
}

/* The filesystem types and superblocks @d found, into the kernel's filter. */
static void watch_discovery(struct vl_live *lv, const struct vl_discovery *d)
{
	int i;

	for (i = 0; d && i < d->ntypes; i++) {
		__u64 key = d->types[i].s_type;
		__u8 one = 1;

		bpf_map__update_elem(lv->skel->maps.watched_fstypes, &key, sizeof(key), &one,
				     sizeof(one), BPF_ANY);
	}
	for (i = 0; d && i < d->nsbs; i++) {
		__u64 key = d->sbs[i].sb;
		__u32 dev = d->sbs[i].dev;

		bpf_map__update_elem(lv->skel->maps.watched_sbs, &key, sizeof(key), &dev,
				     sizeof(dev), BPF_ANY);
		lv->skel->bss->sb_bloom[vl_sb_bloom_slot(key)] = 1;
	}
}

/* The configuration of the catalog's implementations from @from on. */
static int set_cfgs(struct vl_live *lv, const struct vl_live_opts *o, int from, char *err,
		    size_t errlen)
{
	int i, ret;

	for (i = from; i < o->cat->nfns; i++) {
		const struct vl_fn *fn = &o->cat->fns[i];
		struct vl_method_cfg cfg;
		__u64 key = fn->addr;

		/* past six arguments too: the six-argument template reads the first six */
		if (!fn_traced(o, fn))
			continue;
		engine_method_cfg(o->eng, fn, &cfg);
		cfg.slot = i < VL_MET_SLOTS ? i : VL_MET_SLOTS;
		ret = bpf_map__update_elem(lv->skel->maps.method_cfg, &key, sizeof(key), &cfg,
					   sizeof(cfg), BPF_ANY);
		if (ret) {
			snprintf(err, errlen, "method table full at %s: %s", fn->name, strerror(-ret));
			return ret;
		}
	}
	/* readers of s_umount, invalidate_lock, mmap_lock cost a lookup per rwsem call */
	lv->skel->bss->track_classes = engine_lock_classes(o->eng);
	return 0;
}

/*
 * The probes on exclusive acquisitions and releases: with reader holds
 * only streamed they have nothing to do, and are not loaded at all.
 * downgrade_write() stays: it starts a reader hold.
 */
static bool excl_only(const struct vfslock_bpf *skel, const struct bpf_program *p)
{
	const struct bpf_program *excl[] = {
		skel->progs.down_write_e,
		skel->progs.down_write_killable_x,
		skel->progs.down_write_trylock_x,
		skel->progs.down_write_nested_e,
		skel->progs.down_write_killable_nested_x,
		skel->progs._down_write_nest_lock_e,
		skel->progs.up_write_e,
	};
	size_t i;

	for (i = 0; i < sizeof(excl) / sizeof(excl[0]); i++)
		if (p == excl[i])
			return true;
	return false;
}

/*
 * @tmpl's instructions with @ip written where the template loads
 * VL_FN_IP_MARK (traced_fn_ip()); NULL if it has no such load.
 */
static struct bpf_insn *insns_for(const struct bpf_program *tmpl, uint64_t ip)
{
	size_t n = bpf_program__insn_cnt(tmpl);
	struct bpf_insn *v = xcalloc(n, sizeof(*v));

	memcpy(v, bpf_program__insns(tmpl), n * sizeof(*v));
	if (!patch_imm64(v, n, VL_FN_IP_MARK, ip)) {
		free(v);
		return NULL;
	}
	return v;
}

/*
 * VFSLOCK_TEST_REFUSE=on_switch (tests only): the sleep probe reads past
 * its context, which every verifier refuses, as a kernel whose verifier
 * changed would refuse it: the suites show what check does then.
 */
static void refuse_for_tests(struct vl_live *lv)
{
	const char *name = getenv("VFSLOCK_TEST_REFUSE");

	if (name && !strcmp(name, "on_switch"))
		lv->skel->rodata->test_refuse_switch = true;
}

/*
 * Open the object and configure it for this kernel and @o: what
 * live_open() and the dry load share. Templates are left unloaded.
 */
static int open_skel(struct vl_live *lv, const struct vl_live_opts *o, char *err, size_t errlen)
{
	struct bpf_program *p;

	lv->skel = vfslock_bpf__open();
	if (!lv->skel) {
		snprintf(err, errlen, "opening the BPF object: %s", strerror(errno));
		return -errno;
	}
	lv->skel->rodata->watch_all = o->watch_all;
	lv->skel->rodata->self_tgid = getpid();
	lv->skel->rodata->wakeup_bytes = o->ring_bytes / 8;
	lv->skel->rodata->lock_events = o->lock_events;
	lv->skel->rodata->send_all_calls = o->all_calls;
	bpf_map__set_max_entries(lv->skel->maps.events, o->ring_bytes);
	if (!kbtf__has_task_storage(o->kb)) {
		/* the no-block calls by tid instead: on_exit deletes them */
		lv->skel->rodata->use_task_storage = false;
		bpf_map__set_type(lv->skel->maps.nb_calls, BPF_MAP_TYPE_HASH);
		bpf_map__set_max_entries(lv->skel->maps.nb_calls, 65536);
		/* records on the CPU levels alone: the map stays, unused */
		bpf_map__set_type(lv->skel->maps.task_recs, BPF_MAP_TYPE_HASH);
		bpf_map__set_max_entries(lv->skel->maps.task_recs, 1);
	}

	refuse_for_tests(lv);
	/* attached once some method may not block (attach_fns()) */
	bpf_program__set_autoattach(lv->skel->progs.on_switch, false);
	/* Lock primitives this kernel lacks (the _nested forms without lockdep). */
	bpf_object__for_each_program(p, lv->skel->obj) {
		const char *t = sec_target(p);
		struct kbtf_func kf;

		if (is_template(p)) {
			bpf_program__set_autoload(p, false);
			bpf_program__set_autoattach(p, false);
			continue;
		}
		if (!t || !strncmp(bpf_program__section_name(p), "tp_btf/", 7))
			continue;
		if (o->lock_events == VL_LOCK_EVENTS_READERS && excl_only(lv->skel, p)) {
			bpf_program__set_autoload(p, false);
			continue;
		}
		if (kbtf__find_func(o->kb, t, "", &kf)) {
			bpf_program__set_autoload(p, false);
			if (strlen(lv->prims_missing) + strlen(t) + 2 < sizeof(lv->prims_missing))
				sprintf(lv->prims_missing + strlen(lv->prims_missing), "%s%s",
					lv->prims_missing[0] ? " " : "", t);
		} else {
			lv->nprims++;
		}
	}
	return 0;
}

/*
 * Programs check can do without, and what is lost with each: a kernel that
 * refuses one (a verifier that changed, a tracepoint that did) loses the
 * rules that need it, said with the reason, instead of the whole check.
 * The method templates and the task probes are needed by everything.
 */
static const struct {
	const char *name;
	int kind;		/* enum vl_probe_kind, or -1: nothing but a note */
	const char *loses;
} optional_progs[] = {
	{ "on_switch", VL_PROBE_SLEEPS, "sleeps inside methods that may not block" },
	{ "method_exit_any", VL_PROBE_EXIT, "states at method return, sleeps" },
	{ "down_read_e", VL_PROBE_READERS, "reader holds" },
	{ "down_read_killable_x", VL_PROBE_READERS, "reader holds" },
	{ "down_read_interruptible_x", VL_PROBE_READERS, "reader holds" },
	{ "down_read_trylock_x", VL_PROBE_READERS, "reader holds" },
	{ "up_read_e", VL_PROBE_READERS, "reader holds" },
	{ "downgrade_write_e", VL_PROBE_READERS, "reader holds" },
	{ "down_read_nested_e", VL_PROBE_READERS, "reader holds" },
	{ "down_read_killable_nested_x", VL_PROBE_READERS, "reader holds" },
	{ "down_read_non_owner_e", VL_PROBE_READERS, "reader holds" },
	{ "up_read_non_owner_e", VL_PROBE_READERS, "reader holds" },
	{ "down_write_e", -1, "exclusive holds rebuilt (read from the lock words still)" },
	{ "down_write_killable_x", -1, "exclusive holds rebuilt (read from the lock words still)" },
	{ "down_write_trylock_x", -1, "exclusive holds rebuilt (read from the lock words still)" },
	{ "down_write_nested_e", -1, "exclusive holds rebuilt (read from the lock words still)" },
	{ "down_write_killable_nested_x", -1,
	  "exclusive holds rebuilt (read from the lock words still)" },
	{ "_down_write_nest_lock_e", -1, "exclusive holds rebuilt (read from the lock words still)" },
	{ "up_write_e", -1, "exclusive holds rebuilt (read from the lock words still)" },
};

static int optional_prog(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(optional_progs); i++)
		if (!strcmp(optional_progs[i].name, name))
			return i;
	return -1;
}

bool live_dropped(const struct vl_live *lv, const char *name)
{
	int i;

	for (i = 0; i < lv->ndropped; i++)
		if (!strcmp(lv->dropped[i].prog, name))
			return true;
	return false;
}

/*
 * What libbpf says while the object loads: which program it failed on,
 * and the verifier's last word on it (the line before its statistics).
 * Its messages are passed on only with -v: a refusal check gets over is
 * said once, in its report.
 */
static struct {
	libbpf_print_fn_t prev;
	char prog[64];
	char why[160];
} load_log;

static void verifier_reason(const char *msg)
{
	const char *end = strstr(msg, "-- END PROG LOAD LOG --"), *b, *e;

	while (end && end > msg) {
		for (e = end; e > msg && e[-1] == '\n'; e--)
			;
		for (b = e; b > msg && b[-1] != '\n'; b--)
			;
		if (e > b && strncmp(b, "processed ", 10) && strncmp(b, "verification time", 17) &&
		    strncmp(b, "stack depth", 11)) {
			snprintf(load_log.why, sizeof(load_log.why), "%.*s", (int)(e - b), b);
			return;
		}
		end = b;
	}
}

static int catch_load(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char *msg = NULL;
	const char *p;
	va_list copy;
	int n;

	va_copy(copy, args);
	n = vasprintf(&msg, fmt, copy);
	va_end(copy);
	if (n >= 0 && level == LIBBPF_WARN) {
		/* "prog 'NAME': failed to load: -22" */
		if ((p = strstr(msg, "prog '")) && strstr(p, "': failed to load"))
			sscanf(p + 6, "%63[^']", load_log.prog);
		if (strstr(msg, "-- END PROG LOAD LOG --"))
			verifier_reason(msg);
	}
	free(n >= 0 ? msg : NULL);
	if (level == LIBBPF_WARN && verbose < 1)
		return 0;
	return load_log.prev ? load_log.prev(level, fmt, args) : 0;
}

/*
 * Open, configure (@prepare: the templates' targets) and load; a program
 * check can do without that the kernel refuses is left out, the engine
 * told, and the load made again without it.
 */
static int load_dropping(struct vl_live *lv, const struct vl_live_opts *o,
			 int (*prepare)(struct vl_live *, const struct vl_live_opts *, char *,
					size_t),
			 char *err, size_t errlen)
{
	struct bpf_program *p;
	int ret, k, i;

	for (;;) {
		ret = open_skel(lv, o, err, errlen);
		if (ret)
			return ret;
		for (i = 0; i < lv->ndropped; i++) {
			p = bpf_object__find_program_by_name(lv->skel->obj, lv->dropped[i].prog);
			if (p)
				bpf_program__set_autoload(p, false);
		}
		ret = prepare(lv, o, err, errlen);
		if (ret)
			return ret;
		memset(&load_log, 0, sizeof(load_log));
		load_log.prev = libbpf_set_print(catch_load);
		ret = vfslock_bpf__load(lv->skel);
		libbpf_set_print(load_log.prev);
		if (!ret)
			return 0;
		k = load_log.prog[0] ? optional_prog(load_log.prog) : -1;
		if (k < 0 || lv->ndropped == (int)ARRAY_SIZE(lv->dropped)) {
			snprintf(err, errlen, "loading the BPF programs: %s%s%s%s%s (run with -vv for "
				 "the verifier log)", load_log.prog, load_log.prog[0] ? ": " : "",
				 strerror(-ret), load_log.why[0] ? ": " : "", load_log.why);
			return ret;
		}
		snprintf(lv->dropped[lv->ndropped].prog, sizeof(lv->dropped[0].prog), "%s",
			 load_log.prog);
		snprintf(lv->dropped[lv->ndropped].why, sizeof(lv->dropped[0].why),
			 "%s%s%s; without it: %s", strerror(-ret), load_log.why[0] ? ": " : "",
			 load_log.why, optional_progs[k].loses);
		if (optional_progs[k].kind >= 0 && o->eng)
			engine_probe_missing(o->eng, optional_progs[k].kind,
					     lv->dropped[lv->ndropped].why);
		lv->ndropped++;
		vfslock_bpf__destroy(lv->skel);
		lv->skel = NULL;
		lv->nprims = 0;
		lv->prims_missing[0] = '\0';
	}
}

/* The templates' attach targets: the first traced method of each arity. */
static int prepare_templates(struct vl_live *lv, const struct vl_live_opts *o, char *err,
			     size_t errlen)
{
	const struct vl_fn *first[VL_MAX_ARGS + 1] = { NULL }, *any = NULL;
	struct bpf_program *p;
	int i, ret;

	/*
	 * One loaded template per argument count, and one for exits; the
	 * rest are clones of them. The templates read arguments through
	 * helpers, so any traced function can carry one whose count no
	 * method has yet: a filesystem mounted later may need it. The
	 * sleep watch is loaded too, attached once some method may not block.
	 */
	for (i = 0; i < o->cat->nfns; i++) {
		const struct vl_fn *fn = &o->cat->fns[i];

		if (!fn_traced(o, fn) || fn->nargs > VL_MAX_ARGS)
			continue;
		if (!first[fn->nargs])
			first[fn->nargs] = fn;
		any = any ? any : fn;
	}
	if (any && !live_dropped(lv, "method_exit_any")) {
		p = lv->skel->progs.method_exit_any;
		bpf_program__set_autoload(p, true);
		ret = bpf_program__set_attach_target(p, 0, any->name);
		if (ret) {
			snprintf(err, errlen, "exit template for %s: %s", any->name,
				 strerror(-ret));
			return ret;
		}
	}
	for (i = 1; i <= VL_MAX_ARGS; i++) {
		if (!first[i])
			first[i] = any;
		if (!first[i])
			continue;
		p = enter_template(lv->skel, i);
		bpf_program__set_autoload(p, true);
		ret = bpf_program__set_attach_target(p, 0, first[i]->name);
		if (ret) {
			snprintf(err, errlen, "template for %s: %s", first[i]->name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int live_open(struct vl_live *lv, const struct vl_live_opts *o, char *err, size_t errlen)
{
	int ret;

	memset(lv, 0, sizeof(*lv));
	ret = load_dropping(lv, o, prepare_templates, err, errlen);
	if (ret)
		return ret;
	lv->rb = ring_buffer__new(bpf_map__fd(lv->skel->maps.events),
				  (ring_buffer_sample_fn)o->on_record, o->ctx, NULL);
	if (!lv->rb) {
		snprintf(err, errlen, "ring buffer: %s", strerror(errno));
		return -errno;
	}
	watch_discovery(lv, o->disc);
	return set_cfgs(lv, o, 0, err, errlen);
}

/*
 * Functions every kernel has, to load templates on where there is no
 * method to hand: any will do, the templates read their arguments with
 * fn_arg() whatever the prototype.
 */
static const char *const dry_targets[] = { "simple_lookup", "generic_permission", "vfs_mkdir" };

static const char *dry_target;

/* Every template on one function: any will do for a load that attaches nothing. */
static int prepare_dry(struct vl_live *lv, const struct vl_live_opts *o, char *err, size_t errlen)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, lv->skel->obj) {
		if (!is_template(p) || live_dropped(lv, bpf_program__name(p)))
			continue;
		bpf_program__set_autoload(p, true);
		bpf_program__set_attach_target(p, 0, dry_target);
	}
	return 0;
}

int live_dry_load(struct kbtf *kb, char *err, size_t errlen, char *without, size_t wlen)
{
	struct vl_live_opts o = {
		.lock_events = VL_LOCK_EVENTS_ALL, .ring_bytes = 1 << 20, .kb = kb,
	};
	struct vl_live lv = { 0 };
	struct bpf_program *p;
	struct kbtf_func kf;
	size_t i, n = 0;
	int ret;

	dry_target = NULL;
	for (i = 0; i < ARRAY_SIZE(dry_targets) && !dry_target; i++)
		if (!kbtf__find_func(kb, dry_targets[i], "", &kf))
			dry_target = dry_targets[i];
	if (!dry_target) {
		snprintf(err, errlen, "no function to load the method templates on");
		return -ENOENT;
	}
	without[0] = '\0';
	ret = load_dropping(&lv, &o, prepare_dry, err, errlen);
	if (ret)
		goto out;
	for (i = 0; i < (size_t)lv.ndropped && n < wlen; i++)
		n += snprintf(without + n, wlen - n, "%s%s (%s)", i ? "; " : "", lv.dropped[i].prog,
			      lv.dropped[i].why);
	/* and one clone of each template, as check makes them */
	bpf_object__for_each_program(p, lv.skel->obj) {
		LIBBPF_OPTS(bpf_prog_load_opts, lo, .expected_attach_type =
			    bpf_program__expected_attach_type(p), .attach_btf_id = kf.btf_id);
		struct bpf_insn *insns;
		int fd;

		if (!is_template(p) || bpf_program__fd(p) < 0)
			continue;
		insns = insns_for(p, 0xffffffff81000000ULL);
		if (!insns) {
			snprintf(err, errlen, "%s: no function-address load to patch",
				 bpf_program__name(p));
			ret = -EINVAL;
			goto out;
		}
		fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "vl_dry", "GPL", insns,
				   bpf_program__insn_cnt(p), &lo);
		free(insns);
		if (fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "a clone of %s: %s", bpf_program__name(p),
				 strerror(-ret));
			goto out;
		}
		close(fd);
	}
out:
	vfslock_bpf__destroy(lv.skel);
	return ret;
}

int live_watch_task(struct vl_live *lv, uint32_t tid)
{
	__u8 one = 1;

	return bpf_map__update_elem(lv->skel->maps.watched_tasks, &tid, sizeof(tid), &one,
				    sizeof(one), BPF_ANY);
}

/*
 * Records why the kernel refused to load @tmpl for @fn: the load is made
 * again with the verifier's log, whose last line before its statistics
 * names the reason.
 */
static void add_refusal(struct vl_live *lv, const struct vl_fn *fn,
			const struct bpf_insn *insns, size_t ninsns, const char *name,
			struct bpf_prog_load_opts *opts, int err)
{
	const size_t size = 1 << 16;
	char *log = xcalloc(1, size), *last, why[160];

	opts->log_buf = log;
	opts->log_size = size;
	opts->log_level = 1;
	bpf_prog_load(BPF_PROG_TYPE_TRACING, name, "GPL", insns, ninsns, opts);
	log[size - 1] = '\0';
	if (verbose)
		fprintf(stderr, "vfslock: verifier log for %s:\n%s\n", fn->name, log);
	for (;;) {
		size_t n = strlen(log);

		while (n && log[n - 1] == '\n')
			log[--n] = '\0';
		last = strrchr(log, '\n');
		last = last ? last + 1 : log;
		if (last == log || (strncmp(last, "processed ", 10) &&
				    strncmp(last, "verification time", 17)))
			break;
		last[-1] = '\0';
	}
	snprintf(why, sizeof(why), "load refused (%s%s%s)", strerror(err), *last ? ": " : "",
		 last);
	add_fail(lv, fn, why, 0);
	free(log);
}

static int clone_attach(struct vl_live *lv, const struct bpf_program *tmpl,
			const struct vl_fn *fn, struct kbtf *kb)
{
	struct bpf_insn *insns;
	struct kbtf_func kf;
	char name[16];
	int fd, link;

	if (kbtf__find_func(kb, fn->name, fn->module, &kf)) {
		add_fail(lv, fn, no_btf_why(kb, fn), 0);
		return -ENOENT;
	}
	insns = insns_for(tmpl, fn->addr);
	if (!insns) {
		add_fail(lv, fn, "template without its function-address load", 0);
		return -EINVAL;
	}
	{
		LIBBPF_OPTS(bpf_prog_load_opts, opts,
			    .expected_attach_type = bpf_program__expected_attach_type(tmpl),
			    .attach_btf_id = kf.btf_id,
			    .attach_btf_obj_fd = kf.obj_fd);

		snprintf(name, sizeof(name), "vl_%.12s", fn->name);
		fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, name, "GPL", insns,
				   bpf_program__insn_cnt(tmpl), &opts);
		if (fd < 0) {
			int e = errno;

			add_refusal(lv, fn, insns, bpf_program__insn_cnt(tmpl), name, &opts, e);
			free(insns);
			return -e;
		}
	}
	free(insns);
	link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0) {
		int e = errno;

		close(fd);
		/* ENOTSUPP, kernel-internal: x86 trampolines took six arguments until 6.6 */
		if (e == 524 && fn->nargs > VL_MAX_ARGS)
			add_fail(lv, fn, "attach refused: this kernel's trampolines take at most "
				 "six arguments", 0);
		else
			add_fail(lv, fn, "attach refused", e);
		return -e;
	}
	lv->progs = xrealloc(lv->progs, (lv->nprogs + 1) * sizeof(int));
	lv->prog_fns = xrealloc(lv->prog_fns, (lv->nprogs + 1) * sizeof(*lv->prog_fns));
	lv->prog_kinds = xrealloc(lv->prog_kinds, (lv->nprogs + 1) * sizeof(*lv->prog_kinds));
	lv->prog_fns[lv->nprogs] = fn;
	lv->prog_kinds[lv->nprogs] =
		bpf_program__expected_attach_type(tmpl) == BPF_TRACE_FEXIT ? "exit" : "entry";
	lv->progs[lv->nprogs++] = fd;
	lv->links = xrealloc(lv->links, (lv->nlinks + 1) * sizeof(int));
	lv->links[lv->nlinks++] = link;
	return 0;
}

/* Probes on the catalog's implementations from @from on; how many took. */
static int attach_fns(struct vl_live *lv, const struct vl_live_opts *o, int from)
{
	const struct bpf_program *tmpl;
	struct vl_method_cfg cfg;
	int i, n = 0;

	for (i = from; i < o->cat->nfns && !o->locks_only; i++) {
		const struct vl_fn *fn = &o->cat->fns[i];

		if (!engine_fn_checked(o->eng, fn))
			continue;
		if (fn->nargs < 1) {
			add_fail(lv, fn, no_btf_why(o->kb, fn), 0);
			continue;
		}
		/*
		 * Past six arguments the six-argument template reads the first
		 * six; kernels before 6.6 refuse such trampolines on x86.
		 */
		tmpl = enter_template(lv->skel, fn->nargs < VL_MAX_ARGS ? fn->nargs : VL_MAX_ARGS);
		if (bpf_program__fd(tmpl) < 0) {
			add_fail(lv, fn, "more than six arguments, and no six-argument method to "
				 "load the template on", 0);
			continue;
		}
		/* exit first: an entry without its exit would leave a call open */
		engine_method_cfg(o->eng, fn, &cfg);
		if ((cfg.flags & VL_CFG_NEEDS_EXIT) &&
		    clone_attach(lv, lv->skel->progs.method_exit_any, fn, o->kb))
			continue;
		if (!clone_attach(lv, tmpl, fn, o->kb))
			n++;
		/* a voluntary switch inside a method that may not block */
		if ((cfg.flags & (VL_CFG_NO_BLOCK | VL_CFG_NO_BLOCK_RCU)) && !lv->switch_link) {
			lv->switch_link = bpf_program__attach(lv->skel->progs.on_switch);
			if (!lv->switch_link) {
				lv->switch_link = NULL;
				add_fail(lv, fn, "sched_switch not attached: its sleeps go unseen",
					 errno);
			}
		}
	}
	lv->nmethods += n;
	return n;
}

int live_attach(struct vl_live *lv, const struct vl_live_opts *o, char *err, size_t errlen)
{
	int ret;

	ret = vfslock_bpf__attach(lv->skel);
	if (ret) {
		snprintf(err, errlen, "attaching the lock probes: %s", strerror(-ret));
		return ret;
	}
	attach_fns(lv, o, 0);
	return 0;
}

int live_add(struct vl_live *lv, const struct vl_live_opts *o, const struct vl_discovery *d,
	     int from, char *err, size_t errlen)
{
	int ret;

	watch_discovery(lv, d);
	ret = set_cfgs(lv, o, from, err, errlen);
	return ret ? ret : attach_fns(lv, o, from);
}

int live_poll(struct vl_live *lv, int timeout_ms)
{
	int n = ring_buffer__poll(lv->rb, timeout_ms);

	return n == -EINTR ? 0 : n;
}

int live_drain(struct vl_live *lv)
{
	int n, total = 0;

	while ((n = ring_buffer__consume(lv->rb)) > 0)
		total += n;
	return n < 0 && n != -EINTR ? n : total;
}

/* Runs of @fd the kernel skipped for recursion (5.12+; 0 before). */
static uint64_t prog_misses(int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

uint64_t live_skipped_runs(struct vl_live *lv)
{
	struct bpf_program *p;
	uint64_t n = 0;
	int i;

	if (!lv->skel)
		return 0;
	bpf_object__for_each_program(p, lv->skel->obj)
		n += prog_misses(bpf_program__fd(p));
	for (i = 0; i < lv->nprogs; i++)
		n += prog_misses(lv->progs[i]);
	return n;
}

void live_stats(struct vl_live *lv, uint64_t out[VL_STAT_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd, i, c;
	__u64 *vals;

	memset(out, 0, sizeof(uint64_t) * VL_STAT_MAX);
	if (!lv->skel || ncpu <= 0)
		return;
	fd = bpf_map__fd(lv->skel->maps.stats);
	vals = xcalloc(ncpu, sizeof(*vals));
	for (i = 0; i < VL_STAT_MAX; i++) {
		__u32 key = i;

		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	free(vals);
	out[VL_STAT_SKIPPED] = live_skipped_runs(lv);
}

void live_calls_met(struct vl_live *lv, const struct vl_catalog *cat, struct vl_engine *eng)
{
	int ncpu = libbpf_num_possible_cpus(), fd, i, c;
	struct vl_met *vals;

	if (!lv->skel || ncpu <= 0)
		return;
	fd = bpf_map__fd(lv->skel->maps.calls_met);
	vals = xcalloc(ncpu, sizeof(*vals));
	for (i = 0; i < cat->nfns && i < VL_MET_SLOTS; i++) {
		__u32 key = i;
		uint64_t entry = 0, exit = 0;

		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (c = 0; c < ncpu; c++) {
			entry += vals[c].entry;
			exit += vals[c].exit;
		}
		if (entry || exit)
			engine_count_met(eng, &cat->fns[i], entry, exit);
	}
	free(vals);
}

int live_enable_prog_stats(void)
{
	return bpf_enable_stats(BPF_STATS_RUN_TIME);
}

static bool prog_stat(int fd, struct vl_prog_stat *st)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return false;
	st->runs = info.run_cnt;
	st->ns = info.run_time_ns;
	st->misses = info.recursion_misses;
	return true;
}

static int by_cost(const void *a, const void *b)
{
	const struct vl_prog_stat *x = a, *y = b;

	return x->ns < y->ns ? 1 : x->ns > y->ns ? -1 : strcmp(x->target, y->target);
}

int live_prog_stats(struct vl_live *lv, struct vl_prog_stat **out)
{
	struct vl_prog_stat *v = NULL;
	struct bpf_program *p;
	int n = 0, i;

	if (!lv->skel)
		return 0;
	bpf_object__for_each_program(p, lv->skel->obj) {
		const char *t = sec_target(p);

		v = xrealloc(v, (n + 1) * sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		if (!prog_stat(bpf_program__fd(p), &v[n]))
			continue;
		snprintf(v[n].prog, sizeof(v[n].prog), "%s", bpf_program__name(p));
		/* a template's own attachment is one method among the clones */
		snprintf(v[n].target, sizeof(v[n].target), "%s",
			 is_template(p) ? "(template)" : t ? t : "");
		n++;
	}
	for (i = 0; i < lv->nprogs; i++) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		memset(&v[n], 0, sizeof(v[n]));
		if (!prog_stat(lv->progs[i], &v[n]))
			continue;
		snprintf(v[n].prog, sizeof(v[n].prog), "method_%s", lv->prog_kinds[i]);
		snprintf(v[n].target, sizeof(v[n].target), "%s", lv->prog_fns[i]->name);
		n++;
	}
	if (n)
		qsort(v, n, sizeof(*v), by_cost);
	*out = v;
	return n;
}

void live_detach(struct vl_live *lv)
{
	int i;

	/* links first: once they are gone nothing new enters the ring */
	bpf_link__destroy(lv->switch_link);
	lv->switch_link = NULL;
	for (i = 0; i < lv->nlinks; i++)
		close(lv->links[i]);
	for (i = 0; i < lv->nprogs; i++)
		close(lv->progs[i]);
	ring_buffer__free(lv->rb);
	vfslock_bpf__destroy(lv->skel);
	free(lv->links);
	free(lv->progs);
	free(lv->prog_fns);
	free(lv->prog_kinds);
	lv->prog_fns = NULL;
	lv->prog_kinds = NULL;
	lv->rb = NULL;
	lv->skel = NULL;
	lv->links = lv->progs = NULL;
	lv->nlinks = lv->nprogs = 0;
}

void live_close(struct vl_live *lv)
{
	live_detach(lv);
	free(lv->fails);
	memset(lv, 0, sizeof(*lv));
}
