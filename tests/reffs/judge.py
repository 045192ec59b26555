#!/usr/bin/env python3
"""Judge what tests/reffs/guest-check.sh left in a share directory.

Prints one "ok - ..." or "not ok - ..." line per check, "# ..." comments
with the figures, and exits non-zero if a check failed. The reports come
from `vfslock check --fs vlrefs --json`: load (stress-ng on vlrefs, no
fault), faults (every fault's trigger, each in force) and control (the same
triggers, no fault).
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402

share = sys.argv[1]
tap = Tap(share)
check, load, rc = tap.check, tap.load, tap.rc


def provoked(name):
    """guest-provoke.sh's lines: {fault: (exit status, rule breaks counted)}, and
    {fault: (refused, why)} for the faults the module said it cannot make here"""
    out, unavailable = {}, {}
    try:
        with open(os.path.join(share, name + ".out")) as f:
            for line in f:
                m = re.match(r"provoked (\S+) exit (\d+) hits (-?\d+)$", line.strip())
                if m:
                    out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
                m = re.match(r"unavailable (\S+) refused (yes|no): (.*)$", line.strip())
                if m:
                    unavailable[m.group(1)] = (m.group(2) == "yes", m.group(3))
    except OSError:
        pass
    return out, unavailable


kernel = open(os.path.join(share, "kernel")).read().strip()
tag = f"[{kernel}]"
tap.tag = tag + " "
kver = tuple(int(x) for x in kernel.split("-")[0].split(".")[:2])
series = f"{kver[0]}.{kver[1]}"
# x86 trampolines take more than six arguments from 6.6 on: before, the
# seven- and eight-argument methods (write_end, xattr set) are refused
many_args = kver >= (6, 6)
SIX_ARGS = "trampolines take at most six arguments"
# module BTF came in 5.11 (CONFIG_DEBUG_INFO_BTF_MODULES): on 5.10 fentry
# cannot attach to a module's functions, and none of vlrefs' is traced.
# Its faults still happen (break_hits counts them) but cannot be seen.
module_btf = kver >= (5, 11)
NO_BTF = "gives modules no BTF"
NOT_SEEN = (f"skipped on {series}: no module BTF (CONFIG_DEBUG_INFO_BTF_MODULES came in 5.11): "
            f"vlrefs' methods cannot be traced")
# The faults vlrefs cannot make on this kernel, and why (the module says so
# itself, in its "faults" parameter, and refuses them): sleep_drop_inode
# reads preempt_count() to know it holds i_lock, which counts spinlocks only
# with CONFIG_PREEMPT_COUNT, unset in Debian's 5.10 (PREEMPT_VOLUNTARY);
# Debian's 6.1 and later have it (PREEMPT_DYNAMIC).
LEFT_OUT = {"sleep_drop_inode": "CONFIG_PREEMPT_COUNT"} if kver < (6, 1) else {}


def not_traced_ok(n):
    """A method left untraced for a reason of this kernel's, not of vfslock's."""
    return (not many_args and SIX_ARGS in n["why"]) or (not module_btf and NO_BTF in n["why"])

# Each fault of vlrefs (docs/reference-fs.md): the rules vfslock must report
# for it, the vlrefs function that breaks them, and the trigger's exit status
# with the fault on (the read of read_folio_leave_locked fails with EIO) and
# off (stat of a name create_shared did not create fails).
FAULTS = {
    "sleep_d_compare": ({"dentry_operations.d_compare.may_block"}, "vlrefs_d_compare", 0, 0),
    "sleep_d_delete": ({"dentry_operations.d_delete.may_block"}, "vlrefs_d_delete", 0, 0),
    "sleep_drop_inode": ({"super_operations.drop_inode.may_block"}, "vlrefs_drop_inode", 0, 0),
    "setattr_unlocked": ({"inode_operations.setattr.i_rwsem"}, "vlrefs_setattr", 0, 0),
    "create_shared": ({"inode_operations.create.i_rwsem"}, "vlrefs_create", 0, 1),
    "write_begin_unlocked": ({"address_space_operations.write_begin.folio_lock"},
                             "vlrefs_write_begin", 0, 0),
    # the table's cell ("can return with page locked") and the prose below it
    "fault_locked_lie": ({"vm_operations_struct.fault.folio_lock",
                          "vm_operations_struct.fault.folio_lock.return"}, "vlrefs_vm_fault", 0, 0),
    # the table's "yes, unlocks" and the prose "->read_folio() unlocks the folio"
    "read_folio_leave_locked": ({"address_space_operations.read_folio.folio_lock",
                                 "address_space_operations.read_folio.folio_lock.unlocks"},
                                "vlrefs_read_folio", 1, 0),
}
rule_fault = {rule: name for name, (rules, _, _, _) in FAULTS.items() for rule in rules}


def common(name, r):
    """What every run must give: nothing lost or malformed, vlrefs traced."""
    ev = r["events"]
    check(ev["lost"] == 0, f"{tag} {name}: 0 events lost (got {ev['lost']})")
    check(ev["malformed"] == 0, f"{tag} {name}: 0 malformed records (got {ev['malformed']})")
    check(ev.get("unconfigured_calls") == 0,
          f"{tag} {name}: every traced call found its configuration "
          f"({ev.get('unconfigured_calls')} did not)")
    check(r["filesystems"] == ["vlrefs"], f"{tag} {name}: vlrefs traced, alone ({r['filesystems']})")
    # a method run in a softirq on top of a task's own call gets a record
    # buffer of its own; none may be too deep to have one
    print(f"# {name}: {ev.get('nested_in_interrupt')} method programs nested in an interrupt")
    check(ev.get("nested_too_deep") == 0,
          f"{tag} {name}: every call nested in an interrupt followed "
          f"({ev.get('nested_too_deep')} too deep)")
    # write_end takes seven arguments, the xattr handlers' set eight
    missing = [n for n in r["not_traced"] if not not_traced_ok(n)]
    check(not missing, f"{tag} {name}: every checked method of vlrefs attached ({missing})")
    if not module_btf:
        # vlrefs' own functions; the kernel's it plugs in (lease_modify, ...) are traced
        own = [n for n in r["not_traced"] if n["function"].startswith("vlrefs_")]
        check(len(own) >= 25 and all(NO_BTF in n["why"] for n in own),
              f"{tag} {name}: {NOT_SEEN}: vfslock says so of each of them "
              f"({sum(NO_BTF in n['why'] for n in own)} of {len(own)} not traced for want of "
              f"module BTF)")
    for s in r.get("suppressed_list", []):
        print(f"# {name}: suppressed {s['count']} x {s['rule']} in {s['function']} "
              f"({s['attribution']}): {s['suppression']['reason']}")
        check(s["attribution"] != "filesystem" and s.get("caused_by_module") != "vlrefs",
              f"{tag} {name}: suppressed {s['rule']} is not vlrefs' doing "
              f"({s['attribution']}, {s.get('caused_by')})")


def show(name, d):
    print(f"#   {name}: {d['rule']} in {d['function']} [{d.get('module')}], "
          f"{d.get('found', d.get('held'))}, {d['attribution']} "
          f"({d.get('caused_by')}), count {d['count']}")


# 1. vlrefs under load: every call judged, nothing found
ld = load("load")
if ld:
    common("load", ld)
    check(rc("load") == 0 and ld["workload_status"] == 0,
          f"{tag} load: the workload (data checks, stress-ng) succeeded and check exits 0 "
          f"(workload {ld['workload_status']}, check {rc('load')})")
    for d in ld["deviation_list"]:
        show("load", d)
    check(ld["deviations"] == 0,
          f"{tag} load: 0 deviations, drift included, besides those suppressed "
          f"(got {ld['deviations']}, {ld['drift']} drift)")
    # every implementation of vlrefs that a checked rule applies to: 32,
    # less write_end and the xattr handlers' set where they cannot be traced
    want = 32 if many_args else 30
    if module_btf:
        check(ld["methods_traced"] >= want,
              f"{tag} load: vlrefs' method implementations traced ({ld['methods_traced']} >= {want})")
        check(ld["method_calls"] > 100000,
              f"{tag} load: method calls judged ({ld['method_calls']} > 100000)")
    else:
        print(f"# load: {NOT_SEEN}: none of their calls judged, only those of the kernel's "
              f"methods vlrefs plugs in ({ld['method_calls']})")
    print(f"# load: {ld['workload_seconds']:.1f} s, {ld['methods_traced']} methods traced, "
          f"{ld['method_calls']} calls judged, {ld['rule_checks']} rule checks, "
          f"{ld['events']['received']} events, {ld['events']['lost']} lost, "
          f"{ld['deviations']} deviations, {ld['drift']} drift, "
          f"{ld.get('suppressed', 0)} suppressed, {ld['events'].get('sleeps')} sleeps and "
          f"{ld['events'].get('stale_calls')} no-block calls not followed, "
          f"{ld['lock_acquisitions']} reader holds")

# 2. each fault found, blamed on vlrefs, and nothing else
fr = load("faults")
if fr:
    common("faults", fr)
    if module_btf:
        check(rc("faults") == 1, f"{tag} faults: vfslock check exits 1 (got {rc('faults')})")
    else:
        check(rc("faults") == 0 and fr["deviations"] == 0,
              f"{tag} faults: vfslock check exits 0, nothing found ({NOT_SEEN}) "
              f"(exit {rc('faults')}, {fr['deviations']} deviations)")
    check(fr["workload_status"] == 0,
          f"{tag} faults: the trigger sequences ran (workload {fr['workload_status']})")
    prov, unavailable = provoked("faults")
    for name, what in sorted(LEFT_OUT.items()):
        refused, why = unavailable.get(name, (False, "offered"))
        check(refused and what in why,
              f"{tag} faults: {name} left out on {series}: vlrefs refuses it, saying why "
              f"({why}; refused: {refused})")
    check(set(unavailable) == set(LEFT_OUT),
          f"{tag} faults: every other fault offered ({sorted(set(unavailable) - set(LEFT_OUT))} "
          f"left out)")
    counts = {}
    wrong = {}  # rule -> what is wrong with one of its distinct deviations
    for d in fr["deviation_list"]:
        show("faults", d)
        rule = d["rule"]
        fault = rule_fault.get(rule)
        if fault is None:
            check(False, f"{tag} faults: nothing but the faults' rules reported, but got "
                         f"{rule} in {d['function']} ({d['attribution']}, {d.get('caused_by')})")
            continue
        counts[rule] = counts.get(rule, 0) + d["count"]
        fn = FAULTS[fault][1]
        # found in the method of vlrefs that breaks it, blamed on vlrefs, on a vlrefs object
        if d["function"] != fn or d.get("module") != "vlrefs":
            wrong.setdefault(rule, f"found in {d['function']} [{d.get('module')}]")
        elif d["attribution"] != "filesystem" or d.get("drift"):
            wrong.setdefault(rule, f"attributed {d['attribution']} ({d.get('caused_by')})")
        elif d["object"]["fstype"] != "vlrefs":
            wrong.setdefault(rule, f"object on {d['object']['fstype']}")
    for rule in sorted(counts):
        fn = FAULTS[rule_fault[rule]][1]
        check(rule not in wrong, f"{tag} faults: {rule} found in {fn} [vlrefs], on a vlrefs "
                                 f"object, blamed on the filesystem ({wrong.get(rule, 'each time')})")
    for name, (rules, fn, on_exit, _) in FAULTS.items():
        if name in LEFT_OUT:
            continue
        st, hits = prov.get(name, (None, 0))
        check(st == on_exit and hits >= 1,
              f"{tag} faults: {name} triggered (exit {st}, want {on_exit}; {hits} rule breaks)")
        for rule in sorted(rules):
            got = counts.get(rule, 0)
            if module_btf:
                check(got == hits >= 1,
                      f"{tag} faults: {name} found as {rule}, each break ({got} of {hits})")
            else:
                print(f"# faults: {name} as {rule} in {fn}: {NOT_SEEN}")

# 3. the same triggers with every fault off: nothing found
ct = load("control")
if ct:
    common("control", ct)
    prov, unavailable = provoked("control")
    for d in ct["deviation_list"]:
        show("control", d)
    check(rc("control") == 0 and ct["deviations"] == 0 and ct["workload_status"] == 0,
          f"{tag} control: the same triggers, no fault: 0 deviations, exit 0 "
          f"(got {ct['deviations']}, exit {rc('control')}, workload {ct['workload_status']})")
    for name, (_, _, _, off_exit) in FAULTS.items():
        if name in LEFT_OUT:
            print(f"# control: {name}: left out on {series} ({unavailable.get(name, (0, '?'))[1]})")
            continue
        st, hits = prov.get(name, (None, None))
        check(st == off_exit and hits == 0,
              f"{tag} control: {name}'s trigger ran, breaking nothing "
              f"(exit {st}, want {off_exit}; {hits} rule breaks)")
    print(f"# control: {ct['method_calls']} calls judged, {ct['deviations']} deviations")

# 4. the guest's own checks: mounts, umount, rmmod, dmesg
try:
    with open(os.path.join(share, "guest.tap")) as f:
        for line in f:
            m = re.match(r"(not ok|ok) - (.*)", line.rstrip("\n"))
            if m:
                check(m.group(1) == "ok", f"{tag} {m.group(2)}")
            elif line.startswith("#"):
                print(line.rstrip("\n"))
except OSError as e:
    check(False, f"{tag} guest checks readable ({e})")

tap.finish()
