// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "attrib.h"
#include "report.h"
#include "suppress.h"
#include "util.h"

#define MAX_FRAMES (VL_MAX_STACK + 1)

/* One distinct deviation: what happened the first time, and how often. */
struct group {
	const struct vl_rule *rule;
	const struct vl_req *req;
	const struct vl_fn *fn;
	const struct vl_role *role;
	int arg;
	uint64_t stack_hash;
	uint64_t count, first_ts, last_ts;
	/* the first occurrence */
	uint32_t tid, tgid;
	char comm[VL_COMM_LEN];
	uint64_t inode, ino;
	uint32_t dev;
	uint16_t imode;
	enum vl_mode held;
	bool by_lock_word;
	bool blocked;		/* a sleep inside the call, not its entry */
	bool at_return;		/* found at the method's return */
	bool stack_missing;
	int nholds;
	struct vl_hold *holds;
	int nframes;
	uint64_t frames[MAX_FRAMES];
	const struct ksym *syms[MAX_FRAMES];	/* the frames named; NULL where none */
	enum vl_attrib attrib;
	int attrib_frame;			/* index of the frame to blame, or -1 */
	int supp;				/* the suppression entry matched, or -1 */
};

struct vl_report {
	const struct ksyms *ks;
	const struct vl_mounts *mounts;
	struct vl_prefixes prefixes;
	const struct vl_supps *supps;
	uint8_t lock_events;
	int n;
	struct group *g;
};

const char *mode_name(enum vl_mode m)
{
	if ((unsigned int)m == VL_HELD_VMA_LOCK)
		return "not held: the vma's own lock instead (FAULT_FLAG_VMA_LOCK)";
	switch (m) {
	case VL_MODE_EXCL:
		return "exclusive";
	case VL_MODE_SHARED:
		return "shared";
	default:
		return "not held";
	}
}

struct vl_report *report_new(const struct ksyms *ks, const struct vl_mounts *mounts,
			     const struct vl_catalog *cat)
{
	struct vl_report *r = xcalloc(1, sizeof(*r));

	r->ks = ks;
	r->mounts = mounts;
	r->lock_events = VL_LOCK_EVENTS_ALL;
	attrib_prefixes(cat, &r->prefixes);
	return r;
}

void report_set_lock_events(struct vl_report *r, uint8_t lock_events)
{
	r->lock_events = lock_events;
}

void report_free(struct vl_report *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		free(r->g[i].holds);
	free(r->g);
	attrib_prefixes_free(&r->prefixes);
	free(r);
}

void report_suppress(struct vl_report *r, const struct vl_supps *s)
{
	r->supps = s;
}

static bool is_drift(const struct group *g)
{
	return g->attrib == VL_ATTR_CORE && g->supp < 0;
}

static bool is_deviation(const struct group *g)
{
	return g->attrib != VL_ATTR_CORE && g->supp < 0;
}

/* Whether some distinct deviation matched suppression entry @k. */
static bool supp_used(const struct vl_report *r, int k)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->g[i].supp == k)
			return true;
	return false;
}

void report_counts(const struct vl_report *r, struct vl_report_counts *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < r->n; i++) {
		const struct group *g = &r->g[i];

		if (g->supp >= 0) {
			c->suppressed += g->count;
			c->suppressed_distinct++;
			continue;
		}
		c->deviations += g->count;
		c->distinct++;
		c->by_attrib[g->attrib] += g->count;
		c->distinct_by_attrib[g->attrib]++;
	}
	for (i = 0; r->supps && i < r->supps->n; i++)
		c->supp_unused += !supp_used(r, i);
	c->supp_entries = r->supps ? r->supps->n : 0;
}

/*
 * Frames of interest: the method itself, then its callers. What
 * bpf_get_stack() returns first (the BPF program, its trampoline, the
 * return site inside the method) is dropped: it says nothing of the caller.
 */
static int frames_of(const struct vl_report *r, const struct vl_deviation *d, uint64_t *out)
{
	const struct vl_ev_method *ev = d->ev;
	int n = 0, i, start = 0;

	out[n++] = d->fn->addr;
	if (!(ev->flags & VL_MF_STACK))
		return n;
	/* a sleep's stack is taken where it slept: all of it matters */
	for (i = 0; ev->hdr.type != VL_EV_METHOD_BLOCK && i < ev->nstack && i < VL_MAX_STACK;
	     i++) {
		const struct ksym *s = ksyms__find(r->ks, ev->stack[i]);

		if (s && s->addr == d->fn->addr) {
			start = i + 1;
			break;
		}
	}
	for (i = start; i < ev->nstack && i < VL_MAX_STACK; i++)
		out[n++] = ev->stack[i];
	return n;
}

static uint64_t hash_frames(const uint64_t *f, int n)
{
	uint64_t h = 1469598103934665603ull;
	int i;

	for (i = 0; i < n; i++) {
		h ^= f[i];
		h *= 1099511628211ull;
	}
	return h;
}

void report_on_deviation(void *arg, const struct vl_deviation *d)
{
	struct vl_report *r = arg;
	uint64_t frames[MAX_FRAMES], h;
	int nf, i;
	struct group *g;

	nf = frames_of(r, d, frames);
	h = hash_frames(frames, nf);
	for (i = 0; i < r->n; i++) {
		g = &r->g[i];
		if (g->rule == d->rule && g->req == d->req && g->arg == d->arg && g->stack_hash == h &&
		    g->at_return == (d->ev->hdr.type == VL_EV_METHOD_EXIT)) {
			g->count++;
			g->last_ts = d->ev->hdr.ts;
			return;
		}
	}
	r->g = xrealloc(r->g, (r->n + 1) * sizeof(*r->g));
	g = &r->g[r->n++];
	memset(g, 0, sizeof(*g));
	g->rule = d->rule;
	g->req = d->req;
	g->fn = d->fn;
	g->role = d->role;
	g->arg = d->arg;
	g->stack_hash = h;
	g->count = 1;
	g->first_ts = g->last_ts = d->ev->hdr.ts;
	g->tid = d->ev->hdr.tid;
	g->tgid = d->ev->hdr.tgid;
	memcpy(g->comm, d->ev->comm, sizeof(g->comm));
	g->comm[sizeof(g->comm) - 1] = '\0';
	g->inode = d->ev->obj[d->arg].inode;
	g->ino = d->ev->obj[d->arg].ino;
	g->dev = d->ev->obj[d->arg].dev;
	g->imode = d->ev->obj[d->arg].mode;
	g->held = d->held;
	g->by_lock_word = d->by_lock_word;
	g->blocked = d->ev->hdr.type == VL_EV_METHOD_BLOCK;
	g->at_return = d->ev->hdr.type == VL_EV_METHOD_EXIT;
	g->stack_missing = !(d->ev->flags & VL_MF_STACK);
	if (d->task && d->task->nholds) {
		g->nholds = d->task->nholds;
		g->holds = xmalloc(g->nholds * sizeof(*g->holds));
		memcpy(g->holds, d->task->holds, g->nholds * sizeof(*g->holds));
	}
	g->nframes = nf;
	memcpy(g->frames, frames, nf * sizeof(frames[0]));
	for (i = 0; i < nf; i++)
		g->syms[i] = ksyms__name(r->ks, frames[i]);
	/* the same stack, the same answer: decided once, by the first occurrence */
	g->attrib = g->stack_missing ? VL_ATTR_UNKNOWN :
		    attrib_stack(g->fn, g->syms, nf, &r->prefixes, &g->attrib_frame);
	if (g->stack_missing)
		g->attrib_frame = -1;
	/* the state a method returns in is its own doing, whoever called it */
	if (g->at_return) {
		g->attrib = VL_ATTR_FILESYSTEM;
		g->attrib_frame = 0;
	}
	g->supp = supp_match(r->supps, g->rule->id, g->syms, nf, g->attrib);
}

static const char *fstype_of(const struct vl_report *r, uint32_t dev)
{
	int i;

	for (i = 0; r->mounts && i < r->mounts->n; i++)
		if (r->mounts->v[i].dev == dev)
			return r->mounts->v[i].fstype;
	return "?";
}

static const char *itype(uint16_t mode)
{
	switch (mode & 0170000) {
	case 0040000:
		return "directory";
	case 0100000:
		return "regular file";
	case 0120000:
		return "symlink";
	default:
		return "inode";
	}
}

/*
 * "i_rwsem exclusive on parents", "folio_lock held, unlocked by the method":
 * the rule's own lock. The target is named only when the rule names one; the
 * object line says which argument it was.
 */
/* What was found against the rule: a lock's mode, or the calling context. */
static const char *found_text(const struct group *g)
{
	if (g->rule->prop == VL_PROP_MAY_BLOCK)
		return g->blocked ? "slept (a voluntary context switch) inside the call" : "?";
	if (g->rule->prop == VL_PROP_RCU_WALK)
		return "called in rcu-walk mode";
	if (g->req->kind == VL_REQ_LOCKS)
		return "returned 0 with the folio unlocked";
	if (g->req->kind == VL_REQ_HELD_UNLOCKS && g->at_return)
		return "returned with the folio still locked";
	if (g->req->kind == VL_REQ_MAY_RETURN_LOCKED)
		return "returned VM_FAULT_LOCKED with the page unlocked";
	return mode_name(g->held);
}

static void required_text(const struct group *g, char *buf, size_t len)
{
	const struct vl_req *q = g->req;

	if (rule_on_context(g->rule)) {
		snprintf(buf, len, "%s%s", g->rule->prop == VL_PROP_RCU_WALK ?
			 "not to be called in rcu-walk mode" : "not to block",
			 q->cond == VL_COND_RCU_WALK ? ", when called in rcu-walk mode" : "");
		return;
	}

	if (q->kind == VL_REQ_LOCKS || q->kind == VL_REQ_MAY_RETURN_LOCKED) {
		snprintf(buf, len, "%s", q->kind == VL_REQ_LOCKS ?
			 "the folio it returns locked, when it returns 0" :
			 "vmf->page locked at return, when it returns VM_FAULT_LOCKED");
		return;
	}
	snprintf(buf, len, "%s %s%s%s%s%s%s%s", prop_key(g->rule->prop), req_mode_name(q->mode),
		 q->mode == VL_RMODE_SHARED ? " (or exclusive)" : "",
		 q->kind == VL_REQ_HELD_UNLOCKS ? ", unlocked by the method" : "",
		 q->target != VL_TGT_DEFAULT ? " on " : "",
		 q->target != VL_TGT_DEFAULT ? target_name(q->target) : "",
		 q->cond ? ", when " : "", q->cond ? cond_name(q->cond) : "");
}

/* "s_umount shared of dev 0:25", "i_rwsem exclusive of ino 2 dev 0:25" */
static const char *hold_text(const struct vl_hold *h, char *buf, size_t len)
{
	if (h->cls == VL_LOCK_S_UMOUNT)
		snprintf(buf, len, "%s %s of dev %u:%u", lock_class_name(h->cls),
			 mode_name(h->mode), h->dev >> 20, h->dev & 0xfffff);
	else
		snprintf(buf, len, "%s %s of ino %" PRIu64 " dev %u:%u", lock_class_name(h->cls),
			 mode_name(h->mode), h->ino, h->dev >> 20, h->dev & 0xfffff);
	return buf;
}

/* "caused by" line: the frame to blame and whose code it is, or why none is. */
static void print_cause(const struct vl_report *r, const struct group *g, FILE *f)
{
	const struct ksym *s = g->attrib_frame >= 0 ? g->syms[g->attrib_frame] : NULL;
	char buf[256] = "";

	if (s)
		ksyms__format(r->ks, g->frames[g->attrib_frame], buf, sizeof(buf));
	switch (g->attrib) {
	case VL_ATTR_FILESYSTEM:
		fprintf(f, "  caused by %s: the filesystem's own code (%s%s)\n", buf,
			g->fn->module[0] ? "module " : "",
			g->fn->module[0] ? g->fn->module : g->fn->fstypes);
		break;
	case VL_ATTR_MODULE:
		fprintf(f, "  caused by %s: module %s, not the filesystem's\n", buf, s->module);
		break;
	case VL_ATTR_CORE:
		fprintf(f, "  caused by the core kernel alone: no caller outside it on the stack "
			"(documentation drift)\n");
		break;
	default:
		fprintf(f, "  caused by unknown: %s\n", g->stack_missing ? "no stack was captured" :
			"no caller on the stack is named in kallsyms");
		break;
	}
}

static void print_group(const struct vl_report *r, const struct group *g, const char *title,
			FILE *f)
{
	char buf[256], req[128], obj[64];
	int k;

	required_text(g, req, sizeof(req));
	fprintf(f, "%s %s\n", title, g->rule->id);
	fprintf(f, "  rule      locking.rst line %d, %s: %s%s%s\n", g->rule->line,
		g->rule->section, g->rule->column[0] ? g->rule->column : "prose",
		g->rule->column[0] ? " = " : ": ", g->rule->text);
	fprintf(f, "  method    %s->%s = %s%s%s%s  [%s]\n", g->role->ops_struct,
		g->role->method, g->fn->name, g->fn->module[0] ? " [" : "", g->fn->module,
		g->fn->module[0] ? "]" : "", g->fn->fstypes);
	fprintf(f, "  requires  %s\n", req);
	fprintf(f, "  object    %s: %s, ino %" PRIu64 ", dev %u:%u (%s), inode 0x%" PRIx64 "\n",
		engine_obj_name(g->fn, g->role, g->arg, obj, sizeof(obj)), itype(g->imode),
		g->ino, g->dev >> 20, g->dev & 0xfffff, fstype_of(r, g->dev), g->inode);
	fprintf(f, "  %s %s%s\n", rule_on_context(g->rule) ? "found    " : "held     ",
		found_text(g),
		/* other locks are always read in the kernel: only i_rwsem has a rebuilt side */
		g->by_lock_word && g->rule->prop == VL_PROP_I_RWSEM ?
		" (judged from the lock word: task not traced from its start)" : "");
	fprintf(f, "  task      %s, tid %u, tgid %u\n", g->comm, g->tid, g->tgid);
	if (r->lock_events == VL_LOCK_EVENTS_READERS)
		fprintf(f, "  readers   ");
	else
		fprintf(f, "  task held ");
	if (!g->nholds)
		fprintf(f, "%s\n", r->lock_events == VL_LOCK_EVENTS_READERS ?
			"no traced reader hold (exclusive holds are read from the lock words; "
			"--lock-events all rebuilds them too)" : "no traced lock");
	for (k = 0; k < g->nholds; k++)
		fprintf(f, "%s%s\n", k ? "            " : "",
			hold_text(&g->holds[k], buf, sizeof(buf)));
	print_cause(r, g, f);
	fprintf(f, "  count     %" PRIu64 "\n", g->count);
	fprintf(f, "  stack%s\n", g->stack_missing ? "     (not captured: the kernel filter "
		"judged this call compliant)" : "");
	for (k = 0; k < g->nframes; k++)
		fprintf(f, "    %s\n", ksyms__format(r->ks, g->frames[k], buf, sizeof(buf)));
	fprintf(f, "\n");
}

/* "module do_lookup+0x3c [vl_badcall]", "drift", "unknown" */
static const char *cause_brief(const struct vl_report *r, const struct group *g, char *buf,
			       size_t len)
{
	char frame[200];

	if (g->attrib == VL_ATTR_CORE)
		return "drift";
	if (g->attrib_frame < 0)
		return attrib_name(g->attrib);
	snprintf(buf, len, "%s %s", attrib_name(g->attrib),
		 ksyms__format(r->ks, g->frames[g->attrib_frame], frame, sizeof(frame)));
	return buf;
}

/* Briefly, each with the entry and reason that accepted it; then unused entries. */
static void print_suppressed(const struct vl_report *r, FILE *f)
{
	struct vl_report_counts c;
	char buf[256];
	int i;

	report_counts(r, &c);
	if (c.suppressed_distinct)
		fprintf(f, "Suppressed (%d distinct, %" PRIu64 " in all):\n", c.suppressed_distinct,
			c.suppressed);
	for (i = 0; i < r->n; i++) {
		const struct group *g = &r->g[i];
		const struct vl_supp *e = g->supp >= 0 ? &r->supps->v[g->supp] : NULL;

		if (!e)
			continue;
		fprintf(f, "  %s in %s, %s, count %" PRIu64 "\n      %s:%d: %s\n", g->rule->id,
			g->fn->name, cause_brief(r, g, buf, sizeof(buf)), g->count, e->file, e->line,
			e->reason);
	}
	if (c.suppressed_distinct)
		fprintf(f, "\n");
	if (c.supp_unused)
		fprintf(f, "Unused suppressions (%d, matched nothing):\n", c.supp_unused);
	for (i = 0; r->supps && i < r->supps->n; i++)
		if (!supp_used(r, i))
			fprintf(f, "  %s:%d: %s\n", r->supps->v[i].file, r->supps->v[i].line,
				r->supps->v[i].text);
	if (c.supp_unused)
		fprintf(f, "\n");
}

/*
 * Deviations first: code to fix. Then drift, apart: the kernel doing what
 * the document does not say is for the document's maintainers.
 */
void report_print(const struct vl_report *r, FILE *f)
{
	bool drift = false;
	int i;

	for (i = 0; i < r->n; i++)
		if (is_deviation(&r->g[i]))
			print_group(r, &r->g[i], "DEVIATION", f);
	for (i = 0; i < r->n; i++) {
		if (!is_drift(&r->g[i]))
			continue;
		if (!drift)
			fprintf(f, "Documentation drift: only core kernel code calls these methods "
				"this way; locking.rst does not describe it.\n\n");
		drift = true;
		print_group(r, &r->g[i], "DRIFT", f);
	}
	print_suppressed(r, f);
}

/* "attribution", "drift", "caused_by", "caused_by_module" of @g into @o. */
static void cause_json(const struct vl_report *r, const struct group *g, json_object *o)
{
	const struct ksym *s = g->attrib_frame >= 0 ? g->syms[g->attrib_frame] : NULL;
	char buf[256];

	json_object_object_add(o, "attribution", json_object_new_string(attrib_name(g->attrib)));
	json_object_object_add(o, "drift", json_object_new_boolean(is_drift(g)));
	json_object_object_add(o, "caused_by", s ? json_object_new_string(ksyms__format(
		r->ks, g->frames[g->attrib_frame], buf, sizeof(buf))) : NULL);
	json_object_object_add(o, "caused_by_module", s ? json_object_new_string(s->module) : NULL);
}

json_object *report_json(const struct vl_report *r)
{
	json_object *arr = json_object_new_array();
	char buf[256];
	int i, k;

	for (i = 0; i < r->n; i++) {
		const struct group *g = &r->g[i];
		json_object *o, *st, *holds, *obj, *task, *req;

		if (g->supp >= 0)
			continue;
		o = json_object_new_object();
		st = json_object_new_array();
		holds = json_object_new_array();
		obj = json_object_new_object();
		task = json_object_new_object();
		req = json_object_new_object();

		json_object_object_add(o, "rule", json_object_new_string(g->rule->id));
		json_object_object_add(o, "section", json_object_new_string(g->rule->section));
		json_object_object_add(o, "method", json_object_new_string(g->role->method));
		json_object_object_add(o, "ops", json_object_new_string(g->role->ops_struct));
		json_object_object_add(o, "column", json_object_new_string(g->rule->column));
		json_object_object_add(o, "text", json_object_new_string(g->rule->text));
		json_object_object_add(o, "line", json_object_new_int(g->rule->line));
		json_object_object_add(req, "lock", json_object_new_string(prop_key(g->rule->prop)));
		json_object_object_add(req, "mode", json_object_new_string(req_mode_name(g->req->mode)));
		json_object_object_add(req, "target", json_object_new_string(target_name(g->req->target)));
		json_object_object_add(o, "required", req);
		json_object_object_add(o, "held", json_object_new_string(mode_name(g->held)));
		json_object_object_add(o, "found", json_object_new_string(found_text(g)));
		json_object_object_add(o, "judged_by_lock_word", json_object_new_boolean(g->by_lock_word));
		json_object_object_add(o, "function", json_object_new_string(g->fn->name));
		json_object_object_add(o, "module", json_object_new_string(g->fn->module));
		json_object_object_add(o, "fstypes", json_object_new_string(g->fn->fstypes));
		json_object_object_add(obj, "role", json_object_new_string(
			engine_obj_name(g->fn, g->role, g->arg, buf, sizeof(buf))));
		json_object_object_add(obj, "arg", json_object_new_int(g->arg));
		json_object_object_add(obj, "ino", json_object_new_int64((int64_t)g->ino));
		snprintf(buf, sizeof(buf), "%u:%u", g->dev >> 20, g->dev & 0xfffff);
		json_object_object_add(obj, "dev", json_object_new_string(buf));
		json_object_object_add(obj, "fstype", json_object_new_string(fstype_of(r, g->dev)));
		json_object_object_add(obj, "type", json_object_new_string(itype(g->imode)));
		json_object_object_add(o, "object", obj);
		json_object_object_add(task, "comm", json_object_new_string(g->comm));
		json_object_object_add(task, "tid", json_object_new_int64(g->tid));
		json_object_object_add(task, "tgid", json_object_new_int64(g->tgid));
		json_object_object_add(o, "task", task);
		for (k = 0; k < g->nholds; k++) {
			json_object *h = json_object_new_object();

			json_object_object_add(h, "lock", json_object_new_string(
				lock_class_name(g->holds[k].cls)));
			json_object_object_add(h, "mode", json_object_new_string(mode_name(g->holds[k].mode)));
			json_object_object_add(h, "ino", json_object_new_int64((int64_t)g->holds[k].ino));
			snprintf(buf, sizeof(buf), "%u:%u", g->holds[k].dev >> 20,
				 g->holds[k].dev & 0xfffff);
			json_object_object_add(h, "dev", json_object_new_string(buf));
			json_object_array_add(holds, h);
		}
		json_object_object_add(o, "task_held", holds);
		for (k = 0; k < g->nframes; k++)
			json_object_array_add(st, json_object_new_string(
				ksyms__format(r->ks, g->frames[k], buf, sizeof(buf))));
		json_object_object_add(o, "stack", st);
		json_object_object_add(o, "stack_captured", json_object_new_boolean(!g->stack_missing));
		cause_json(r, g, o);
		json_object_object_add(o, "count", json_object_new_int64((int64_t)g->count));
		json_object_object_add(o, "first_ns", json_object_new_int64((int64_t)g->first_ts));
		json_object_object_add(o, "last_ns", json_object_new_int64((int64_t)g->last_ts));
		json_object_array_add(arr, o);
	}
	return arr;
}

static json_object *supp_json(const struct vl_supp *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "file", json_object_new_string(e->file));
	json_object_object_add(o, "line", json_object_new_int(e->line));
	json_object_object_add(o, "rule", json_object_new_string(e->rule));
	json_object_object_add(o, "at", e->at ? json_object_new_string(e->at) : NULL);
	json_object_object_add(o, "attribution", e->by_attrib ?
			       json_object_new_string(e->attrib == VL_ATTR_CORE ? "drift" :
						      attrib_name(e->attrib)) : NULL);
	json_object_object_add(o, "reason", json_object_new_string(e->reason));
	return o;
}

void report_json_suppressions(const struct vl_report *r, json_object *o)
{
	json_object *list = json_object_new_array(), *unused = json_object_new_array();
	int i;

	for (i = 0; i < r->n; i++) {
		const struct group *g = &r->g[i];
		json_object *x;

		if (g->supp < 0)
			continue;
		x = json_object_new_object();
		json_object_object_add(x, "rule", json_object_new_string(g->rule->id));
		json_object_object_add(x, "function", json_object_new_string(g->fn->name));
		json_object_object_add(x, "module", json_object_new_string(g->fn->module));
		cause_json(r, g, x);
		json_object_object_add(x, "count", json_object_new_int64((int64_t)g->count));
		json_object_object_add(x, "suppression", supp_json(&r->supps->v[g->supp]));
		json_object_array_add(list, x);
	}
	for (i = 0; r->supps && i < r->supps->n; i++)
		if (!supp_used(r, i))
			json_object_array_add(unused, supp_json(&r->supps->v[i]));
	json_object_object_add(o, "suppressed_list", list);
	json_object_object_add(o, "unused_suppressions", unused);
}
