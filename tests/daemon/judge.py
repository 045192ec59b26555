#!/usr/bin/env python3
"""Judge what tests/daemon/guest.sh left in a share directory."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402
from prometheus_client.openmetrics.parser import text_string_to_metric_families  # noqa: E402

share = sys.argv[1]
tap = Tap(share)
check, rc = tap.check, tap.rc
kernel = open(os.path.join(share, "kernel")).read().strip()
tag = f"[{kernel}]"


def text(name):
    try:
        return open(os.path.join(share, name)).read()
    except OSError:
        return ""


def status(name):
    try:
        return json.loads(text(name + ".status.json"))
    except ValueError:
        check(False, f"{tag} {name}: status is JSON ({text(name + '.status.json')[:200]})")
        return None


def num(name):
    try:
        return int(text(name).strip())
    except ValueError:
        return -1


check(rc("up") == 0, f"{tag} the daemon starts and answers ({text('daemon.log')[-300:]})")
before = num("progs.before")
check(num("progs.running") > before, f"{tag} its programs are loaded ({num('progs.running')})")
s = status("first")
if s:
    check(s["mode"] == "check+contention" and s["methods_traced"] > 10,
          f"{tag} status: methods checked with fentry ({s['mode']}, {s['methods_traced']} traced)")
    check(s["trace"]["recording"] is True, f"{tag} status: recording at first")
s = status("full")
if s:
    check(s["trace"]["recording"] is False and "space" in (s["trace"]["paused"] or "").lower(),
          f"{tag} a full disk pauses the recording, saying why ({s['trace']})")
check("paused:" in text("daemon.log") and "checking goes on" in text("daemon.log"),
      f"{tag} the daemon's log says the recording paused and checking goes on")

# three clients at once
r = None
try:
    r = json.loads(text("report.json"))
except ValueError:
    pass
check(rc("report") == 0 and r is not None and "from the daemon on" in text("report.err"),
      f"{tag} report asks the daemon, says so, gets JSON (rc {rc('report')})")
if r:
    devs = {d["rule"] for d in r["check"]["deviation_list"]}
    check({"inode_operations.lookup.i_rwsem", "inode_operations.setattr.i_rwsem"} <= devs,
          f"{tag} report: the fault before and the one after the disk filled ({sorted(devs)})")
s = status("three")
if s:
    check(s["clients"] == 3, f"{tag} three clients at once: the asker and two silent ones "
          f"({s['clients']})")
s = status("killed")
if s:
    check(s["clients"] == 2, f"{tag} the killed client is let go at once ({s['clients']} left)")
s = status("after")
if s:
    check(s["clients"] == 1, f"{tag} 12 s later the stalled one is let go too "
          f"({s['clients']} connected)")
# ls -l: mode links owner group size month day time name
traces = [ln.split() for ln in text("tiny.ls").splitlines() if ".vlt" in ln]
check(len(traces) >= 1 and all(int(f[4]) > 4096 for f in traces),
      f"{tag} tries to write again on the full disk leave no empty trace behind "
      f"({[(f[-1], f[4]) for f in traces]})")

# metrics, parsed by the strict OpenMetrics parser
fams = {}
try:
    fams = {f.name: f for f in text_string_to_metric_families(text("metrics.txt"))}
except Exception as e:  # noqa: BLE001 - any parse error fails the check
    check(False, f"{tag} metrics: OpenMetrics parse error: {e}")
if fams:
    check(rc("metrics") == 0, f"{tag} metrics: scraped over HTTP")
    dev = {(x.labels["rule"], x.labels["fstype"]): x.value
           for x in fams["vfslock_deviations"].samples}
    check(dev.get(("inode_operations.lookup.i_rwsem", "tmpfs"), 0) >= 1 and
          dev.get(("inode_operations.setattr.i_rwsem", "tmpfs"), 0) >= 1,
          f"{tag} metrics: deviations counted by rule and filesystem ({dev})")
    up = {x.labels["probe"]: x.value for x in fams["vfslock_probe_up"].samples}
    check(up == {"methods": 1, "contention": 1}, f"{tag} metrics: both probes up ({up})")
    rec = [x.value for x in fams["vfslock_recording"].samples]
    check(rec == [0], f"{tag} metrics: recording 0 while paused ({rec})")
    waits = {x.labels["class"] for x in fams["vfslock_lock_wait_seconds"].samples}
    holds = {x.labels["class"] for x in fams["vfslock_lock_hold_seconds"].samples}
    check("i_rwsem" in holds, f"{tag} metrics: hold histograms by class ({holds}, waits {waits})")
    lost = [x.value for x in fams["vfslock_events_lost"].samples]
    check(len(lost) == 1, f"{tag} metrics: lost events reported ({lost})")
check(rc("metrics2") == 0 and text("metrics2.txt").endswith("# EOF\n"),
      f"{tag} SIGHUP: metrics served on the new port")
check("configuration reloaded" in text("daemon.log"), f"{tag} SIGHUP: the daemon says it reloaded")

check(rc("term") == 0, f"{tag} SIGTERM: exit 0 (got {rc('term')})")
check(num("progs.term") == before,
      f"{tag} SIGTERM: bpftool prog show lists none of vfslock's programs ({num('progs.term')})")
check("vfslock.sock" not in text("run.ls"), f"{tag} SIGTERM: the socket removed")
check(num("progs.running2") > before and num("progs.kill9") == before,
      f"{tag} kill -9: none of vfslock's programs left ({num('progs.kill9')})")
check(rc("up3") == 0, f"{tag} kill -9: the next daemon takes the socket over")
check(text("dmesg.txt") == "", f"{tag} no kernel warning ({text('dmesg.txt')[:200]})")
tap.finish()
