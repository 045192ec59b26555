#!/usr/bin/env bash
# tests/daemon/host.sh: `vfslock daemon` on the machine running the tests,
# in whatever mode it allows (lock waits only where fentry is refused):
# its socket answers status, report (the same JSON and text as `vfslock
# report`) and metrics, which Debian's python3-prometheus-client parses as
# OpenMetrics; a stalled and a vanished client neither stop it nor stay;
# streams of its live records (one keeping up, one lagging behind, one
# killed) read as traces, and `vfslock top` attaches to it;
# SIGHUP reloads (a bad file keeps the old configuration); SIGTERM detaches
# every program and leaves a readable trace; after kill -9 no program stays
# and the next daemon takes the socket over; a second daemon is refused.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/tap.sh"
V=$ROOT/build/vfslock
PY=/usr/bin/python3	# Debian's, with python3-prometheus-client (make deps)
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 20000))
cat > "$tmp/d.conf" <<CONF
# tests/daemon/host.sh
socket = $tmp/sock
trace_dir = $tmp/traces
trace_max_size = 64M
metrics = 127.0.0.1:$port
stream_buffer = 4K
CONF
# http URL: the body on stdout, the Content-Type (or the HTTP error code) on
# stderr; fails when there is no 200 answer
http() {
	python3 -c '
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=3)
    sys.stdout.write(r.read().decode())
    sys.stderr.write(r.headers["Content-Type"])
except urllib.error.HTTPError as e:
    sys.stderr.write(str(e.code))
    sys.exit(1)
except OSError:
    sys.exit(2)' "$1"
}
progs() { bpftool prog show 2>/dev/null | grep -cE 'name (contention_beg|contention_end|method_|down_|up_)' ; }
# programs are freed shortly after the last link closes: wait for that, 5 s at most
progs_back_to() {
	for _ in $(seq 25); do
		[ "$(progs)" -eq "$1" ] && return 0
		sleep 0.2
	done
	return 1
}
before=$(progs)

start() {
	"$V" daemon --config "$tmp/d.conf" >> "$tmp/d.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		[ -S "$tmp/sock" ] && "$V" daemon status --socket "$tmp/sock" > /dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
t_check "the daemon starts and answers on its socket" start
t_check "its programs are loaded ($(progs) of vfslock's)" sh -c "[ \$(bpftool prog show | grep -cE 'name contention_(beg|end)') -gt $before ]"
sleep 2
"$V" daemon status --socket "$tmp/sock" > "$tmp/status.json"
t_check "status: pid, mode, the trace being written" python3 - "$tmp/status.json" "$pid" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["pid"] == int(sys.argv[2]), s["pid"]
assert s["mode"] in ("contention", "check+contention"), s["mode"]
assert s["trace"]["recording"] is True and s["trace"]["file"].endswith(".vlt"), s["trace"]
assert s["events"] > 0 and s["lost"] == 0, s
PY
"$V" -j report --socket "$tmp/sock" > "$tmp/report.json" 2> "$tmp/report.err"
t_check "report without FILE asks the daemon, says so, gives report's JSON" \
	sh -c "grep -q 'from the daemon on $tmp/sock' '$tmp/report.err' && python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert {\"kernel\", \"mode\", \"records\", \"lost\"} <= set(r), sorted(r)
assert r[\"records\"] > 0' '$tmp/report.json'"
"$V" report --socket "$tmp/sock" > "$tmp/report.txt" 2>/dev/null
t_check "report's text from the daemon" grep -q '^kernel .*, mode ' "$tmp/report.txt"
"$V" report --socket "$tmp/nosuch" > /dev/null 2> "$tmp/err"
rc=$?
t_check "report with no FILE and no daemon exits 2 and says so" \
	sh -c "[ $rc -eq 2 ] && grep -q 'no daemon answers on $tmp/nosuch' '$tmp/err'"

http "http://127.0.0.1:$port/metrics" > "$tmp/metrics.txt" 2> "$tmp/ctype"
t_check "metrics over HTTP, as OpenMetrics ($(cat "$tmp/ctype"))" \
	grep -q '^application/openmetrics-text; version=1.0.0' "$tmp/ctype"
t_check "the OpenMetrics parser of python3-prometheus-client reads them" "$PY" - "$tmp/metrics.txt" <<'PY'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
need = {"vfslock_deviations", "vfslock_lock_wait_seconds", "vfslock_lock_hold_seconds",
        "vfslock_events", "vfslock_events_lost", "vfslock_probe_up", "vfslock_recording"}
assert need <= set(fams), need - set(fams)
assert fams["vfslock_deviations"].type == "counter"
assert fams["vfslock_lock_wait_seconds"].type == "histogram"
ev = [s.value for s in fams["vfslock_events"].samples if s.name == "vfslock_events_total"]
assert ev and ev[0] > 0, ev
up = {s.labels["probe"]: s.value for s in fams["vfslock_probe_up"].samples}
assert up["contention"] == 1, up
rec = [s.value for s in fams["vfslock_recording"].samples]
assert rec == [1], rec
# every histogram's buckets climb to +Inf, which equals its count
for f in fams.values():
    if f.type != "histogram":
        continue
    by = {}
    for s in f.samples:
        by.setdefault(s.labels.get("class"), []).append(s)
    for cls, ss in by.items():
        b = [s.value for s in ss if s.name.endswith("_bucket")]
        n = [s.value for s in ss if s.name.endswith("_count")]
        assert b == sorted(b) and b[-1] == n[0], (f.name, cls)
PY
http "http://127.0.0.1:$port/" > /dev/null 2> "$tmp/code"
t_check "a path other than /metrics is a 404 ($(cat "$tmp/code"))" grep -qx 404 "$tmp/code"

# a stalled client: connects, asks, never reads; another is served meanwhile
"$PY" - "$tmp/sock" > "$tmp/stall.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"request": "report", "format": "text", "rows": 0}\n')
time.sleep(14)
print("stalled client done")
PY
stall=$!
sleep 1
t_check "another client is served while one stalls" \
	sh -c "timeout 5 '$V' daemon status --socket '$tmp/sock' > '$tmp/s2.json'"
# a client that vanishes without reading its reply
"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"{\"request\": \"report\"}\n"); s.close()' "$tmp/sock"
sleep 12
"$V" daemon status --socket "$tmp/sock" > "$tmp/s3.json"
t_check "the stalled and the vanished client are let go (clients: only the asker)" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["clients"] == 1, s["clients"]' \
	"$tmp/s3.json"
wait "$stall"

# streams: the live records as a trace. One keeps up, one lags behind (it
# reads nothing for 6 s, then all), one is killed; top attaches meanwhile.
"$V" daemon stream --socket "$tmp/sock" -o "$tmp/live.vlt" 2> "$tmp/live.err" &
live=$!
"$PY" - "$tmp/sock" "$tmp/lag.vlt" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"request": "stream"}\n')
time.sleep(6)
s.settimeout(0.5)
out, end = open(sys.argv[2], "wb"), time.time() + 4
while time.time() < end:
    try:
        b = s.recv(1 << 20)
    except socket.timeout:
        continue
    if not b:
        break
    out.write(b)
PY
lag=$!
# contended directory work meanwhile: records enough to outgrow the lagger's buffer
mkdir -p "$tmp/fight"
"$ROOT/build/vl_fight" "$tmp/fight" 6 4 > /dev/null 2>&1 &
fight=$!
"$V" daemon stream --socket "$tmp/sock" > /dev/null 2>&1 &
killed=$!
sleep 2
"$V" daemon status --socket "$tmp/sock" > "$tmp/st1.json"
t_check "three streams at once" python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["streams"] == 3, s["streams"]' "$tmp/st1.json"
t_check "the streams' heads reuse the daemon's symbol snapshot (no module came)" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["symbol_snapshots"] == 1, s["symbol_snapshots"]' "$tmp/st1.json"
{ kill -KILL "$killed"; wait "$killed"; } 2>/dev/null
sleep 1
"$V" daemon status --socket "$tmp/sock" > "$tmp/st2.json"
t_check "a stream killed mid-way is let go at once" python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["streams"] == 2, s["streams"]' "$tmp/st2.json"
with_daemon=$(progs)
timeout 10 "$V" -j top --socket "$tmp/sock" -n 3 -d 0.5 > "$tmp/top.json" 2> "$tmp/top.err" &
topp=$!
sleep 1
during_top=$(progs)
wait "$topp"
rc=$?
t_check "top attaches to the daemon and says so (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && grep -q 'attached to the daemon on $tmp/sock' '$tmp/top.err'"
t_check "top attached loads no program ($with_daemon with the daemon, $during_top with top)" \
	test "$with_daemon" -eq "$during_top"
t_check "top's snapshots name the daemon and its mode" python3 - "$tmp/top.json" "$tmp/st2.json" "$tmp/sock" <<'PY'
import json, sys
snaps = [json.loads(l) for l in open(sys.argv[1])]
mode = json.load(open(sys.argv[2]))["mode"]
assert len(snaps) == 3, len(snaps)
assert all(s["daemon"] == sys.argv[3] for s in snaps), snaps[0].get("daemon")
assert all(s["mode"] == mode for s in snaps), (snaps[0]["mode"], mode)
PY
wait "$lag" "$fight"
"$V" daemon status --socket "$tmp/sock" > "$tmp/st3.json"
t_check "the lagging stream's records are dropped and counted by the daemon" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["stream_dropped_records"] > 0, s' "$tmp/st3.json"
"$V" -j report "$tmp/lag.vlt" > "$tmp/lag.json" 2> "$tmp/lag.err"
t_check "the lagging stream reads as a trace, with what it missed as lost records" \
	python3 - "$tmp/lag.json" "$tmp/st3.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
d = json.load(open(sys.argv[2]))
assert r["records"] > 0 and r["kernel"] == d["kernel"], r
assert 0 < r["lost"]["records"] <= d["stream_dropped_records"], (r["lost"], d["stream_dropped_records"])
PY
kill -INT "$live"
wait "$live"
rc=$?
"$V" -j report "$tmp/live.vlt" > "$tmp/live.json" 2> "$tmp/live.rep"
t_check "a stream that keeps up: every record, none lost (rc $rc)" python3 - "$tmp/live.json" "$rc" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert sys.argv[2] == "0" and r["records"] > 5 and r["lost"]["records"] == 0, (r["records"], r["lost"])
PY
# check attaches too; here the daemon has no method probes (or has): say which
"$V" check --socket "$tmp/sock" -- true > "$tmp/chk.out" 2> "$tmp/chk.err"
rc=$?
mode=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mode"])' "$tmp/st3.json")
t_check "check attaches to the daemon and says so; without method probes ($mode) it exits 3" \
	sh -c "grep -q 'check: attached to the daemon on $tmp/sock' '$tmp/chk.err' &&
		{ [ $mode != contention ] || { [ $rc -eq 3 ] && grep -q 'without method calls' '$tmp/chk.err'; }; }"
"$V" check --socket "$tmp/sock" --fs tmpfs -- true > /dev/null 2> "$tmp/chk2.err"
rc=$?
t_check "check attached refuses the daemon's own options (--fs), exit 2" \
	sh -c "[ $rc -eq 2 ] && grep -q 'configuration.s; --standalone' '$tmp/chk2.err'"
"$V" daemon stream --socket "$tmp/sock" -o "$tmp/end.vlt" 2>/dev/null &
endp=$!
sleep 1

# SIGHUP: a bad file keeps the configuration, a good one moves the metrics
# and reloads the probes, which an attached top follows
timeout 30 "$V" -j top --socket "$tmp/sock" -n 7 -d 1 > "$tmp/toph.json" 2> "$tmp/toph.err" &
tophp=$!
# contended work while it watches: the count top has of the old stream
# outgrows what the new one has at its first snapshot
"$ROOT/build/vl_fight" "$tmp/fight" 3 4 > /dev/null 2>&1
echo 'nonsense' >> "$tmp/d.conf"
kill -HUP "$pid"
sleep 1
t_check "SIGHUP with a bad line keeps the old configuration, naming file and line" \
	grep -q "d.conf:7: expected 'key = value'; the configuration in force is kept" "$tmp/d.log"
port2=$((port + 1))
sed -i '$d' "$tmp/d.conf"
sed -i "s/^metrics = .*/metrics = 127.0.0.1:$port2/; s/^trace_max_size = .*/trace_max_size = 128M/" \
	"$tmp/d.conf"
kill -HUP "$pid"
sleep 3
t_check "SIGHUP: metrics on the new port" sh -c "$(declare -f http); http http://127.0.0.1:$port2/metrics 2>/dev/null | grep -q '^# EOF'"
t_check "SIGHUP: nothing on the old port" sh -c "$(declare -f http); ! http http://127.0.0.1:$port/metrics > /dev/null 2>&1"
t_check "SIGHUP: the probes reloaded, into a new trace" \
	sh -c "[ \$(ls '$tmp/traces' | grep -c '\\.vlt\$') -ge 1 ] && grep -q 'configuration reloaded' '$tmp/d.log'"
wait "$tophp"
rc=$?
t_check "top attached follows the daemon across the reload (rc $rc, $(grep -c . "$tmp/toph.json") snapshots)" \
	python3 - "$tmp/toph.json" "$tmp/toph.err" "$rc" <<'PY'
import json, sys
snaps = [json.loads(ln) for ln in open(sys.argv[1])]
err = open(sys.argv[2]).read()
assert sys.argv[3] == "0", (sys.argv[3], err)
assert len(snaps) == 7, (len(snaps), err)
assert "reloaded its probes; attached to its new stream" in err, err
assert "ended the stream" not in err, err
rates = [x["events_per_s"] for x in snaps]
assert max(rates) > 0, rates
assert all(0 <= r < 1e8 for r in rates), rates
PY

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
t_check "SIGTERM: exit 0 (got $rc), the socket removed" sh -c "[ $rc -eq 0 ] && [ ! -e '$tmp/sock' ]"
wait "$endp"
"$V" report "$tmp/end.vlt" > /dev/null 2> "$tmp/end.err"
t_check "SIGTERM: a stream ends with the END block, read whole" \
	sh -c "[ -s '$tmp/end.vlt' ] && ! grep -qi 'cut\\|damage\\|no END' '$tmp/end.err'"
t_check "SIGTERM: none of vfslock's programs left ($before before)" progs_back_to "$before"
last=$(ls "$tmp"/traces/vfslock-*.vlt | tail -1)
"$V" report "$last" > "$tmp/last.txt" 2> "$tmp/last.err"
t_check "SIGTERM: the trace reads back whole, no damage" \
	sh -c "grep -q '^kernel ' '$tmp/last.txt' && ! grep -qi 'cut\\|damage\\|no END' '$tmp/last.err'"

start > /dev/null
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pid=
sleep 1
t_check "kill -9: none of vfslock's programs left" progs_back_to "$before"
t_check "kill -9: the next daemon takes the stale socket over" start
"$V" daemon --config "$tmp/d.conf" > /dev/null 2> "$tmp/second.err"
rc=$?
t_check "a second daemon is refused, exit 2 (got $rc), before loading anything" \
	sh -c "[ $rc -eq 2 ] && grep -q 'a daemon already answers' '$tmp/second.err' &&
		! grep -q warning '$tmp/second.err'"
kill -TERM "$pid"
wait "$pid"
pid=

t_summary
