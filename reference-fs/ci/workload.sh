#!/bin/sh
# reference-fs/ci/workload.sh [FAULT[,FAULT...]] [SECONDS]: the workload of
# the CI example in docs/ci.md, run in the guest by tests/vm/check-module
# from a copy of reference-fs/, with vlrefs loaded and mounted at
# /mnt/vlrefs (its --setup).
#
# Runs stress-ng's metadata and data stressors on vlrefs, then
# the calls two of vlrefs' faults hook (an fsync and a stat of vlbreak*
# names). With no FAULT they break nothing; with setattr_unlocked or
# create_shared (docs/reference-fs.md) those calls break a rule, so the
# same workload shows a clean check and a failing one.
set -eu
faults=${1:-none}
secs=${2:-10}
m=/mnt/vlrefs

echo "$faults" > /sys/module/vlrefs/parameters/break

stress-ng --temp-path $m -t "$secs" --metrics-brief \
	--dir 1 --dentry 1 --rename 1 --link 1 --symlink 1 --chmod 1 --touch 1 \
	--open 1 --getdent 1 --mmap 1 --mmap-file --mmap-bytes 1m \
	--fallocate 1 --fallocate-bytes 1m --xattr 1 --hdd 1 --hdd-bytes 1m

touch $m/vlbreak_sa
dd if=/dev/null of=$m/vlbreak_sa conv=notrunc,fsync 2>/dev/null
stat $m/vlbreak_cs >/dev/null 2>&1 || true

echo none > /sys/module/vlrefs/parameters/break
echo "vlrefs break_hits: $(tr '\n' ' ' < /sys/module/vlrefs/parameters/break_hits)"
umount $m
