// SPDX-License-Identifier: GPL-2.0
/*
 * Smallest module the VM bench loads to prove that build-module produces a
 * .ko that the target kernel accepts and that carries BTF: once loaded,
 * /sys/kernel/btf/hello exists and fentry programs can attach to
 * hello_touch().
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>

static unsigned int hello_calls;

/*
 * Global and noinline so that the compiler keeps one real function under
 * this name (no constprop clone), which pahole records in the module's BTF.
 */
noinline int hello_touch(unsigned int delta);
noinline int hello_touch(unsigned int delta)
{
	hello_calls += delta;
	return hello_calls;
}

static int __init hello_init(void)
{
	pr_info("loaded, calls=%d\n", hello_touch(1));
	return 0;
}

static void __exit hello_exit(void)
{
	pr_info("unloaded\n");
}

module_init(hello_init);
module_exit(hello_exit);

MODULE_DESCRIPTION("vfslock VM bench self-test module");
MODULE_LICENSE("GPL");
