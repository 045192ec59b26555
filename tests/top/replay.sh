#!/usr/bin/env bash
# tests/top/replay.sh [VFSLOCK]: `vfslock record` where only the lock
# tracepoints load (contention mode, said so), then `vfslock top --replay`
# over that recording: batch snapshots per second of its time ending where
# `report` ends, and the screen in tmux paused, stepped, moved back and on.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/tap.sh"
. "$ROOT/tests/lib/tmux.sh"
V=${1:-$ROOT/build/vfslock}
V=$(realpath "$V")
tmp=$(mktemp -d /tmp/vlreplay.XXXXXX)
sock="$tmp/tmux.sock"
mkdir -p "$tmp/fight"
trap 'tm kill-server 2>/dev/null; rm -rf "$tmp"' EXIT
shown() { screen | grep -o 'replay t.vlt at [0-9.]* s[^ ]*\( ([a-z]*)\)\?' | head -1; }
at() { shown | grep -o 'at [0-9.]*' | grep -o '[0-9.]*$'; }

# 1. a recording: processes fighting over a directory for 14 s
"$V" record -o "$tmp/t.vlt" --duration 14 --json "$tmp/live.json" -- python3 -c '
import os, sys, time, multiprocessing as mp
def fight(me):
    n, end = 0, time.time() + 12
    while time.time() < end:
        n += 1
        p = os.path.join(sys.argv[1], "%s.%d" % (me, n))
        os.close(os.open(p, os.O_CREAT | os.O_WRONLY, 0o600))
        os.unlink(p)
ps = [mp.Process(target=fight, args=(i,)) for i in range(4)]
[p.start() for p in ps]
[p.join() for p in ps]
' "$tmp/fight" > "$tmp/record.out" 2> "$tmp/record.err"
rc=$?
t_check "record exits 0 (got $rc)" [ "$rc" -eq 0 ]
if "$V" probe 2>/dev/null | grep -q 'fentry.*refused\|fentry: no'; then
	t_check "record says it records lock waits only, and why" \
		grep -q 'recording lock waits only' "$tmp/record.err"
fi
t_check "record names what it wrote" grep -Eq 't.vlt: [0-9]+ records, [0-9]+ bytes on disk' \
	"$tmp/record.err"

# 2. batch: a snapshot per second of the recording, the last one the report's
"$V" -j top --replay "$tmp/t.vlt" -d 1 > "$tmp/snaps.json" 2> "$tmp/snaps.err"
rc=$?
"$V" report -j "$tmp/t.vlt" > "$tmp/report.json" 2> "$tmp/report.err"
if python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
snaps = [json.loads(l) for l in open(d + "/snaps.json")]
rep = json.load(open(d + "/report.json"))
live = json.load(open(d + "/live.json"))
pos = [float(s["replay"].split(" at ")[1].split(" ")[0]) for s in snaps]
assert len(snaps) >= 12, f"{len(snaps)} snapshots"
assert pos == sorted(pos) and pos[0] == 1.0, pos[:4]
assert "(end)" in snaps[-1]["replay"], snaps[-1]["replay"]
waits = [s["waits"] for s in snaps]
assert waits == sorted(waits), "waits only grow"
c = rep["contention"]
assert snaps[-1]["waits"] == c["waits"] == live["contention"]["waits"] > 0, \
    (snaps[-1]["waits"], c["waits"], live["contention"]["waits"])
assert [l["lock"] for l in snaps[-1]["locks"]] == [l["lock"] for l in c["locks"]]
print(f"{len(snaps)} snapshots, {c['waits']} waits")
PY
then t_ok "top --replay -j: one snapshot a second of the recording, the last equal to report and to the live result (exit $rc)"
else t_not_ok "top --replay -j: snapshots per second ending at the report's figures (exit $rc)"; fi

# 3. the screen: pause, step, back, on, go to
tm new-session -d -s t -x 80 -y 24 "TERM=screen $V top --replay $tmp/t.vlt -d 1; echo rc=\$? > $tmp/tui.rc; sleep 60"
t_check "the screen shows the replay line and the locks view" wait_for 'replay t.vlt at .*CLASS|CLASS' 10
wait_for 'replay t.vlt at [3-9]' 15
keys Space
p1=$(at)
sleep 2.5
p2=$(at)
t_check "space pauses the recording's time ($p1 -> $p2, $(shown))" \
	test -n "$p1" -a "$p1" = "$p2"
screen | grep -q '(paused)' && t_ok "the header says paused" || t_not_ok "the header says paused"
keys n
p3=$(at)
t_check "n steps one refresh interval ($p2 -> $p3)" \
	python3 -c "import sys; sys.exit(abs(float('$p3') - float('$p2') - 1) > 0.01)"
keys '['
p4=$(at)
t_check "[ goes back 10 s, or to the start ($p3 -> $p4)" \
	python3 -c "import sys; sys.exit(float('$p4') != max(1.0, float('$p3') - 10))"
keys g
keys 7 Enter
p5=$(at)
t_check "g 7 goes to second 7 ($p5)" python3 -c "import sys; sys.exit(float('$p5') != 7.0)"
keys ']'
p6=$(at)
line=$(shown)
t_check "] goes on 10 s, to the end at most ($p6, $line)" \
	python3 -c "import sys; sys.exit(not ('(end)' in '$line' or float('$p6') == 17.0))"
keys q
sleep 1
t_check "q leaves with status 0 ($(cat "$tmp/tui.rc" 2>/dev/null))" grep -q 'rc=0' "$tmp/tui.rc"
t_summary
