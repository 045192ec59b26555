#!/bin/sh
# Runs inside the VM (tests/record/vm.sh): recordings under stress-ng,
# one ended cleanly with its live result, one cut by kill -9, one on a
# disk that fills. tests/record/judge.py reads them back on the host.
set -u
S=/share
uname -r > $S/kernel
mkdir -p /mnt/tmp/stress /mnt/tmp/killed /mnt/tiny
STRESS="stress-ng -q --dir 1 --rename 1 --open 1 --link 1 --temp-path"

. "$(dirname "$0")/../lib/guest.sh"

# 1. a clean recording: the trace, and the result the live pipeline gave
vfslock record -o $S/stress.vlt --fs tmpfs --json $S/live.json -- \
	$STRESS /mnt/tmp/stress -t ${RECORD_SECONDS:-15} > $S/stress.out 2> $S/stress.err
echo $? > $S/stress.rc

# 2. killed mid-recording: the trace must read back to its last block
vfslock record -o $S/killed.vlt --fs tmpfs -- \
	$STRESS /mnt/tmp/killed -t 60 > $S/killed.out 2> $S/killed.err &
rec=$!
# some seconds of records after the probes are in
wait_file $S/killed.err 'writing' 300 || echo "record never started" >> $S/killed.err
sleep ${KILL_AFTER:-8}
kill -9 $rec
wait $rec
echo $? > $S/killed.rc
killall -9 stress-ng 2>/dev/null
sleep 1

# 3. a disk that fills: recording stops with a message, the trace stays readable
mount -t tmpfs -o size=${TINY_KB:-1536}k tiny /mnt/tiny
vfslock record -o /mnt/tiny/full.vlt --fs tmpfs -- \
	$STRESS /mnt/tmp/stress -t 60 > $S/full.out 2> $S/full.err
echo $? > $S/full.rc
killall -9 stress-ng 2>/dev/null
cp /mnt/tiny/full.vlt $S/full.vlt
df -k /mnt/tiny | tail -1 > $S/full.df
umount /mnt/tiny

# nothing of vfslock's may stay loaded after any of the three
# (the programs of bpf/*.bpf.c, by the names bpftool shows, cut at 15 characters)
bpftool prog show 2>&1 |
	grep -Ec 'name (contention_|folio_lock|on_exit|on_fork|on_switch|fn |method_exit|dump_)' \
	> $S/progs-left
echo done > $S/done
