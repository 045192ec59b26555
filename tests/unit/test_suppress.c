// SPDX-License-Identifier: GPL-2.0
/* Suppression files: what parses, what does not and where, what matches. */
#include "suppress.h"
#include "unit.h"
#include "util.h"

static const char good[] =
	"# known deviations\n"
	"\n"
	"inode_operations.lookup.i_rwsem: the test module calls lookup unlocked\n"
	"   inode_operations.rename.*   at ext4_*   filesystem  :  fixed in ext4 next\n"
	"\t# an indented comment\n"
	"super_operations.sync_fs.s_umount drift: sync(2) takes it later; see bug #123\n"
	"*.d_lock at do_d_delete module: vl_badcall on purpose\n"
	"address_space_operations.*.folio_lock at [a-c]*: a reason: with a colon";

static void test_parse_good(void **state)
{
	struct vl_supps s = { 0 };
	char err[256] = "";

	assert_int_equal(supp_parse(&s, "good.supp", good, err, sizeof(err)), 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.v[0].rule, "inode_operations.lookup.i_rwsem");
	assert_null(s.v[0].at);
	assert_false(s.v[0].by_attrib);
	assert_string_equal(s.v[0].reason, "the test module calls lookup unlocked");
	assert_string_equal(s.v[0].file, "good.supp");
	assert_int_equal(s.v[0].line, 3);
	assert_string_equal(s.v[1].rule, "inode_operations.rename.*");
	assert_string_equal(s.v[1].at, "ext4_*");
	assert_true(s.v[1].by_attrib);
	assert_int_equal(s.v[1].attrib, VL_ATTR_FILESYSTEM);
	assert_string_equal(s.v[1].reason, "fixed in ext4 next");
	assert_int_equal(s.v[1].line, 4);
	/* '#' inside a reason is text; "drift" is the core kernel's attribution */
	assert_string_equal(s.v[2].reason, "sync(2) takes it later; see bug #123");
	assert_int_equal(s.v[2].attrib, VL_ATTR_CORE);
	assert_int_equal(s.v[2].line, 6);
	assert_int_equal(s.v[3].attrib, VL_ATTR_MODULE);
	assert_string_equal(s.v[3].at, "do_d_delete");
	/* the reason is everything after the first ':' */
	assert_string_equal(s.v[4].reason, "a reason: with a colon");
	assert_string_equal(s.v[4].text,
			    "address_space_operations.*.folio_lock at [a-c]*: a reason: with a colon");
	assert_int_equal(s.v[4].line, 8);
	supp_free(&s);
}

/* @text must fail, with "bad.supp:LINE: " then @what in the message. */
static void expect_bad(const char *text, int line, const char *what)
{
	struct vl_supps s = { 0 };
	char err[256] = "", want[64];

	snprintf(want, sizeof(want), "bad.supp:%d: ", line);
	if (!supp_parse(&s, "bad.supp", text, err, sizeof(err)))
		fail_msg("parsed: %s", text);
	if (strncmp(err, want, strlen(want)) || !strstr(err, what))
		fail_msg("for %s: got '%s', want '%s...%s'", text, err, want, what);
	supp_free(&s);
}

static void test_parse_bad(void **state)
{
	/* a good line first, so the number is the bad line's own */
	expect_bad("# c\n*.lookup.*: ok\ninode_operations.lookup.i_rwsem\n", 3, "no reason");
	expect_bad("*: ok\n\n*.lookup.*:   \n", 3, "empty reason");
	expect_bad(": a reason\n", 1, "no rule id pattern");
	expect_bad("\n at ext4_*: a reason\n", 2, "no rule id pattern");
	expect_bad("drift: a reason\n", 1, "no rule id pattern");
	expect_bad("inode_operations.lookup,rename: a reason\n", 1, "not a rule id pattern");
	expect_bad("inode_operations.[lr*: a reason\n", 1, "unclosed '['");
	expect_bad("*.lookup.* at [ext4_*: a reason\n", 1, "unclosed '[' in '[ext4_*'");
	expect_bad("*.lookup.* at: a reason\n", 1, "'at' without a symbol pattern");
	expect_bad("*.lookup.* at a at b: a reason\n", 1, "'at' given twice");
	expect_bad("*.lookup.* core: a reason\n", 1, "'core' is neither");
	expect_bad("*.lookup.* drift module: a reason\n", 1,
		   "two attributions, 'drift' and 'module'");
}

static void test_load(void **state)
{
	struct vl_supps s = { 0 };
	char err[256] = "";

	assert_int_equal(supp_load(&s, "/nonexistent/x.supp", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/x.supp: No such file or directory");
	/* repeated files append, each entry keeping its own file */
	assert_int_equal(supp_parse(&s, "a.supp", "*.lookup.*: a\n", err, sizeof(err)), 0);
	assert_int_equal(supp_parse(&s, "b.supp", "\n*.rename.*: b\n", err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[1].file, "b.supp");
	assert_int_equal(s.v[1].line, 2);
	supp_free(&s);
}

static const struct ksym method = { 0x1000, "ext4_lookup", "" };
static const struct ksym vfs = { 0x2000, "__lookup_slow", "" };
static const struct ksym mod = { 0x3000, "do_lookup", "vl_badcall" };

static void test_match(void **state)
{
	static const char text[] =
		"inode_operations.rename.*: 0\n"
		"*.lookup.i_rwsem at do_*: 1\n"
		"*.lookup.i_rwsem at ext4_look?p filesystem: 2\n"
		"*.lookup.i_rwsem drift: 3\n"
		"inode_operations.lookup.*: 4\n";
	const struct ksym *from_mod[] = { &method, NULL, &vfs, &mod };
	const struct ksym *from_core[] = { &method, &vfs };
	struct vl_supps s = { 0 };
	char err[256] = "";

	assert_int_equal(supp_parse(&s, "m.supp", text, err, sizeof(err)), 0);
	/* rule glob: '*' spans the dots */
	assert_int_equal(supp_match(&s, "inode_operations.rename.i_rwsem.victim", from_core, 2,
				    VL_ATTR_CORE), 0);
	/* a caller's symbol; unnamed frames are passed over; the first entry wins */
	assert_int_equal(supp_match(&s, "inode_operations.lookup.i_rwsem", from_mod, 4,
				    VL_ATTR_MODULE), 1);
	/* the method's own symbol counts, and the attribution must agree */
	assert_int_equal(supp_match(&s, "inode_operations.lookup.i_rwsem", from_core, 2,
				    VL_ATTR_FILESYSTEM), 2);
	assert_int_equal(supp_match(&s, "inode_operations.lookup.i_rwsem", from_core, 2,
				    VL_ATTR_CORE), 3);
	/* neither symbol nor attribution: the catch-all of lookup rules */
	assert_int_equal(supp_match(&s, "inode_operations.lookup.i_rwsem", from_core, 1,
				    VL_ATTR_UNKNOWN), 4);
	assert_int_equal(supp_match(&s, "inode_operations.unlink.i_rwsem", from_mod, 4,
				    VL_ATTR_MODULE), -1);
	assert_int_equal(supp_match(NULL, "inode_operations.lookup.i_rwsem", from_mod, 4,
				    VL_ATTR_MODULE), -1);
	supp_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests_name("suppress", tests, NULL, NULL);
}
