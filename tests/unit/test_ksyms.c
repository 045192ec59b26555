// SPDX-License-Identifier: GPL-2.0
/* Kernel symbols: kallsyms text as /proc gives it and as a recording keeps it. */
#include <errno.h>

#include "unit.h"

/* Modules come after vmlinux, at lower addresses than its end: not sorted. */
static const char unsorted[] =
	"ffffffff81000000 T _stext\n"
	"ffffffff81000100 t helper\n"
	"ffffffff81000200 D some_data\n"
	"ffffffff81000300 W weak_fn\n"
	"  ffffffff81000400\tT\tshmem_mknod  \n"
	"not a line at all\n"
	"ffffffff81000500 T\n"
	"ffffffffc0001000 t vl_create\t[vl_reffs]\n"
	"ffffffffa0002000 T ext4_lookup\t[ext4]\n"
	"ffffffffa0002100 T ext4_rename\t[]\n"
	"ffffffff81000600 t tail_without_newline";

static void test_parse(void **state)
{
	struct ksyms *ks = ksyms__load_mem(unsorted, strlen(unsorted));
	const struct ksym *s;
	char buf[128];

	assert_non_null(ks);
	/* data symbols and lines with no name are not kept */
	assert_null(ksyms__name(ks, 0xffffffff80ffffffull));
	s = ksyms__find(ks, 0xffffffff81000250ull);
	assert_string_equal(s->name, "helper");
	s = ksyms__find(ks, 0xffffffff81000310ull);
	assert_string_equal(s->name, "weak_fn");
	s = ksyms__find(ks, 0xffffffff81000420ull);
	assert_string_equal(s->name, "shmem_mknod");
	assert_string_equal(s->module, "");
	assert_string_equal(ksyms__format(ks, 0xffffffffc0001010ull, buf, sizeof(buf)),
			    "vl_create+0x10 [vl_reffs]");
	assert_string_equal(ksyms__format(ks, 0xffffffffa0002004ull, buf, sizeof(buf)),
			    "ext4_lookup+0x4 [ext4]");
	/* "[]" is no module name */
	s = ksyms__find(ks, 0xffffffffa0002100ull);
	assert_string_equal(s->name, "ext4_rename");
	assert_string_equal(s->module, "");
	assert_int_equal(ksyms__addr_of(ks, "tail_without_newline"), 0xffffffff81000600ull);
	/* sorted although the text was not: the module below vmlinux is found */
	assert_int_equal(ksyms__size(ks, ksyms__find(ks, 0xffffffffa0002000ull)), 0x100);
	assert_int_equal(ksyms__size(ks, ksyms__find(ks, 0xffffffff81000400ull)), 0x200);
	ksyms__free(ks);
}

static void test_long_name(void **state)
{
	char text[600], name[400];
	const struct ksym *s;
	struct ksyms *ks;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(text, sizeof(text), "ffffffff81000000 T %s\n", name);
	ks = ksyms__load_mem(text, strlen(text));
	assert_non_null(ks);
	s = ksyms__find(ks, 0xffffffff81000000ull);
	/* cut at 255 characters, as the reader always has */
	assert_int_equal(strlen(s->name), 255);
	ksyms__free(ks);
}

static void test_restricted(void **state)
{
	static const char zeros[] = "0000000000000000 T _stext\n0000000000000000 t helper\n";

	/* kptr_restrict: every address zero, no use for stacks */
	errno = 0;
	assert_null(ksyms__load_mem(zeros, strlen(zeros)));
	assert_int_equal(errno, ENOTSUP);
	errno = 0;
	assert_null(ksyms__load_mem("", 0));
	assert_int_equal(errno, ENOENT);
}

static void test_file(void **state)
{
	char path[128];
	struct ksyms *ks;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kallsyms", unit_tmpdir());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(unsorted, f);
	fclose(f);
	ks = ksyms__load(path);
	assert_non_null(ks);
	assert_string_equal(ksyms__find(ks, 0xffffffffc0001001ull)->name, "vl_create");
	ksyms__free(ks);
	snprintf(path, sizeof(path), "%s/none", unit_tmpdir());
	assert_null(ksyms__load(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_restricted),
		cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests_name("ksyms", tests, tmpdir_setup, tmpdir_teardown);
}
