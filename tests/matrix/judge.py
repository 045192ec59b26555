#!/usr/bin/env python3
"""Judge what tests/matrix/guest.sh left in a share directory: one "ok - ..."
or "not ok - ..." line per check, "# ..." for what this kernel cannot show
and why. The recording of the faults is replayed here with this tree's
vfslock (VFSLOCK), which must judge it as the kernel's live run did."""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402

share = sys.argv[1]
tap = Tap(share)
check, rc, load = tap.check, tap.rc, tap.load
kernel = open(os.path.join(share, "kernel")).read().strip()
kver = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", kernel).groups())
has_mbtf = kver >= (5, 11)  # "bpf: Load and verify kernel module BTFs"
tag = f"[{kernel}]"
tap.tag = tag + " "
vfslock = os.environ.get("VFSLOCK") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "vfslock")


def text(name):
    try:
        return open(os.path.join(share, name)).read()
    except OSError:
        return ""


def skip(what, why):
    print(f"# {tag} {what}: skipped, {why}")


# --- probe: available only where the programs load; the truth on module BTF
p = load("probe")
if p:
    caps = p["capabilities"]
    check(rc("probe") == 0 and caps["check_load"]["ok"] and p["modes"]["check"].startswith(
        "available"), f"{tag} probe: check's programs load (dry load), mode available "
          f"({p['modes']['check']})")
    has_tp = kver >= (5, 19)
    check(caps["contention_tp"]["ok"] == has_tp,
          f"{tag} probe: contention tracepoints {'present' if has_tp else 'absent'} "
          f"(5.19+: {caps['contention_tp']['ok']})")
    src = "contention tracepoints" if has_tp else "rwsem/mutex slow paths (fentry)"
    check(caps["contention_load"]["ok"] and src in p["modes"]["contention"],
          f"{tag} probe: top's programs load, waits from the {src} ({p['modes']['contention']})")

    check(caps["module_btf"]["ok"] == has_mbtf,
          f"{tag} probe: module BTF {'present' if has_mbtf else 'absent (5.11+)'} "
          f"({caps['module_btf']['ok']})")

c = load("coverage")
if c:
    inkernel = [r for r in c["rules"] if r.get("in_kernel") is not False]
    checked = [r for r in inkernel if r["checked"]]
    check(rc("coverage") == 0 and c["constraining"] > 0 and c.get("btf") is not None,
          f"{tag} rules coverage on the running kernel: {len(checked)} of {len(inkernel)} "
          f"rules of its methods checked ({c['source']}: {c['choice']})")
    check(all(r.get("why") for r in c["rules"] if not r["checked"]),
          f"{tag} rules coverage: every unchecked rule says why")

# --- the stock metadata mix: nothing found, nothing lost
m = load("mix")
if m:
    ev = m["events"]
    check(rc("mix") == 0 and m["deviations"] == 0,
          f"{tag} stock mix on tmpfs and ext4: exit 0, no deviation "
          f"(exit {rc('mix')}, {m['deviations']} deviations, {m['drift']} drift)")
    check(ev["lost"] == 0 and ev.get("malformed", 0) == 0 and ev["records_overwritten"] == 0,
          f"{tag} stock mix: 0 lost, 0 malformed, 0 overwritten ({ev['lost']}, "
          f"{ev.get('malformed')}, {ev['records_overwritten']}; {ev['skipped_runs']} probe runs "
          f"the kernel skipped)")
    check(m["method_calls"] > 10000 and m["methods_traced"] >= 15,
          f"{tag} stock mix: {m['method_calls']} calls of {m['methods_traced']} "
          f"implementations judged")
    reasons = {t["why"] for t in m["not_traced"]}
    check(all(t["why"] for t in m["not_traced"]),
          f"{tag} stock mix: each implementation not traced says why "
          f"({len(m['not_traced'])}: {sorted(reasons)[:3]})")
    if not has_mbtf:
        ext4 = [t for t in m["not_traced"] if t["function"].startswith("ext4_")]
        check(ext4 and all("no BTF" in t["why"] for t in ext4),
              f"{tag} stock mix: ext4's methods (a module) are named not traced, for want of "
              f"module BTF ({len(ext4)})")

# --- vl_badcall's faults, live and replayed here
SITE = {
    "do_lookup": "inode_operations.lookup.i_rwsem",
    "do_unlink_victim_unlocked": "inode_operations.unlink.i_rwsem",
    "do_rename_one_parent": "inode_operations.rename.i_rwsem",
    "do_setattr_unlocked": "inode_operations.setattr.i_rwsem",
    "do_mkdir_shared": "inode_operations.mkdir.i_rwsem",
}


def callers(devs):
    """{caller in vl_badcall: rules}, and the deviations no fault explains"""
    out, stray = {}, []
    for d in devs:
        fr = next((f.split("+")[0] for f in d["stack"][1:] if "[vl_badcall]" in f), None)
        if fr in SITE:
            out.setdefault(fr, set()).add(d["rule"])
        else:
            stray.append((d["rule"], d["function"], fr))
    return out, stray


if os.path.exists(os.path.join(share, "vl_badcall.skipped")):
    skip("vl_badcall's faults", text("vl_badcall.skipped").split(": ", 1)[-1].strip())
else:
    f = load("faults")
    if f:
        devs = f["check"]["deviation_list"]
        got, stray = callers(devs)
        check(rc("faults") == 0 and f["lost"]["records"] == 0,
              f"{tag} faults recorded: exit 0, nothing lost (exit {rc('faults')})")
        check(all(SITE[s] in got.get(s, ()) for s in SITE),
              f"{tag} each vl_badcall fault flagged with its rule "
              f"({ {s: sorted(got.get(s, ())) for s in SITE} })")
        check(not stray and all(d["attribution"] == "module" for d in devs),
              f"{tag} faults: nothing else, each attributed to the module ({stray[:3]})")
        p = subprocess.run([vfslock, "-j", "check", "--replay",
                            os.path.join(share, "faults.vlt")],
                           capture_output=True, text=True, timeout=600)
        try:
            r = json.loads(p.stdout)
        except ValueError:
            r = None
        same = r is not None and sorted((d["rule"], d["count"]) for d in
                                        r["check"]["deviation_list"]) == \
            sorted((d["rule"], d["count"]) for d in devs)
        check(p.returncode == 1 and same,
              f"{tag} the recording replayed here gives the live deviations, exit 1 "
              f"(exit {p.returncode}, {r and r['check']['deviations']} vs "
              f"{f['check']['deviations']})")

# --- a program the kernel refuses: its rules unchecked, the rest goes on
if not os.path.exists(os.path.join(share, "refuse")):
    print(f"# {tag} a refused program: not tried on this kernel (VFSLOCK_MATRIX_REFUSE)")
elif not os.path.exists(os.path.join(share, "vl_badcall.skipped")):
    import xml.etree.ElementTree as ET

    def cases(name):
        try:
            root = ET.parse(os.path.join(share, name + ".xml")).getroot()
        except (OSError, ET.ParseError):
            return None
        return {c.get("name") for c in root.iter("testcase")}

    a, x = load("all"), load("refused")
    ca, cx = cases("all"), cases("refused")
    if a and x and ca is not None and cx is not None:
        nl = x.get("programs_not_loaded", [])
        check(rc("refused") == 1 and any(d["rule"] == "inode_operations.lookup.i_rwsem"
                                          for d in x["deviation_list"]),
              f"{tag} on_switch refused: check goes on, the lookup fault found (exit "
              f"{rc('refused')})")
        check([n["program"] for n in nl] == ["on_switch"] and
              "sleeps" in nl[0]["why"] and "NOT LOADED    on_switch" in text("refused.out"),
              f"{tag} on_switch refused: named not loaded, with the verifier's reason and "
              f"what it leaves out ({nl})")
        mb_all = {c for c in ca if ".may_block" in c}
        mb_refused = {c for c in cx if ".may_block" in c}
        check(mb_all and not mb_refused and (ca - mb_all) <= cx,
              f"{tag} on_switch refused: the may-block rules judged with every probe "
              f"({sorted(mb_all)[:3]}...) are not judged without it, the others are")
    pr = load("probe-refused")
    if pr:
        note = pr["capabilities"]["check_load"].get("note", "")
        check(pr["capabilities"]["check_load"]["ok"] and "on_switch" in note and
              "on_switch" in pr["modes"]["check"],
              f"{tag} probe with on_switch refused: check available, without on_switch, "
              f"said ({pr['modes']['check'][:120]})")

# --- vlrefs breaking two rules
if os.path.exists(os.path.join(share, "vlrefs.skipped")):
    skip("vlrefs' faults", text("vlrefs.skipped").split(": ", 1)[-1].strip())
else:
    r = load("reffs")
    if r:
        hits = dict(re.findall(r"(\w+) (\d+)", text("reffs.hits")))
        broke = {k for k in ("setattr_unlocked", "create_shared") if int(hits.get(k, 0)) > 0}
        check(broke == {"setattr_unlocked", "create_shared"},
              f"{tag} vlrefs broke its two rules ({text('reffs.hits').strip()})")
        rules = {d["rule"] for d in r["deviation_list"]}
        if has_mbtf:
            want = {"inode_operations.setattr.i_rwsem", "inode_operations.create.i_rwsem"}
            check(rc("reffs") == 1 and rules == want and
                  all(d["attribution"] == "filesystem" for d in r["deviation_list"]),
                  f"{tag} vlrefs' faults flagged with their rules, by the filesystem, nothing "
                  f"else (exit {rc('reffs')}, {sorted(rules)})")
        else:
            nt = [t for t in r["not_traced"] if t["function"].startswith("vlrefs_")]
            check(rc("reffs") == 0 and not rules and nt and
                  all("no BTF" in t["why"] for t in nt),
                  f"{tag} vlrefs (a module, no module BTF before 5.11): its methods named not "
                  f"traced and why, nothing flagged (exit {rc('reffs')}, {len(nt)})")
            skip("vlrefs' faults found", "its methods are in a module and 5.10 gives modules "
                 "no BTF")

# --- top: a fight over one directory
fights = re.findall(r"fight pid=(\d+) ops=(\d+)", text("fight.out"))
try:
    snap = json.loads(text("top.json").splitlines()[-1])
except (IndexError, ValueError) as e:
    snap = None
    check(False, f"{tag} top -j printed its snapshot ({e})")
if snap:
    d = [l for l in snap["locks"] if l["class"] == "i_rwsem" and l["path"] == "/mnt/tmp/fight"]
    waits = {w["tid"]: w["count"] for w in d[0]["waiters"]} if d else {}
    check(rc("top") == 0 and snap["lost"] == 0 and len(fights) == 2 and
          all(waits.get(int(pid), 0) > 0 for pid, _ in fights),
          f"{tag} top: the fight over /mnt/tmp/fight, waits on each fighter "
          f"({waits}; {snap.get('waits_from')})")
tap.finish()
