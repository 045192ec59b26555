#!/usr/bin/env python3
"""Judge what tests/daemon/guest.sh left in a share directory."""
import json
import os
import sys
import xml.etree.ElementTree as ET

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


def snapshots(name):
    """top -j's snapshots, one JSON object a line; [] if any is not JSON"""
    try:
        return [json.loads(ln) for ln in text(name).splitlines()]
    except ValueError:
        return []


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

# streams while top attaches
s = status("streams")
if s:
    check(s["streams"] == 4, f"{tag} three streams at once, and top's ({s['streams']})")
    check(s["symbol_snapshots"] == 1,
          f"{tag} every head so far reused the daemon's symbol snapshot "
          f"({s['symbol_snapshots']} read)")
s = status("modules")
if s:
    check(num("modswap.rc") == 0 and s["symbol_snapshots"] == 2,
          f"{tag} a module gone and back: the next stream's head reads the symbols again "
          f"(rmmod+modprobe rc {num('modswap.rc')}, {s['symbol_snapshots']} read; "
          f"{text('modswap.err').strip()[:120]})")
s = status("streams2")
if s:
    check(s["streams"] == 2, f"{tag} the killed stream is let go, the stalled one stays "
          f"({s['streams']} streaming)")
    check(s["stream_dropped_records"] > 0 and s["events"] > 0,
          f"{tag} the stalled stream's records are dropped and counted, the daemon goes on "
          f"({s['stream_dropped_records']} dropped of {s['events']})")
snaps = snapshots("top.json")
check(rc("top") == 0 and "attached to the daemon on" in text("top.err") and len(snaps) == 8
      and all(x.get("daemon") == "/run/vfslock/vfslock.sock" for x in snaps),
      f"{tag} top attaches to the daemon, says so, 8 snapshots naming it "
      f"(rc {rc('top')}, {len(snaps)}; {text('top.err')[-200:]})")
seen = {d["rule"] for x in snaps for d in x.get("recent_deviations", [])}
check(snaps and snaps[-1]["mode"] == "check+contention" and
      "inode_operations.lookup.i_rwsem" in seen,
      f"{tag} top attached sees the fault made while it watched, through the daemon's "
      f"probes ({sorted(seen)})")
att = text("attached.out") + text("attached.err")
check(rc("attached") == 1 and "attached to the daemon on /run/vfslock/vfslock.sock" in att,
      f"{tag} check attaches to the daemon, says so, exits 1 on its command's fault "
      f"(rc {rc('attached')}; {att[-300:]})")
fails = []
try:
    root = ET.parse(os.path.join(share, "attached.xml")).getroot()
    fails = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
except (OSError, ET.ParseError) as e:
    check(False, f"{tag} check attached: its JUnit parses ({e})")
check(any("inode_operations.lookup.i_rwsem" in (n or "") for n in fails),
      f"{tag} check attached: the JUnit failure is the lookup rule ({fails})")
said = [ln for ln in text("attached-clean.out").splitlines()
        if "error" in ln or "warning" in ln or "vfslock check:" in ln]
check(rc("attached-clean") == 0 and "PASS" in text("attached-clean.out"),
      f"{tag} check attached: a clean command passes while other tasks work "
      f"(rc {rc('attached-clean')}; {' | '.join(said)[-400:]})")
live = None
try:
    live = json.loads(text("live.json"))
except ValueError:
    pass
check(rc("live") == 0 and live is not None and live["records"] > 0 and
      live["lost"]["records"] == 0,
      f"{tag} a stream that keeps up reads as a trace, nothing lost "
      f"({live and live['records']} records, {live and live['lost']})")
if live:
    devs = {d["rule"] for d in live["check"]["deviation_list"]}
    check("inode_operations.lookup.i_rwsem" in devs,
          f"{tag} the stream's report judges the fault as the daemon did ({sorted(devs)})")

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

# a reload of the probes under attached viewers, the trace's disk still full
s = status("reloaded")
if s:
    check(s["mode"] == "check+contention" and s["trace"]["recording"] is False and
          "No space left" in (s["trace"]["paused"] or ""),
          f"{tag} a reload on a full disk: the new probes check, their trace paused "
          f"({s['mode']}, {s['trace']})")
err = text("reload-check.err")
check(rc("reload-check") == 2 and "ended the stream before the end of the run" in err and
      "reloaded" in err and "INCOMPLETE" in text("reload-check.out"),
      f"{tag} a check attached across a reload of the probes: exit 2, incomplete, says why "
      f"(rc {rc('reload-check')}; {err.strip()[-160:]}; {text('reload-check.out').strip()[-120:]})")
snaps = snapshots("reload-top.json")
err = text("reload-top.err")
check(rc("reload-top") == 0 and len(snaps) == 6 and
      "reloaded its probes; attached to its new stream" in err and
      snaps[-1]["mode"] == "check+contention",
      f"{tag} top attached follows the daemon across the reload to its new probes "
      f"(rc {rc('reload-top')}, {len(snaps)} snapshots; {err.strip()[-160:]})")

check(rc("term") == 0, f"{tag} SIGTERM: exit 0 (got {rc('term')})")
check(num("progs.term") == before,
      f"{tag} SIGTERM: bpftool prog show lists none of vfslock's programs ({num('progs.term')})")
check("vfslock.sock" not in text("run.ls"), f"{tag} SIGTERM: the socket removed")
check(num("progs.running2") > before and num("progs.kill9") == before,
      f"{tag} kill -9: none of vfslock's programs left ({num('progs.kill9')})")
check(rc("up3") == 0, f"{tag} kill -9: the next daemon takes the socket over")
check(text("dmesg.txt") == "", f"{tag} no kernel warning ({text('dmesg.txt')[:200]})")
tap.finish()
