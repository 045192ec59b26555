#!/bin/sh
# Runs inside the VM (tests/vm/run ... -- sh /opt/vfslock/tests/check/guest.sh):
# the stock metadata mix and the rule-breaking module under `vfslock check`,
# results written to /share for tests/check/run.sh to judge on the host.
set -u
S=/share
P=/sys/module/vl_badcall/parameters/run
uname -r > $S/kernel

# the kernel's own known deviations, named in docs/drift.md
KNOWN="--suppressions /opt/vfslock/suppressions/kernel.supp"

MIX="--dir 1 --dentry 1 --rename 1 --link 1 --symlink 1 --chmod 1 --touch 1 --utime 1 --open 1"
# every lock event streamed: the rebuilt holds are compared with the lock
# words at each call; the other runs take the default (reader holds only)
vfslock check --lock-events all --prog-stats --fs tmpfs,ext4 $KNOWN --json $S/stress.json -- sh -c "
	stress-ng $MIX -t ${STRESS_SECONDS:-10} --temp-path /mnt/ext4 --metrics-brief &&
	stress-ng $MIX -t ${STRESS_SECONDS:-10} --temp-path /mnt/tmp --metrics-brief" \
	> $S/stress.out 2>&1
echo $? > $S/stress.rc

# The broad mix: data, mappings, locks and leases, where each filesystem
# supports them (tmpfs on 6.1 has no user xattrs, and no fiemap). Sizes are
# bounded and leftovers of the first mix removed: fallocate's default 1 GiB
# per instance does not fit the 512 MiB disk, nor a tmpfs of half the RAM.
rm -rf /mnt/ext4/tmp-stress-ng-* /mnt/tmp/tmp-stress-ng-*
BROAD="--getdent 1 --mmap 1 --mmap-bytes 16M --mmap-file --fallocate 1 --fallocate-bytes 32M"
BROAD="$BROAD --flock 1 --lease 1 --readahead 1 --readahead-bytes 16M --sendfile 1 --sendfile-size 1M"
vfslock check --prog-stats --fs tmpfs,ext4 $KNOWN --json $S/broad.json -- sh -c "
	stress-ng $BROAD --xattr 1 --fiemap 1 --fiemap-bytes 16M -t ${STRESS_SECONDS:-8} \
		--temp-path /mnt/ext4 --metrics-brief &&
	stress-ng $BROAD -t ${STRESS_SECONDS:-8} --temp-path /mnt/tmp --metrics-brief" \
	> $S/broad.out 2>&1
echo $? > $S/broad.rc

# Each fault once, in a tree made for it; vlbadfs is vl_badcall's own,
# mounted by the workload: vfslock must pick it up while running. The
# workload waits for vfslock to say so (at most 30 s).
mkdir /mnt/tmp/a /mnt/tmp/b /mnt/vlbad
touch /mnt/tmp/victim /mnt/tmp/a/x /mnt/tmp/kept
flock /mnt/tmp/kept true	# a file lock context, for lease_change
echo data > /mnt/ext4/cached
vfslock check --fs tmpfs,ext4,vlbadfs --json $S/faults.json --junit $S/faults.xml -- sh -c "
	mount -t vlbadfs none /mnt/vlbad || exit 9
	t=0
	until grep -q 'picked up vlbadfs' $S/faults.out; do
		sleep 0.2; t=\$((t + 1)); [ \$t -lt 150 ] || exit 9
	done
	echo lookup_unlocked /mnt/tmp > $P
	echo unlink_victim_unlocked /mnt/tmp victim > $P
	echo rename_one_parent /mnt/tmp/a x /mnt/tmp/b y > $P
	echo setattr_unlocked /mnt/tmp/b/y > $P
	echo mkdir_shared /mnt/tmp d > $P
	echo sync_fs 0 /mnt/ext4 > $P
	echo drop_inode 0 /mnt/tmp/kept > $P
	echo d_delete 0 /mnt/vlbad/data > $P
	echo partial 0 /mnt/ext4/cached > $P
	echo iterate 0 /mnt/tmp > $P
	echo xattr_set 0 /mnt/ext4/cached > $P
	echo lease_change 0 /mnt/tmp/kept > $P
	echo block d_hash 1 /mnt/vlbad > $P
	echo block permission 1 /mnt/vlbad > $P
	echo return write_begin 1 /mnt/vlbad > $P
	echo return fault 1 /mnt/vlbad > $P
	echo return read_folio 1 /mnt/vlbad > $P
	echo return write_end 1 /mnt/vlbad > $P
	echo mmap fault 1 /mnt/vlbad > $P
	test ! -e /mnt/tmp/victim && test -e /mnt/tmp/b/y && test -d /mnt/tmp/d" \
	> $S/faults.out 2>&1
echo $? > $S/faults.rc

# The same module making the same kind of calls the right way.
vfslock check --fs tmpfs,ext4,vlbadfs --json $S/control.json --junit $S/control.xml -- sh -c "
	echo lookup_locked /mnt/tmp > $P && mkdir /mnt/tmp/c && rmdir /mnt/tmp/c &&
	echo sync_fs 1 /mnt/ext4 > $P && echo drop_inode 1 /mnt/tmp/kept > $P &&
	echo d_delete 1 /mnt/vlbad/data > $P && echo partial 1 /mnt/ext4/cached > $P &&
	echo iterate 1 /mnt/tmp > $P && echo xattr_set 1 /mnt/ext4/cached > $P &&
	echo lease_change 1 /mnt/tmp/kept > $P &&
	echo block d_hash 0 /mnt/vlbad > $P && echo block permission 0 /mnt/vlbad > $P &&
	echo return write_begin 0 /mnt/vlbad > $P && echo return fault 0 /mnt/vlbad > $P &&
	echo return read_folio 0 /mnt/vlbad > $P && echo return write_end 0 /mnt/vlbad > $P &&
	echo mmap fault 0 /mnt/vlbad > $P && umount /mnt/vlbad" \
	> $S/control.out 2>&1
echo $? > $S/control.rc

# A baseline: written from a run with one fault, it hides that one and not
# a second, new one.
vfslock check --fs tmpfs --write-baseline $S/base.baseline -- \
	sh -c "echo lookup_unlocked /mnt/tmp > $P" > $S/base1.out 2>&1
echo $? > $S/base1.rc
vfslock check --fs tmpfs --baseline $S/base.baseline --junit $S/base2.xml -- \
	sh -c "echo lookup_unlocked /mnt/tmp > $P && echo setattr_unlocked /mnt/tmp/b/y > $P" \
	> $S/base2.out 2>&1
echo $? > $S/base2.rc
vfslock check --fs tmpfs --baseline $S/base.baseline --json $S/base3.json -- \
	sh -c "echo lookup_unlocked /mnt/tmp > $P" > $S/base3.out 2>&1
echo $? > $S/base3.rc

# --all: the whole system, no command; the fault is made by a task that is
# no workload's, started before the check (it waits for the check to run)
(
	t=0
	until grep -q 'checking every task' $S/all.out 2>/dev/null; do
		sleep 0.2; t=$((t + 1)); [ $t -lt 300 ] || exit 9
	done
	echo lookup_unlocked /mnt/tmp > $P
) &
vfslock check --all --duration 6 --fs tmpfs --json $S/all.json > $S/all.out 2>&1
echo $? > $S/all.rc
wait
exit 0
