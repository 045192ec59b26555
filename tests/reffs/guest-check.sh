#!/bin/sh
# tests/reffs/guest-check.sh [SECONDS]: the guest side of tests/reffs/check.sh.
# With vlrefs loaded, `vfslock check --fs vlrefs` three times, results in
# /share for tests/reffs/judge.py:
#
#   load     stress-ng's filesystem stressors on vlrefs, SECONDS in all (default
#            60: two thirds on a plain mount, one third on a casefold one),
#            after a few data checks: no deviation may be found
#   faults   every fault's trigger sequence, the fault in force
#            (guest-provoke.sh on): each must be found, nothing else
#   control  the same sequences with every fault off (guest-provoke.sh off)
#
# Then vlrefs must unmount and unload, the kernel without a warning
# (guest.tap, "ok - ..." lines).
set -u
S=/share
secs=${1:-60}
plain_secs=$((secs * 2 / 3))
ci_secs=$((secs - plain_secs))
r=/mnt/r
rc=/mnt/rc

# shellcheck source=tests/reffs/guest-lib.sh
. /opt/vfslock/tests/reffs/guest-lib.sh

# the kernel's own known deviations (docs/drift.md): per-VMA lock faults
KNOWN=/opt/vfslock/suppressions/kernel.supp

uname -r >$S/kernel
mkdir -p $r $rc
{
	check "mount -t vlrefs -o size=256m" mount -t vlrefs -o size=256m none $r
	check "mount -t vlrefs -o casefold,size=256m" mount -t vlrefs -o casefold,size=256m none $rc
} >$S/guest.tap

# a binary run from vlrefs (mmap, fault, map_pages), data written and read
# back, a hole, preallocation, names with and without casefold; then the
# stressors, plain then casefold. The exit status says which step failed.
vfslock check --fs vlrefs --suppressions $KNOWN --json $S/load.json -- sh -c "
	. /opt/vfslock/tests/reffs/guest-lib.sh
	cp /bin/busybox $r/busybox && [ \"\$($r/busybox echo vlrefs)\" = vlrefs ] || exit 11
	head -c 1234567 /dev/urandom >/tmp/ref && cp /tmp/ref $r/data && cmp /tmp/ref $r/data || exit 12
	truncate -s 3000000 $r/data && fallocate -l 100000 $r/falloc && head -c 1234567 $r/data | cmp - /tmp/ref || exit 13
	casesensitive_lookup $r && casefold_lookup $rc || exit 14
	rm -rf $r/* || exit 15
	reffs_stress $r $plain_secs || exit 16
	reffs_stress $rc $ci_secs || exit 17" >$S/load.out 2>&1
echo $? >$S/load.rc
{
	check "all blocks free once every file is removed" all_blocks_free $r
	check "all blocks free once every file is removed, casefold mount" all_blocks_free $rc
} >>$S/guest.tap

vfslock check --fs vlrefs --suppressions $KNOWN --json $S/faults.json -- \
	sh /opt/vfslock/tests/reffs/guest-provoke.sh on >$S/faults.out 2>&1
echo $? >$S/faults.rc

vfslock check --fs vlrefs --suppressions $KNOWN --json $S/control.json -- \
	sh /opt/vfslock/tests/reffs/guest-provoke.sh off >$S/control.out 2>&1
echo $? >$S/control.rc

{
	check "umount $r" umount $r
	check "umount $rc" umount $rc
	check "mount -o size=1m: a 2 MiB write fails with ENOSPC" enospc
	check "rmmod vlrefs" rmmod vlrefs
	check "no kernel warning, BUG or oops in dmesg" no_kernel_complaint
} >>$S/guest.tap
# all of it, for what the console (KERN_ERR and worse) does not show
dmesg >$S/dmesg
exit 0
