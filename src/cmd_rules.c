// SPDX-License-Identifier: GPL-2.0
/*
 * vfslock rules [--rules FILE] [--kernel X.Y]   the rules in force
 * vfslock rules dump FILE                       every non-empty table cell
 * vfslock rules diff A B                        what differs between versions
 * vfslock rules coverage [--rules F] [--kernel X.Y] [--btf FILE]
 *                                               what is checked, and how
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>
#include <json-c/json.h>

#include "cmds.h"
#include "engine.h"
#include "rules.h"
#include "rules_diff.h"
#include "util.h"

static int rules_help(int argc, char **argv)
{
	fprintf(stderr,
		"Usage: vfslock rules [--rules FILE] [--kernel X.Y]\n"
		"       vfslock rules dump FILE\n"
		"       vfslock rules diff A B\n"
		"       vfslock rules coverage [--rules FILE] [--kernel X.Y] [--btf FILE]\n\n"
		"  (no subcommand)  list the rules in force, with ids and whether they are checked\n"
		"  dump FILE        print every non-empty table cell of FILE, in document order,\n"
		"                   as section<TAB>op<TAB>column<TAB>value\n"
		"  diff A B         the prototypes and rules that differ from A to B; A and B are\n"
		"                   files or embedded versions (6.12); exit 0 same, 1 different\n"
		"  coverage         each rule that constrains a lock, blocking, rcu-walk or a\n"
		"                   folio: checked and how, or why not\n"
		"  --rules FILE     use FILE instead of the running kernel's locking.rst\n"
		"  --kernel X.Y     the rules of kernel X.Y: its linux-doc package's, else the\n"
		"                   closest embedded copy (which, and why, is printed)\n"
		"  --btf FILE       coverage: the kernel whose methods the rules are compared\n"
		"                   with (a vmlinux or raw BTF file); by default the running\n"
		"                   kernel's, when the rules are for it\n");
	return EXIT_TOOL;
}

static int do_dump(int argc, char **argv)
{
	json_object *arr = NULL;
	struct ld_doc *doc;
	char err[512];
	int i, j, r, c;

	if (argc != 2)
		return rules_help(argc, argv);
	if (ld_parse_file(argv[1], &doc, err, sizeof(err))) {
		p_err("%s", err);
		return EXIT_TOOL;
	}
	if (json_output)
		arr = json_object_new_array();
	for (i = 0; i < doc->nsections; i++) {
		const struct ld_section *s = &doc->sections[i];

		for (j = 0; j < s->ntables; j++) {
			const struct ld_table *t = &s->tables[j];

			for (r = 0; r < t->nrows; r++) {
				for (c = 1; c < t->ncols; c++) {
					const char *v = t->rows[r].cells[c - 1];
					json_object *o;

					if (!*v)
						continue;
					if (!arr) {
						printf("%s\t%s\t%s\t%s\n", s->title, t->rows[r].op,
						       t->head[c], v);
						continue;
					}
					o = json_object_new_object();
					json_object_object_add(o, "section", json_object_new_string(s->title));
					json_object_object_add(o, "op", json_object_new_string(t->rows[r].op));
					json_object_object_add(o, "column", json_object_new_string(t->head[c]));
					json_object_object_add(o, "value", json_object_new_string(v));
					json_object_object_add(o, "line", json_object_new_int(t->rows[r].line));
					json_object_array_add(arr, o);
				}
			}
		}
	}
	if (arr) {
		printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(arr);
	}
	ld_free(doc);
	return EXIT_OK;
}

static json_object *rule_to_json(const struct vl_rule *r)
{
	json_object *o = json_object_new_object(), *reqs = json_object_new_array();
	const char *why = NULL;
	int i;

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "section", json_object_new_string(r->section));
	json_object_object_add(o, "method", json_object_new_string(r->method));
	json_object_object_add(o, "column", json_object_new_string(r->column));
	json_object_object_add(o, "text", json_object_new_string(r->text));
	json_object_object_add(o, "line", json_object_new_int(r->line));
	json_object_object_add(o, "origin", json_object_new_string(
		r->origin == VL_FROM_TABLE ? "table" :
		r->origin == VL_FROM_STATEMENT ? "statement" : "prose"));
	json_object_object_add(o, "prop", json_object_new_string(prop_key(r->prop)));
	for (i = 0; i < r->nreqs; i++) {
		const struct vl_req *q = &r->reqs[i];
		json_object *j = json_object_new_object();

		json_object_object_add(j, "kind", json_object_new_string(req_kind_name(q->kind)));
		json_object_object_add(j, "mode", json_object_new_string(req_mode_name(q->mode)));
		json_object_object_add(j, "target", json_object_new_string(target_name(q->target)));
		if (q->cond)
			json_object_object_add(j, "cond", json_object_new_string(cond_name(q->cond)));
		if (q->cond_arg[0])
			json_object_object_add(j, "cond_arg", json_object_new_string(q->cond_arg));
		json_object_array_add(reqs, j);
	}
	json_object_object_add(o, "reqs", reqs);
	json_object_object_add(o, "checked", json_object_new_boolean(engine_checks(r, &why)));
	if (why)
		json_object_object_add(o, engine_checks(r, &why) ? "how" : "why",
				       json_object_new_string(why));
	return o;
}

struct rules_args {
	const char *path;	/* --rules */
	const char *kernel;	/* --kernel */
	const char *btf;	/* --btf, coverage only */
};

/* The rules named by --rules/--kernel in @argv; NULL after an error. */
static struct vl_ruleset *rules_from_args(int argc, char **argv, bool btf_ok,
					  struct rules_args *a, int *status)
{
	static const struct option opts[] = {
		{ "rules",	required_argument, NULL, 'r' },
		{ "kernel",	required_argument, NULL, 'k' },
		{ "btf",	required_argument, NULL, 'b' },
		{ "help",	no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vl_ruleset *rs;
	char err[512];
	int opt;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "r:k:h", opts, NULL)) >= 0) {
		switch (opt) {
		case 'r':
			a->path = optarg;
			break;
		case 'k':
			a->kernel = optarg;
			break;
		case 'b':
			if (btf_ok) {
				a->btf = optarg;
				break;
			}
			/* fall through */
		default:
			*status = rules_help(argc, argv);
			return NULL;
		}
	}
	if (optind < argc) {
		p_err("rules: unexpected argument '%s'", argv[optind]);
		*status = EXIT_TOOL;
		return NULL;
	}
	rs = rules_load(a->path, a->kernel, err, sizeof(err));
	if (!rs) {
		p_err("%s", err);
		*status = EXIT_TOOL;
	}
	return rs;
}

/* "rules from SOURCE" and, under it, why that document. */
static void print_source(const struct vl_ruleset *rs)
{
	printf("rules from %s\n", rs->source);
	if (rs->why && *rs->why)
		printf("  %s\n", rs->why);
}

/* The kernel a coverage compares methods with. */
struct kernel_btf {
	struct btf *btf;	/* NULL: methods not compared */
	char name[512];		/* the file, or why there is none */
};

/*
 * --btf FILE; else the running kernel's, when the rules are its own (no
 * --kernel, or --kernel of its series): another kernel's document is
 * not compared with this one's structs. -1 when --btf cannot be read.
 */
static int open_kernel_btf(const struct rules_args *a, struct kernel_btf *kb)
{
	char run[32], want[32];

	memset(kb, 0, sizeof(*kb));
	if (a->btf) {
		kb->btf = btf__parse(a->btf, NULL);
		if (!kb->btf) {
			p_err("%s: no BTF read: %s", a->btf, strerror(errno));
			return -1;
		}
		snprintf(kb->name, sizeof(kb->name), "%s", a->btf);
		return 0;
	}
	rules_running_series(run, sizeof(run));
	if (a->kernel && (rules_kernel_series(a->kernel, want, sizeof(want)) ||
			  strcmp(want, run))) {
		snprintf(kb->name, sizeof(kb->name), "methods not compared with a kernel: %s is "
			 "not the running kernel (%s); --btf FILE gives one", a->kernel,
			 run[0] ? run : "?");
		return 0;
	}
	kb->btf = btf__load_vmlinux_btf();
	if (!kb->btf) {
		snprintf(kb->name, sizeof(kb->name), "methods not compared with this kernel: its "
			 "BTF is not readable (%s)", strerror(errno));
		return 0;
	}
	snprintf(kb->name, sizeof(kb->name), "/sys/kernel/btf/vmlinux");
	return 0;
}

/*
 * Whether @r constrains anything: a lock, blocking, rcu-walk or folio
 * column that says more than "no" or "yes, may block".
 */
static bool rule_constrains(const struct vl_rule *r)
{
	int i;

	if (r->prop == VL_PROP_OTHER || r->prop == VL_PROP_NOTE)
		return false;
	for (i = 0; i < r->nreqs; i++)
		if (r->reqs[i].kind != VL_REQ_NONE && r->reqs[i].kind != VL_REQ_MAY_BLOCK &&
		    r->reqs[i].kind != VL_REQ_MAY_RCU_WALK)
			return true;
	return false;
}

/* What coverage counts. */
struct coverage {
	int n, checked;
	int absent;		/* name a method the kernel does not have */
	int unknown;		/* name a struct its BTF does not have */
};

/* One rule of the coverage, as JSON or a text entry. */
static void coverage_rule(const struct vl_rule *r, const struct kernel_btf *kb,
			  json_object *arr, struct coverage *cv)
{
	char kwhy[256] = "", note2[1024];
	const char *note = NULL;
	int in = 1;
	bool ck;

	ck = engine_checks(r, &note);
	cv->n++;
	cv->checked += ck;
	if (kb->btf)
		in = rules_method_in_btf(kb->btf, r, kwhy, sizeof(kwhy));
	cv->absent += in == 0;
	cv->unknown += in < 0;
	if (arr) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "id", json_object_new_string(r->id));
		json_object_object_add(j, "line", json_object_new_int(r->line));
		json_object_object_add(j, "text", json_object_new_string(r->text));
		json_object_object_add(j, "checked", json_object_new_boolean(ck));
		json_object_object_add(j, ck ? "how" : "why",
				       json_object_new_string(note ? note : ""));
		if (kb->btf && in >= 0)
			json_object_object_add(j, "in_kernel", json_object_new_boolean(in));
		if (kb->btf)
			json_object_object_add(j, "kernel", json_object_new_string(kwhy));
		json_object_array_add(arr, j);
		return;
	}
	/* a method the kernel lacks: nothing calls it, so nothing is checked here */
	if (in == 0)
		snprintf(note2, sizeof(note2), "method not in this kernel: %s (%s where it is: %s)",
			 kwhy, ck ? "checked" : "not checked", note ? note : "");
	else
		snprintf(note2, sizeof(note2), "%s", note ? note : "");
	printf("%-58s %-11s line %-4d %s\n    %s\n", r->id,
	       in == 0 ? "NO METHOD" : ck ? "checked" : "NOT CHECKED", r->line, r->text, note2);
}

/* vfslock rules coverage: each constraining rule, checked or why not. */
static int do_coverage(int argc, char **argv)
{
	json_object *o = NULL, *arr = NULL;
	struct coverage cv = { 0 };
	struct kernel_btf kb;
	struct rules_args a;
	struct vl_ruleset *rs;
	int i, status = EXIT_OK;

	rs = rules_from_args(argc, argv, true, &a, &status);
	if (!rs)
		return status;
	if (open_kernel_btf(&a, &kb)) {
		rules_free(rs);
		return EXIT_TOOL;
	}
	if (json_output) {
		o = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(o, "source", json_object_new_string(rs->source));
		json_object_object_add(o, "version", json_object_new_string(rs->version));
		json_object_object_add(o, "choice", json_object_new_string(rs->why));
		json_object_object_add(o, "btf", kb.btf ? json_object_new_string(kb.name) : NULL);
		if (!kb.btf)
			json_object_object_add(o, "btf_note", json_object_new_string(kb.name));
	} else {
		print_source(rs);
		printf("  %s%s\n", kb.btf ? "methods compared with the kernel of " : "", kb.name);
	}
	for (i = 0; i < rs->nrules; i++)
		if (rule_constrains(&rs->rules[i]))
			coverage_rule(&rs->rules[i], &kb, arr, &cv);
	if (o) {
		json_object_object_add(o, "rules", arr);
		json_object_object_add(o, "constraining", json_object_new_int(cv.n));
		json_object_object_add(o, "checked", json_object_new_int(cv.checked));
		if (kb.btf) {
			json_object_object_add(o, "not_in_kernel", json_object_new_int(cv.absent));
			json_object_object_add(o, "struct_not_in_kernel",
					       json_object_new_int(cv.unknown));
		}
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		printf("%d of %d rules that constrain a lock, blocking, rcu-walk or a folio are "
		       "checked\n", cv.checked, cv.n);
		if (kb.btf)
			printf("%d of the %d name a method this kernel does not have "
			       "(nothing calls it: nothing to check)%s\n", cv.absent, cv.n,
			       cv.unknown ? "; some name a struct its BTF lacks" : "");
	}
	btf__free(kb.btf);
	rules_free(rs);
	return EXIT_OK;
}

static int do_list(int argc, char **argv)
{
	struct rules_args a;
	struct vl_ruleset *rs;
	int i, nchecked = 0, status = EXIT_OK;

	rs = rules_from_args(argc, argv, false, &a, &status);
	if (!rs)
		return status;
	if (json_output) {
		json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "source", json_object_new_string(rs->source));
		json_object_object_add(o, "version", json_object_new_string(rs->version));
		json_object_object_add(o, "choice", json_object_new_string(rs->why));
		for (i = 0; i < rs->nrules; i++)
			json_object_array_add(arr, rule_to_json(&rs->rules[i]));
		json_object_object_add(o, "rules", arr);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		print_source(rs);
		for (i = 0; i < rs->nrules; i++) {
			const struct vl_rule *r = &rs->rules[i];
			const char *why = NULL;
			bool ck = engine_checks(r, &why);

			nchecked += ck;
			printf("%-52s %-9s %s:%d  %s%s%s\n", r->id, ck ? "checked" : "unchecked",
			       r->origin == VL_FROM_TABLE ? "table" :
			       r->origin == VL_FROM_STATEMENT ? "stmt" : "prose", r->line, r->text,
			       why && !ck ? "  -- " : "", why && !ck ? why : "");
		}
		printf("%d rules, %d checked\n", rs->nrules, nchecked);
	}
	rules_free(rs);
	return EXIT_OK;
}

static int do_diff(int argc, char **argv)
{
	struct vl_ruleset *a = NULL, *b = NULL;
	struct vl_diff d;
	char err[512];
	int i, nproto = 0;

	if (argc != 3)
		return rules_help(argc, argv);
	a = rules_open(argv[1], err, sizeof(err));
	if (a)
		b = rules_open(argv[2], err, sizeof(err));
	if (!a || !b) {
		p_err("%s", err);
		rules_free(a);
		return EXIT_TOOL;
	}
	rules_diff(a, b, &d);
	if (json_output) {
		json_object *o = json_object_new_object(), *pr = json_object_new_array();
		json_object *ru = json_object_new_array(), *sa = json_object_new_object();
		json_object *sb = json_object_new_object();

		json_object_object_add(sa, "source", json_object_new_string(a->source));
		json_object_object_add(sb, "source", json_object_new_string(b->source));
		json_object_object_add(o, "a", sa);
		json_object_object_add(o, "b", sb);
		for (i = 0; i < d.n; i++) {
			const struct vl_diff_item *it = &d.v[i];
			json_object *x = json_object_new_object();

			json_object_object_add(x, "id", json_object_new_string(it->id));
			json_object_object_add(x, "change", json_object_new_string(change_name(it->change)));
			if (it->a) {
				json_object_object_add(x, "a", json_object_new_string(it->a));
				json_object_object_add(x, "line_a", json_object_new_int(it->line_a));
			}
			if (it->b) {
				json_object_object_add(x, "b", json_object_new_string(it->b));
				json_object_object_add(x, "line_b", json_object_new_int(it->line_b));
			}
			json_object_array_add(it->proto ? pr : ru, x);
		}
		json_object_object_add(o, "prototypes", pr);
		json_object_object_add(o, "rules", ru);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else {
		printf("--- %s\n+++ %s\n", a->source, b->source);
		for (i = 0; i < d.n; i++) {
			const struct vl_diff_item *it = &d.v[i];
			char mark = it->change == VL_ADDED ? '+' : it->change == VL_REMOVED ? '-' : '~';

			nproto += it->proto;
			printf("%c %s %s\n", mark, it->proto ? "prototype" : "rule     ", it->id);
			if (it->a)
				printf("      a:%-4d %s\n", it->line_a, it->a);
			if (it->b)
				printf("      b:%-4d %s\n", it->line_b, it->b);
		}
		printf("%d prototypes and %d rules differ\n", nproto, d.n - nproto);
	}
	i = d.n ? 1 : 0;
	rules_diff_free(&d);
	rules_free(a);
	rules_free(b);
	return i;
}

int do_rules(int argc, char **argv)
{
	static const struct cmd sub[] = {
		{ "dump", do_dump, NULL },
		{ "diff", do_diff, NULL },
		{ "coverage", do_coverage, NULL },
		{ NULL, NULL, NULL },
	};

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return rules_help(argc, argv);
	if (argc >= 2 && argv[1][0] != '-')
		return cmd_select(sub, argc - 1, argv + 1, rules_help);
	return do_list(argc, argv);
}
