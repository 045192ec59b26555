// SPDX-License-Identifier: GPL-2.0
/*
 * Makes the kernel report a problem on request, so that the VM bench's
 * self-test can check how tests/vm/run classifies each kind:
 *
 *   echo warn > /sys/module/provoke/parameters/trigger    WARNING, kernel goes on
 *   echo oops > /sys/module/provoke/parameters/trigger    NULL dereference: Oops
 *   echo bug  > /sys/module/provoke/parameters/trigger    BUG()
 *
 * The Debian kernels have no lkdtm, which would otherwise do this.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

/* volatile so that the compiler emits the store instead of a trap. */
static int *volatile provoke_null;

static int provoke_set(const char *val, const struct kernel_param *kp)
{
	if (sysfs_streq(val, "warn")) {
		WARN(1, "provoke: warning on request\n");
		return 0;
	}
	if (sysfs_streq(val, "oops")) {
		*provoke_null = 1;
		return 0;
	}
	if (sysfs_streq(val, "bug"))
		BUG();
	return -EINVAL;
}

static const struct kernel_param_ops provoke_ops = {
	.set = provoke_set,
};

module_param_cb(trigger, &provoke_ops, NULL, 0200);
MODULE_PARM_DESC(trigger, "warn, oops or bug");

MODULE_DESCRIPTION("vfslock VM bench self-test: provoke kernel reports");
MODULE_LICENSE("GPL");
