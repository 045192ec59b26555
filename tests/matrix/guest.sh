#!/bin/sh
# Runs inside the VM (tests/matrix/run.sh): what every kernel of the matrix
# must show, in one boot. Results go to /share for tests/matrix/judge.py,
# and the reports stay in build/reports/matrix-KERNEL for
# scripts/kernel-support.
#
#   probe     vfslock -j probe (its dry loads) and rules coverage of this kernel
#   mix       the stock metadata mix under check on tmpfs and ext4
#   faults    vl_badcall's calls of tmpfs methods without their locks,
#             recorded: the live result and the trace, replayed on the host
#   refused   with $S/refuse: the sleep probe refused, check going on without it
#   reffs     vlrefs breaking two rules under check
#   fight     vfslock top while two processes fight over one directory
set -u
S=/share
uname -r > $S/kernel
. "$(dirname "$0")/../lib/guest.sh"
KNOWN="--suppressions /opt/vfslock/suppressions/kernel.supp"
P=/sys/module/vl_badcall/parameters/run
SECS=${STRESS_SECONDS:-4}

vfslock -j probe > $S/probe.json 2> $S/probe.err
echo $? > $S/probe.rc
vfslock -j rules coverage > $S/coverage.json 2> $S/coverage.err
echo $? > $S/coverage.rc

# the stock metadata mix of tests/check, shorter
MIX="--dir 1 --dentry 1 --rename 1 --link 1 --symlink 1 --chmod 1 --touch 1 --utime 1 --open 1"
vfslock check --fs tmpfs,ext4 $KNOWN --json $S/mix.json -- sh -c "
	stress-ng $MIX -t $SECS --temp-path /mnt/ext4 --metrics-brief &&
	stress-ng $MIX -t $SECS --temp-path /mnt/tmp --metrics-brief" > $S/mix.out 2>&1
echo $? > $S/mix.rc
rm -rf /mnt/ext4/tmp-stress-ng-* /mnt/tmp/tmp-stress-ng-*

# tmpfs's methods are the core kernel's: traceable on every kernel, 5.10 too
if [ -d /sys/module/vl_badcall ]; then
	mkdir /mnt/tmp/a /mnt/tmp/b
	touch /mnt/tmp/victim /mnt/tmp/a/x
	vfslock record -o $S/faults.vlt --fs tmpfs --json $S/faults.json -- sh -c "
		echo lookup_unlocked /mnt/tmp > $P &&
		echo unlink_victim_unlocked /mnt/tmp victim > $P &&
		echo rename_one_parent /mnt/tmp/a x /mnt/tmp/b y > $P &&
		echo setattr_unlocked /mnt/tmp/b/y > $P &&
		echo mkdir_shared /mnt/tmp d > $P" > $S/faults.out 2>&1
	echo $? > $S/faults.rc
fi

# a kernel refusing one program check can do without (as a changed verifier
# would): its rules go unchecked, said, and the rest goes on; the faults
# run twice, with every probe and without the sleep probe (on the kernels
# run.sh asks it of: two check start-ups cost minutes under emulation)
if [ -d /sys/module/vl_badcall ] && [ -f $S/refuse ]; then
	for run in all refused; do
		[ $run = refused ] && export VFSLOCK_TEST_REFUSE=on_switch
		vfslock check --fs tmpfs --json $S/$run.json --junit $S/$run.xml -- sh -c "
			touch /mnt/tmp/gone && rm /mnt/tmp/gone &&
			echo lookup_unlocked /mnt/tmp > $P" > $S/$run.out 2>&1
		echo $? > $S/$run.rc
		unset VFSLOCK_TEST_REFUSE
	done
	VFSLOCK_TEST_REFUSE=on_switch vfslock -j probe > $S/probe-refused.json 2>&1
fi

if [ -d /sys/module/vlrefs ]; then
	mkdir -p /mnt/r && mount -t vlrefs -o size=64m none /mnt/r
	touch /mnt/r/vlbreak_sa
	vfslock check --fs vlrefs --json $S/reffs.json -- sh -c "
		stress-ng --dir 1 --rename 1 --open 1 -t $SECS --temp-path /mnt/r --metrics-brief &&
		echo setattr_unlocked,create_shared > /sys/module/vlrefs/parameters/break &&
		dd if=/dev/null of=/mnt/r/vlbreak_sa conv=notrunc,fsync 2>/dev/null &&
		{ stat /mnt/r/vlbreak_cs >/dev/null 2>&1; true; } &&
		echo none > /sys/module/vlrefs/parameters/break" > $S/reffs.out 2>&1
	echo $? > $S/reffs.rc
	tr '\n' ' ' < /sys/module/vlrefs/parameters/break_hits > $S/reffs.hits
	umount /mnt/r
fi

# top: one snapshot of 8 s, the fight inside it
mkdir -p /mnt/tmp/fight
vfslock -j top -n 1 -d 8 > $S/top.json 2> $S/top.err &
top=$!
wait_file $S/top.err 'watching' 300 || echo "top never started" >> $S/top.err
vl_fight /mnt/tmp/fight 5 2 > $S/fight.out 2>&1
echo $? > $S/fighters.rc
wait $top
echo $? > $S/top.rc
touch $S/done
