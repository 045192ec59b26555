// SPDX-License-Identifier: GPL-2.0
/* The rule model: what the cells and sentences of each version mean. */
#include <fcntl.h>

#include <bpf/btf.h>
#include <json-c/json.h>

#include "cmds.h"
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
	static const char *const versions[] = { "5.10", "5.15", "6.1", "6.4", "6.12", "7.3" };
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
		 * iterate (not _shared), 5.10 predates fileattr_set */
		assert_int_equal(rwsem, !strcmp(versions[v], "6.4") ? 20 :
					!strcmp(versions[v], "6.12") ||
					!strcmp(versions[v], "7.3") ||
					!strcmp(versions[v], "5.10") ? 22 : 23);
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
	assert_string_equal(rs->version, "5.10");
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

/* Where 5.10 differs from 5.15 and 6.12: no invalidate_lock, page-era names, bd_mutex. */
static void test_rules_5_10(void **state)
{
	struct vl_ruleset *rs = must_rules("5.10");
	const struct vl_rule *r;
	const char *why;
	int i;

	for (i = 0; i < rs->nrules; i++)
		if (rs->rules[i].prop == VL_PROP_INVALIDATE_LOCK)
			fail_msg("5.10 predates invalidate_lock, yet %s", rs->rules[i].id);
	assert_null(rules_find(rs, "inode_operations.fileattr_set.i_rwsem"));
	assert_null(rules_find(rs, "vm_operations_struct.fault.invalidate_lock.takes"));

	r = get(rs, "address_space_operations.readpage.folio_lock");
	assert_int_equal(r->reqs[0].kind, VL_REQ_HELD_UNLOCKS);
	assert_int_equal(r->reqs[0].target, VL_TGT_FOLIO);
	assert_true(engine_checks(r, &why));
	assert_int_equal(get(rs, "address_space_operations.readpages.folio_lock")->reqs[0].kind,
			 VL_REQ_NONE);
	/* "All except set_page_dirty and freepage may block" */
	assert_int_equal(get(rs, "address_space_operations.set_page_dirty.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "address_space_operations.freepage.may_block")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_int_equal(get(rs, "address_space_operations.readpage.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);
	/* the same id as open_mutex's in later copies */
	r = get(rs, "block_device_operations.open.open_mutex");
	assert_string_equal(r->column, "bd_mutex");
	assert_int_equal(r->reqs[0].kind, VL_REQ_HELD);
	/* "called with page table locked and must not block", before the RCU of 6.x */
	r = get(rs, "vm_operations_struct.map_pages.other.page_table_lock");
	assert_int_equal(r->reqs[0].kind, VL_REQ_HELD);
	assert_int_equal(get(rs, "vm_operations_struct.map_pages.may_block.prose")->reqs[0].kind,
			 VL_REQ_NO_BLOCK);
	assert_null(rules_find(rs, "vm_operations_struct.map_pages.rcu.prose"));
	/* "must lock the page ... return with VM_FAULT_LOCKED" */
	assert_int_equal(get(rs, "vm_operations_struct.fault.folio_lock.return")->reqs[0].kind,
			 VL_REQ_MAY_RETURN_LOCKED);
	r = get(rs, "vm_operations_struct.open.mmap_lock");
	assert_int_equal(r->reqs[0].mode, VL_RMODE_ANY);
	/* Debian's 5.10.223 has the backported rename rules */
	r = get(rs, "inode_operations.rename.i_rwsem");
	assert_int_equal(r->reqs[0].target, VL_TGT_PARENTS);
	assert_non_null(rules_find(rs, "inode_operations.rename.i_rwsem.subdir"));
	assert_int_equal(get(rs, "file_operations.iterate.i_rwsem.prose")->reqs[0].mode,
			 VL_RMODE_EXCL);
	assert_int_equal(get(rs, "super_operations.remount_fs.s_umount")->reqs[0].mode,
			 VL_RMODE_EXCL);
	r = get(rs, "file_system_type.mount.s_umount.prose");
	assert_int_equal(r->reqs[0].kind, VL_REQ_LOCKS);
	assert_int_equal(r->reqs[0].target, VL_TGT_SB);
	rules_free(rs);
}

/* Where 7.3 differs from 6.12: methods added and removed. */
static void test_rules_7_3(void **state)
{
	static const char *const gone[] = {
		"address_space_operations.writepage.folio_lock",
		"address_space_operations.swap_rw.folio_lock",
		"super_operations.remount_fs.s_umount",
		"file_system_type.mount.s_umount.prose",
		"file_system_type.mount.may_block",
	};
	struct vl_ruleset *rs = must_rules("7.3");
	const struct vl_rule *r;
	const char *why;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(gone); i++)
		if (rules_find(rs, gone[i]))
			fail_msg("7.3 has no such method, yet %s", gone[i]);

	r = get(rs, "dentry_operations.d_unalias_trylock.rename_lock");
	assert_int_equal(r->prop, VL_PROP_RENAME_LOCK);
	assert_int_equal(r->reqs[0].kind, VL_REQ_HELD);
	assert_false(engine_checks(r, &why));
	assert_non_null(strstr(why, "writers' spinlock"));
	assert_int_equal(get(rs, "dentry_operations.d_unalias_trylock.d_lock")->reqs[0].kind,
			 VL_REQ_NONE);
	r = get(rs, "dentry_operations.d_unalias_trylock.may_block");
	assert_int_equal(r->reqs[0].kind, VL_REQ_NO_BLOCK);
	assert_true(engine_checks(r, &why));
	r = get(rs, "dentry_operations.d_unalias_unlock.rcu_walk");
	assert_int_equal(r->reqs[0].kind, VL_REQ_NO_RCU_WALK);
	assert_true(engine_checks(r, &why));

	assert_int_equal(get(rs, "inode_operations.sync_lazytime.i_rwsem")->reqs[0].kind,
			 VL_REQ_NONE);
	assert_int_equal(get(rs, "inode_operations.sync_lazytime.may_block")->reqs[0].kind,
			 VL_REQ_MAY_BLOCK);

	/* lease methods of struct lease_manager_operations: discovered, so checked */
	r = get(rs, "lock_manager_operations.lm_open_conflict.flc_lock");
	assert_int_equal(r->reqs[0].kind, VL_REQ_HELD);
	assert_true(engine_checks(r, &why));
	r = get(rs, "lock_manager_operations.lm_breaker_timedout.may_block");
	assert_int_equal(r->reqs[0].kind, VL_REQ_NO_BLOCK);
	assert_true(engine_checks(r, &why));
	assert_false(engine_checks(get(rs, "lock_manager_operations.lm_notify.blocked_lock_lock"),
				   &why));

	/* what stayed */
	r = get(rs, "file_system_type.kill_sb.s_umount.prose");
	assert_int_equal(r->reqs[0].mode, VL_RMODE_EXCL);
	assert_int_equal(get(rs, "address_space_operations.write_begin.folio_lock")->reqs[0].kind,
			 VL_REQ_LOCKS);
	assert_int_equal(get(rs, "address_space_operations.write_begin.i_rwsem")->reqs[0].mode,
			 VL_RMODE_EXCL);
	r = get(rs, "inode_operations.rename.i_rwsem");
	assert_int_equal(r->reqs[0].target, VL_TGT_PARENTS);
	rules_free(rs);
}

/* ".. [1]: ->fl_release_private ...": the footnote label does not hide the method. */
static void test_footnote_prose(void **state)
{
	static const char *const versions[] = { "5.10", "6.12", "7.3" };
	size_t v;

	for (v = 0; v < ARRAY_SIZE(versions); v++) {
		struct vl_ruleset *rs = must_rules(versions[v]);
		const struct vl_rule *r;

		r = get(rs, "file_lock_operations.fl_release_private.may_block.prose");
		assert_int_equal(r->reqs[0].kind, VL_REQ_NO_BLOCK);
		/* "called on a lease": not a condition vfslock can evaluate */
		assert_int_equal(r->reqs[0].cond, VL_COND_OTHER);
		assert_non_null(strstr(r->text, "should not block"));
		assert_null(strstr(r->text, ".. [1]"));
		rules_free(rs);
	}
}

/* The choice among copies, on made-up lists: every case of enum vl_pick. */
static void test_pick(void **state)
{
	static const char *const v[] = { "5.10", "5.15", "6.1", "6.4", "6.12", "7.3" };
	static const struct {
		const char *series, *want;
		enum vl_pick how;
	} cases[] = {
		{ "5.10", "5.10", VL_PICK_EXACT }, { "5.14", "5.10", VL_PICK_OLDER },
		{ "5.19", "5.15", VL_PICK_OLDER }, { "6.0", "6.1", VL_PICK_NEWER },
		{ "6.6", "6.4", VL_PICK_OLDER }, { "6.19", "6.12", VL_PICK_OLDER },
		{ "7.0", "7.3", VL_PICK_NEWER }, { "7.9", "7.3", VL_PICK_NEWEST },
		{ "8.0", "7.3", VL_PICK_NEWEST }, { "4.19", "5.10", VL_PICK_OLDEST },
	};
	static const char *const gap[] = { "6.1", "4.19" };
	enum vl_pick how;
	size_t i;
	int k;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		k = rules_pick(v, ARRAY_SIZE(v), cases[i].series, &how);
		if (k < 0 || strcmp(v[k], cases[i].want) || how != cases[i].how)
			fail_msg("%s: picked %s (%d), want %s (%d)", cases[i].series,
				 k < 0 ? "none" : v[k], how, cases[i].want, cases[i].how);
	}
	/* a major without copies between two with some: the newest older one */
	k = rules_pick(gap, 2, "5.4", &how);
	assert_string_equal(gap[k], "4.19");
	assert_int_equal(how, VL_PICK_OLDER);
	assert_int_equal(rules_pick(v, 0, "6.1", &how), -1);
}

/* The copy vfslock names for each production kernel, and why. */
static void test_choice(void **state)
{
	static const struct {
		const char *kernel, *version, *source, *why;
	} cases[] = {
		{ "5.10", "5.10", "embedded:5.10", "its own series" },
		{ "5.14", "5.10", "embedded:5.10 (closest to 5.14)",
		  "newest copy of the 5.x series" },
		{ "5.15", "5.15", "embedded:5.15", "its own series" },
		{ "6.1", "6.1", "embedded:6.1", "its own series" },
		{ "6.6", "6.4", "embedded:6.4 (closest to 6.6)", "newest copy of the 6.x series" },
		{ "6.12", "6.12", "embedded:6.12", "its own series" },
		{ "6.18", "6.12", "embedded:6.12 (closest to 6.18)", "not newer than it" },
		{ "7.0", "7.3", "embedded:7.3 (closest to 7.0)", "nearest newer 7.x copy" },
		{ "7.3", "7.3", "embedded:7.3", "its own series" },
		{ "8.0", "7.3", "embedded:7.3 (newest copy, 8.0 is newer than all)",
		  "newer than every embedded copy" },
		{ "4.19", "5.10", "embedded:5.10 (oldest copy, 4.19 is older than all)",
		  "older than every embedded copy" },
		{ "v6.12", "6.12", "embedded:6.12", "kernel 6.12:" },
		{ "6.1.0-13-amd64", "6.1", "embedded:6.1", "kernel 6.1:" },
	};
	char err[256];
	size_t i;

	/* no linux-doc package of the host may take part */
	setenv("VFSLOCK_DOC_DIR", "/nonexistent", 1);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vl_ruleset *rs = rules_load(NULL, cases[i].kernel, err, sizeof(err));

		if (!rs)
			fail_msg("%s: %s", cases[i].kernel, err);
		if (strcmp(rs->version, cases[i].version) || strcmp(rs->source, cases[i].source) ||
		    !strstr(rs->why, cases[i].why))
			fail_msg("%s: %s, %s (%s); want %s, %s (... %s ...)", cases[i].kernel,
				 rs->version, rs->source, rs->why, cases[i].version,
				 cases[i].source, cases[i].why);
		rules_free(rs);
	}
	unsetenv("VFSLOCK_DOC_DIR");
}

/* Run do_rules(@argv) with stdout and stderr into @path; its exit status. */
static int run_rules(int argc, char **argv, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600), so, se, rc;

	assert_true(fd >= 0);
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
	rc = do_rules(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	return rc;
}

static char *slurp(const char *path)
{
	size_t len;
	char *t = read_file(path, &len);

	if (!t)
		fail_msg("%s: unreadable", path);
	return t;
}

/* --kernel abc is an error naming abc, not some copy chosen anyway. */
static void test_bad_kernel_version(void **state)
{
	static const char *const bad[] = {
		"abc", "", "6", "6.", "6.x", "6.12abc", "x6.12", "1234.1",
	};
	static const char *const good[][2] = {
		{ "6.12", "6.12" }, { "v5.10", "5.10" }, { "6.1.0-13-amd64", "6.1" },
		{ "6.12.118+deb12-amd64", "6.12" }, { "7.3.4", "7.3" },
	};
	char err[256], series[32], out[256], *text;
	char a0[] = "rules", a1[] = "--kernel", a2[] = "abc", c0[] = "coverage";
	char *argv[] = { a0, a1, a2, NULL }, *cargv[] = { a0, c0, a1, a2, NULL };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (!rules_kernel_series(bad[i], series, sizeof(series)))
			fail_msg("\"%s\" taken for a kernel version (%s)", bad[i], series);
		assert_null(rules_load(NULL, bad[i], err, sizeof(err)));
		assert_non_null(strstr(err, bad[i]));
	}
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(rules_kernel_series(good[i][0], series, sizeof(series)), 0);
		assert_string_equal(series, good[i][1]);
	}
	/* with a file too: the version is still checked */
	assert_null(rules_load(doc_path("6.12"), "abc", err, sizeof(err)));

	snprintf(out, sizeof(out), "%s/out", unit_tmpdir());
	assert_int_equal(run_rules(3, argv, out), EXIT_TOOL);
	text = slurp(out);
	assert_non_null(strstr(text, "\"abc\": not a kernel version"));
	assert_null(strstr(text, "rules from"));
	free(text);
	assert_int_equal(run_rules(4, cargv, out), EXIT_TOOL);
	text = slurp(out);
	assert_non_null(strstr(text, "\"abc\""));
	free(text);
}

/* A made-up kernel: struct @name with function-pointer members @members. */
static void add_ops_struct(struct btf *btf, int fnptr, const char *name,
			   const char *const *members)
{
	int n = 0, i;

	while (members[n])
		n++;
	assert_true(btf__add_struct(btf, name, 8 * n) > 0);
	for (i = 0; i < n; i++)
		assert_int_equal(btf__add_field(btf, members[i], fnptr, 64 * i, 0), 0);
}

/*
 * The BTF of a kernel with 6.18's address_space_operations (no writepage)
 * and 7.3's lock managers, one lease method in an anonymous union; no
 * other struct. Written to @path as raw BTF, as --btf reads it.
 */
static struct btf *fake_kernel_btf(const char *path)
{
	static const char *const aops[] = {
		"read_folio", "writepages", "dirty_folio", "readahead", "write_begin",
		"write_end", "bmap", "invalidate_folio", "release_folio", "free_folio",
		"direct_IO", "migrate_folio", "launder_folio", "is_partially_uptodate",
		"is_dirty_writeback", "error_remove_folio", "swap_activate", "swap_deactivate",
		"swap_rw", NULL,
	};
	static const char *const lm[] = { "lm_notify", "lm_grant", "lm_lock_expirable", NULL };
	static const char *const lease[] = { "lm_break", "lm_change", "lm_breaker_owns_lease" };
	struct btf *btf = btf__new_empty();
	int fnptr, u;
	const void *raw;
	__u32 size;
	FILE *f;

	assert_non_null(btf);
	fnptr = btf__add_ptr(btf, btf__add_func_proto(btf, btf__add_int(btf, "int", 4,
									   BTF_INT_SIGNED)));
	assert_true(fnptr > 0);
	add_ops_struct(btf, fnptr, "address_space_operations", aops);
	add_ops_struct(btf, fnptr, "lock_manager_operations", lm);
	u = btf__add_union(btf, NULL, 8);
	assert_int_equal(btf__add_field(btf, "lm_open_conflict", fnptr, 0, 0), 0);
	assert_true(btf__add_struct(btf, "lease_manager_operations", 32) > 0);
	assert_int_equal(btf__add_field(btf, lease[0], fnptr, 0, 0), 0);
	assert_int_equal(btf__add_field(btf, lease[1], fnptr, 64, 0), 0);
	assert_int_equal(btf__add_field(btf, lease[2], fnptr, 128, 0), 0);
	assert_int_equal(btf__add_field(btf, NULL, u, 192, 0), 0);
	raw = btf__raw_data(btf, &size);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(raw, 1, size, f), size);
	fclose(f);
	return btf;
}

static int in_btf(const struct btf *btf, const struct vl_ruleset *rs, const char *id, char *why)
{
	return rules_method_in_btf(btf, get(rs, id), why, 256);
}

/* A rule on a method the kernel lacks is named so, and is no failure. */
static void test_method_not_in_kernel(void **state)
{
	char path[256], out[256], why[256], *text;
	struct vl_ruleset *r612 = must_rules("6.12"), *r73 = must_rules("7.3");
	struct btf *btf;
	json_object *o, *rules;
	int absent = 0;
	size_t i;

	snprintf(path, sizeof(path), "%s/vmlinux.btf", unit_tmpdir());
	btf = fake_kernel_btf(path);
	assert_int_equal(in_btf(btf, r612, "address_space_operations.writepage.folio_lock", why),
			 0);
	assert_string_equal(why, "struct address_space_operations has no member writepage");
	assert_int_equal(in_btf(btf, r612, "address_space_operations.read_folio.folio_lock", why),
			 1);
	/* the lease methods: lease_manager_operations', even in an anonymous member */
	assert_int_equal(in_btf(btf, r73, "lock_manager_operations.lm_open_conflict.flc_lock", why),
			 1);
	assert_string_equal(why, "struct lease_manager_operations has lm_open_conflict");
	assert_int_equal(in_btf(btf, r73, "lock_manager_operations.lm_break.flc_lock", why), 1);
	assert_int_equal(in_btf(btf, r73, "lock_manager_operations.lm_notify.blocked_lock_lock",
				why), 1);
	assert_int_equal(in_btf(btf, r73, "lock_manager_operations.lm_breaker_timedout.flc_lock",
				why), 0);
	assert_non_null(strstr(why, "(nor lease_manager_operations) has no member "
				    "lm_breaker_timedout"));
	/* a struct this BTF does not describe: cannot tell */
	assert_int_equal(in_btf(btf, r73, "inode_operations.lookup.i_rwsem", why), -1);
	btf__free(btf);

	/* vfslock -j rules coverage --kernel 6.12 --btf FILE */
	{
		char a0[] = "rules", a1[] = "coverage", a2[] = "--kernel", a3[] = "6.12";
		char a4[] = "--btf", *argv[] = { a0, a1, a2, a3, a4, path, NULL };

		snprintf(out, sizeof(out), "%s/cov.json", unit_tmpdir());
		json_output = true;
		assert_int_equal(run_rules(6, argv, out), EXIT_OK);
		json_output = false;
	}
	text = slurp(out);
	o = json_tokener_parse(text);
	free(text);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(json_object_object_get(o, "btf")), path);
	/* 6.12's only constraining rule on a method this made-up kernel lacks */
	assert_int_equal(json_object_get_int(json_object_object_get(o, "not_in_kernel")), 1);
	rules = json_object_object_get(o, "rules");
	for (i = 0; i < json_object_array_length(rules); i++) {
		json_object *r = json_object_array_get_idx(rules, i), *in;
		const char *id = json_object_get_string(json_object_object_get(r, "id"));

		if (!json_object_object_get_ex(r, "in_kernel", &in) || json_object_get_boolean(in))
			continue;
		absent++;
		assert_string_equal(id, "address_space_operations.writepage.folio_lock");
	}
	assert_int_equal(absent, 1);
	json_object_put(o);

	/* the same in words */
	{
		char a0[] = "rules", a1[] = "coverage", a2[] = "--kernel", a3[] = "6.12";
		char a4[] = "--btf", *argv[] = { a0, a1, a2, a3, a4, path, NULL };

		assert_int_equal(run_rules(6, argv, out), EXIT_OK);
	}
	text = slurp(out);
	assert_non_null(strstr(text, "NO METHOD"));
	assert_non_null(strstr(text, "method not in this kernel: struct address_space_operations "
				     "has no member writepage"));
	assert_non_null(strstr(text, "\n1 of the "));
	free(text);

	/* an unreadable --btf is an error naming it */
	{
		char a0[] = "rules", a1[] = "coverage", a2[] = "--btf", a3[] = "/nonexistent.btf";
		char *argv[] = { a0, a1, a2, a3, NULL };

		assert_int_equal(run_rules(4, argv, out), EXIT_TOOL);
	}
	text = slurp(out);
	assert_non_null(strstr(text, "/nonexistent.btf"));
	free(text);
	rules_free(r612);
	rules_free(r73);
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
		cmocka_unit_test(test_rules_5_10),
		cmocka_unit_test(test_rules_7_3),
		cmocka_unit_test(test_footnote_prose),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_bad_kernel_version),
		cmocka_unit_test(test_method_not_in_kernel),
	};

	return cmocka_run_group_tests_name("rules", tests, tmpdir_setup, tmpdir_teardown);
}
