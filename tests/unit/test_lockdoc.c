// SPDX-License-Identifier: GPL-2.0
/* The document parser, on every locking.rst the tree holds and on bad input. */
#include "unit.h"

static void test_cells_6_12(void **state)
{
	struct ld_doc *d = must_parse("6.12");

	assert_string_equal(cell(d, "inode_operations", "rename", "i_rwsem(inode)"),
			    "exclusive (both parents, some children) (see below)");
	assert_string_equal(cell(d, "inode_operations", "atomic_open", "i_rwsem(inode)"),
			    "shared (exclusive if O_CREAT is set in open flags)");
	/* no colon after the op name */
	assert_string_equal(cell(d, "inode_operations", "get_offset_ctx", "i_rwsem(inode)"), "no");
	assert_string_equal(cell(d, "dentry_operations", "d_hash", "may block"), "no");
	assert_string_equal(cell(d, "dentry_operations", "d_revalidate", "may block"),
			    "yes (ref-walk)");
	assert_string_equal(cell(d, "dentry_operations", "d_prune", "->d_lock"), "yes");
	assert_string_equal(cell(d, "address_space_operations", "write_begin", "folio locked"),
			    "locks the folio");
	assert_string_equal(cell(d, "address_space_operations", "read_folio", "invalidate_lock"),
			    "shared");
	assert_string_equal(cell(d, "address_space_operations", "write_end", "i_rwsem"),
			    "exclusive");
	assert_string_equal(cell(d, "super_operations", "drop_inode", "note"),
			    "!!!inode->i_lock!!!");
	assert_string_equal(cell(d, "super_operations", "statfs", "s_umount"), "maybe(read)");
	assert_string_equal(cell(d, "lock_manager_operations", "lm_notify", "flc_lock"), "no");
	assert_string_equal(cell(d, "file_lock_operations", "fl_release_private", "may block"),
			    "maybe[1]_");
	assert_string_equal(cell(d, "dquot_operations", "mark_dirty", "Held locks when called"), "-");
	assert_string_equal(cell(d, "vm_operations_struct", "huge_fault", "mmap_lock"), "maybe-read");
	assert_string_equal(cell(d, "xattr_handler operations", "set", "i_rwsem(inode)"),
			    "exclusive");
	/* an empty cell is empty, not missing */
	assert_string_equal(cell(d, "super_operations", "alloc_inode", "s_umount"), "");
	assert_null(cell(d, "inode_operations", "no_such_op", "i_rwsem(inode)"));
	ld_free(d);
}

static void test_cells_older(void **state)
{
	struct ld_doc *d = must_parse("5.15");

	assert_string_equal(cell(d, "address_space_operations", "readpage", "PageLocked(page)"),
			    "yes, unlocks");
	assert_string_equal(cell(d, "vm_operations_struct", "open", "mmap_lock"), "yes");
	assert_null(cell(d, "vm_operations_struct", "huge_fault", "mmap_lock"));
	ld_free(d);

	d = must_parse("6.4");
	assert_string_equal(cell(d, "inode_operations", "rename", "i_rwsem(inode)"),
			    "exclusive (all) (see below)");
	assert_string_equal(cell(d, "address_space_operations", "write_begin", "folio locked"),
			    "locks the page");
	/* between 5.15's "yes" and 6.12's "maybe-read" */
	assert_string_equal(cell(d, "vm_operations_struct", "map_pages", "mmap_lock"), "read");
	ld_free(d);

	d = must_parse("6.1");
	assert_string_equal(cell(d, "inode_operations", "rename", "i_rwsem(inode)"),
			    "exclusive (both parents, some children) (see below)");
	assert_null(cell(d, "inode_operations", "get_offset_ctx", "i_rwsem(inode)"));
	ld_free(d);
}

/* The sections of @d are @want, in order (NULL-terminated). */
static void expect_sections(const struct ld_doc *d, const char *const *want)
{
	int i;

	for (i = 0; want[i]; i++) {
		if (i >= d->nsections)
			fail_msg("%s: section %d missing, want \"%s\"", d->name, i, want[i]);
		if (strcmp(d->sections[i].title, want[i]))
			fail_msg("%s: section %d is \"%s\", want \"%s\"", d->name, i,
				 d->sections[i].title, want[i]);
	}
	assert_int_equal(d->nsections, i);
}

static int ncols_of(const struct ld_doc *d, const char *section)
{
	const struct ld_section *s = ld_section_find(d, section);

	assert_non_null(s);
	assert_int_equal(s->ntables, 1);
	return s->tables[0].ncols;
}

/* Debian's 5.10.223: before invalidate_lock, fileattr_*, folios; bd_mutex, not open_mutex. */
static void test_cells_5_10(void **state)
{
	static const char *const sections[] = {
		"Locking", "dentry_operations", "inode_operations", "xattr_handler operations",
		"super_operations", "file_system_type", "address_space_operations",
		"file_lock_operations", "lock_manager_operations", "buffer_head",
		"block_device_operations", "file_operations", "dquot_operations",
		"vm_operations_struct", "Dubious stuff", NULL,
	};
	struct ld_doc *d = must_parse("5.10");
	const struct ld_section *s;
	const struct ld_proto *p;

	expect_sections(d, sections);
	/* no invalidate_lock column: ops, PageLocked(page), i_rwsem */
	assert_int_equal(ncols_of(d, "address_space_operations"), 3);
	assert_null(cell(d, "address_space_operations", "readpage", "invalidate_lock"));
	assert_string_equal(cell(d, "address_space_operations", "readpage", "PageLocked(page)"),
			    "yes, unlocks");
	assert_string_equal(cell(d, "address_space_operations", "readpages", "PageLocked(page)"),
			    "no");
	assert_string_equal(cell(d, "address_space_operations", "write_begin", "PageLocked(page)"),
			    "locks the page");
	assert_string_equal(cell(d, "address_space_operations", "invalidatepage",
				 "PageLocked(page)"), "yes");
	/* a first border two columns shorter than 5.15's, and no fileattr rows */
	assert_string_equal(cell(d, "inode_operations", "rename", "i_rwsem(inode)"),
			    "exclusive (both parents, some children) (see below)");
	assert_string_equal(cell(d, "inode_operations", "atomic_open", "i_rwsem(inode)"),
			    "shared (exclusive if O_CREAT is set in open flags)");
	assert_null(cell(d, "inode_operations", "fileattr_set", "i_rwsem(inode)"));
	assert_string_equal(cell(d, "block_device_operations", "open", "bd_mutex"), "yes");
	assert_string_equal(cell(d, "block_device_operations", "revalidate_disk", "bd_mutex"),
			    "no");
	assert_string_equal(cell(d, "vm_operations_struct", "map_pages", "mmap_lock"), "yes");
	s = ld_section_find(d, "address_space_operations");
	assert_string_equal(s->stmts[0].text, "All except set_page_dirty and freepage may block");
	/* methods 5.10 no longer has are still named */
	s = ld_section_find(d, "file_operations");
	assert_non_null(ld_proto_find(s, "sendfile"));
	assert_null(ld_proto_find(s, "copy_file_range"));
	p = ld_proto_find(ld_section_find(d, "xattr_handler operations"), "set");
	assert_int_equal(p->nargs, 7);
	assert_string_equal(p->args[1].tag, "dentry");
	ld_free(d);
}

/* Debian's 7.3.4: d_unalias_*, sync_lazytime, lm_open_conflict; no writepage, ->mount. */
static void test_cells_7_3(void **state)
{
	static const char *const sections[] = {
		"Locking", "dentry_operations", "inode_operations", "xattr_handler operations",
		"super_operations", "file_system_type", "address_space_operations",
		"file_lock_operations", "lock_manager_operations", "block_device_operations",
		"file_operations", "dquot_operations", "vm_operations_struct", "Dubious stuff",
		NULL,
	};
	struct ld_doc *d = must_parse("7.3");
	const struct ld_section *s;
	const struct ld_proto *p;

	expect_sections(d, sections);
	assert_string_equal(cell(d, "dentry_operations", "d_unalias_trylock", "rename_lock"),
			    "yes");
	assert_string_equal(cell(d, "dentry_operations", "d_unalias_trylock", "->d_lock"), "no");
	assert_string_equal(cell(d, "dentry_operations", "d_unalias_unlock", "may block"), "no");
	assert_string_equal(cell(d, "dentry_operations", "d_unalias_unlock", "rcu-walk"), "no");
	assert_string_equal(cell(d, "inode_operations", "sync_lazytime", "i_rwsem(inode)"), "no");
	/* a row laid out with spaces where its neighbours have tabs */
	assert_string_equal(cell(d, "lock_manager_operations", "lm_breaker_timedout", "flc_lock"),
			    "yes");
	assert_string_equal(cell(d, "lock_manager_operations", "lm_breaker_timedout",
				 "blocked_lock_lock"), "no");
	assert_string_equal(cell(d, "lock_manager_operations", "lm_breaker_timedout", "may block"),
			    "no");
	/* a row without a prototype */
	assert_string_equal(cell(d, "lock_manager_operations", "lm_open_conflict", "flc_lock"),
			    "yes");
	assert_null(ld_proto_find(ld_section_find(d, "lock_manager_operations"),
				  "lm_open_conflict"));
	assert_int_equal(ncols_of(d, "address_space_operations"), 4);
	assert_null(cell(d, "address_space_operations", "writepage", "folio locked"));
	assert_null(cell(d, "address_space_operations", "swap_rw", "folio locked"));
	assert_null(cell(d, "super_operations", "remount_fs", "s_umount"));
	assert_null(ld_proto_find(ld_section_find(d, "file_system_type"), "mount"));
	assert_string_equal(cell(d, "file_system_type", "kill_sb", "may block"), "yes");

	s = ld_section_find(d, "dentry_operations");
	p = ld_proto_find(s, "d_revalidate");
	assert_int_equal(p->nargs, 4);
	assert_string_equal(p->args[0].tag, "inode");
	assert_string_equal(p->args[1].type, "const struct qstr *");
	assert_string_equal(ld_proto_find(s, "d_unalias_trylock")->ret, "bool");
	s = ld_section_find(d, "inode_operations");
	assert_string_equal(ld_proto_find(s, "mkdir")->ret, "struct dentry *");
	p = ld_proto_find(s, "update_time");
	assert_string_equal(p->args[1].tag, "fs_update_time");
	assert_string_equal(p->args[2].name, "flags");
	p = ld_proto_find(ld_section_find(d, "address_space_operations"), "write_begin");
	assert_string_equal(p->args[0].type, "const struct kiocb *");
	assert_string_equal(p->args[4].type, "struct folio **");
	ld_free(d);
}

static void test_prototypes(void **state)
{
	struct ld_doc *d = must_parse("6.12");
	const struct ld_section *s = ld_section_find(d, "inode_operations");
	const struct ld_proto *p;

	p = ld_proto_find(s, "rename");
	assert_non_null(p);
	assert_int_equal(p->nargs, 6);
	assert_string_equal(p->args[0].type, "struct mnt_idmap *");
	assert_string_equal(p->args[1].tag, "inode");
	assert_string_equal(p->args[2].tag, "dentry");
	assert_string_equal(p->args[5].type, "unsigned int");
	assert_null(p->args[5].name);
	assert_string_equal(p->ret, "int");

	p = ld_proto_find(s, "atomic_open");
	assert_int_equal(p->nargs, 5);
	assert_string_equal(p->args[3].name, "open_flag");
	assert_string_equal(p->args[3].type, "unsigned");

	p = ld_proto_find(s, "lookup");
	assert_string_equal(p->ret, "struct dentry *");
	/* prototypes without a table row are kept too */
	assert_non_null(ld_proto_find(s, "truncate"));

	/* "((" typo */
	p = ld_proto_find(ld_section_find(d, "dentry_operations"), "d_dname");
	assert_non_null(p);
	assert_int_equal(p->nargs, 3);
	assert_string_equal(p->args[0].name, "dentry");
	assert_string_equal(p->args[2].name, "buflen");

	/* swap_activate lacks its ';' and must not swallow swap_deactivate */
	s = ld_section_find(d, "address_space_operations");
	p = ld_proto_find(s, "swap_activate");
	assert_int_equal(p->nargs, 3);
	assert_string_equal(p->args[2].name, "span");
	assert_non_null(ld_proto_find(s, "swap_deactivate"));
	p = ld_proto_find(s, "write_begin");
	assert_string_equal(p->args[4].type, "struct folio **");
	assert_string_equal(p->args[4].name, "foliop");

	/* trailing comments are not arguments */
	p = ld_proto_find(ld_section_find(d, "lock_manager_operations"), "lm_notify");
	assert_int_equal(p->nargs, 1);
	p = ld_proto_find(ld_section_find(d, "lock_manager_operations"), "lm_expire_lock");
	assert_int_equal(p->nargs, 0);
	ld_free(d);
}

static void test_proto_args(void **state)
{
	struct ld_proto p;

	assert_int_equal(ld_proto_parse("int (*x)(const char __user *, void*, u64 start, "
					"unsigned long, enum d_real_type type, struct dentry *dentry);",
					1, &p), 0);
	assert_int_equal(p.nargs, 6);
	assert_string_equal(p.args[0].type, "const char __user *");
	assert_null(p.args[0].name);
	assert_string_equal(p.args[1].type, "void *");
	assert_string_equal(p.args[2].name, "start");
	assert_null(p.args[3].name);
	assert_string_equal(p.args[4].name, "type");
	assert_string_equal(p.args[4].tag, "d_real_type");
	assert_string_equal(p.args[5].name, "dentry");
	ld_proto_free(&p);
	assert_int_not_equal(ld_proto_parse("not a prototype", 1, &p), 0);
	ld_proto_free(&p);
}

static void test_statements(void **state)
{
	struct ld_doc *d = must_parse("6.12");
	const struct ld_section *s;

	s = ld_section_find(d, "inode_operations");
	assert_int_equal(s->nstmts, 1);
	assert_string_equal(s->stmts[0].text, "all may block");
	s = ld_section_find(d, "address_space_operations");
	assert_string_equal(s->stmts[0].text, "All except dirty_folio and free_folio may block");
	s = ld_section_find(d, "super_operations");
	assert_string_equal(s->stmts[0].text, "All may block [not true, see below]");
	s = ld_section_find(d, "file_operations");
	assert_string_equal(s->stmts[0].text, "All may block.");
	ld_free(d);
}

static void test_prose(void **state)
{
	struct ld_doc *d = must_parse("6.12");
	const struct ld_section *s = ld_section_find(d, "inode_operations");
	int i, found = 0;

	for (i = 0; i < s->nparas; i++)
		if (strstr(s->paras[i].text, "have ->i_rwsem exclusive on victim") &&
		    strstr(s->paras[i].text, "subdirectory that changes parent"))
			found = s->paras[i].line;
	assert_int_equal(found, 123);
	/* the text after the transition is a section of its own */
	assert_non_null(ld_section_find(d, "Dubious stuff"));
	ld_free(d);
}

static void test_bad_input(void **state)
{
	static const char not_rst[] = "Hello\n\nthis is not the locking document\n";
	static const char open_table[] =
		"inode_operations\n================\n\nprototypes::\n\n"
		"\tint (*x)(struct inode *);\n\nlocking rules:\n\n"
		"=====\t=====\nops\tlock\n=====\t=====\nx:\tyes\n";
	static const char no_header[] =
		"inode_operations\n================\n\nprototypes::\n\n"
		"\tint (*x)(struct inode *);\n\n=====\t=====\n=====\t=====\nx:\tyes\n=====\t=====\n";
	struct ld_doc *d = NULL;
	char err[512];

	assert_int_not_equal(ld_parse("notes.txt", not_rst, sizeof(not_rst) - 1, &d, err,
				      sizeof(err)), 0);
	assert_null(d);
	assert_non_null(strstr(err, "notes.txt:1: not a locking.rst"));

	assert_int_not_equal(ld_parse("cut.rst", open_table, sizeof(open_table) - 1, &d, err,
				      sizeof(err)), 0);
	assert_non_null(strstr(err, "cut.rst:10: table: no closing border"));

	assert_int_not_equal(ld_parse("hdr.rst", no_header, sizeof(no_header) - 1, &d, err,
				      sizeof(err)), 0);
	assert_non_null(strstr(err, "hdr.rst:8: table: header row missing"));

	assert_int_not_equal(ld_parse("bin", "a\0b", 3, &d, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "bin:1: binary"));

	assert_int_not_equal(ld_parse_file("/nonexistent/locking.rst", &d, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/locking.rst: No such file"));
}

/* RST: an empty first column continues the row above; unknown columns are kept. */
static void test_continuation_and_unknown(void **state)
{
	static const char doc[] =
		"foo_operations\n==============\n\nprototypes::\n\n"
		"\tint (*a)(struct inode *);\n\tint (*b)(struct inode *);\n\nlocking rules:\n\n"
		"=====\t==========\t=========\nops\tfrob_lock\tmay block\n=====\t==========\t=========\n"
		"a:\tyes\t\tno\n\t(mostly)\nb:\tmaybe\n=====\t==========\t=========\n";
	struct ld_doc *d;
	struct vl_ruleset *rs;
	char err[512];

	assert_int_equal(ld_parse("t.rst", doc, sizeof(doc) - 1, &d, err, sizeof(err)), 0);
	assert_string_equal(cell(d, "foo_operations", "a", "frob_lock"), "yes (mostly)");
	assert_string_equal(cell(d, "foo_operations", "a", "may block"), "no");
	assert_string_equal(cell(d, "foo_operations", "b", "may block"), "");
	rs = rules_build(d, "test", "");
	/* a column nobody knows is a rule all the same, unchecked */
	assert_non_null(rules_find(rs, "foo_operations.a.frob_lock"));
	assert_int_equal(rules_find(rs, "foo_operations.a.frob_lock")->prop, VL_PROP_OTHER);
	rules_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cells_6_12),
		cmocka_unit_test(test_cells_older),
		cmocka_unit_test(test_cells_5_10),
		cmocka_unit_test(test_cells_7_3),
		cmocka_unit_test(test_prototypes),
		cmocka_unit_test(test_proto_args),
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_prose),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_continuation_and_unknown),
	};

	return cmocka_run_group_tests_name("lockdoc", tests, NULL, NULL);
}
