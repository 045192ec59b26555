// SPDX-License-Identifier: GPL-2.0
/*
 * Attribution on synthetic stacks: a kallsyms of made-up symbols, a catalog
 * of made-up implementations, and the prefixes derived from it.
 */
#include "attrib.h"
#include "unit.h"
#include "util.h"

/* The made-up kernel: vmlinux symbols, then modules. */
static const struct ksym kernel[] = {
	{ 0xffffffff81000000, "ext4_rename", "" },
	{ 0xffffffff81001000, "ext4_lookup", "" },
	{ 0xffffffff81002000, "ext4_journal_helper", "" },
	{ 0xffffffff81003000, "shmem_mkdir", "" },
	{ 0xffffffff81004000, "shmem_helper", "" },
	{ 0xffffffff81005000, "simple_lookup", "" },
	{ 0xffffffff81006000, "simple_rename", "" },
	{ 0xffffffff81007000, "generic_file_llseek", "" },
	{ 0xffffffff81008000, "block_dirty_folio", "" },
	{ 0xffffffff81009000, "vfs_mkdir", "" },
	{ 0xffffffff8100a000, "do_mkdirat", "" },
	{ 0xffffffff8100b000, "__x64_sys_mkdir", "" },
	{ 0xffffffff8100c000, "vfs_rename", "" },
	{ 0xffffffff8100d000, "foo_a_lookup", "" },
	{ 0xffffffff8100e000, "foo_b_lookup", "" },
	{ 0xffffffffc0000000, "vl_testfs_lookup", "vl_testfs" },
	{ 0xffffffffc0001000, "vl_testfs_helper", "vl_testfs" },
	{ 0xffffffffc0100000, "do_mkdir_shared", "vl_badcall" },
	{ 0xffffffffc0101000, "run_set", "vl_badcall" },
	{ 0xffffffffc0200000, "bpf_prog_0123456789abcdef_vl_method", "bpf" },
	{ 0xffffffffc0201000, "bpf_trampoline_6442500000", "bpf" },
};

struct fixture {
	struct ksyms *ks;
	struct vl_catalog cat;
	struct vl_prefixes pf;
};

static uint64_t addr_of(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kernel); i++)
		if (!strcmp(kernel[i].name, name))
			return kernel[i].addr;
	fail_msg("no symbol %s", name);
	return 0;
}

static struct vl_fn *impl(struct fixture *fx, const char *name, const char *module,
			  const char *fstypes)
{
	struct vl_fn *f = catalog_add(&fx->cat, addr_of(name), name, module);
	char buf[64], *tok, *save;

	catalog_add_role(f, "inode_operations", "lookup");
	snprintf(buf, sizeof(buf), "%s", fstypes);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		catalog_add_fstype(f, tok);
	return f;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->ks = fake_ksyms(kernel, ARRAY_SIZE(kernel));
	impl(fx, "ext4_rename", "", "ext4");
	impl(fx, "ext4_lookup", "", "ext4");
	impl(fx, "shmem_mkdir", "", "tmpfs");
	impl(fx, "simple_lookup", "", "tmpfs,ramfs");	/* shared: no prefix */
	impl(fx, "simple_rename", "", "tmpfs");		/* one user, but on the stop-list */
	impl(fx, "generic_file_llseek", "", "ext4");	/* likewise */
	impl(fx, "block_dirty_folio", "", "ext2");	/* likewise */
	impl(fx, "foo_a_lookup", "", "fooa");		/* two filesystems claim foo_ */
	impl(fx, "foo_b_lookup", "", "foob");
	impl(fx, "vl_testfs_lookup", "vl_testfs", "vltestfs");	/* told by its module */
	attrib_prefixes(&fx->cat, &fx->pf);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	attrib_prefixes_free(&fx->pf);
	catalog_free(&fx->cat);
	ksyms__free(fx->ks);
	free(fx);
	return 0;
}

static const char *prefix_of(const struct vl_prefixes *pf, const char *fstype, int nth)
{
	int i;

	for (i = 0; i < pf->n; i++)
		if (!strcmp(pf->v[i].fstype, fstype) && !nth--)
			return pf->v[i].prefix;
	return NULL;
}

static void test_prefixes(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(fx->pf.n, 2);
	assert_string_equal(prefix_of(&fx->pf, "ext4", 0), "ext4_");
	assert_null(prefix_of(&fx->pf, "ext4", 1));
	assert_string_equal(prefix_of(&fx->pf, "tmpfs", 0), "shmem_");
	assert_null(prefix_of(&fx->pf, "tmpfs", 1));
	assert_null(prefix_of(&fx->pf, "ext2", 0));
	assert_null(prefix_of(&fx->pf, "fooa", 0));
	assert_null(prefix_of(&fx->pf, "foob", 0));
	assert_null(prefix_of(&fx->pf, "vltestfs", 0));
	assert_true(attrib_generic_prefix("simple_"));
	assert_true(attrib_generic_prefix("d_"));
	assert_false(attrib_generic_prefix("ext4_"));
}

/*
 * The method @names[0] and its callers, each frame a return address inside
 * the function; "?" is a frame kallsyms does not name. Returns the
 * attribution, *@frame the attributing frame.
 */
static enum vl_attrib attrib_of(struct fixture *fx, int *frame, const char *const *names)
{
	const struct ksym *syms[16];
	const struct vl_fn *fn = NULL;
	int n, i;

	for (n = 0; names[n]; n++)
		syms[n] = strcmp(names[n], "?") ? ksyms__name(fx->ks, addr_of(names[n]) + 0x3c) :
		       ksyms__name(fx->ks, 0xffffffffd0000000);
	for (i = 0; i < fx->cat.nfns; i++)
		if (!strcmp(fx->cat.fns[i].name, names[0]))
			fn = &fx->cat.fns[i];
	assert_non_null(fn);
	return attrib_stack(fn, syms, n, &fx->pf, frame);
}

#define ATTRIB(fx, frame, ...) attrib_of(fx, frame, (const char *const[]){ __VA_ARGS__, NULL })

static void test_filesystem(void **state)
{
	struct fixture *fx = *state;
	int frame;

	/* a built-in filesystem's own code, told by its prefix */
	assert_int_equal(ATTRIB(fx, &frame, "ext4_rename", "vfs_rename", "ext4_journal_helper",
				"do_mkdirat"), VL_ATTR_FILESYSTEM);
	assert_int_equal(frame, 2);
	/* a method several filesystems install: any of theirs */
	assert_int_equal(ATTRIB(fx, &frame, "simple_lookup", "shmem_helper", "vfs_mkdir"),
			 VL_ATTR_FILESYSTEM);
	assert_int_equal(frame, 1);
	/* a modular filesystem's own code, told by its module */
	assert_int_equal(ATTRIB(fx, &frame, "vl_testfs_lookup", "vl_testfs_helper", "vfs_mkdir"),
			 VL_ATTR_FILESYSTEM);
	assert_int_equal(frame, 1);
}

static void test_module(void **state)
{
	struct fixture *fx = *state;
	int frame;

	assert_int_equal(ATTRIB(fx, &frame, "shmem_mkdir", "vfs_mkdir", "do_mkdir_shared",
				"run_set", "__x64_sys_mkdir"), VL_ATTR_MODULE);
	assert_int_equal(frame, 2);
	/* the first non-core frame outward decides */
	assert_int_equal(ATTRIB(fx, &frame, "ext4_rename", "run_set", "ext4_journal_helper"),
			 VL_ATTR_MODULE);
	assert_int_equal(frame, 1);
	assert_int_equal(ATTRIB(fx, &frame, "ext4_rename", "ext4_journal_helper", "run_set"),
			 VL_ATTR_FILESYSTEM);
	assert_int_equal(frame, 1);
	/* a module filesystem called from another module */
	assert_int_equal(ATTRIB(fx, &frame, "vl_testfs_lookup", "run_set"), VL_ATTR_MODULE);
}

static void test_core(void **state)
{
	struct fixture *fx = *state;
	int frame;

	assert_int_equal(ATTRIB(fx, &frame, "shmem_mkdir", "vfs_mkdir", "do_mkdirat",
				"__x64_sys_mkdir"), VL_ATTR_CORE);
	assert_int_equal(frame, -1);
	/* helpers on the stop-list are core, even for their one user */
	assert_int_equal(ATTRIB(fx, &frame, "ext4_rename", "generic_file_llseek", "vfs_rename"),
			 VL_ATTR_CORE);
	/* another filesystem's prefix is not this one's */
	assert_int_equal(ATTRIB(fx, &frame, "shmem_mkdir", "ext4_journal_helper", "vfs_mkdir"),
			 VL_ATTR_CORE);
	/* tracing frames and unnamed ones are skipped, not blamed */
	assert_int_equal(ATTRIB(fx, &frame, "shmem_mkdir", "bpf_trampoline_6442500000", "?",
				"vfs_mkdir"), VL_ATTR_CORE);
	assert_int_equal(frame, -1);
}

static void test_unknown(void **state)
{
	struct fixture *fx = *state;
	int frame = 5;

	/* no stack: the method alone */
	assert_int_equal(ATTRIB(fx, &frame, "shmem_mkdir"), VL_ATTR_UNKNOWN);
	assert_int_equal(frame, -1);
	/* nothing named above the method */
	assert_int_equal(ATTRIB(fx, &frame, "shmem_mkdir", "?", "bpf_prog_0123456789abcdef_vl_method"),
			 VL_ATTR_UNKNOWN);
	assert_string_equal(attrib_name(VL_ATTR_CORE), "core");
	assert_string_equal(attrib_name(VL_ATTR_UNKNOWN), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prefixes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filesystem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_core, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
	};

	return cmocka_run_group_tests_name("attrib", tests, NULL, NULL);
}
