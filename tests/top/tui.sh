#!/usr/bin/env bash
# tests/top/tui.sh [VFSLOCK]: drive `vfslock top` in tmux and read the screen.
#
# Runs wherever contention_begin/end load: on a build machine that refuses
# fentry, top must run in contention-only mode and say what is missing. Two
# groups of processes fight over one directory's i_rwsem (create and unlink
# in it); that directory must show up as an i_rwsem lock, with its path.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/tap.sh"
. "$ROOT/tests/lib/tmux.sh"
V=${1:-$ROOT/build/vfslock}
V=$(realpath "$V")
tmp=$(mktemp -d /tmp/vltop.XXXXXX)
sock="$tmp/tmux.sock"
fight="$tmp/fight"
mkdir -p "$fight"
pids=()

cleanup() {
	kill "${pids[@]}" 2>/dev/null
	tm kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# N processes per side: each creates and unlinks names in the one directory,
# so each step takes its i_rwsem exclusively
fight_start() {
	local side i
	for side in a b; do
		for i in 1 2 3; do
			python3 -c '
import os, sys
d, me, n = sys.argv[1], sys.argv[2], 0
while True:
    n += 1
    p = os.path.join(d, "%s.%d" % (me, n))
    os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
    os.unlink(p)
' "$fight" "$side$i" &
			pids+=($!)
		done
	done
}

# batch and JSON first: what the screen shows, the snapshot holds
fight_start
"$V" -j top -n 1 -d 4 > "$tmp/snap.json" 2> "$tmp/snap.err"
rc=$?
t_check "top -j -n 1 exits 0 (got $rc)" [ "$rc" -eq 0 ]
t_check "top -j: one JSON snapshot with header, locks, tasks, call sites" python3 - "$tmp/snap.json" "$fight" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, len(lines)
s = json.loads(lines[0])
for k in ("kernel", "rules_version", "rules_source", "mode", "missing", "lost", "waits",
          "locks", "tasks", "sites", "recent_deviations"):
    assert k in s, k
assert s["mode"].startswith("contention"), s["mode"]
assert s["waits"] > 0 and s["lost"] == 0, (s["waits"], s["lost"])
PY
t_check "top -j: the fought-over directory is an i_rwsem lock named by its path, with waits and waiters" python3 - "$tmp/snap.json" "$fight" <<'PY'
import json, sys
s = json.loads(open(sys.argv[1]).read())
mine = [l for l in s["locks"] if l["class"] == "i_rwsem" and l["path"] == sys.argv[2]]
assert mine, [(l["class"], l["path"]) for l in s["locks"]][:10]
l = mine[0]
waits = l["wait_write"]["count"] + l["wait_read"]["count"]
assert waits > 0 and l["waiters"], l
assert sum(w["count"] for w in l["waiters"]) == waits, l["waiters"]
assert sum(l["wait_hist_log2_ns"]) == waits, l["wait_hist_log2_ns"]
assert l["stack"], "no waiter stack"
PY
fentry=$("$V" -j probe | python3 -c 'import json,sys; print(json.load(sys.stdin)["capabilities"]["fentry"]["ok"])')
if [ "$fentry" = False ]; then
	t_check "top -j on a host refusing fentry says hold times and rule checks are missing, and why" \
		python3 -c '
import json, sys
m = json.loads(open(sys.argv[1]).read())["missing"]
assert "hold times" in m and "rule checks" in m and "fentry" in m and "not permitted" in m, m
' "$tmp/snap.json"
fi
"$V" top -b -n 2 -d 1 -f class=i_rwsem -r 5 > "$tmp/batch.txt" 2>&1
t_check "top -b prints one text snapshot per refresh, filtered by class" sh -c "
	[ \$(grep -c '^vfslock top - ' '$tmp/batch.txt') -eq 2 ] &&
	grep -q 'filter class=i_rwsem' '$tmp/batch.txt' &&
	! grep -Eq '^(other|i_lock|d_lock|mmap_lock) ' '$tmp/batch.txt' &&
	grep -q '^i_rwsem .*$fight$' '$tmp/batch.txt'"

if [ "$fentry" = False ]; then
	"$V" top -b --holds -n 1 > /dev/null 2> "$tmp/err"
	rc=$?
	t_check "top --holds where fentry is refused exits 2 saying why" \
		sh -c "[ $rc -eq 2 ] && grep -q -- '--holds and --check .*fentry.*not permitted' '$tmp/err'"
fi
"$V" top -d 0 > /dev/null 2> "$tmp/err"
rc=$?
t_check "top -d 0 exits 2 naming the option" sh -c "[ $rc -eq 2 ] && grep -q -- '--delay' '$tmp/err'"
"$V" top -b -f colour=red > /dev/null 2> "$tmp/err"
rc=$?
t_check "top with a bad filter exits 2 naming it" sh -c "[ $rc -eq 2 ] && grep -q 'colour=red' '$tmp/err'"
"$V" top < /dev/null > /dev/null 2> "$tmp/err"
rc=$?
t_check "top without a terminal exits 2 and points at -b" sh -c "[ $rc -eq 2 ] && grep -q -- '-b' '$tmp/err'"

# the screen, 80x24 like a serial console
tm new-session -d -s t -x 80 -y 24 "bash --norc --noprofile"
tm set-option -t t remain-on-exit on > /dev/null
keys "PS1='sh$ '; clear" Enter
keys "TERM=screen '$V' top -d 0.5; echo top-exited-\$?" Enter
t_check "screen: header names kernel and mode, then the rules" wait_for '^vfslock top .* mode contention'
t_check "screen: the rules line names version and source" wait_for '^rules [0-9.]+ \((embedded|file|linux-doc):'
if [ "$fentry" = False ]; then
	t_check "screen: contention-only mode says what is missing and why" \
		wait_for '^missing: hold times.*fentry'
fi
t_check "screen: the locks view, sorted by WAIT" wait_for '^CLASS +WAITS +WAIT\* '
keys f
keys "class=i_rwsem" Enter
t_check "screen: the filter shows in the header" \
	wait_for 'filter class=i_rwsem'
t_check "screen: the directory row names its path" wait_for "^i_rwsem .*$(basename "$tmp")/fight"
screen > "$tmp/locks-screen"
t_check "screen: filtered to i_rwsem, no other class listed" \
	sh -c "! grep -Eq '^(other|i_lock|d_lock|mmap_lock) ' '$tmp/locks-screen'"
keys Enter
t_check "screen: enter opens the lock's detail with its waiters" wait_for '^  waiters '
t_check "screen: the detail shows the wait histogram" wait_for 'wait \(log2 buckets\)'
keys Escape
keys '>'
t_check "screen: > moves the sort to AVG" wait_for '^CLASS +WAITS +WAIT +AVG\* '
keys t
t_check "screen: t shows the tasks view" wait_for '^ +PID COMM +WAITS'
keys c
t_check "screen: c shows the call sites view" wait_for 'CALLER'
keys d
t_check "screen: d shows the deviations view" wait_for '^ +TIME\* +PID COMM +METHOD'
if [ "$fentry" = False ]; then
	t_check "screen: deviations view says no rule is checked in this mode" \
		wait_for 'no rule is checked in this mode'
fi
keys r
t_check "screen: r shows the rules of the document in force" wait_for '^ +[0-9]+ (yes|no) +[a-z_]+\.[a-z_]+\.'
keys h
t_check "screen: h shows the help" wait_for '^vfslock top: keys'
keys x
t_check "screen: any key leaves the help" wait_for '^view rules '
keys l
keys ' '
t_check "screen: space pauses" wait_for 'PAUSED'
keys ' '
tm resize-window -t t -x 100 -y 30 2>/dev/null || tm resize-pane -t t -x 100 -y 30
t_check "screen: survives a resize and redraws at the new size" \
	sh -c "sleep 1.5; [ \$(tmux -S '$sock' capture-pane -p -t t | wc -l) -ge 29 ] &&
	       tmux -S '$sock' capture-pane -p -t t | grep -q '^vfslock top '"
keys q
t_check "screen: q quits with status 0" wait_for '^top-exited-0'
t_check "screen: the terminal is given back (shell prompt, no top header)" \
	sh -c "tmux -S '$sock' capture-pane -p -t t | grep -q '^sh\\$' &&
	       ! tmux -S '$sock' capture-pane -p -t t | grep -q '^vfslock top '"

# signals: SIGTERM and SIGINT restore the terminal too
for sig in TERM INT; do
	keys "clear; TERM=screen '$V' top -d 0.5; echo top-$sig-exited-\$?; stty -a | grep -q ' icanon' && echo tty-sane" Enter
	if wait_for '^vfslock top ' 20; then
		kill -s "$sig" "$(pgrep -f "^$V top -d 0.5" | head -1)"
	fi
	t_check "screen: SIG$sig exits 0 and restores the terminal modes" \
		sh -c "sleep 1; tmux -S '$sock' capture-pane -p -t t | grep -q '^top-$sig-exited-0' &&
		       tmux -S '$sock' capture-pane -p -t t | grep -q '^tty-sane'"
done
t_summary
