// SPDX-License-Identifier: GPL-2.0
/*
 * The report sink on made-up deviations: deduplication, attribution in the
 * text and the JSON, the locks named as the rules and the holds say,
 * suppressions used and unused.
 */
#include "catalog.h"
#include "engine.h"
#include "report.h"
#include "unit.h"
#include "util.h"

static const struct ksym kernel[] = {
	{ 0xffffffff81000000, "shmem_lookup", "" },
	{ 0xffffffff81001000, "shmem_helper", "" },
	{ 0xffffffff81002000, "__lookup_slow", "" },
	{ 0xffffffff81003000, "walk_component", "" },
	{ 0xffffffffc0100000, "do_lookup", "vl_badcall" },
	{ 0xffffffffc0200000, "bpf_prog_0123456789abcdef_vl_method", "bpf" },
	{ 0xffffffffc0201000, "bpf_trampoline_6442500000", "bpf" },
};

#define SHMEM_LOOKUP	0xffffffff81000000ull
#define AT(base)	((base) + 0x3c)

struct fixture {
	struct vl_ruleset *rs;
	struct ksyms *ks;
	struct vl_catalog cat;
	struct vl_mounts mounts;
	struct vl_report *r;
	const struct vl_rule *rule;
	uint64_t ts;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct vl_fn *f;

	fx->rs = must_rules("6.12");
	fx->ks = fake_ksyms(kernel, ARRAY_SIZE(kernel));
	f = catalog_add(&fx->cat, SHMEM_LOOKUP, "shmem_lookup", "");
	catalog_add_role(f, "inode_operations", "lookup");
	catalog_add_fstype(f, "tmpfs");
	f->nargs = 3;
	f->arg_kind[0] = VL_ARG_INODE;
	f->arg_kind[1] = VL_ARG_DENTRY;
	fx->rule = rules_find(fx->rs, "inode_operations.lookup.i_rwsem");
	assert_non_null(fx->rule);
	fx->r = report_new(fx->ks, &fx->mounts, &fx->cat);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	report_free(fx->r);
	catalog_free(&fx->cat);
	ksyms__free(fx->ks);
	rules_free(fx->rs);
	free(fx);
	return 0;
}

/*
 * A deviation of ->lookup on the inode at @ino, whose stack is what
 * bpf_get_stack() gives (the program, its trampoline, the method) then
 * @callers, zero-terminated; none: no stack captured.
 */
static void deviate(struct fixture *fx, uint64_t ino, const struct vl_task *task,
		    const uint64_t *callers)
{
	const struct vl_fn *fn = catalog_get(&fx->cat, 0);
	struct vl_ev_method ev;
	struct vl_deviation d = {
		.rule = fx->rule, .req = &fx->rule->reqs[0], .fn = fn, .role = &fn->roles[0],
		.ev = &ev, .task = task, .arg = 0, .held = VL_MODE_NONE,
	};
	int n = 0;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.ts = ++fx->ts;
	ev.hdr.tid = ev.hdr.tgid = 42;
	memcpy(ev.comm, "sh", 3);
	ev.obj[0].ino = ino;
	ev.obj[0].mode = 0040000;
	if (callers) {
		ev.flags = VL_MF_STACK;
		ev.stack[n++] = AT(0xffffffffc0200000);
		ev.stack[n++] = AT(0xffffffffc0201000);
		ev.stack[n++] = SHMEM_LOOKUP + 5;
		while (*callers)
			ev.stack[n++] = AT(*callers++);
	}
	ev.nstack = n;
	report_on_deviation(fx->r, &d);
}

static char *text_of(const struct vl_report *r)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	report_print(r, f);
	fclose(f);
	return buf;
}

static const uint64_t from_module[] = { 0xffffffff81002000, 0xffffffffc0100000, 0 };
static const uint64_t from_core[] = { 0xffffffff81002000, 0xffffffff81003000, 0 };
static const uint64_t from_fs[] = { 0xffffffff81001000, 0xffffffff81002000, 0 };

static void test_text(void **state)
{
	struct fixture *fx = *state;
	struct vl_report_counts c;
	char *t, *dev, *drift;

	deviate(fx, 2, NULL, from_core);
	deviate(fx, 2, NULL, from_module);
	deviate(fx, 3, NULL, from_module);	/* another object, the same stack: one */
	deviate(fx, 2, NULL, from_fs);
	deviate(fx, 2, NULL, NULL);
	report_counts(fx->r, &c);
	assert_int_equal(c.deviations, 5);
	assert_int_equal(c.distinct, 4);
	assert_int_equal(c.by_attrib[VL_ATTR_MODULE], 2);
	assert_int_equal(c.distinct_by_attrib[VL_ATTR_MODULE], 1);
	assert_int_equal(c.by_attrib[VL_ATTR_CORE], 1);
	assert_int_equal(c.by_attrib[VL_ATTR_FILESYSTEM], 1);
	assert_int_equal(c.by_attrib[VL_ATTR_UNKNOWN], 1);

	t = text_of(fx->r);
	dev = strstr(t, "DEVIATION inode_operations.lookup.i_rwsem\n");
	drift = strstr(t, "DRIFT inode_operations.lookup.i_rwsem\n");
	assert_non_null(dev);
	assert_non_null(drift);
	/* drift comes after every deviation, under its own heading */
	assert_true(drift > strstr(t, "no stack was captured"));
	assert_non_null(strstr(t, "Documentation drift: "));
	assert_non_null(strstr(t, "  caused by do_lookup+0x3c [vl_badcall]: module vl_badcall, "
				  "not the filesystem's\n"));
	assert_non_null(strstr(t, "  caused by shmem_helper+0x3c: the filesystem's own code "
				  "(tmpfs)\n"));
	assert_non_null(strstr(t, "  caused by the core kernel alone"));
	assert_non_null(strstr(t, "  caused by unknown: no stack was captured\n"));
	/* the stack starts at the method: the tracing frames are not shown */
	assert_null(strstr(t, "bpf_trampoline"));
	assert_non_null(strstr(t, "  stack\n    shmem_lookup+0x0\n    __lookup_slow+0x3c\n"));
	/* the rule's own lock and mode, the target only when the rule names one */
	assert_non_null(strstr(t, "  requires  i_rwsem shared (or exclusive)\n"));
	free(t);
}

static void test_held_locks_named(void **state)
{
	struct fixture *fx = *state;
	struct vl_hold holds[2] = {
		{ .cls = VL_LOCK_S_UMOUNT, .mode = VL_MODE_SHARED, .dev = 25 },
		{ .cls = VL_LOCK_I_RWSEM, .mode = VL_MODE_EXCL, .ino = 7, .dev = 25 },
	};
	struct vl_task task = { .nholds = 2, .holds = holds };
	json_object *o, *h;
	char *t;

	deviate(fx, 2, &task, from_module);
	t = text_of(fx->r);
	assert_non_null(strstr(t, "  task held s_umount shared of dev 0:25\n"
				  "            i_rwsem exclusive of ino 7 dev 0:25\n"));
	free(t);
	o = report_json(fx->r);
	h = json_object_array_get_idx(json_object_object_get(json_object_array_get_idx(o, 0),
							      "task_held"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(h, "lock")), "s_umount");
	json_object_put(o);
}

static const char *field(json_object *o, const char *k)
{
	return json_object_get_string(json_object_object_get(o, k));
}

static void test_json(void **state)
{
	struct fixture *fx = *state;
	json_object *a, *d;

	deviate(fx, 2, NULL, from_module);
	deviate(fx, 2, NULL, from_core);
	deviate(fx, 2, NULL, NULL);
	a = report_json(fx->r);
	assert_int_equal(json_object_array_length(a), 3);
	d = json_object_array_get_idx(a, 0);
	assert_string_equal(field(d, "attribution"), "module");
	assert_false(json_object_get_boolean(json_object_object_get(d, "drift")));
	assert_string_equal(field(d, "caused_by"), "do_lookup+0x3c [vl_badcall]");
	assert_string_equal(field(d, "caused_by_module"), "vl_badcall");
	d = json_object_array_get_idx(a, 1);
	assert_string_equal(field(d, "attribution"), "core");
	assert_true(json_object_get_boolean(json_object_object_get(d, "drift")));
	assert_null(json_object_object_get(d, "caused_by"));
	d = json_object_array_get_idx(a, 2);
	assert_string_equal(field(d, "attribution"), "unknown");
	assert_false(json_object_get_boolean(json_object_object_get(d, "stack_captured")));
	json_object_put(a);
}

/*
 * Suppressed deviations are counted apart and listed with the entry that
 * took them; entries that took nothing are listed as unused.
 */
static void test_suppressed(void **state)
{
	static const char entries[] =
		"inode_operations.lookup.* at do_lookup module: the test module, on purpose\n"
		"*.lookup.i_rwsem drift: the kernel's own call\n"
		"inode_operations.rename.*: never seen\n";
	struct fixture *fx = *state;
	struct vl_supps s = { 0 };
	struct vl_report_counts c;
	json_object *o, *x;
	char err[256], *t;

	assert_int_equal(supp_parse(&s, "t.supp", entries, err, sizeof(err)), 0);
	report_suppress(fx->r, &s);
	deviate(fx, 2, NULL, from_module);
	deviate(fx, 2, NULL, from_module);
	deviate(fx, 2, NULL, from_core);
	deviate(fx, 2, NULL, from_fs);
	report_counts(fx->r, &c);
	assert_int_equal(c.deviations, 1);
	assert_int_equal(c.distinct, 1);
	assert_int_equal(c.by_attrib[VL_ATTR_CORE], 0);
	assert_int_equal(c.suppressed, 3);
	assert_int_equal(c.suppressed_distinct, 2);
	assert_int_equal(c.supp_entries, 3);
	assert_int_equal(c.supp_unused, 1);

	t = text_of(fx->r);
	assert_non_null(strstr(t, "DEVIATION inode_operations.lookup.i_rwsem\n"));
	assert_null(strstr(t, "DRIFT"));
	assert_non_null(strstr(t, "Suppressed (2 distinct, 3 in all):\n"
				  "  inode_operations.lookup.i_rwsem in shmem_lookup, module "
				  "do_lookup+0x3c [vl_badcall], count 2\n"
				  "      t.supp:1: the test module, on purpose\n"
				  "  inode_operations.lookup.i_rwsem in shmem_lookup, drift, count 1\n"
				  "      t.supp:2: the kernel's own call\n"));
	assert_non_null(strstr(t, "Unused suppressions (1, matched nothing):\n"
				  "  t.supp:3: inode_operations.rename.*: never seen\n"));
	free(t);

	o = report_json(fx->r);
	assert_int_equal(json_object_array_length(o), 1);
	assert_string_equal(field(json_object_array_get_idx(o, 0), "attribution"), "filesystem");
	json_object_put(o);
	o = json_object_new_object();
	report_json_suppressions(fx->r, o);
	x = json_object_object_get(o, "suppressed_list");
	assert_int_equal(json_object_array_length(x), 2);
	x = json_object_array_get_idx(x, 1);
	assert_string_equal(field(x, "attribution"), "core");
	assert_int_equal(json_object_get_int(json_object_object_get(x, "count")), 1);
	x = json_object_object_get(x, "suppression");
	assert_string_equal(field(x, "file"), "t.supp");
	assert_int_equal(json_object_get_int(json_object_object_get(x, "line")), 2);
	assert_string_equal(field(x, "attribution"), "drift");
	assert_string_equal(field(x, "reason"), "the kernel's own call");
	x = json_object_object_get(o, "unused_suppressions");
	assert_int_equal(json_object_array_length(x), 1);
	assert_string_equal(field(json_object_array_get_idx(x, 0), "rule"), "inode_operations.rename.*");
	assert_null(json_object_object_get(json_object_array_get_idx(x, 0), "at"));
	json_object_put(o);
	supp_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_locks_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suppressed, setup, teardown),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
