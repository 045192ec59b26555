#!/usr/bin/env python3
"""Judge the recordings tests/record/guest.sh left in a share directory, by
reading them back here, on the host, with the vfslock of this tree: one
"ok - ..." or "not ok - ..." line per check."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402

share = sys.argv[1]
tap = Tap(share)
check, rc = tap.check, tap.rc
kernel = open(os.path.join(share, "kernel")).read().strip()
tag = f"[{kernel}]"
vfslock = os.environ.get("VFSLOCK") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "vfslock")


def path(name):
    return os.path.join(share, name)


def text(name):
    try:
        return open(path(name)).read()
    except OSError:
        return ""


def run(*args):
    p = subprocess.run([vfslock, *args], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def first_diff(a, b, where=""):
    """where two JSON values first differ, or None"""
    if type(a) is not type(b):
        return f"{where}: {str(a)[:60]} vs {str(b)[:60]}"
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}: only on one side"
            d = first_diff(a[k], b[k], f"{where}/{k}")
            if d:
                return d
    elif isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} vs {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_diff(x, y, f"{where}/{i}")
            if d:
                return d
    elif a != b:
        return f"{where}: {str(a)[:60]} vs {str(b)[:60]}"
    return None


def report_json(name):
    code, out, err = run("report", "-j", path(name))
    try:
        return code, json.loads(out), err
    except ValueError:
        return code, None, err


# --- 1. the clean recording: report here equals the live result there
check(rc("stress") == 0, f"{tag} record -- stress-ng exits 0 (got {rc('stress')})")
m = re.search(r"(\d+) records, (\d+) bytes on disk \(([\d.]+) per record; the records "
              r"alone ([\d.]+)", text("stress.err"))
check(m is not None and int(m[1]) > 0 and float(m[4]) < float(m[3]),
      f"{tag} record says what it wrote ({m and m[0]})")
if m:
    print(f"# {kernel}: {m[1]} records, {m[2]} bytes, {m[3]} bytes per record, "
          f"{m[4]} for the records alone")
live = tap.load("live")
code, off, err = report_json("stress.vlt")
check(code == 0 and off is not None, f"{tag} report -j of the trace exits 0 (got {code}: "
      f"{err.strip()[:200]})")
if live and off:
    d = first_diff(live, off)
    check(d is None, f"{tag} report on the host equals the live result ({d or 'identical'})")
    by = live["by_type"]
    check(by["lock"] > 0 and by["method_enter"] > 0 and by["stats"] > 0,
          f"{tag} the recording holds lock, method and counter records ({by})")
    check(live["contention"]["holds"] > 0,
          f"{tag} hold times rebuilt from it ({live['contention']['holds']} holds)")
    check(live["lost"]["records"] == 0 or live["lost"]["episodes"] > 0,
          f"{tag} lost records, if any, are counted with their episodes ({live['lost']})")
    check(live["all_calls"] and live["check"]["method_calls_judged"] > 0,
          f"{tag} every method call recorded and judged "
          f"({live['check']['method_calls_judged']} calls)")
code, out, err = run("report", path("stress.vlt"))
check(code == 0 and "records over" in out and "CLASS" in out,
      f"{tag} report (text) shows the counts and the contention tables")
open(path("report.txt"), "w").write(out)

# --- 2. re-check: the recorded rules, then another kernel's
if live:
    code, out, err = run("-j", "check", "--replay", path("stress.vlt"))
    want = 1 if live["check"]["deviations"] else 0
    try:
        rj = json.loads(out)
    except ValueError:
        rj = None
    check(code == want and rj is not None and
          rj["check"]["deviations"] == live["check"]["deviations"],
          f"{tag} check --replay gives the live deviations and exit {want} (got {code}, "
          f"{rj and rj['check']['deviations']} vs {live['check']['deviations']})")
    other = "6.1" if live["rules_version"] != "6.1" else "6.12"
    code, out, err = run("-j", "check", "--replay", path("stress.vlt"), "--kernel", other)
    try:
        oj = json.loads(out)
    except ValueError:
        oj = None
    check(code in (0, 1) and oj is not None and oj["rules_source"] == f"embedded:{other}",
          f"{tag} check --replay --kernel {other} judges against those rules "
          f"(exit {code}, {oj and oj['rules_source']}, "
          f"{oj and oj['check']['deviations']} deviations)")

# --- 3. export: one span per wait and per hold, parsed back
code, out, err = run("export", "--perfetto", "-o", path("perfetto.json"), path("stress.vlt"))
try:
    pj = json.load(open(path("perfetto.json")))
    ev = pj["traceEvents"]
except (OSError, ValueError, KeyError, TypeError) as e:
    pj, ev = None, []
    err += str(e)
check(code == 0 and pj is not None, f"{tag} export --perfetto writes JSON that parses "
      f"({err.strip()[:200]})")
if live and ev:
    waits = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "wait"]
    holds = [e for e in ev if e.get("ph") == "X" and e.get("cat") == "hold"]
    names = [e for e in ev if e.get("ph") == "M" and e.get("name") == "thread_name"]
    c = live["contention"]
    check(len(waits) == c["waits"] and len(holds) == c["holds"],
          f"{tag} a span per wait and per hold ({len(waits)}/{c['waits']} waits, "
          f"{len(holds)}/{c['holds']} holds)")
    bad = [e for e in waits + holds if not (isinstance(e.get("ts"), (int, float)) and
                                            e.get("dur", -1) >= 0 and
                                            isinstance(e.get("tid"), int))]
    check(not bad and names, f"{tag} spans have ts, dur >= 0 and tid; threads are named "
          f"({len(bad)} bad, {len(names)} names)")

# --- 4. damage, on a copy of the clean trace
src = path("stress.vlt")
size = os.path.getsize(src) if os.path.exists(src) else 0
total = off["records"] if off else 0
if size:
    cut = path("cut.vlt")
    with open(src, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(size * 2 // 3))
    code, cj, err = report_json("cut.vlt")
    check(code == 0 and cj is not None and 0 < cj["records"] < total and "cut" in err,
          f"{tag} a trace cut at 2/3 reads to its last whole block and says so "
          f"({cj and cj['records']} of {total} records: {err.strip()[:160]})")
    flip = path("flip.vlt")
    shutil.copy(src, flip)
    with open(flip, "r+b") as f:
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0x10]))
    code, fj, err = report_json("flip.vlt")
    check(code == 0 and fj is not None and fj["records"] < total and "checksum" in err,
          f"{tag} a flipped bit stops reading at its block, with the records before "
          f"({fj and fj['records']} of {total}: {err.strip()[:160]})")
    ver = path("version.vlt")
    shutil.copy(src, ver)
    with open(ver, "r+b") as f:
        h = bytearray(f.read(64))
        struct.pack_into("<H", h, 8, 2)
        struct.pack_into("<I", h, 60, zlib.crc32(bytes(h[:60])))
        f.seek(0)
        f.write(h)
    code, out, err = run("report", path("version.vlt"))
    check(code == 2 and "format 2.0" in err,
          f"{tag} another format version is refused by name ({code}: {err.strip()[:160]})")
    for n in ("cut.vlt", "flip.vlt", "version.vlt"):
        os.unlink(path(n))

# --- 5. kill -9 and a full disk
check(rc("killed") == 137, f"{tag} the recorder was killed by SIGKILL (status {rc('killed')})")
code, kj, err = report_json("killed.vlt")
# SIGKILL lands between blocks (no END block) or inside one (a block cut
# short): either way everything before it reads, and the reader says which
check(code == 0 and kj is not None and kj["records"] > 0 and
      ("no END block" in err or " cut: " in err) and "are all read" in err,
      f"{tag} a trace of a killed recorder reads back ({kj and kj['records']} records: "
      f"{err.strip()[:160]})")
check(rc("full") == 2 and "recording stopped" in text("full.err") and
      "No space left" in text("full.err"),
      f"{tag} a full disk stops the recording with a message and exit 2 "
      f"(got {rc('full')}: {text('full.err').strip()[-200:]})")
code, fj, err = report_json("full.vlt")
check(code == 0 and fj is not None and fj["records"] > 0,
      f"{tag} the trace on the full disk reads back ({fj and fj['records']} records: "
      f"{err.strip()[:160]})")
left = text("progs-left").strip()
check(left == "0", f"{tag} no vfslock program stays loaded after the three ({left or '?'})")
tap.finish()
