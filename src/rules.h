/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule model: what locking.rst requires, one rule per table cell,
 * whole-section statement or prose sentence, each with a stable id and its
 * source line. Built from a parsed document (lockdoc.h); never hand-written.
 *
 * A rule says of a method that a lock or property (prop) must be in some
 * state (kind, mode) for some object (target), maybe only under a condition.
 * "no" in a lock column is VL_REQ_NONE: no requirement, not "must not hold".
 */
#ifndef VFSLOCK_RULES_H
#define VFSLOCK_RULES_H

#include <stdbool.h>

#include "lockdoc.h"

struct btf;

enum vl_prop {
	VL_PROP_OTHER = 0,	/* a column vfslock does not know: kept, unchecked */
	VL_PROP_I_RWSEM,
	VL_PROP_S_UMOUNT,
	VL_PROP_D_LOCK,
	VL_PROP_I_LOCK,
	VL_PROP_RENAME_LOCK,
	VL_PROP_S_VFS_RENAME,
	VL_PROP_INVALIDATE_LOCK,
	VL_PROP_MMAP_LOCK,
	VL_PROP_FOLIO_LOCK,
	VL_PROP_OPEN_MUTEX,
	VL_PROP_FLC_LOCK,
	VL_PROP_BLOCKED_LOCK_LOCK,
	VL_PROP_F_POS_LOCK,
	VL_PROP_RCU,		/* inside rcu_read_lock() */
	VL_PROP_MAY_BLOCK,
	VL_PROP_RCU_WALK,
	VL_PROP_NOTE,		/* a free-text column */
	VL_PROP_MAX,
};

enum vl_req_kind {
	VL_REQ_NONE = 0,	/* "no": nothing required */
	VL_REQ_HELD,		/* held by the caller at entry, in mode */
	VL_REQ_UNKNOWN,		/* "maybe", or words not understood */
	VL_REQ_MAY_BLOCK,	/* "yes" under may block: no constraint */
	VL_REQ_NO_BLOCK,	/* must not sleep */
	VL_REQ_NO_RCU_WALK,	/* never called in rcu-walk mode */
	VL_REQ_MAY_RCU_WALK,	/* may be called in rcu-walk mode */
	VL_REQ_HELD_UNLOCKS,	/* held at entry, released by the method ("yes, unlocks") */
	VL_REQ_LOCKS,		/* taken by the method, held at return ("locks the folio") */
	VL_REQ_MAY_RETURN_LOCKED, /* "can return with page locked" */
	VL_REQ_TAKES,		/* the method must take it itself ("must lock invalidate_lock") */
	VL_REQ_NOT_HELD,	/* "may not be held" */
};

/* Lock modes, ordered: a requirement of SHARED is met by EXCL. */
enum vl_req_mode {
	VL_RMODE_ANY = 0,	/* held, any mode (spinlocks, "yes") */
	VL_RMODE_SHARED,
	VL_RMODE_EXCL,
};

/* Which object(s) of the call a requirement is about. */
enum vl_target {
	VL_TGT_DEFAULT = 0,	/* the method's own object for this lock */
	VL_TGT_BOTH,		/* the inode and the positive children ("both") */
	VL_TGT_ALL,		/* every inode involved ("all") */
	VL_TGT_PARENTS,		/* every directory argument */
	VL_TGT_VICTIM,		/* the object being removed or replaced */
	VL_TGT_NONDIR,		/* every non-directory involved */
	VL_TGT_MOVED_SUBDIR,	/* subdirectories whose parent changes */
	VL_TGT_SB,		/* the superblock */
	VL_TGT_FILE,		/* the struct file */
	VL_TGT_FOLIO,		/* the folio or page argument(s) */
};

enum vl_cond {
	VL_COND_NONE = 0,
	VL_COND_ARG_FLAG,	/* when an argument has a flag set: cond_arg & cond_flag */
	VL_COND_CROSS_DIR,	/* when the two parents differ */
	VL_COND_REF_WALK,	/* outside rcu-walk mode only */
	VL_COND_RCU_WALK,	/* in rcu-walk mode only */
	VL_COND_OTHER,		/* a condition in words vfslock cannot evaluate */
};

#define VL_RULE_MAX_REQS 4

struct vl_req {
	enum vl_req_kind kind;
	enum vl_req_mode mode;
	enum vl_target target;
	enum vl_cond cond;
	char cond_arg[32];	/* argument name, e.g. "open_flag" */
	unsigned long cond_flag; /* e.g. O_CREAT */
};

enum vl_origin {
	VL_FROM_TABLE,		/* a table cell */
	VL_FROM_STATEMENT,	/* "all may block" and the like */
	VL_FROM_PROSE,		/* a sentence */
};

struct vl_rule {
	char *id;		/* stable across versions, see docs/rules.md */
	char *section;		/* heading as written */
	char *method;		/* op name */
	char *column;		/* table header cell; "" for statements and prose */
	char *text;		/* the cell, statement or sentence */
	int line;
	enum vl_origin origin;
	enum vl_prop prop;
	int nreqs;
	struct vl_req reqs[VL_RULE_MAX_REQS];
};

struct vl_ruleset {
	char *source;		/* "file:PATH", "embedded:6.12", "linux-doc:/usr/share/..." */
	char *version;		/* "6.12", or "" when unknown */
	char *why;		/* why this document: a sentence for people, "" for rules_open() */
	struct ld_doc *doc;
	char *text;		/* the document as read */
	size_t text_len;
	int nrules;
	struct vl_rule *rules;
};

/* Interpret @doc; takes ownership of it. */
struct vl_ruleset *rules_build(struct ld_doc *doc, const char *source, const char *version);
void rules_free(struct vl_ruleset *rs);
/* Parse @text (named @name in errors) and build its rules. NULL with @err set. */
struct vl_ruleset *rules_from_text(const char *name, const char *text, size_t len,
				   const char *source, const char *version,
				   char *err, size_t errlen);

/*
 * The rules in force: @path when given, else the kernel's own document from
 * a linux-doc package (under $VFSLOCK_DOC_DIR, default /usr/share/doc), else
 * the embedded copy closest to it (rules_pick()). The kernel is the running
 * one, or @want_version when given, which must be a kernel version
 * (rules_kernel_series()). NULL with @err set.
 */
struct vl_ruleset *rules_load(const char *path, const char *want_version,
			      char *err, size_t errlen);

/*
 * The series "X.Y" of a kernel version: "6.12", "v6.12", "6.12.118",
 * "6.1.0-13-amd64" (uname -r). -EINVAL for anything else ("abc", "6", "6.x").
 */
int rules_kernel_series(const char *version, char *series, size_t len);
/* The running kernel's series; "" when its release does not say. */
void rules_running_series(char *series, size_t len);

/* How rules_pick() chose. */
enum vl_pick {
	VL_PICK_EXACT,		/* a copy of that very series */
	VL_PICK_OLDER,		/* the newest copy of the same major not newer than it */
	VL_PICK_NEWER,		/* the same major has only newer copies: the oldest of them */
	VL_PICK_NEWEST,		/* newer than every copy: the newest */
	VL_PICK_OLDEST,		/* older than every copy: the oldest */
};

/*
 * Which of @n copies (@versions, "X.Y") stands for kernel series @series:
 * its own; the newest when it is newer than all, the oldest when older;
 * else within its major the newest older one, else the nearest newer one
 * (7.0's document is nearer 7.3's than 6.12's: fewer releases lie between);
 * else, a major without copies, the newest older copy. The index, -1 when
 * @n is 0; @how says which case it was.
 */
int rules_pick(const char *const *versions, int n, const char *series, enum vl_pick *how);

/*
 * Whether the kernel described by @btf has @r's method as a member of the
 * struct its section is about (lock_manager_operations' lease methods are
 * lease_manager_operations' since 6.9): 1 yes, 0 no, -1 cannot tell (no
 * such struct in @btf). @why says which struct lacks which member.
 */
int rules_method_in_btf(const struct btf *btf, const struct vl_rule *r, char *why, size_t len);

/*
 * @spec is a file, or the version of an embedded copy ("6.12", "v6.12",
 * "embedded:6.12"), exactly: for diffs, where "closest" would mislead.
 */
struct vl_ruleset *rules_open(const char *spec, char *err, size_t errlen);

const struct vl_rule *rules_find(const struct vl_ruleset *rs, const char *id);

/* The section of a struct of operations: "inode_operations" -> its section. */
const struct ld_section *rules_section_of(const struct vl_ruleset *rs, const char *ops_struct);

/* The C struct a section describes ("xattr_handler operations" -> "xattr_handler"). */
const char *rules_struct_of_section(const char *title, char *buf, size_t len);

const char *prop_key(enum vl_prop p);		/* "i_rwsem" */
/* Whether @r constrains the calling context (blocking, rcu-walk), not a lock. */
bool rule_on_context(const struct vl_rule *r);
const char *req_kind_name(enum vl_req_kind k);	/* "held" */
const char *req_mode_name(enum vl_req_mode m);	/* "exclusive" */
const char *target_name(enum vl_target t);	/* "victim" */
const char *cond_name(enum vl_cond c);

/* Embedded documents, from build/rules_embed.S. */
struct vl_embedded_doc {
	const char *version;
	const char *text;
	unsigned long len;
};
extern const struct vl_embedded_doc vl_embedded_docs[];

/* Compare dotted versions: <0, 0, >0. */
int version_cmp(const char *a, const char *b);

#endif
