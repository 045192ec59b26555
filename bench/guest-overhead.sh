#!/bin/sh
# Runs in the VM (bench/overhead): the stress-ng metadata mix on one
# filesystem, without and with `vfslock check` (or `vfslock top`, or
# `vfslock daemon`, when BENCH_TOOL says so), ROUNDS times. Prints one
# line per stressor and round:
# "base|check ROUND STRESSOR OPS_PER_S".
set -u
FS=${BENCH_FS:-/mnt/ext4}
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
MIX=${BENCH_MIX:-"--dir 1 --dentry 1 --rename 1 --link 1 --symlink 1 --chmod 1 --touch 1 --utime 1 --open 1"}
FSTYPES=${BENCH_FSTYPES:-tmpfs,ext4}

# bogo ops/s (real time) per stressor from stress-ng's brief metrics
metrics() {
	awk -v tag="$1" -v r="$2" '/metrc:/ && $5 ~ /^[0-9]+$/ { print tag, r, $4, $9 }'
}

# MIX is one group of stressors run together, or several separated by ';'
# run one after the other: stressors of very different rates sharing one
# vCPU measure the scheduler more than their own cost. The same script runs
# bare and under vfslock.
cat > /tmp/bench-mix.sh <<'EOF'
echo "$MIX" | tr ';' '\n' | while read -r group; do
	[ -n "$group" ] || continue
	stress-ng $group -t "$SECS" --temp-path "$FS" --metrics-brief 2>&1
done
EOF
export MIX SECS FS

# one group: stress-ng itself is the workload, as it always was
case $MIX in
*';'*) WORKLOAD="sh /tmp/bench-mix.sh" ;;
*) WORKLOAD="stress-ng $MIX -t $SECS --temp-path $FS --metrics-brief" ;;
esac

# "lost ROUND N": the first "lost" count of the tool's JSON (its result,
# snapshot or status)
lost_in() {
	lost=$(sed -n 's/.*"lost": *\([0-9]*\).*/\1/p' "$1" | head -1)
	echo "lost $2 ${lost:-?}"
}

base() {
	$WORKLOAD 2>&1 | metrics base "$1"
}

check() {
	rm -f /tmp/bench-check.json
	vfslock check ${BENCH_CHECK_OPTS:-} --fs "$FSTYPES" --json /tmp/bench-check.json -- $WORKLOAD \
		2>&1 | metrics check "$1"
	# a check that did not run would pass for a free one
	[ -s /tmp/bench-check.json ] || { echo "vfslock check failed" >&2; exit 1; }
	lost_in /tmp/bench-check.json "$1"
}

# top watches the whole system, not a command: started first, stopped after
run_top() {
	rm -f /tmp/bench-top.json /tmp/bench-top.err
	vfslock top -j -d 3600 ${BENCH_CHECK_OPTS:-} > /tmp/bench-top.json 2> /tmp/bench-top.err &
	tp=$!
	i=0
	while [ $i -lt 1200 ] && ! grep -q watching /tmp/bench-top.err; do
		sleep 0.5
		i=$((i + 1))
	done
	$WORKLOAD 2>&1 | metrics check "$1"
	kill -TERM $tp
	wait $tp
	[ -s /tmp/bench-top.json ] || { echo "vfslock top failed" >&2; cat /tmp/bench-top.err >&2; exit 1; }
	lost_in /tmp/bench-top.json "$1"
}
# the daemon, as a host would run it always on: every task watched, its
# trace written (to the guest's root, in its memory, away from the
# filesystems measured), metrics off; started first and stopped after, as
# top is. Its counters come from its status.
run_daemon() {
	mkdir -p /etc/vfslock /var/lib/vfslock-bench
	cat > /etc/vfslock/daemon.conf <<CONF
trace_dir = /var/lib/vfslock-bench
trace_max_size = 64M
metrics = off
fs = $FSTYPES
CONF
	vfslock daemon > /tmp/bench-daemon.log 2>&1 &
	dp=$!
	i=0
	until vfslock daemon status > /dev/null 2>&1; do
		sleep 0.5
		i=$((i + 1))
		[ $i -lt 1200 ] && kill -0 $dp 2> /dev/null ||
			{ echo "vfslock daemon failed" >&2; cat /tmp/bench-daemon.log >&2; exit 1; }
	done
	$WORKLOAD 2>&1 | metrics check "$1"
	vfslock daemon status > /tmp/bench-daemon.json 2>&1
	kill -TERM $dp
	wait $dp
	lost_in /tmp/bench-daemon.json "$1"
	echo "trace_kib $1 $(du -sk /var/lib/vfslock-bench | cut -f1)"
	rm -rf /var/lib/vfslock-bench
}
case ${BENCH_TOOL:-check} in
top) measured=run_top ;;
daemon) measured=run_daemon ;;
*) measured=check ;;
esac

# ABBA: the order flips every round, so a drift of the machine over the run
# (caches, the filesystem filling, the host) weighs on both sides alike.
r=1
while [ "$r" -le "$ROUNDS" ]; do
	if [ $((r % 2)) -eq 1 ]; then
		base "$r"
		$measured "$r"
	else
		$measured "$r"
		base "$r"
	fi
	r=$((r + 1))
done
