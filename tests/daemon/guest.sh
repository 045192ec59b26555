#!/bin/sh
# tests/daemon/guest.sh: the guest side of tests/daemon/vm.sh, with
# vl_badcall loaded. One daemon checks tmpfs with fentry; three clients at
# once (one asks, one stalls, one is killed); three streams (one keeps up,
# one stalls, one is killed) while top attaches; faults it must count; its
# trace on a tiny tmpfs until the disk is full, checking going on; SIGHUP,
# with attached viewers across a reload of the probes; SIGTERM; kill -9.
# Results in /share for tests/daemon/judge.py.
set -u
S=/share
P=/sys/module/vl_badcall/parameters/run
uname -r > $S/kernel
mkdir -p /mnt/tiny /mnt/tmp/d /etc/vfslock
mount -t tmpfs -o size=${TINY_KB:-4096}k tiny /mnt/tiny
# the metrics are served on loopback
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
cat > /etc/vfslock/daemon.conf <<CONF
trace_dir = /mnt/tiny
trace_max_size = 64M
fs = tmpfs
lock_events = all
CONF
progs() { bpftool prog show | grep -cE 'name (method_|contention_|down_|up_)'; }
progs > $S/progs.before

status() { vfslock daemon status > $S/$1.status.json 2>&1; }
up() {
	t=0
	until vfslock daemon status > /dev/null 2>&1; do
		sleep 0.5; t=$((t + 1)); [ $t -lt 120 ] || return 1
	done
}

vfslock daemon > $S/daemon.log 2>&1 &
D=$!
up; echo $? > $S/up.rc
progs > $S/progs.running

# a first fault; then tmpfs work while another file fills the trace's disk
echo lookup_unlocked /mnt/tmp > $P
status first
dd if=/dev/zero of=/mnt/tiny/filler bs=64k 2>/dev/null
stress-ng --dir 1 --rename 1 --open 1 -t 5 --temp-path /mnt/tmp/d --quiet
status full
df -k /mnt/tiny | tail -1 > $S/full.df
# checking goes on while recording is paused: a second fault is counted
echo setattr_unlocked /mnt/tmp > $P
sleep 2

# three clients at once: one connected that never asks (stalled), one
# killed while connected, and one that asks and reads
sleep 30 | busybox nc 127.0.0.1 9464 > /dev/null 2>&1 &
sleep 30 | busybox nc 127.0.0.1 9464 > /dev/null 2>&1 &
KILLED=$!
sleep 1
status three
kill -KILL $KILLED
sleep 1
status killed
vfslock -j report > $S/report.json 2> $S/report.err
echo $? > $S/report.rc
wget -q -O $S/metrics.txt http://127.0.0.1:9464/metrics
echo $? > $S/metrics.rc
sleep 11
status after
# the disk stayed full: each try to write again left nothing behind
ls -l /mnt/tiny > $S/tiny.ls

# streams: one keeps up into a file, one stalls (its pipe is never read),
# one is killed; top attaches meanwhile and sees a fault that a check,
# attached too, makes and judges for its command's tasks alone
vfslock daemon stream -o $S/live.vlt 2> $S/live.err &
LIVE=$!
vfslock daemon stream --buffer 64K 2> /dev/null | sleep 40 &
vfslock daemon stream > /dev/null 2>&1 &
SKILL=$!
vfslock -j top -n 8 -d 1 > $S/top.json 2> $S/top.err &
TOPP=$!
sleep 2
status streams
kill -KILL $SKILL
vfslock check --junit $S/attached.xml -- sh -c "echo lookup_unlocked /mnt/tmp > $P" \
	> $S/attached.out 2> $S/attached.err
echo $? > $S/attached.rc
stress-ng --dir 1 --rename 1 --open 1 -t 3 --temp-path /mnt/tmp/d --quiet &
SNG=$!
vfslock check -- ls /mnt/tmp > $S/attached-clean.out 2>&1
echo $? > $S/attached-clean.rc
wait $SNG
wait $TOPP
echo $? > $S/top.rc
status streams2
kill -INT $LIVE
wait $LIVE
echo $? > $S/live.rc
vfslock -j report $S/live.vlt > $S/live.json 2> $S/live.rep

# a module that goes and comes back moves symbols: the next stream's head
# reads /proc/kallsyms again (the heads before reused the daemon's snapshot)
{ rmmod dummy && modprobe dummy; } > $S/modswap.err 2>&1
echo $? > $S/modswap.rc
vfslock daemon stream -o $S/mod.vlt 2> /dev/null &
MODS=$!
sleep 2
kill -INT $MODS
wait $MODS
status modules

# SIGHUP: a new metrics port
echo 'metrics = 127.0.0.1:9465' >> /etc/vfslock/daemon.conf
kill -HUP $D
sleep 3
wget -q -O $S/metrics2.txt http://127.0.0.1:9465/metrics
echo $? > $S/metrics2.rc

# SIGHUP with new probe settings while a check and a top are attached: the
# check cannot pass on half a run; top goes on with the new probes
vfslock check -- sleep 30 > $S/reload-check.out 2> $S/reload-check.err &
RCHK=$!
vfslock -j top -n 6 -d 2 > $S/reload-top.json 2> $S/reload-top.err &
RTOP=$!
sleep 3
echo 'trace_max_size = 128M' >> /etc/vfslock/daemon.conf
kill -HUP $D
wait $RCHK
echo $? > $S/reload-check.rc
wait $RTOP
echo $? > $S/reload-top.rc
up
# the trace's disk is still full: the new probes' trace waits, checking goes on
status reloaded

kill -TERM $D
wait $D
echo $? > $S/term.rc
sleep 2
progs > $S/progs.term
ls /run/vfslock > $S/run.ls 2>&1

# kill -9: nothing left attached; the next daemon takes the socket over
rm -f /mnt/tiny/*
vfslock daemon > $S/daemon2.log 2>&1 &
D=$!
up
progs > $S/progs.running2
kill -KILL $D
wait $D
sleep 2
progs > $S/progs.kill9
vfslock daemon > $S/daemon3.log 2>&1 &
D=$!
up; echo $? > $S/up3.rc
kill -TERM $D
wait $D
dmesg | grep -E 'WARNING:|BUG:|Oops' > $S/dmesg.txt
touch $S/done
