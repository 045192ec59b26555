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
#include "vfslock_filter.h"
#include "util.h"

/* include/uapi/linux/fs.h; part of the rename(2) ABI, stable */
#define VL_RENAME_EXCHANGE	(1 << 1)
/*
 * include/linux/mm_types.h enum vm_fault_reason: a fault handler returns
 * it when it leaves vmf->page locked (0x0200 since the enum, v5.1).
 */
#define VL_VM_FAULT_LOCKED	0x0200

/*
 * A requirement of a rule bound to an implementation, with what every call
 * would otherwise work out again: where it is read, whether it is judged
 * on the call's context, the mode it needs.
 */
struct bound {
	const struct vl_rule *rule;
	int req;
	int role;
	uint8_t at;		/* VL_AT_*: at entry, or at a return */
	bool on_ctx;		/* a rule on the context (may block, rcu-walk) */
	bool ctx;		/* one that forbids something */
	bool i_rwsem;		/* judged on the rebuilt holds and the owner word */
	bool rename;		/* of a ->rename role: its flags may say exchange */
	enum vl_mode need;
};

/* The kinds of an implementation's arguments, as the target words use them. */
struct shape {
	unsigned int inodes;	/* struct inode * arguments */
	int first_inode, last_child, first_any, flags_arg;
	int8_t nth_inode[VL_MAX_ARGS];	/* inode arguments before each, less one */
};

struct binding {
	bool done;
	bool cfg_done;
	bool any_ctx;		/* some bound requirement is judged on the context */
	bool any_exit;		/* some is read at a return */
	int n;
	struct bound *v;
	struct shape sh;
	int flag_arg[VL_RULE_MAX_REQS * 8];	/* unused slots stay -1 */
	struct vl_method_cfg cfg;		/* what the kernel reads for it */
};

struct vl_engine {
	const struct vl_ruleset *rs;
	const struct vl_catalog *cat;
	const struct ksyms *ks;
	int nbind;
	struct binding *bind;
	uint8_t lock_events;
	struct vl_engine_stats st;
	uint64_t *rule_checks;		/* per rule of rs: calls judged against it */
	unsigned int missing;		/* 1 << enum vl_probe_kind the kernel refused */
	char missing_why[VL_PROBE_MAX][256];	/* what the kernel said */
	char missing_note[VL_PROBE_MAX][384];	/* what a rule then says */
};

struct vl_engine *engine_new(const struct vl_ruleset *rs, const struct vl_catalog *cat,
			     const struct ksyms *ks)
{
	struct vl_engine *e = xcalloc(1, sizeof(*e));

	e->rs = rs;
	e->cat = cat;
	e->ks = ks;
	e->lock_events = VL_LOCK_EVENTS_ALL;
	e->rule_checks = xcalloc(rs->nrules ? rs->nrules : 1, sizeof(*e->rule_checks));
	return e;
}

void engine_set_ksyms(struct vl_engine *e, const struct ksyms *ks)
{
	e->ks = ks;
}

void engine_set_lock_events(struct vl_engine *e, uint8_t lock_events)
{
	e->lock_events = lock_events;
}

void engine_free(struct vl_engine *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < e->nbind; i++)
		free(e->bind[i].v);
	free(e->bind);
	free(e->rule_checks);
	free(e);
}

const struct vl_engine_stats *engine_stats(const struct vl_engine *e)
{
	return &e->st;
}

/* ---- what is checked ------------------------------------------------------ */

/* The lock class the programs read for @p; VL_LOCK_NONE if none. */
static uint8_t prop_class(enum vl_prop p)
{
	switch (p) {
	case VL_PROP_I_RWSEM:		return VL_LOCK_I_RWSEM;
	case VL_PROP_S_UMOUNT:		return VL_LOCK_S_UMOUNT;
	case VL_PROP_INVALIDATE_LOCK:	return VL_LOCK_INVALIDATE;
	case VL_PROP_I_LOCK:		return VL_LOCK_I_LOCK;
	case VL_PROP_D_LOCK:		return VL_LOCK_D_LOCK;
	case VL_PROP_FOLIO_LOCK:	return VL_LOCK_FOLIO;
	case VL_PROP_MMAP_LOCK:		return VL_LOCK_MMAP;
	case VL_PROP_S_VFS_RENAME:	return VL_LOCK_S_VFS_RENAME;
	case VL_PROP_F_POS_LOCK:	return VL_LOCK_F_POS;
	case VL_PROP_FLC_LOCK:		return VL_LOCK_FLC;
	default:			return VL_LOCK_NONE;
	}
}

/* Operations structs whose implementations discovery finds (discover.c). */
static bool section_traced(const char *ops)
{
	static const char *const traced[] = {
		"inode_operations", "file_operations", "super_operations",
		"dentry_operations", "address_space_operations", "vm_operations_struct",
		"xattr_handler", "lock_manager_operations", "file_system_type",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(traced); i++)
		if (!strcmp(ops, traced[i]))
			return true;
	return false;
}

static const char *const how_checked[VL_LOCK_CLASS_MAX] = {
	[VL_LOCK_I_RWSEM] = "at method entry: the rwsem owner word for exclusive holds, the "
			    "task's rebuilt holds (down_*/up_* traced) for shared ones",
	[VL_LOCK_S_UMOUNT] = "at method entry: the s_umount owner word for exclusive holds, the "
			     "task's reader holds (down_read/up_read traced) for shared ones",
	[VL_LOCK_INVALIDATE] = "at method entry: the invalidate_lock owner word for exclusive "
			       "holds, the task's reader holds (down_read/up_read traced) for "
			       "shared ones",
	[VL_LOCK_I_LOCK] = "at method entry: the spinlock word is locked (by this CPU or "
			   "another: a spinlock does not record its holder)",
	[VL_LOCK_D_LOCK] = "at method entry: the spinlock word is locked (by this CPU or "
			   "another: a spinlock does not record its holder)",
	[VL_LOCK_FOLIO] = "at method entry: PG_locked set on the folio",
	[VL_LOCK_MMAP] = "at method entry: the mmap_lock owner word of the vma's mm for "
			 "exclusive holds, the task's reader holds of its own mm (down_read/"
			 "up_read traced) for shared ones",
	[VL_LOCK_S_VFS_RENAME] = "at method entry: the owner word of the superblock's "
				 "s_vfs_rename_mutex is this task",
	[VL_LOCK_F_POS] = "at method entry: the owner word of the file's f_pos_lock is this "
			  "task",
	[VL_LOCK_FLC] = "at method entry: the spinlock word of the inode's file lock context "
			"is locked (by this CPU or another: a spinlock does not record its holder)",
};

/* Where a requirement is read, for the kinds about the state at return. */
static uint8_t req_at(const struct vl_req *q)
{
	switch (q->kind) {
	case VL_REQ_LOCKS:		return VL_AT_EXIT_RET0;
	case VL_REQ_MAY_RETURN_LOCKED:	return VL_AT_EXIT_RET_FLAG;
	default:			return VL_AT_ENTRY;
	}
}

/*
 * "yes, unlocks": when the folio must be unlocked by the method's return.
 * Where the caller unlocks nothing after it: generic_perform_write() after
 * ->write_end, and filemap_read_folio()'s callers after a ->read_folio that
 * failed or returned AOP_TRUNCATED_PAGE (mm/filemap.c). A ->read_folio that
 * returns 0 may unlock when its I/O completes, which is not followed.
 */
static uint8_t unlock_at(const char *method)
{
	if (!strcmp(method, "write_end"))
		return VL_AT_EXIT_UNLOCKED;
	if (!strcmp(method, "read_folio"))
		return VL_AT_EXIT_ERR_UNLOCKED;
	return VL_AT_ENTRY;
}

/* A requirement that allows what it names: "yes" to may block or rcu-walk. */
static bool req_permits(const struct vl_req *q)
{
	return q->kind == VL_REQ_MAY_BLOCK || q->kind == VL_REQ_MAY_RCU_WALK;
}

static bool context_checks(const struct vl_rule *r, const char **note)
{
	bool any = false;
	int i;

	for (i = 0; i < r->nreqs; i++) {
		const struct vl_req *q = &r->reqs[i];

		if (req_permits(q))
			continue;
		if ((q->kind == VL_REQ_NO_BLOCK &&
		     (q->cond == VL_COND_NONE || q->cond == VL_COND_RCU_WALK)) ||
		    (q->kind == VL_REQ_NO_RCU_WALK && q->cond == VL_COND_NONE)) {
			any = true;
			continue;
		}
		*note = "requirement kind not checked for this property";
		return false;
	}
	if (!any) {
		*note = "allows what it names: nothing to check";
		return false;
	}
	if (r->prop == VL_PROP_RCU_WALK)
		*note = "at method entry: the caller's path walk is in rcu-walk mode (LOOKUP_RCU)";
	else if (r->reqs[r->nreqs - 1].cond == VL_COND_RCU_WALK)
		*note = "a voluntary context switch (sched_switch) between entry and exit of a "
			"call made in rcu-walk mode (LOOKUP_RCU, or the method's own flag)";
	else
		*note = "a voluntary context switch (sched_switch) between the method's entry "
			"and exit";
	return true;
}

/*
 * Methods of a struct only some of whose implementations discovery can
 * reach: lock_manager_operations' lease methods, from a lease vfslock
 * takes on its own sample file; the POSIX lock managers' (lockd, nfsd)
 * are installed on their locks only. The lease methods are those of
 * struct lease_manager_operations (6.9+; lm_open_conflict and
 * lm_breaker_timedout are 7.x's).
 */
static bool method_traced(const char *ops, const char *method)
{
	static const char *const lease_methods[] = {
		"lm_break", "lm_change", "lm_setup", "lm_breaker_owns_lease",
		"lm_open_conflict", "lm_breaker_timedout",
	};
	size_t i;

	if (strcmp(ops, "lock_manager_operations"))
		return true;
	for (i = 0; i < ARRAY_SIZE(lease_methods); i++)
		if (!strcmp(method, lease_methods[i]))
			return true;
	return false;
}

bool engine_checks(const struct vl_rule *r, const char **note)
{
	uint8_t cls = prop_class(r->prop);
	char ops[128];
	int i;

	*note = NULL;
	rules_struct_of_section(r->section, ops, sizeof(ops));
	if (!method_traced(ops, r->method)) {
		*note = "implementations not discovered: only the lease methods are, from a "
			"lease on vfslock's own sample file";
		return false;
	}
	if (rule_on_context(r)) {
		if (!section_traced(ops)) {
			*note = "implementations of this struct are not discovered yet";
			return false;
		}
		return context_checks(r, note);
	}
	for (i = 0; i < r->nreqs; i++) {
		if (r->reqs[i].kind == VL_REQ_NONE) {
			*note = "no requirement (\"no\" is not \"must not hold\")";
			return false;
		}
	}
	if (!r->nreqs)
		return false;
	if (r->prop == VL_PROP_RENAME_LOCK) {
		/* d_unalias_* (7.x) run under the write side, whose spinlock is a global */
		*note = "not checked: rename_lock is a seqlock, whose readers write nothing a "
			"probe could read; its writers' spinlock (held around d_unalias_*) is "
			"not read yet";
		return false;
	}
	if (r->prop == VL_PROP_RCU && strstr(r->text, "callback")) {
		*note = "a context, not a lock: what it forbids (sleeping) is the method's "
			"may_block rule";
		return false;
	}
	if (cls == VL_LOCK_NONE) {
		*note = "this lock or property is not read yet";
		return false;
	}
	if (!section_traced(ops)) {
		*note = "implementations of this struct are not discovered yet";
		return false;
	}
	for (i = 0; i < r->nreqs; i++) {
		const struct vl_req *q = &r->reqs[i];

		if (cls == VL_LOCK_FOLIO && (q->kind == VL_REQ_HELD_UNLOCKS ||
					     q->kind == VL_REQ_LOCKS ||
					     q->kind == VL_REQ_MAY_RETURN_LOCKED))
			continue;
		if (q->kind == VL_REQ_UNKNOWN && !strncmp(r->text, "maybe", 5)) {
			*note = "\"maybe\": either state is allowed, nothing to check";
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
	*note = how_checked[cls];
	for (i = 0; i < r->nreqs; i++) {
		if (r->reqs[i].kind == VL_REQ_HELD_UNLOCKS && unlock_at(r->method) ==
		    VL_AT_EXIT_UNLOCKED)
			*note = "at method entry: PG_locked set on the folio; at its return: "
				"PG_locked clear";
		else if (r->reqs[i].kind == VL_REQ_HELD_UNLOCKS && unlock_at(r->method) ==
			 VL_AT_EXIT_ERR_UNLOCKED)
			*note = "at method entry: PG_locked set on the folio; at a return of an "
				"error or AOP_TRUNCATED_PAGE: PG_locked clear (an unlock after "
				"I/O, when it returns 0, is not followed)";
		else if (r->reqs[i].kind == VL_REQ_HELD_UNLOCKS)
			*note = "at method entry: PG_locked set on the folio (that the method "
				"unlocks it, maybe after I/O, is not followed)";
		else if (r->reqs[i].kind == VL_REQ_LOCKS)
			*note = "at method return: when it returns 0, PG_locked set on the folio "
				"it returns (*foliop, *pagep before 6.12)";
		else if (r->reqs[i].kind == VL_REQ_MAY_RETURN_LOCKED)
			*note = "at method return: when it returns VM_FAULT_LOCKED, PG_locked "
				"set on vmf->page (the caller unlocks it; not locking it is allowed "
				"without the flag)";
	}
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

static bool is_inode_arg(const struct vl_fn *fn, int i);
static bool is_child_arg(const struct vl_fn *fn, int i);
static int nth_inode_before(const struct vl_fn *fn, int i);
static int flags_arg(const struct vl_fn *fn);

static struct bound bind_req(const struct vl_fn *fn, const struct vl_rule *rule, int q, int role)
{
	const struct vl_req *r = &rule->reqs[q];

	return (struct bound){
		.rule = rule, .req = q, .role = role,
		.at = r->kind == VL_REQ_HELD_UNLOCKS ? unlock_at(fn->roles[role].method) :
						       req_at(r),
		.on_ctx = rule_on_context(rule),
		.ctx = rule_on_context(rule) && !req_permits(r),
		.i_rwsem = rule->prop == VL_PROP_I_RWSEM,
		.rename = !strcmp(fn->roles[role].method, "rename"),
		.need = r->mode == VL_RMODE_EXCL ? VL_MODE_EXCL : VL_MODE_SHARED,
	};
}

static void shape_of(const struct vl_fn *fn, struct shape *sh)
{
	int i;

	memset(sh, 0, sizeof(*sh));
	sh->first_inode = sh->last_child = sh->first_any = -1;
	for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
		sh->nth_inode[i] = nth_inode_before(fn, i);
		if (is_inode_arg(fn, i)) {
			sh->inodes |= 1u << i;
			if (sh->first_inode < 0)
				sh->first_inode = i;
		}
		if (is_child_arg(fn, i) && sh->nth_inode[i] >= 0)
			sh->last_child = i;
		if (fn->arg_kind[i] != VL_ARG_SCALAR && sh->first_any < 0)
			sh->first_any = i;
	}
	sh->flags_arg = flags_arg(fn);
}

/* The rules bound to @fn, found on its first call. */
static __attribute__((noinline)) struct binding *bind_fn(struct vl_engine *e,
							 const struct vl_fn *fn)
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
	shape_of(fn, &b->sh);
	for (k = 0; k < (int)ARRAY_SIZE(b->flag_arg); k++)
		b->flag_arg[k] = -1;
	for (k = 0; k < fn->nroles; k++) {
		char ops[128];

		for (r = 0; r < e->rs->nrules; r++) {
			const struct vl_rule *rule = &e->rs->rules[r];
			const char *why;

			rules_struct_of_section(rule->section, ops, sizeof(ops));
			if (strcmp(ops, fn->roles[k].ops_struct) ||
			    strcmp(rule->method, fn->roles[k].method) ||
			    !engine_rule_checked(e, rule, &why))
				continue;
			for (q = 0; q < rule->nreqs; q++) {
				int slot = b->n;

				b->v = xrealloc(b->v, (b->n + 1) * sizeof(*b->v));
				b->v[b->n++] = bind_req(fn, rule, q, k);
				b->any_ctx |= b->v[slot].ctx;
				b->any_exit |= !rule_on_context(rule) && !b->v[slot].i_rwsem &&
					       b->v[slot].at != VL_AT_ENTRY;
				if (rule->reqs[q].cond == VL_COND_ARG_FLAG &&
				    slot < (int)ARRAY_SIZE(b->flag_arg))
					b->flag_arg[slot] = arg_index(e, fn, &fn->roles[k],
								      rule->reqs[q].cond_arg);
			}
		}
	}
	return b;
}

/* The probes a rule's checks need beyond the method's entry. */
static unsigned int rule_probes(const struct vl_rule *r)
{
	unsigned int need = 0;
	int i;

	if (r->prop == VL_PROP_MAY_BLOCK)
		need |= 1u << VL_PROBE_SLEEPS | 1u << VL_PROBE_EXIT;
	for (i = 0; i < r->nreqs; i++) {
		const struct vl_req *q = &r->reqs[i];

		if (q->kind == VL_REQ_LOCKS || q->kind == VL_REQ_MAY_RETURN_LOCKED ||
		    q->kind == VL_REQ_HELD_UNLOCKS)
			need |= 1u << VL_PROBE_EXIT;
		if (q->mode == VL_RMODE_SHARED)
			need |= 1u << VL_PROBE_READERS;
	}
	return need;
}

bool engine_rule_checked(const struct vl_engine *e, const struct vl_rule *r, const char **note)
{
	unsigned int lost;
	int p;

	if (!engine_checks(r, note))
		return false;
	lost = rule_probes(r) & e->missing;
	if (!lost)
		return true;
	for (p = 0; !(lost & (1u << p)); p++)
		;
	*note = e->missing_note[p];
	return false;
}

unsigned int engine_probes_missing(const struct vl_engine *e, const char **why)
{
	int p;

	for (p = 0; p < VL_PROBE_MAX; p++)
		why[p] = e->missing & (1u << p) ? e->missing_why[p] : NULL;
	return e->missing;
}

void engine_probe_missing(struct vl_engine *e, enum vl_probe_kind p, const char *why)
{
	static const char *const what[VL_PROBE_MAX] = {
		[VL_PROBE_SLEEPS] = "its probe of sleeps (sched_switch)",
		[VL_PROBE_EXIT] = "its probe of method returns",
		[VL_PROBE_READERS] = "its probes of rwsem reader holds",
	};
	char w[sizeof(e->missing_why[0])];
	int i;

	if (p >= VL_PROBE_MAX)
		return;
	e->missing |= 1u << p;
	snprintf(w, sizeof(w), "%s", why);
	memcpy(e->missing_why[p], w, sizeof(w));
	snprintf(e->missing_note[p], sizeof(e->missing_note[p]),
		 "not checked on this kernel: %s did not load (%s)", what[p], w);
	/* bindings made before are recomputed without those rules */
	for (i = 0; i < e->nbind; i++) {
		free(e->bind[i].v);
		memset(&e->bind[i], 0, sizeof(e->bind[i]));
	}
}

static inline struct binding *binding_of(struct vl_engine *e, const struct vl_fn *fn)
{
	if ((int)fn->id < e->nbind && e->bind[fn->id].done)
		return &e->bind[fn->id];
	return bind_fn(e, fn);
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

	static const char *const by_kind[] = {
		[VL_ARG_FILE] = "file", [VL_ARG_SB] = "superblock", [VL_ARG_MAPPING] = "mapping",
		[VL_ARG_FOLIO] = "folio", [VL_ARG_PAGE] = "page", [VL_ARG_RAC] = "readahead",
		[VL_ARG_PATH] = "path", [VL_ARG_FOLIO_OUT] = "returned folio",
		[VL_ARG_PAGE_OUT] = "returned page", [VL_ARG_VMF] = "vmf", [VL_ARG_VMA] = "vma",
		[VL_ARG_FILE_LOCK] = "lease",
	};
	uint8_t kind = arg >= 0 && arg < VL_MAX_ARGS ? fn->arg_kind[arg] : VL_ARG_SCALAR;

	if (kind < ARRAY_SIZE(by_kind) && by_kind[kind])
		name = by_kind[kind];
	else if (is_inode_arg(fn, arg) && strcmp(role->ops_struct, "inode_operations"))
		name = "inode";
	else if (is_inode_arg(fn, arg))
		name = ninode > 1 ? (before == 0 ? "old dir" : "new dir") : "dir";
	else if (is_child_arg(fn, arg) && ninode == 0)
		name = strcmp(role->ops_struct, "dentry_operations") ? "inode" : "dentry";
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

/* Whether a ->rename call exchanges its two entries (renameat2 RENAME_EXCHANGE). */
static bool exchange(const struct shape *sh, const struct bound *bd, const struct vl_ev_method *ev)
{
	return bd->rename && sh->flags_arg >= 0 && (ev->args[sh->flags_arg] & VL_RENAME_EXCHANGE);
}

static bool parents_differ(const struct shape *sh, const struct vl_ev_method *ev)
{
	uint64_t first = 0;
	int i;

	for (i = 0; i < VL_MAX_ARGS; i++) {
		if (!(sh->inodes & (1u << i)) || !ev->obj[i].inode)
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
static unsigned int resolve(const struct vl_fn *fn, const struct shape *sh,
			    const struct bound *bd, enum vl_target target,
			    const struct vl_ev_method *ev)
{
	unsigned int m = 0;
	int i, n = fn->nargs < VL_MAX_ARGS ? fn->nargs : VL_MAX_ARGS;

	switch (target) {
	case VL_TGT_DEFAULT:
		if (sh->first_inode >= 0)
			m = 1u << sh->first_inode;
		else if (sh->first_any >= 0)
			m = 1u << sh->first_any;
		break;
	case VL_TGT_PARENTS:
		m = sh->inodes;
		break;
	case VL_TGT_BOTH:
	case VL_TGT_ALL:
		m = sh->inodes;
		for (i = 0; i < n; i++)
			if (is_child_arg(fn, i) && ev->obj[i].inode)
				m |= 1u << i;
		break;
	case VL_TGT_VICTIM:
		/* the removed or replaced object; an exchange removes nothing */
		if (sh->last_child >= 0 && ev->obj[sh->last_child].inode &&
		    !exchange(sh, bd, ev))
			m = 1u << sh->last_child;
		break;
	case VL_TGT_NONDIR:
		for (i = 0; i < n; i++)
			if (is_child_arg(fn, i) && ev->obj[i].inode && !obj_is_dir(ev, i))
				m |= 1u << i;
		break;
	case VL_TGT_MOVED_SUBDIR:
		if (!parents_differ(sh, ev))
			break;
		for (i = 0; i < n; i++) {
			int k = sh->nth_inode[i];

			if (!is_child_arg(fn, i) || !ev->obj[i].inode || !obj_is_dir(ev, i))
				continue;
			/* the source always moves; the target only when exchanged */
			if (k == 0 || (k > 0 && exchange(sh, bd, ev)))
				m |= 1u << i;
		}
		break;
	default:
		break;
	}
	return m & ((1u << VL_MAX_ARGS) - 1);
}

/* Whether an argument of @kind can name the object of a @cls lock. */
static bool kind_fits(uint8_t cls, uint8_t kind)
{
	switch (cls) {
	case VL_LOCK_S_UMOUNT:
		return kind != VL_ARG_SCALAR;
	case VL_LOCK_INVALIDATE:
		return kind != VL_ARG_SCALAR && kind != VL_ARG_SB;
	case VL_LOCK_I_LOCK:
		return kind == VL_ARG_INODE || kind == VL_ARG_DENTRY || kind == VL_ARG_FILE ||
		       kind == VL_ARG_PATH;
	case VL_LOCK_D_LOCK:
		return kind == VL_ARG_DENTRY;
	case VL_LOCK_FOLIO:
		return kind == VL_ARG_FOLIO || kind == VL_ARG_PAGE;
	case VL_LOCK_MMAP:
		return kind == VL_ARG_VMA || kind == VL_ARG_VMF;
	case VL_LOCK_S_VFS_RENAME:
		return kind == VL_ARG_INODE || kind == VL_ARG_SB;
	case VL_LOCK_F_POS:
		return kind == VL_ARG_FILE;
	case VL_LOCK_FLC:
		return kind == VL_ARG_FILE_LOCK || kind == VL_ARG_FILE || kind == VL_ARG_INODE;
	default:
		return false;
	}
}

/* Whether an argument of @kind names a folio only at return. */
static bool kind_fits_at_exit(uint8_t cls, uint8_t kind)
{
	return cls == VL_LOCK_FOLIO &&
	       (kind == VL_ARG_FOLIO_OUT || kind == VL_ARG_PAGE_OUT || kind == VL_ARG_VMF);
}

static uint8_t preferred_kind(uint8_t cls)
{
	switch (cls) {
	case VL_LOCK_S_UMOUNT:		return VL_ARG_SB;
	case VL_LOCK_INVALIDATE:	return VL_ARG_MAPPING;
	case VL_LOCK_I_LOCK:		return VL_ARG_INODE;
	case VL_LOCK_MMAP:		return VL_ARG_VMA;
	default:			return VL_ARG_SCALAR;
	}
}

/*
 * Arguments whose objects a rule on a lock other than i_rwsem names: every
 * folio for folio rules ("yes (both)" of migrate_folio), those read at
 * return for rules on the state at return, otherwise the first argument of
 * the kind the lock lives in (the superblock for s_umount), or failing that
 * the first that leads to it.
 */
static unsigned int class_objects(const struct vl_fn *fn, uint8_t cls, uint8_t at)
{
	uint8_t pref = preferred_kind(cls);
	int i, first = -1;

	if (cls == VL_LOCK_FOLIO) {
		unsigned int m = 0;

		for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++)
			if (at == VL_AT_EXIT_RET0 || at == VL_AT_EXIT_RET_FLAG ?
			    kind_fits_at_exit(cls, fn->arg_kind[i]) : kind_fits(cls, fn->arg_kind[i]))
				m |= 1u << i;
		return m;
	}
	for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
		if (pref != VL_ARG_SCALAR && fn->arg_kind[i] == pref)
			return 1u << i;
		if (first < 0 && kind_fits(cls, fn->arg_kind[i]))
			first = i;
	}
	return first >= 0 ? 1u << first : 0;
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
		return parents_differ(&b->sh, ev);
	default:
		*known = false;
		return false;
	}
}

/*
 * What @t holds on the i_rwsem of object @i. The owner word is the truth
 * for exclusive holds (the rebuilt set has them only when every event is
 * streamed, and then must agree); shared holds are only known from the
 * rebuilt set (or the kernel filter's own count when the task was not seen
 * from birth).
 */
static enum vl_mode held_on(struct vl_engine *e, const struct vl_task *t,
			    const struct vl_ev_method *ev, int i, bool *by_word)
{
	enum vl_mode rebuilt = lockstate_held(t, VL_LOCK_I_RWSEM, ev->obj[i].inode);
	enum vl_mode word = ev->obj[i].held;

	*by_word = !t || !t->complete;
	if ((rebuilt == VL_MODE_EXCL) != (word == VL_MODE_EXCL) && t && t->complete &&
	    e->lock_events == VL_LOCK_EVENTS_ALL)
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

static const struct vl_method_cfg *cfg_of(struct vl_engine *e, const struct vl_fn *fn);

/* The need the kernel read for lock class @cls on argument @arg, or -1. */
static int need_index(const struct vl_method_cfg *cfg, int arg, uint8_t cls, uint8_t at)
{
	int n;

	for (n = 0; n < cfg->nneeds; n++)
		if (cfg->need[n].arg == arg && cfg->need[n].cls == cls && cfg->need[n].at == at)
			return n;
	return -1;
}

/* A rule judged on a call: counted in all, and for the rule (its CI test case). */
static void checked(struct vl_engine *e, const struct vl_rule *rule)
{
	e->st.checks++;
	e->rule_checks[rule - e->rs->rules]++;
}

void engine_count_met(struct vl_engine *e, const struct vl_fn *fn, uint64_t entry, uint64_t exit)
{
	struct binding *b = binding_of(e, fn);
	int k;

	for (k = 0; k < b->n; k++) {
		const struct vl_rule *rule = b->v[k].rule;
		const struct vl_req *q = &rule->reqs[b->v[k].req];
		uint8_t at = b->v[k].at;

		/*
		 * Context rules: a call that slept in a no-block method, or made
		 * in rcu-walk mode where that is refused, sent its own record.
		 * "May not block in rcu-walk mode" is unknown here: the filter
		 * does not say which mode a compliant call was made in.
		 */
		if (rule_on_context(rule)) {
			if (q->kind == VL_REQ_NO_BLOCK && q->cond == VL_COND_RCU_WALK)
				continue;
			at = VL_AT_ENTRY;
		}
		e->rule_checks[rule - e->rs->rules] += at == VL_AT_ENTRY ? entry : exit;
	}
}

uint64_t engine_rule_checks(const struct vl_engine *e, const struct vl_rule *rule)
{
	return e->rule_checks[rule - e->rs->rules];
}

static void deviation(struct vl_engine *e, const struct vl_deviation *d, vl_deviation_fn cb,
		      void *ctx)
{
	e->st.deviations++;
	if (!(d->ev->flags & VL_MF_STACK))
		e->st.no_stack++;
	cb(ctx, d);
}

/*
 * Locks other than i_rwsem are judged on what the kernel read (need_held),
 * read at @at: at entry, or at return for the state a method leaves (which
 * binds only when the return value says so): their holders are not rebuilt
 * in userspace.
 */
static void judge_by_kernel(struct vl_engine *e, struct binding *b, int k, uint8_t at,
			    const struct vl_fn *fn, const struct vl_ev_method *ev,
			    const struct vl_task *t, vl_deviation_fn cb, void *ctx)
{
	const struct vl_rule *rule = b->v[k].rule;
	const struct vl_req *q = &rule->reqs[b->v[k].req];
	const struct vl_method_cfg *cfg = cfg_of(e, fn);
	uint8_t cls = prop_class(rule->prop);
	enum vl_mode need = q->mode == VL_RMODE_EXCL ? VL_MODE_EXCL : VL_MODE_SHARED;
	unsigned int objs = class_objects(fn, cls, at);
	int i, n;

	for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
		const struct vl_need *nd;
		struct vl_deviation d;
		uint8_t held;

		if (!(objs & (1u << i)))
			continue;
		n = need_index(cfg, i, cls, at);
		if (n < 0) {
			e->st.unverifiable++;
			continue;
		}
		nd = &cfg->need[n];
		held = ev->need_held[n];
		if (held == VL_HELD_NA || !vl_need_binds(nd, ev->ret))
			continue;
		checked(e, rule);
		if (vl_need_unlocked(nd) ? held == VL_MODE_NONE :
		    held >= need && held != VL_HELD_VMA_LOCK)
			continue;
		d = (struct vl_deviation){
			.rule = rule, .req = q, .fn = fn, .role = &fn->roles[b->v[k].role],
			.ev = ev, .task = t, .arg = i, .held = held, .by_lock_word = true,
		};
		deviation(e, &d, cb, ctx);
	}
}

/* The first argument that names an object: what a context deviation shows. */
static int first_object_arg(const struct vl_fn *fn)
{
	int i;

	for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++)
		if (fn->arg_kind[i] != VL_ARG_SCALAR)
			return i;
	return 0;
}

/*
 * Context rules: an entry record says whether the call was made in
 * rcu-walk mode, a block record that the call slept (it carries the entry's
 * flags). Each record kind judges only the rules it can decide.
 */
static void judge_context(struct vl_engine *e, const struct vl_fn *fn, struct binding *b,
			  const struct vl_ev_method *ev, const struct vl_task *t,
			  vl_deviation_fn cb, void *ctx)
{
	bool blocked = ev->hdr.type == VL_EV_METHOD_BLOCK;
	bool rcu = ev->flags & VL_MF_RCU_WALK;
	int k;

	if (!b->any_ctx)
		return;
	for (k = 0; k < b->n; k++) {
		const struct vl_rule *rule = b->v[k].rule;
		const struct vl_req *q = &rule->reqs[b->v[k].req];
		struct vl_deviation d;

		if (!b->v[k].ctx)
			continue;
		if (q->kind == VL_REQ_NO_BLOCK) {
			if (!blocked)
				continue;
			if (q->cond == VL_COND_RCU_WALK && !rcu) {
				checked(e, rule);
				continue;
			}
		} else if (q->kind == VL_REQ_NO_RCU_WALK) {
			if (blocked)
				continue;
			checked(e, rule);
			if (!rcu)
				continue;
		} else {
			continue;
		}
		d = (struct vl_deviation){
			.rule = rule, .req = q, .fn = fn, .role = &fn->roles[b->v[k].role],
			.ev = ev, .task = t, .arg = first_object_arg(fn), .held = VL_MODE_NONE,
		};
		deviation(e, &d, cb, ctx);
	}
}

/* An exit record: the rules on what the method leaves at return. */
static void judge_return(struct vl_engine *e, const struct vl_fn *fn, struct binding *b,
			 const struct vl_ev_method *ev, const struct vl_task *t,
			 vl_deviation_fn cb, void *ctx)
{
	int k;

	if (!b->any_exit)
		return;
	for (k = 0; k < b->n; k++) {
		const struct bound *bd = &b->v[k];

		if (bd->on_ctx || bd->i_rwsem)
			continue;
		if (bd->at != VL_AT_ENTRY)
			judge_by_kernel(e, b, k, bd->at, fn, ev, t, cb, ctx);
	}
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
	b = binding_of(e, fn);
	if (ev->hdr.type == VL_EV_METHOD_BLOCK) {
		if (b->any_ctx)
			judge_context(e, fn, b, ev, lockstate_task(ls, ev->hdr.tid), cb, ctx);
		return;
	}
	if (ev->hdr.type == VL_EV_METHOD_EXIT) {
		if (b->any_exit)
			judge_return(e, fn, b, ev, lockstate_task(ls, ev->hdr.tid), cb, ctx);
		return;
	}
	if (ev->hdr.type != VL_EV_METHOD_ENTER)
		return;
	if (internal_call(e, fn, ev)) {
		e->st.internal_calls++;
		return;
	}
	e->st.calls++;
	t = lockstate_task(ls, ev->hdr.tid);
	judge_context(e, fn, b, ev, t, cb, ctx);

	for (k = 0; k < b->n; k++) {
		const struct bound *bd = &b->v[k];
		const struct vl_rule *rule = bd->rule;
		const struct vl_req *q = &rule->reqs[bd->req];
		const struct vl_role *role = &fn->roles[bd->role];
		enum vl_mode need = bd->need;
		unsigned int objs;
		bool known;

		if (bd->on_ctx)
			continue;
		if (q->cond != VL_COND_NONE && !cond_holds(b, k, fn, q, ev, &known)) {
			if (!known)
				e->st.unverifiable++;
			continue;
		}
		if (!bd->i_rwsem) {
			if (req_at(q) == VL_AT_ENTRY)
				judge_by_kernel(e, b, k, VL_AT_ENTRY, fn, ev, t, cb, ctx);
			continue;
		}
		objs = resolve(fn, &b->sh, bd, q->target, ev);
		for (; objs; objs &= objs - 1) {
			struct vl_deviation d;
			enum vl_mode held;
			bool by_word;

			i = __builtin_ctz(objs);
			if (!ev->obj[i].inode)
				continue;
			checked(e, rule);
			held = held_on(e, t, ev, i, &by_word);
			if (held >= need)
				continue;
			if (by_word && need == VL_MODE_SHARED &&
			    (ev->obj[i].rwsem_count >> 8)) {
				/* readers exist; whether this task is one is unknown */
				e->st.unverifiable++;
				continue;
			}
			d = (struct vl_deviation){
				.rule = rule, .req = q, .fn = fn, .role = role, .ev = ev,
				.task = t, .arg = i, .held = held, .by_lock_word = by_word,
			};
			deviation(e, &d, cb, ctx);
		}
	}
}

/* ---- kernel filter ------------------------------------------------------------------ */

/*
 * Methods told of rcu-walk by an argument, in their last scalar one:
 * include/linux/fs.h MAY_NOT_BLOCK (since 5.12 for ->permission),
 * include/linux/namei.h LOOKUP_RCU (->d_revalidate's flags).
 */
static const struct {
	const char *method;
	uint32_t mask;
} rcu_flag_args[] = {
	{ "permission", 0x0080 },
	{ "d_revalidate", 0x0040 },
};

static void context_cfg(const struct vl_fn *fn, const struct vl_role *role,
			const struct vl_req *q, struct vl_method_cfg *cfg)
{
	size_t i;
	int a;

	if (req_permits(q))
		return;
	if (q->kind == VL_REQ_NO_RCU_WALK)
		cfg->flags |= VL_CFG_NOT_RCU_WALK;
	else if (q->kind == VL_REQ_NO_BLOCK)
		cfg->flags |= q->cond == VL_COND_RCU_WALK ? VL_CFG_NO_BLOCK_RCU : VL_CFG_NO_BLOCK;
	for (i = 0; i < ARRAY_SIZE(rcu_flag_args); i++) {
		if (strcmp(role->method, rcu_flag_args[i].method))
			continue;
		a = flags_arg(fn);
		if (a >= 0 && a < VL_MAX_ARGS) {
			cfg->rcu_arg = a;
			cfg->rcu_mask = rcu_flag_args[i].mask;
		}
	}
}

/* "yes, unlocks": the folios read again at return, where unlock_at() says. */
static void unlock_needs(const struct vl_fn *fn, const struct vl_role *role,
			 struct vl_method_cfg *cfg)
{
	uint8_t at = unlock_at(role->method);
	unsigned int objs = class_objects(fn, VL_LOCK_FOLIO, at);
	int i;

	if (at == VL_AT_ENTRY)
		return;
	for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
		if (!(objs & (1u << i)) || need_index(cfg, i, VL_LOCK_FOLIO, at) >= 0)
			continue;
		if (cfg->nneeds == VL_MAX_NEEDS) {
			cfg->flags |= VL_CFG_STACK_ALWAYS;
			continue;
		}
		cfg->flags |= VL_CFG_EXIT_EVENT;
		cfg->need[cfg->nneeds++] = (struct vl_need){
			.arg = i, .mode = VL_MODE_NONE, .cls = VL_LOCK_FOLIO, .at = at,
		};
	}
}

static void build_cfg(struct vl_engine *e, const struct vl_fn *fn, struct vl_method_cfg *cfg)
{
	struct binding *b = binding_of(e, fn);
	int k, i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->attach_id = fn->id;
	cfg->nargs = fn->nargs < VL_MAX_ARGS ? fn->nargs : VL_MAX_ARGS;
	cfg->fn_size = fn->size;
	if (fn->returns_void)
		cfg->flags |= VL_CFG_RET_VOID;
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
		uint8_t cls = prop_class(b->v[k].rule->prop), at = req_at(q);
		int flag_arg = q->cond == VL_COND_ARG_FLAG ? b->flag_arg[k] : -1;
		uint32_t ret_flag = at == VL_AT_EXIT_RET_FLAG ? VL_VM_FAULT_LOCKED : 0;
		uint8_t differ[2] = { 0, 0 };

		/* a cross-directory condition: the first two directories differ */
		if (q->cond == VL_COND_CROSS_DIR) {
			int a = -1;

			for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
				if (!is_inode_arg(fn, i))
					continue;
				if (a < 0) {
					a = i;
					continue;
				}
				differ[0] = a;
				differ[1] = i;
				break;
			}
		}

		if (rule_on_context(b->v[k].rule)) {
			context_cfg(fn, &fn->roles[b->v[k].role], q, cfg);
			continue;
		}

		for (i = 0; i < fn->nargs && i < VL_MAX_ARGS; i++) {
			bool candidate;
			int n;

			if (cls != VL_LOCK_I_RWSEM)
				candidate = class_objects(fn, cls, at) & (1u << i);
			else switch (q->target) {
			case VL_TGT_DEFAULT:
				candidate = resolve(fn, &b->sh, &b->v[k], VL_TGT_DEFAULT,
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

				if (nd->arg == i && nd->cls == cls && nd->at == at &&
				    nd->differ[0] == differ[0] && nd->differ[1] == differ[1] &&
				    (at != VL_AT_ENTRY ? nd->flag_mask == ret_flag :
				     flag_arg < 0 ? !nd->flag_mask :
				     nd->flag_arg == flag_arg && nd->flag_mask == q->cond_flag)) {
					if (mode > nd->mode)
						nd->mode = mode;
					break;
				}
			}
			if (n < cfg->nneeds)
				continue;
			if (cfg->nneeds == VL_MAX_NEEDS) {
				/* no room to filter: let every call through */
				cfg->flags |= VL_CFG_STACK_ALWAYS;
				continue;
			}
			if (at != VL_AT_ENTRY)
				cfg->flags |= VL_CFG_EXIT_EVENT;
			cfg->need[cfg->nneeds++] = (struct vl_need){
				.arg = i, .mode = mode, .cls = cls, .at = at,
				.differ = { differ[0], differ[1] },
				.flag_arg = flag_arg >= 0 ? flag_arg : 0,
				.flag_mask = at != VL_AT_ENTRY ? ret_flag :
					     flag_arg >= 0 ? q->cond_flag : 0,
			};
		}
		if (q->kind == VL_REQ_HELD_UNLOCKS && cls == VL_LOCK_FOLIO)
			unlock_needs(fn, &fn->roles[b->v[k].role], cfg);
	}
}

static const struct vl_method_cfg *cfg_of(struct vl_engine *e, const struct vl_fn *fn)
{
	struct binding *b = binding_of(e, fn);

	if (!b->cfg_done) {
		build_cfg(e, fn, &b->cfg);
		b->cfg_done = true;
	}
	return &b->cfg;
}

void engine_method_cfg(struct vl_engine *e, const struct vl_fn *fn, struct vl_method_cfg *cfg)
{
	*cfg = *cfg_of(e, fn);
}

uint32_t engine_lock_classes(struct vl_engine *e)
{
	uint32_t m = 0;
	int i, n;

	for (i = 0; i < e->cat->nfns; i++) {
		const struct vl_method_cfg *cfg = cfg_of(e, &e->cat->fns[i]);

		for (n = 0; n < cfg->nneeds; n++)
			m |= 1u << cfg->need[n].cls;
	}
	return m;
}
