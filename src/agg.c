// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <seccomp.h>

#include "agg.h"
#include "lockstate.h"
#include "rules.h"
#include "util.h"

/* What a lock instance's object is called: the dentry names the kernel sent. */
struct objname {
	uint64_t obj;
	char *path;			/* relative to its filesystem's root, "/" for the root */
	UT_hash_handle hh;
};

/* Deviations per rule id, for the rules view. */
struct rule_count {
	char *id;
	uint64_t n;
	UT_hash_handle hh;
};

#define AGG_RECENT_BITS	8

struct vl_agg {
	const struct vl_mounts *mounts;
	struct rule_count *rule_counts;
	const struct ksyms *ks;
	struct vl_agg_lock *locks;
	struct vl_agg_task *tasks;
	struct vl_agg_site *sites;
	struct objname *names;
	struct vl_agg_dev devs[VL_AGG_DEV_KEEP];
	int ndevs, dev_next;
	struct vl_agg_totals tot;
	/* locks and tasks recently looked up, by cache_slot() of their key */
	struct vl_agg_lock *recent_locks[1 << AGG_RECENT_BITS];
	struct vl_agg_task *recent_tasks[1 << AGG_RECENT_BITS];
	/* [__lock_text_start, __lock_text_end) and the scheduler's: never a caller */
	uint64_t lock_text[2], sched_text[2];
};

int hist_bucket(uint64_t ns)
{
	int b = ns ? 63 - __builtin_clzll(ns) : 0;

	return b < VL_HIST_BUCKETS ? b : VL_HIST_BUCKETS - 1;
}

uint64_t times_avg(const struct vl_times *t)
{
	return t->n ? t->total / t->n : 0;
}

static void times_add(struct vl_times *t, uint64_t ns)
{
	t->n++;
	t->total += ns;
	if (ns > t->max)
		t->max = ns;
}

struct vl_agg *agg_new(const struct vl_mounts *mounts, const struct ksyms *ks)
{
	struct vl_agg *a = xcalloc(1, sizeof(*a));

	a->mounts = mounts;
	a->ks = ks;
	/* from @ks itself: a replay names frames with the recording's symbols */
	a->lock_text[0] = ksyms__addr_of(ks, "__lock_text_start");
	a->lock_text[1] = ksyms__addr_of(ks, "__lock_text_end");
	a->sched_text[0] = ksyms__addr_of(ks, "__sched_text_start");
	a->sched_text[1] = ksyms__addr_of(ks, "__sched_text_end");
	return a;
}

void agg_free(struct vl_agg *a)
{
	struct vl_agg_lock *l, *lt;
	struct vl_agg_task *t, *tt;
	struct vl_agg_site *s, *st;
	struct objname *n, *nt;

	if (!a)
		return;
	HASH_ITER(hh, a->locks, l, lt) {
		HASH_DEL(a->locks, l);
		free(l);
	}
	HASH_ITER(hh, a->tasks, t, tt) {
		HASH_DEL(a->tasks, t);
		free(t);
	}
	HASH_ITER(hh, a->sites, s, st) {
		HASH_DEL(a->sites, s);
		free(s);
	}
	{
		struct rule_count *r, *rt;

		HASH_ITER(hh, a->rule_counts, r, rt) {
			HASH_DEL(a->rule_counts, r);
			free(r->id);
			free(r);
		}
	}
	HASH_ITER(hh, a->names, n, nt) {
		HASH_DEL(a->names, n);
		free(n->path);
		free(n);
	}
	free(a);
}

/*
 * Frames that are the lock itself, the scheduler, or the tracing that
 * caught the wait: the caller is the first frame past them, as perf lock
 * contention does it.
 */
static bool lock_frame(const struct vl_agg *a, uint64_t ip)
{
	static const char *const prefixes[] = {
		"bpf_", "__bpf_", "__traceiter_", "trace_", "__trace_", "perf_",
		"rwsem_", "down_", "__down_", "up_", "mutex_", "__mutex_", "_raw_", "raw_",
		"do_raw_", "queued_", "native_queued_", "__pv_queued_", "pv_", "osq_",
		"percpu_down_", "__percpu_down_", "schedule", "__schedule", "io_schedule",
		"folio_wait_", "__folio_lock", "__lock_page", "__wait_", "preempt_schedule",
		"rt_mutex_", "__rt_mutex_", "lock_acquire", "__sched_text",
	};
	const struct ksym *s;
	size_t i;

	if (a->lock_text[0] && ip >= a->lock_text[0] && ip < a->lock_text[1])
		return true;
	if (a->sched_text[0] && ip >= a->sched_text[0] && ip < a->sched_text[1])
		return true;
	s = ksyms__name(a->ks, ip);
	/* unnamed code: a BPF program loaded after the symbols were read */
	if (!s)
		return true;
	if (!strcmp(s->module, "bpf"))
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

uint64_t agg_caller(const struct vl_agg *a, const uint64_t *stack, int n)
{
	int i;

	/* without names there is no telling lock code apart: the innermost frame */
	if (!a->ks)
		return n > 0 ? stack[0] : 0;
	for (i = 0; i < n; i++)
		if (!lock_frame(a, stack[i]))
			return stack[i];
	return 0;
}

/* Let go of the locks no one waited for: the view lists only waited-for ones. */
static void drop_hold_only(struct vl_agg *a)
{
	struct vl_agg_lock *l, *t;

	memset(a->recent_locks, 0, sizeof(a->recent_locks));
	HASH_ITER(hh, a->locks, l, t) {
		if (l->wait[0].n || l->wait[1].n)
			continue;
		HASH_DEL(a->locks, l);
		free(l);
		a->tot.hold_only_dropped++;
	}
}

/* A lock not among the recent ones: the hash, or a new record. */
static __attribute__((noinline)) struct vl_agg_lock *lock_lookup(struct vl_agg *a, uint64_t lock)
{
	struct vl_agg_lock **slot = &a->recent_locks[cache_slot(lock, AGG_RECENT_BITS)], *l;

	HASH_FIND(hh, a->locks, &lock, sizeof(lock), l);
	if (!l) {
		if (HASH_COUNT(a->locks) >= VL_AGG_MAX_LOCKS)
			drop_hold_only(a);
		l = xcalloc(1, sizeof(*l));
		l->lock = lock;
		l->owner_syscall = -1;
		HASH_ADD(hh, a->locks, lock, sizeof(lock), l);
	}
	*slot = l;
	return l;
}

static inline struct vl_agg_lock *lock_get(struct vl_agg *a, uint64_t lock)
{
	struct vl_agg_lock *l = a->recent_locks[cache_slot(lock, AGG_RECENT_BITS)];

	return l && l->lock == lock ? l : lock_lookup(a, lock);
}

struct vl_agg_lock *agg_lock(struct vl_agg *a, uint64_t lock)
{
	struct vl_agg_lock *l;

	HASH_FIND(hh, a->locks, &lock, sizeof(lock), l);
	return l;
}

/* comm names (VL_COMM_LEN arrays), at every wait and hold: a copy, not a format */
static void set_comm(char dst[VL_COMM_LEN], const char src[VL_COMM_LEN])
{
	memcpy(dst, src, VL_COMM_LEN - 1);
	dst[VL_COMM_LEN - 1] = '\0';
}

static __attribute__((noinline)) struct vl_agg_task *task_lookup(struct vl_agg *a, uint32_t tid)
{
	struct vl_agg_task *t;

	HASH_FIND(hh, a->tasks, &tid, sizeof(tid), t);
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		t->tid = tid;
		HASH_ADD(hh, a->tasks, tid, sizeof(tid), t);
	}
	a->recent_tasks[cache_slot(tid, AGG_RECENT_BITS)] = t;
	return t;
}

static inline struct vl_agg_task *task_get(struct vl_agg *a, uint32_t tid, uint32_t tgid,
					   const char *comm)
{
	struct vl_agg_task *t = a->recent_tasks[cache_slot(tid, AGG_RECENT_BITS)];

	if (!t || t->tid != tid)
		t = task_lookup(a, tid);
	/* 0: not known here (a hold's end), not "no process" */
	if (tgid)
		t->tgid = tgid;
	if (comm && *comm)
		set_comm(t->comm, comm);
	return t;
}

/*
 * Add @ns to @tid's share in @who. The busiest VL_AGG_WHO are kept: a
 * newcomer takes the place of the least busy, starting from zero.
 */
static void who_add(struct vl_who *who, uint32_t tid, const char *comm, uint64_t ns)
{
	int i, k;

	/* slots fill in order and never empty: the first free one ends the search */
	for (i = 0; i < VL_AGG_WHO && who[i].t.n; i++)
		if (who[i].tid == tid)
			goto add;
	if (i == VL_AGG_WHO)
		for (i = 0, k = 1; k < VL_AGG_WHO; k++)
			if (who[k].t.total < who[i].t.total)
				i = k;
	memset(&who[i], 0, sizeof(who[i]));
	who[i].tid = tid;
add:
	if (comm && *comm)
		set_comm(who[i].comm, comm);
	times_add(&who[i].t, ns);
}

/* rare beside holds: kept out of sink_record, whose registers it would cost every record */
static __attribute__((noinline)) void on_contend(struct vl_agg *a, const struct vl_ev_contend *e)
{
	int side = e->mode == VL_MODE_SHARED ? 0 : 1;
	struct vl_agg_lock *l = lock_get(a, e->lock);
	struct vl_agg_task *t;
	struct vl_agg_site *s;
	uint64_t caller = agg_caller(a, (const uint64_t *)e->stack, e->nstack < VL_CONTEND_STACK ?
				     e->nstack : VL_CONTEND_STACK);
	struct { uint64_t caller; uint8_t cls; } key;

	a->tot.waits++;
	a->tot.wait_ns += e->wait_ns;
	if (e->ret)
		a->tot.failed_waits++;

	if (!l->wait[0].n && !l->wait[1].n) {
		l->cls = e->cls;
		l->obj = e->obj;
		l->ino = e->ino;
		l->dev = e->dev;
		l->caller = caller;
	}
	times_add(&l->wait[side], e->wait_ns);
	l->wait_hist.b[hist_bucket(e->wait_ns)]++;
	who_add(l->waiters, e->hdr.tid, e->comm, e->wait_ns);
	l->owner_tid = e->owner_tid;
	l->owner_syscall = e->owner_syscall;
	l->owner_state = e->owner_state;
	l->owner_flags = e->owner_flags;
	memcpy(l->owner_comm, e->owner_comm, sizeof(l->owner_comm));
	l->owner_comm[sizeof(l->owner_comm) - 1] = '\0';
	l->nstack = e->nstack < VL_CONTEND_STACK ? e->nstack : VL_CONTEND_STACK;
	memcpy(l->stack, e->stack, l->nstack * sizeof(l->stack[0]));
	l->last_ts = e->hdr.ts;

	t = task_get(a, e->hdr.tid, e->hdr.tgid, e->comm);
	times_add(&t->wait, e->wait_ns);
	t->last_ts = e->hdr.ts;

	memset(&key, 0, sizeof(key));
	/* one site per calling function, as views name it: not per return address */
	{
		const struct ksym *sym = ksyms__name(a->ks, caller);

		key.caller = sym ? sym->addr : caller;
	}
	key.cls = e->cls;
	HASH_FIND(hh, a->sites, &key, sizeof(key), s);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->caller = key.caller;
		s->cls = e->cls;
		/* the key is the first two fields, padding zeroed by calloc */
		HASH_ADD(hh, a->sites, caller, sizeof(key), s);
	}
	times_add(&s->wait[side], e->wait_ns);
	s->last_ts = e->hdr.ts;
}

static __attribute__((noinline)) void on_name(struct vl_agg *a, const struct vl_ev_objname *e)
{
	char path[VL_NAME_COMPS * (VL_NAME_LEN + 1) + 8] = "";
	struct objname *n;
	size_t len = 0;
	int i, nc = e->ncomp < VL_NAME_COMPS ? e->ncomp : VL_NAME_COMPS;

	if (!e->complete)
		len += snprintf(path + len, sizeof(path) - len, "...");
	for (i = nc - 1; i >= 0; i--)
		len += snprintf(path + len, sizeof(path) - len, "/%.*s", VL_NAME_LEN,
				e->comp[i]);
	if (!nc)
		snprintf(path, sizeof(path), "/");
	HASH_FIND(hh, a->names, &e->obj, sizeof(e->obj), n);
	if (!n) {
		n = xcalloc(1, sizeof(*n));
		n->obj = e->obj;
		HASH_ADD(hh, a->names, obj, sizeof(n->obj), n);
	}
	free(n->path);
	n->path = xstrdup(path);
}

static void sink_record(void *ctx, const struct vl_ev_hdr *h)
{
	struct vl_agg *a = ctx;

	a->tot.records++;
	if (!a->tot.first_ts)
		a->tot.first_ts = h->ts;
	if (h->ts > a->tot.last_ts)
		a->tot.last_ts = h->ts;
	if (h->type == VL_EV_CONTEND)
		on_contend(a, (const struct vl_ev_contend *)h);
	else if (h->type == VL_EV_OBJ_NAME)
		on_name(a, (const struct vl_ev_objname *)h);
}

static void sink_hold_end(void *ctx, const struct vl_hold *hold, uint32_t tid, uint64_t ts)
{
	struct vl_agg *a = ctx;
	uint64_t ns = ts > hold->since ? ts - hold->since : 0;
	int side = hold->mode == VL_MODE_SHARED ? 0 : 1;
	struct vl_agg_lock *l = lock_get(a, hold->lock);
	struct vl_agg_task *t = task_get(a, tid, 0, NULL);

	a->tot.holds++;
	a->tot.hold_ns += ns;
	if (!l->cls) {
		l->cls = hold->cls;
		l->obj = hold->obj;
		l->ino = hold->ino;
		l->dev = hold->dev;
	}
	times_add(&l->hold[side], ns);
	l->hold_hist.b[hist_bucket(ns)]++;
	who_add(l->holders, tid, t->comm, ns);
	times_add(&t->hold, ns);
}

static void sink_deviation(void *ctx, const struct vl_deviation *d)
{
	struct vl_agg *a = ctx;
	struct vl_agg_dev *v = &a->devs[a->dev_next];

	struct rule_count *rc;

	a->tot.deviations++;
	HASH_FIND_STR(a->rule_counts, d->rule->id, rc);
	if (!rc) {
		rc = xcalloc(1, sizeof(*rc));
		rc->id = xstrdup(d->rule->id);
		HASH_ADD_KEYPTR(hh, a->rule_counts, rc->id, strlen(rc->id), rc);
	}
	rc->n++;
	memset(v, 0, sizeof(*v));
	v->ts = d->ev->hdr.ts;
	v->tid = d->ev->hdr.tid;
	snprintf(v->comm, sizeof(v->comm), "%.15s", d->ev->comm);
	snprintf(v->rule, sizeof(v->rule), "%s", d->rule->id);
	snprintf(v->method, sizeof(v->method), "%s", d->fn ? d->fn->name : "?");
	snprintf(v->what, sizeof(v->what), "%s", d->rule->text);
	a->dev_next = (a->dev_next + 1) % VL_AGG_DEV_KEEP;
	if (a->ndevs < VL_AGG_DEV_KEEP)
		a->ndevs++;
}

struct vl_sink agg_sink(struct vl_agg *a)
{
	return (struct vl_sink){
		.ctx = a,
		.on_record = sink_record,
		.on_deviation = sink_deviation,
		.on_hold_end = sink_hold_end,
	};
}

int agg_locks(struct vl_agg *a, struct vl_agg_lock ***out)
{
	struct vl_agg_lock *l, *t;
	int n = HASH_COUNT(a->locks), i = 0;

	*out = xcalloc(n ? n : 1, sizeof(**out));
	HASH_ITER(hh, a->locks, l, t)
		(*out)[i++] = l;
	return n;
}

int agg_tasks(struct vl_agg *a, struct vl_agg_task ***out)
{
	struct vl_agg_task *l, *t;
	int n = HASH_COUNT(a->tasks), i = 0;

	*out = xcalloc(n ? n : 1, sizeof(**out));
	HASH_ITER(hh, a->tasks, l, t)
		(*out)[i++] = l;
	return n;
}

int agg_sites(struct vl_agg *a, struct vl_agg_site ***out)
{
	struct vl_agg_site *l, *t;
	int n = HASH_COUNT(a->sites), i = 0;

	*out = xcalloc(n ? n : 1, sizeof(**out));
	HASH_ITER(hh, a->sites, l, t)
		(*out)[i++] = l;
	return n;
}

int agg_deviations(const struct vl_agg *a, struct vl_agg_dev out[VL_AGG_DEV_KEEP])
{
	int i, start = a->ndevs < VL_AGG_DEV_KEEP ? 0 : a->dev_next;

	for (i = 0; i < a->ndevs; i++)
		out[i] = a->devs[(start + i) % VL_AGG_DEV_KEEP];
	return a->ndevs;
}

uint64_t agg_rule_deviations(const struct vl_agg *a, const char *id)
{
	struct rule_count *rc;

	HASH_FIND_STR(a->rule_counts, id, rc);
	return rc ? rc->n : 0;
}

const struct vl_agg_totals *agg_totals(const struct vl_agg *a)
{
	return &a->tot;
}

static const struct vl_mount *mount_of(const struct vl_agg *a, uint32_t dev)
{
	int i;

	for (i = 0; a->mounts && i < a->mounts->n; i++)
		if (a->mounts->v[i].dev == dev)
			return &a->mounts->v[i];
	return NULL;
}

const char *agg_dev_fstype(const struct vl_agg *a, uint32_t dev)
{
	const struct vl_mount *m = mount_of(a, dev);

	return m ? m->fstype : "";
}

const char *agg_sym(const struct vl_agg *a, uint64_t ip, char *buf, size_t len)
{
	const struct ksym *s = ksyms__name(a->ks, ip);

	if (s)
		snprintf(buf, len, "%s", s->name);
	else if (ip)
		snprintf(buf, len, "0x%" PRIx64, ip);
	else
		snprintf(buf, len, "?");
	return buf;
}

const char *agg_lock_path(const struct vl_agg *a, const struct vl_agg_lock *l, char *buf,
			  size_t len)
{
	const struct vl_mount *m = mount_of(a, l->dev);
	struct objname *n;

	buf[0] = '\0';
	HASH_FIND(hh, a->names, &l->obj, sizeof(l->obj), n);
	if (!n)
		return buf;
	if (m && strcmp(m->mnt, "/"))
		snprintf(buf, len, "%s%s", m->mnt, strcmp(n->path, "/") ? n->path : "");
	else
		snprintf(buf, len, "%s", n->path);
	return buf;
}

const char *agg_lock_name(const struct vl_agg *a, const struct vl_agg_lock *l, char *buf,
			  size_t len)
{
	char path[512], sym[128];
	const char *fs = agg_dev_fstype(a, l->dev);

	agg_lock_path(a, l, path, sizeof(path));
	switch (l->cls) {
	case VL_LOCK_NONE:
		snprintf(buf, len, "%s", agg_sym(a, l->caller, sym, sizeof(sym)));
		break;
	case VL_LOCK_RENAME_SEQ:
		snprintf(buf, len, "rename_lock");
		break;
	case VL_LOCK_MMAP:
		snprintf(buf, len, "mm %#" PRIx64, l->obj);
		break;
	case VL_LOCK_S_UMOUNT:
	case VL_LOCK_S_VFS_RENAME:
		snprintf(buf, len, "%s (%s %u:%u)", *path ? path : "?", *fs ? fs : "?",
			 l->dev >> 20, l->dev & 0xfffff);
		break;
	default:
		snprintf(buf, len, "%s (%s %u:%u ino %" PRIu64 ")", *path ? path : "?",
			 *fs ? fs : "?", l->dev >> 20, l->dev & 0xfffff, l->ino);
		break;
	}
	return buf;
}

const char *agg_lock_label(const struct vl_agg *a, const struct vl_agg_lock *l, char *buf,
			   size_t len)
{
	switch (l->cls) {
	case VL_LOCK_NONE:
	case VL_LOCK_RENAME_SEQ:
	case VL_LOCK_MMAP:
		return agg_lock_name(a, l, buf, len);
	default:
		agg_lock_path(a, l, buf, len);
		if (!*buf)
			return agg_lock_name(a, l, buf, len);
		return buf;
	}
}

const char *agg_syscall_name(int32_t nr, char *buf, size_t len)
{
	char *s;

	if (nr < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	s = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	snprintf(buf, len, "%s", s ? s : "?");
	if (!s)
		snprintf(buf, len, "syscall %d", nr);
	free(s);
	return buf;
}

const char *agg_task_state_name(uint8_t st)
{
	static const char *const n[] = {
		[VL_TS_UNKNOWN] = "-", [VL_TS_ON_CPU] = "running",
		[VL_TS_RUNNABLE] = "runnable", [VL_TS_SLEEPING] = "sleeping",
		[VL_TS_BLOCKED] = "blocked", [VL_TS_OTHER] = "other",
	};

	return st < sizeof(n) / sizeof(n[0]) && n[st] ? n[st] : "?";
}
