/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule engine: binds the rules in force to traced implementations and
 * judges each method call against them, with the held locks rebuilt by
 * lockstate. Live runs, replays and CI checks all judge through here.
 */
#ifndef VFSLOCK_ENGINE_H
#define VFSLOCK_ENGINE_H

#include <stdbool.h>

#include "catalog.h"
#include "ksyms.h"
#include "lockstate.h"
#include "rules.h"
#include "vfslock_abi.h"

struct vl_deviation {
	const struct vl_rule *rule;
	const struct vl_req *req;
	const struct vl_fn *fn;
	const struct vl_role *role;
	const struct vl_ev_method *ev;
	const struct vl_task *task;	/* the caller's holds; NULL if unknown */
	int arg;			/* argument whose object broke the rule */
	enum vl_mode held;		/* what the task held on it */
	bool by_lock_word;		/* judged from the lock word, not the rebuilt holds */
};

typedef void (*vl_deviation_fn)(void *ctx, const struct vl_deviation *d);

struct vl_engine_stats {
	uint64_t calls;			/* method entries judged */
	uint64_t checks;		/* (rule, object) pairs evaluated */
	uint64_t deviations;
	uint64_t unverifiable;		/* could not tell: task state unknown */
	uint64_t no_stack;		/* deviation without a stack: kernel filter disagreed */
	uint64_t unknown_fn;		/* events for ids the catalog lacks */
	uint64_t state_mismatch;	/* lock word and rebuilt holds disagreed */
	uint64_t internal_calls;	/* helpers called by name from a method: not judged apart */
};

struct vl_engine;

/* @ks names callers, to tell a method's own helper calls apart; may be NULL. */
struct vl_engine *engine_new(const struct vl_ruleset *rs, const struct vl_catalog *cat,
			     const struct ksyms *ks);
void engine_free(struct vl_engine *e);
/* Name callers with @ks from now on (a recording's snapshot, taken after attach). */
void engine_set_ksyms(struct vl_engine *e, const struct ksyms *ks);
/*
 * Which lock events the stream carries (enum vl_lock_events, default all):
 * rebuilt exclusive holds are compared with the owner words only when they
 * were streamed.
 */
void engine_set_lock_events(struct vl_engine *e, uint8_t lock_events);

/* Whether vfslock checks @r; @note says how, or why not. */
bool engine_checks(const struct vl_rule *r, const char **note);

/*
 * Probes the kernel may refuse without check failing whole, and what the
 * rules that need them lose: their checks, with the reason said.
 */
enum vl_probe_kind {
	VL_PROBE_SLEEPS,	/* sched_switch: may-block rules */
	VL_PROBE_EXIT,		/* method exits: states at return, may-block */
	VL_PROBE_READERS,	/* rwsem reader acquisitions: shared holds */
	VL_PROBE_MAX,
};

/* @p did not load (@why): the rules that need it are not checked from now on. */
void engine_probe_missing(struct vl_engine *e, enum vl_probe_kind p, const char *why);
/* Probes missing so far, as a bit mask of 1 << enum vl_probe_kind, and why (NULL if not). */
unsigned int engine_probes_missing(const struct vl_engine *e, const char **why);
/* engine_checks(), less the rules whose probes this kernel refused. */
bool engine_rule_checked(const struct vl_engine *e, const struct vl_rule *r, const char **note);

/* Whether any checked rule applies to @fn: only those are traced. */
bool engine_fn_checked(struct vl_engine *e, const struct vl_fn *fn);

/* The in-kernel filter configuration for @fn (needs, arg kinds). */
void engine_method_cfg(struct vl_engine *e, const struct vl_fn *fn, struct vl_method_cfg *cfg);

/* 1 << enum vl_lock_class of every lock some traced method's needs read. */
uint32_t engine_lock_classes(struct vl_engine *e);

void engine_on_method(struct vl_engine *e, struct vl_lockstate *ls,
		      const struct vl_ev_method *ev, vl_deviation_fn cb, void *ctx);

const struct vl_engine_stats *engine_stats(const struct vl_engine *e);
/* Checks of @rule, one of the engine's ruleset, made so far (a deviation found is one). */
/*
 * Calls of @fn that the kernel's filter found compliant, at entry and at
 * return: checks of its rules, as if judged here.
 */
void engine_count_met(struct vl_engine *e, const struct vl_fn *fn, uint64_t entry, uint64_t exit);
uint64_t engine_rule_checks(const struct vl_engine *e, const struct vl_rule *rule);

/* "victim", "parent", ... for the object at @arg of @fn, for reports. */
const char *engine_obj_name(const struct vl_fn *fn, const struct vl_role *role, int arg,
			    char *buf, size_t len);

#endif
