// SPDX-License-Identifier: GPL-2.0
/* The rule model: what the cells and sentences of each version mean. */
#include <fcntl.h>

#include "engine.h"
#include "rules_diff.h"
#include "unit.h"
#include "util.h"

static const struct vl_rule *get(const struct vl_ruleset *rs, const char *id)
{
	const struct vl_rule *r = rules_find(rs, id);

	if (!r)
		fail_msg("no rule %s", id);
	return r;
}

static void test_i_rwsem_cells(void **state)
{
	struct vl_ruleset *rs = must_rules("6.12");
	const struct vl_rule *r;

	r = get(rs, "inode_operations.lookup.i_rwsem");
	assert_int_equal(r->prop, VL_PROP_I_RWSEM);
	assert_int_equal(r->origin, VL_FROM_TABLE);
	assert_int_equal(r->line, 96);
	assert_int_equal(r->reqs[0].kind, VL_REQ_HELD);
	assert_int_equal(r->reqs[0].mode, VL_RMODE_SHARED);
	assert_int_equal(r->reqs[0].target, VL_TGT_DEFAULT);

	r = get(rs, "inode_operations.unlink.i_rwsem");
	assert_int_equal(r->reqs[0].mode, VL_RMODE_EXCL);
	assert_int_equal(r->reqs[0].target, VL_TGT_BOTH);

	r = get(rs, "inode_operations.rename.i_rwsem");
	assert_int_equal(r->reqs[0].target, VL_TGT_PARENTS);

	r = get(rs, "inode_operations.atomic_open.i_rwsem");
	assert_int_equal(r->nreqs, 2);
	assert_int_equal(r->reqs[0].mode, VL_RMODE_SHARED);
	assert_int_equal(r->reqs[0].cond, VL_COND_NONE);
	assert_int_equal(r->reqs[1].mode, VL_RMODE_EXCL);
	assert_int_equal(r->reqs[1].cond, VL_COND_ARG_FLAG);
	assert_string_equal(r->reqs[1].cond_arg, "open_flag");
	assert_int_equal(r->reqs[1].cond_flag, O_CREAT);

	/* "no" is no requirement, not "must not hold" */
	r = get(rs, "inode_operations.getattr.i_rwsem");
	assert_int_equal(r->reqs[0].kind, VL_REQ_NONE);
	r = get(rs, "inode_operations.fileattr_get.i_rwsem");
	assert_int_equal(r->reqs[0].kind, VL_REQ_NONE);
	/* the may-block part of permission's i_rwsem cell */
	r = get(rs, "inode_operations.permission.may_block.rcu_walk");
	assert_int_equal(r->reqs[0].kind, VL_REQ_NO_BLOCK);
	assert_int_equal(r->reqs[0].cond, VL_COND_RCU_WALK);
	/* ...beside "all may block" of the whole section */
	assert_int_equal(get(rs, "inode_operations.permission.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);
	/* "like ->read_folio()" compares; it does not speak of read_folio */
	assert_null(rules_find(rs, "address_space_operations.read_folio.folio_lock.unlocks-2"));
	assert_non_null(rules_find(rs, "address_space_operations.readahead.folio_lock.unlocks"));
	rules_free(rs);
}

static void test_prose_rules(void **state)
{
	struct vl_ruleset *rs = must_rules("6.12");
	static const char *const victims[] = { "rmdir", "unlink", "rename" };
	char id[128];
	size_t i;

	for (i = 0; i < 3; i++) {
		const struct vl_rule *r;

		snprintf(id, sizeof(id), "inode_operations.%s.i_rwsem.victim", victims[i]);
		r = get(rs, id);
		assert_int_equal(r->origin, VL_FROM_PROSE);
		assert_int_equal(r->reqs[0].target, VL_TGT_VICTIM);
		assert_int_equal(r->reqs[0].mode, VL_RMODE_EXCL);
		assert_int_equal(r->line, 123);
	}
	assert_int_equal(get(rs, "inode_operations.unlink.i_rwsem.nondir")->reqs[0].target,
			 VL_TGT_NONDIR);
	assert_int_equal(get(rs, "inode_operations.rename.i_rwsem.nondir")->reqs[0].target,
			 VL_TGT_NONDIR);
	assert_null(rules_find(rs, "inode_operations.rmdir.i_rwsem.nondir"));
	assert_int_equal(get(rs, "inode_operations.rename.i_rwsem.subdir")->reqs[0].target,
			 VL_TGT_MOVED_SUBDIR);
	assert_null(rules_find(rs, "inode_operations.unlink.i_rwsem.subdir"));
	assert_int_equal(get(rs, "inode_operations.rename.s_vfs_rename.prose")->reqs[0].cond,
			 VL_COND_CROSS_DIR);

	/* iterate_shared: i_rwsem shared and f_pos_lock exclusive, one sentence */
	assert_int_equal(get(rs, "file_operations.iterate_shared.i_rwsem.prose")->reqs[0].mode,
			 VL_RMODE_SHARED);
	assert_int_equal(get(rs, "file_operations.iterate_shared.f_pos_lock.prose")->reqs[0].mode,
			 VL_RMODE_EXCL);
	assert_int_equal(get(rs, "vm_operations_struct.map_pages.rcu.prose")->reqs[0].kind,
			 VL_REQ_HELD);
	assert_int_equal(get(rs, "vm_operations_struct.map_pages.may_block.prose")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "file_operations.fallocate.invalidate_lock.takes")->reqs[0].kind,
			 VL_REQ_TAKES);
	assert_int_equal(get(rs, "file_operations.copy_file_range.invalidate_lock.takes")->reqs[0].kind,
			 VL_REQ_TAKES);
	assert_int_equal(get(rs, "file_operations.remap_file_range.invalidate_lock.takes")->reqs[0].kind,
			 VL_REQ_TAKES);
	/* "If it is possible that the page may be truncated ... must lock invalidate_lock" */
	assert_int_equal(get(rs, "vm_operations_struct.fault.invalidate_lock.takes")->reqs[0].cond,
			 VL_COND_OTHER);
	assert_int_equal(get(rs, "vm_operations_struct.fault.folio_lock.return")->reqs[0].kind,
			 VL_REQ_MAY_RETURN_LOCKED);
	/* the invalidate_folio sentence is about its callers: held at entry */
	assert_int_equal(get(rs, "address_space_operations.invalidate_folio.invalidate_lock.prose")
			 ->reqs[0].kind, VL_REQ_HELD);
	/* the note column: drop_inode under i_lock */
	assert_int_equal(get(rs, "super_operations.drop_inode.i_lock")->reqs[0].kind, VL_REQ_HELD);
	rules_free(rs);

	/* before the rename rework: "exclusive (all)", and no sentence on children */
	rs = must_rules("6.4");
	assert_int_equal(get(rs, "inode_operations.rename.i_rwsem")->reqs[0].target, VL_TGT_ALL);
	assert_null(rules_find(rs, "inode_operations.rename.i_rwsem.subdir"));
	assert_non_null(rules_find(rs, "inode_operations.rename.i_rwsem.victim"));
	rules_free(rs);

	/* 5.15 says iterate_shared is called with i_rwsem "at least shared" */
	rs = must_rules("5.15");
	assert_int_equal(get(rs, "file_operations.iterate.i_rwsem.prose")->reqs[0].mode,
			 VL_RMODE_EXCL);
	assert_int_equal(get(rs, "file_operations.iterate_shared.i_rwsem.prose")->reqs[0].mode,
			 VL_RMODE_SHARED);
	rules_free(rs);
}

static void test_statements(void **state)
{
	struct vl_ruleset *rs = must_rules("6.12");

	assert_int_equal(get(rs, "address_space_operations.dirty_folio.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "address_space_operations.free_folio.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "address_space_operations.read_folio.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);
	assert_int_equal(get(rs, "inode_operations.rename.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);
	/* "yes (ref-walk)": may block, but not in rcu-walk */
	{
		const struct vl_rule *r = get(rs, "dentry_operations.d_revalidate.may_block");

		assert_int_equal(r->nreqs, 2);
		assert_int_equal(r->reqs[0].kind, VL_REQ_MAY_BLOCK);
		assert_int_equal(r->reqs[1].kind, VL_REQ_NO_BLOCK);
		assert_int_equal(r->reqs[1].cond, VL_COND_RCU_WALK);
	}
	assert_int_equal(get(rs, "dentry_operations.d_compare.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "dentry_operations.d_delete.rcu_walk")->reqs[0].kind,
			 VL_REQ_NO_RCU_WALK);
	assert_int_equal(get(rs, "address_space_operations.write_begin.folio_lock")->reqs[0].kind,
			 VL_REQ_LOCKS);
	assert_int_equal(get(rs, "address_space_operations.read_folio.folio_lock")->reqs[0].kind,
			 VL_REQ_HELD_UNLOCKS);
	assert_int_equal(get(rs, "vm_operations_struct.fault.folio_lock")->reqs[0].kind,
			 VL_REQ_MAY_RETURN_LOCKED);
	/* "All may block [not true, see below]": the rows under a spinlock or in RCU do not */
	assert_int_equal(get(rs, "super_operations.drop_inode.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "super_operations.free_inode.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "super_operations.evict_inode.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);
	assert_int_equal(get(rs, "super_operations.statfs.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);
	rules_free(rs);
}

static void test_ids_unique_and_checked(void **state)
{
	static const char *const versions[] = { "5.15", "6.1", "6.4", "6.12" };
	static const char *const by_kernel_read[] = {
		"super_operations.sync_fs.s_umount", "super_operations.put_super.s_umount",
		"super_operations.drop_inode.i_lock", "dentry_operations.d_delete.d_lock",
		"dentry_operations.d_prune.d_lock",
	};
	static const char *const context_checked[] = {
		"dentry_operations.d_hash.may_block", "dentry_operations.d_delete.rcu_walk",
		"dentry_operations.d_revalidate.may_block",
		"inode_operations.permission.may_block.rcu_walk",
	};
	size_t v;
	int i, j;

	for (v = 0; v < ARRAY_SIZE(versions); v++) {
		struct vl_ruleset *rs = must_rules(versions[v]);
		int checked = 0;

		int rwsem = 0, blocking = 0;

		for (i = 0; i < rs->nrules; i++) {
			const struct vl_rule *r = &rs->rules[i];
			const char *why;
			bool c;

			for (j = i + 1; j < rs->nrules; j++)
				if (!strcmp(r->id, rs->rules[j].id))
					fail_msg("%s: duplicate id %s", versions[v], r->id);
			c = engine_checks(r, &why);
			checked += c;
			rwsem += c && r->prop == VL_PROP_I_RWSEM;
			blocking += c && r->prop == VL_PROP_MAY_BLOCK;
			/* checked or not, a rule says how or why not */
			assert_non_null(why);
		}
		/* i_rwsem of inode methods (table and prose), iterate_shared,
		 * write_begin/write_end, xattr handlers' set; 6.4 predates the
		 * non-directory and subdirectory sentences, 6.12 dropped
		 * iterate (not _shared) */
		assert_int_equal(rwsem, !strcmp(versions[v], "6.4") ? 20 :
					!strcmp(versions[v], "6.12") ? 22 : 23);
		/* the "no" of may block and rcu-walk cells and sentences;
		 * "yes" and "all may block" allow, and are not checks */
		assert_true(blocking >= 8);
		for (j = 0; j < (int)ARRAY_SIZE(context_checked); j++) {
			const struct vl_rule *r = rules_find(rs, context_checked[j]);
			const char *why;

			if (!r)
				fail_msg("%s: no rule %s", versions[v], context_checked[j]);
			if (!engine_checks(r, &why))
				fail_msg("%s: %s not checked (%s)", versions[v], r->id, why);
		}
		{
			const struct vl_rule *r = rules_find(rs, "inode_operations.permission.may_block");
			const char *why;

			assert_non_null(r);
			assert_false(engine_checks(r, &why));
		}
		assert_true(checked > rwsem + 20);
		for (j = 0; j < (int)ARRAY_SIZE(by_kernel_read); j++) {
			const struct vl_rule *r = rules_find(rs, by_kernel_read[j]);
			const char *why;

			if (!r)
				fail_msg("%s: no rule %s", versions[v], by_kernel_read[j]);
			if (!engine_checks(r, &why))
				fail_msg("%s: %s not checked: %s", versions[v], r->id, why);
		}
		rules_free(rs);
	}
}

static void test_versions_and_sources(void **state)
{
	struct vl_ruleset *rs;
	char err[256];

	assert_true(version_cmp("6.12", "6.1") > 0);
	assert_true(version_cmp("6.1", "6.12") < 0);
	assert_true(version_cmp("5.15", "6.1") < 0);
	assert_int_equal(version_cmp("6.1", "6.1"), 0);
	assert_true(version_cmp("6.1.192", "6.1") > 0);

	rs = rules_load(NULL, "6.18", err, sizeof(err));
	assert_non_null(rs);
	assert_string_equal(rs->source, "embedded:6.12 (closest to 6.18)");
	rules_free(rs);
	rs = rules_load(NULL, "6.1", err, sizeof(err));
	assert_string_equal(rs->source, "embedded:6.1");
	rules_free(rs);
	rs = rules_load(NULL, "6.8", err, sizeof(err));
	assert_string_equal(rs->version, "6.4");
	rules_free(rs);
	rs = rules_load(NULL, "6.3", err, sizeof(err));
	assert_string_equal(rs->version, "6.1");
	rules_free(rs);
	rs = rules_load(NULL, "5.10", err, sizeof(err));
	assert_string_equal(rs->version, "5.15");
	rules_free(rs);
	rs = rules_load(doc_path("6.12"), NULL, err, sizeof(err));
	assert_non_null(rs);
	assert_non_null(strstr(rs->source, "file:"));
	rules_free(rs);
	assert_null(rules_load("/nonexistent.rst", NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent.rst"));
}

/* A kernel's own copy from its linux-doc package wins over the embedded ones. */
static void test_linux_doc_copy(void **state)
{
	char dir[] = "/tmp/vl-doc-XXXXXX", cmd[8192], err[256];
	struct vl_ruleset *rs;

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s/linux-doc-6.3/Documentation/filesystems && "
		 "gzip -c %s > %s/linux-doc-6.3/Documentation/filesystems/locking.rst.gz",
		 dir, doc_path("6.4"), dir);
	assert_int_equal(system(cmd), 0);
	setenv("VFSLOCK_DOC_DIR", dir, 1);
	rs = rules_load(NULL, "6.3", err, sizeof(err));
	assert_non_null(rs);
	assert_non_null(strstr(rs->source, "linux-doc:"));
	assert_non_null(strstr(rs->source, "linux-doc-6.3"));
	assert_string_equal(rs->version, "6.3");
	/* the gzipped text was read: 6.4's rename cell */
	assert_non_null(strstr(rules_find(rs, "inode_operations.rename.i_rwsem")->text, "(all)"));
	rules_free(rs);
	/* no package for 6.12: the embedded copy */
	rs = rules_load(NULL, "6.12", err, sizeof(err));
	assert_string_equal(rs->source, "embedded:6.12");
	rules_free(rs);
	unsetenv("VFSLOCK_DOC_DIR");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static const struct vl_diff_item *item(const struct vl_diff *d, bool proto, const char *id)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].proto == proto && !strcmp(d->v[i].id, id))
			return &d->v[i];
	fail_msg("no %s %s in the diff", proto ? "prototype" : "rule", id);
	return NULL;
}

static void test_diff(void **state)
{
	struct vl_ruleset *a = must_rules("5.15"), *b = must_rules("6.12"), *c;
	const struct vl_diff_item *it;
	struct vl_diff d;

	rules_diff(a, b, &d);
	it = item(&d, true, "inode_operations.rename");
	assert_int_equal(it->change, VL_CHANGED);
	assert_non_null(strstr(it->a, "(struct inode *, struct dentry *"));
	assert_non_null(strstr(it->b, "(struct mnt_idmap *, struct inode *"));
	assert_int_equal(item(&d, true, "inode_operations.get_offset_ctx")->change, VL_ADDED);
	assert_int_equal(item(&d, true, "address_space_operations.readpage")->change, VL_REMOVED);
	it = item(&d, false, "vm_operations_struct.open.mmap_lock");
	assert_int_equal(it->change, VL_CHANGED);
	assert_string_equal(it->a, "yes");
	assert_string_equal(it->b, "write");
	assert_int_equal(item(&d, false, "vm_operations_struct.huge_fault.mmap_lock")->change,
			 VL_ADDED);
	it = item(&d, false, "address_space_operations.read_folio.invalidate_lock");
	assert_int_equal(it->change, VL_ADDED);
	assert_string_equal(it->b, "shared");
	assert_int_equal(item(&d, false, "address_space_operations.readpage.invalidate_lock")->change,
			 VL_REMOVED);
	/* the same rule text is no change, whatever its line */
	for (it = d.v; it < d.v + d.n; it++)
		assert_false(!it->proto && !strcmp(it->id, "inode_operations.lookup.i_rwsem"));
	rules_diff_free(&d);

	c = must_rules("6.4");
	rules_diff(c, b, &d);
	it = item(&d, false, "inode_operations.rename.i_rwsem");
	assert_int_equal(it->change, VL_CHANGED);
	assert_string_equal(it->a, "exclusive (all) (see below)");
	assert_int_equal(item(&d, false, "inode_operations.rename.i_rwsem.subdir")->change, VL_ADDED);
	assert_int_equal(item(&d, false, "inode_operations.unlink.i_rwsem.nondir")->change, VL_ADDED);
	rules_diff_free(&d);

	rules_diff(b, b, &d);
	assert_int_equal(d.n, 0);
	rules_diff_free(&d);
	rules_free(a);
	rules_free(b);
	rules_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i_rwsem_cells),
		cmocka_unit_test(test_prose_rules),
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_ids_unique_and_checked),
		cmocka_unit_test(test_versions_and_sources),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_linux_doc_copy),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
