// SPDX-License-Identifier: GPL-2.0
/*
 * Judging method calls against the rules.
 *
 * A rule's target words ("both", "victim", "non-directories") are resolved
 * against the arguments the implementation really takes (their kinds come
 * from BTF): directories are the struct inode * arguments, children the
 * struct dentry * ones, in the order the prototype gives them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "util.h"

/* include/uapi/linux/fs.h; part of the rename(2) ABI, stable */
#define VL_RENAME_EXCHANGE	(1 << 1)

struct bound {
	const struct vl_rule *rule;
	int req;
	int role;
};

struct binding {
	bool done;
	int n;
	struct bound *v;
	int flag_arg[VL_RULE_MAX_REQS * 8];	/* unused slots stay -1 */
};

struct vl_engine {
	const struct vl_ruleset *rs;
	const struct vl_catalog *cat;
	const struct ksyms *ks;
	int nbind;
	struct binding *bind;
	struct vl_engine_stats st;
};

struct vl_engine *engine_new(const struct vl_ruleset *rs, const struct vl_catalog *cat,
			     const struct ksyms *ks)
{
	struct vl_engine *e = xcalloc(1, sizeof(*e));

	e->rs = rs;
	e->cat = cat;
	e->ks = ks;
	return e;
}

void engine_free(struct vl_engine *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < e->nbind; i++)
		free(e->bind[i].v);
	free(e->bind);
	free(e);
}

const struct vl_engine_stats *engine_stats(const struct vl_engine *e)
{
	return &e->st;
}

/* ---- what is checked ------------------------------------------------------ */

bool engine_checks(const struct vl_rule *r, const char **note)
{
	char ops[128];
	int i;

	*note = NULL;
	rules_struct_of_section(r->section, ops, sizeof(ops));
	if (r->prop != VL_PROP_I_RWSEM) {
		*note = "only i_rwsem rules are checked so far";
		return false;
	}
	if (strcmp(ops, "inode_operations")) {
		*note = "methods of this section are not traced yet";
		return false;
	}
	for (i = 0; i < r->nreqs; i++) {
		const struct vl_req *q = &r->reqs[i];

		if (q->kind == VL_REQ_NONE) {
			*note = "no requirement (\"no\" is not \"must not hold\")";
			return false;
		}
		if (q->kind != VL_REQ_HELD) {
			*note = "requirement kind not checked for this lock";
			return false;
		}
		if (q->cond == VL_COND_OTHER) {
			*note = "condition in words vfslock cannot evaluate";
			return false;
		}
	}
	if (!r->nreqs)
		return false;
	*note = "at method entry: the rwsem owner word for exclusive holds, the task's "
		"rebuilt holds (down_*/up_* traced) for shared ones";
	return true;
}

/* ---- binding ------------------------------------------------------------------- */

static const struct ld_proto *doc_proto(const struct vl_engine *e, const struct vl_role *role)
{
	const struct ld_section *s = rules_section_of(e->rs, role->ops_struct);

	return s ? ld_proto_find(s, role->method) : NULL;
}

/* Index in the call of the argument the document names @name. */
static int arg_index(const struct vl_engine *e, const struct vl_fn *fn,
		     const struct vl_role *role, const char *name)
{
	const struct ld_proto *p = doc_proto(e, role);
	int i;

	if (!p || p->nargs != fn->nargs)
		return -1;
	for (i = 0; i < p->nargs; i++)
		if (p->args[i].name && !strcmp(p->args[i].name, name))
			return i;
	return -1;
}

static struct binding *binding_of(struct vl_engine *e, const struct vl_fn *fn)
{
	struct binding *b;
	int r, q, k;

	if ((int)fn->id >= e->nbind) {
		int n = fn->id + 16;

		e->bind = xrealloc(e->bind, n * sizeof(*e->bind));
		memset(e->bind + e->nbind, 0, (n - e->nbind) * sizeof(*e->bind));
		e->nbind = n;
	}
	b = &e->bind[fn->id];
	if (b->done)
		return b;
	b->done = true;
	for (k = 0; k < (int)ARRAY_SIZE(b->flag_arg); k++)
		b->flag_arg[k] = -1;
	for (k = 0; k < fn->nroles; k++) {
		char ops[128];

		for (r = 0; r < e->rs->nrules; r++) {
			const struct vl_rule *rule = &e->rs->rules[r];
			const char *why;

			rules_struct_of_section(rule->section, ops, sizeof(ops));
			if (strcmp(ops, fn->roles[k].ops_struct) ||
			    strcmp(rule->method, fn->roles[k].method) || !engine_checks(rule, &why))
				continue;
			for (q = 0; q < rule->nreqs; q++) {
				int slot = b->n;

				b->v = xrealloc(b->v, (b->n + 1) * sizeof(*b->v));
				b->v[b->n++] = (struct bound){ rule, q, k };
				if (rule->reqs[q].cond == VL_COND_ARG_FLAG &&
				    slot < (int)ARRAY_SIZE(b->flag_arg))
					b->flag_arg[slot] = arg_index(e, fn, &fn->roles[k],
								      rule->reqs[q].cond_arg);
			}
		}
	}
	return b;
}

bool engine_fn_checked(struct vl_engine *e, const struct vl_fn *fn)
{
	return binding_of(e, fn)->n > 0;
}

/* ---- objects ---------------------------------------------------------------------- */

static bool is_inode_arg(const struct vl_fn *fn, int i)
{
	return fn->arg_kind[i] == VL_ARG_INODE;
}

static bool is_child_arg(const struct vl_fn *fn, int i)
{
	return fn->arg_kind[i] == VL_ARG_DENTRY;
}

static int nth_inode_before(const struct vl_fn *fn, int i)
{
	int k, n = -1;

	for (k = 0; k < i; k++)
		if (is_inode_arg(fn, k))
			n++;
	return n;
}

static int count_inode_args(const struct vl_fn *fn)
{
	return nth_inode_before(fn, fn->nargs) + 1;
}

const char *engine_obj_name(const struct vl_fn *fn, const struct vl_role *role, int arg,
			    char *buf, size_t len)
{
	int ninode = count_inode_args(fn), before = nth_inode_before(fn, arg) + 1;
	const char *name = "inode";

	if (is_inode_arg(fn, arg))
		name = ninode > 1 ? (before == 0 ? "old dir" : "new dir") : "dir";
	else if (is_child_arg(fn, arg) && ninode == 0)
		name = "inode";
	else if (is_child_arg(fn, arg) && before == 0)
		name = "source";
	else if (is_child_arg(fn, arg) && ninode > 1)
		name = before == 1 ? "source" : "target";
	else if (is_child_arg(fn, arg))
		name = "child";
	snprintf(buf, len, "%s (arg %d)", name, arg);
	return buf;
}

/* The last scalar argument, where rename keeps its flags. */
static int flags_arg(const struct vl_fn *fn)
{
	int i;

	for (i = fn->nargs - 1; i >= 0; i--)
		if (fn->arg_kind[i] == VL_ARG_SCALAR)
			return i;
	return -1;
}

static bool exchange(const struct vl_fn *fn, const struct vl_role *role,
		     const struct vl_ev_method *ev)
{
	int f = flags_arg(fn);

	return !strcmp(role->method, "rename") && f >= 0 && (ev->args[f] & VL_RENAME_EXCHANGE);
}

static bool parents_differ(const struct vl_fn *fn, const struct vl_ev_method *ev)
{
	uint64_t first = 0;
	int i;

	for (i = 0; i < fn->nargs; i++) {
		if (!is_inode_arg(fn, i) || !ev->obj[i].inode)
			continue;
		if (!first)
			first = ev->obj[i].inode;
		else if (ev->obj[i].inode != first)
			return true;
	}
	return false;
}

static bool obj_is_dir(const struct vl_ev_method *ev, int i)
{
	return S_ISDIR(ev->obj[i].mode);
}

/* Arguments whose objects @target names, as a bit mask. */
static unsigned int resolve(const struct vl_fn *fn, const struct vl_role *role,
			    enum vl_target target, const struct vl_ev_method *ev)
{
	unsigned int m = 0;
	int i, first_inode = -1, last_child = -1, first_any = -1;

	for (i = 0; i < fn->nargs; i++) {
		if (is_inode_arg(fn, i) && first_inode < 0)
			first_inode = i;
		if (is_child_arg(fn, i) && nth_inode_before(fn, i) >= 0)
			last_child = i;
		if (fn->arg_kind[i] != VL_ARG_SCALAR && first_any < 0)
			first_any = i;
	}
	switch (target) {
	case VL_TGT_DEFAULT:
		if (first_inode >= 0)
			m = 1u << first_inode;
		else if (first_any >= 0)
			m = 1u << first_any;
		break;
	case VL_TGT_PARENTS:
		for (i = 0; i < fn->nargs; i++)
			if (is_inode_arg(fn, i))
				m |= 1u << i;
		break;
	case VL_TGT_BOTH:
	case VL_TGT_ALL:
		for (i = 0; i < fn->nargs; i++)
			if (is_inode_arg(fn, i) || (is_child_arg(fn, i) && ev->obj[i].inode))
				m |= 1u << i;
		break;
	case VL_TGT_VICTIM:
		/* the removed or replaced object; an exchange removes nothing */
		if (last_child >= 0 && ev->obj[last_child].inode && !exchange(fn, role, ev))
			m = 1u << last_child;
		break;
	case VL_TGT_NONDIR:
		for (i = 0; i < fn->nargs; i++)
			if (is_child_arg(fn, i) && ev->obj[i].inode && !obj_is_dir(ev, i))
				m |= 1u << i;
		break;
	case VL_TGT_MOVED_SUBDIR:
		if (!parents_differ(fn, ev))
			break;
		for (i = 0; i < fn->nargs; i++) {
			int k = nth_inode_before(fn, i);

			if (!is_child_arg(fn, i) || !ev->obj[i].inode || !obj_is_dir(ev, i))
				continue;
			/* the source always moves; the target only when exchanged */
			if (k == 0 || (k > 0 && exchange(fn, role, ev)))
				m |= 1u << i;
		}
		break;
	default:
		break;
	}
	return m & ((1u << VL_MAX_ARGS) - 1);
}

static bool cond_holds(const struct binding *b, int slot, const struct vl_fn *fn,
		       const struct vl_req *q, const struct vl_ev_method *ev, bool *known)
{
	int a;

	*known = true;
	switch (q->cond) {
	case VL_COND_NONE:
		return true;
	case VL_COND_ARG_FLAG:
		a = slot < (int)ARRAY_SIZE(b->flag_arg) ? b->flag_arg[slot] : -1;
		if (a < 0 || a >= VL_MAX_ARGS) {
			*known = false;
			return false;
		}
		return (ev->args[a] & q->cond_flag) != 0;
	case VL_COND_CROSS_DIR:
		return parents_differ(fn, ev);
	default:
		*known = false;
		return false;
	}
}

/*
 * What @t holds on the i_rwsem of object @i. The owner word is the truth
 * for exclusive holds; shared holds are only known from the rebuilt set
 * (or the kernel filter's own count when the task was not seen from birth).
 */
static enum vl_mode held_on(struct vl_engine *e, const struct vl_task *t,
			    const struct vl_ev_method *ev, int i, bool *by_word)
{
	enum vl_mode rebuilt = lockstate_held(t, VL_LOCK_I_RWSEM, ev->obj[i].inode);
	enum vl_mode word = ev->obj[i].held;

	*by_word = !t || !t->complete;
	if ((rebuilt == VL_MODE_EXCL) != (word == VL_MODE_EXCL) && t && t->complete)
		e->st.state_mismatch++;
	if (word == VL_MODE_EXCL)
		return VL_MODE_EXCL;
	if (*by_word)
		return word;
	return rebuilt > word ? rebuilt : word;
}

/*
 * A direct call from another implementation of the same operations struct
 * (shmem_mkdir() calling shmem_mknod()) is that method's own work, done
 * under that method's locks: it is judged as part of the caller.
 */
static bool internal_call(const struct vl_engine *e, const struct vl_fn *fn,
			  const struct vl_ev_method *ev)
{
	const struct ksym *s;
	const struct vl_fn *caller;
	int i, k, r;

	if (!(ev->flags & VL_MF_DIRECT_CALL) || !e->ks)
		return false;
	for (i = 0; i + 1 < ev->nstack && i + 1 < VL_MAX_STACK; i++) {
		s = ksyms__find(e->ks, ev->stack[i]);
		if (!s || s->addr != fn->addr)
			continue;
		s = ksyms__find(e->ks, ev->stack[i + 1]);
		caller = s ? catalog_by_addr((struct vl_catalog *)e->cat, s->addr) : NULL;
		if (!caller)
			return false;
		for (k = 0; k < caller->nroles; k++)
			for (r = 0; r < fn->nroles; r++)
				if (!strcmp(caller->roles[k].ops_struct, fn->roles[r].ops_struct))
					return true;
		return false;
	}
	return false;
}

void engine_on_method(struct vl_engine *e, struct vl_lockstate *ls,
		      const struct vl_ev_method *ev, vl_deviation_fn cb, void *ctx)
{
	const struct vl_fn *fn = catalog_get(e->cat, ev->attach_id);
	const struct vl_task *t;
	struct binding *b;
	int k, i;

	if (!fn) {
		e->st.unknown_fn++;
		return;
	}
	if (ev->hdr.type != VL_EV_METHOD_ENTER)
		return;
	if (internal_call(e, fn, ev)) {
		e->st.internal_calls++;
		return;
	}
	e->st.calls++;
	b = binding_of(e, fn);
	t = lockstate_task(ls, ev->hdr.tid);

	for (k = 0; k < b->n; k++) {
		const struct vl_rule *rule = b->v[k].rule;
		const struct vl_req *q = &rule->reqs[b->v[k].req];
		const struct vl_role *role = &fn->roles[b->v[k].role];
		enum vl_mode need = q->mode == VL_RMODE_EXCL ? VL_MODE_EXCL : VL_MODE_SHARED;
		unsigned int objs;
		bool known;

		if (rule->prop != VL_PROP_I_RWSEM)
			continue;
		if (!cond_holds(b, k, fn, q, ev, &known)) {
			if (!known)
				e->st.unverifiable++;
			continue;
		}
		objs = resolve(fn, role, q->target, ev);
		for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
			struct vl_deviation d;
			enum vl_mode held;
			bool by_word;

			if (!(objs & (1u << i)) || !ev->obj[i].inode)
				continue;
			e->st.checks++;
			held = held_on(e, t, ev, i, &by_word);
			if (held >= need)
				continue;
			if (by_word && need == VL_MODE_SHARED &&
			    (ev->obj[i].rwsem_count >> 8)) {
				/* readers exist; whether this task is one is unknown */
				e->st.unverifiable++;
				continue;
			}
			e->st.deviations++;
			if (!(ev->flags & VL_MF_STACK))
				e->st.no_stack++;
			d = (struct vl_deviation){
				.rule = rule, .req = q, .fn = fn, .role = role, .ev = ev,
				.task = t, .arg = i, .held = held, .by_lock_word = by_word,
			};
			cb(ctx, &d);
		}
	}
}

/* ---- kernel filter ------------------------------------------------------------------ */

void engine_method_cfg(struct vl_engine *e, const struct vl_fn *fn, struct vl_method_cfg *cfg)
{
	struct binding *b = binding_of(e, fn);
	int k, i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->attach_id = fn->id;
	cfg->nargs = fn->nargs;
	for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++)
		cfg->arg_kind[i] = fn->arg_kind[i];

	/*
	 * One need per object the rules could name, at the strongest mode any
	 * of them asks. Target words the kernel cannot resolve (victim, moved
	 * subdirectory...) are taken as naming every candidate: the filter
	 * errs towards taking a stack, never away from it.
	 */
	for (k = 0; k < b->n; k++) {
		const struct vl_req *q = &b->v[k].rule->reqs[b->v[k].req];
		uint8_t mode = q->mode == VL_RMODE_EXCL ? VL_MODE_EXCL : VL_MODE_SHARED;
		int flag_arg = q->cond == VL_COND_ARG_FLAG ? b->flag_arg[k] : -1;

		for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
			bool candidate;
			int n;

			switch (q->target) {
			case VL_TGT_DEFAULT:
				candidate = resolve(fn, &fn->roles[b->v[k].role], VL_TGT_DEFAULT,
						    &(struct vl_ev_method){ 0 }) & (1u << i);
				break;
			case VL_TGT_PARENTS:
				candidate = is_inode_arg(fn, i);
				break;
			default:
				candidate = is_inode_arg(fn, i) || is_child_arg(fn, i);
				break;
			}
			if (!candidate)
				continue;
			/* merge with an existing need on the same object and condition */
			for (n = 0; n < cfg->nneeds; n++) {
				struct vl_need *nd = &cfg->need[n];

				if (nd->arg == i && (flag_arg < 0 ? !nd->flag_mask :
				    nd->flag_arg == flag_arg && nd->flag_mask == q->cond_flag)) {
					if (mode > nd->mode)
						nd->mode = mode;
					break;
				}
			}
			if (n < cfg->nneeds || cfg->nneeds == VL_MAX_NEEDS)
				continue;
			cfg->need[cfg->nneeds++] = (struct vl_need){
				.arg = i, .mode = mode,
				.flag_arg = flag_arg >= 0 ? flag_arg : 0,
				.flag_mask = flag_arg >= 0 ? q->cond_flag : 0,
			};
		}
	}
}
