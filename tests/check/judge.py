#!/usr/bin/env python3
"""Judge what tests/check/guest.sh left in a share directory.

Prints one "ok - ..." or "not ok - ..." line per check and exits non-zero
if any failed. The JSON comes from `vfslock check --json`.
"""
import os
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402

share = sys.argv[1]
tap = Tap(share)
check, load, rc = tap.check, tap.load, tap.rc


def junit(name):
    """NAME.xml, the JUnit of `vfslock check --junit`, parsed by python3's xml, or None"""
    try:
        return ET.parse(os.path.join(share, name + ".xml")).getroot()
    except (OSError, ET.ParseError) as e:
        check(False, f"{name}.xml: a JUnit parser reads it ({e})")
        return None


def verdict(name):
    """The last line of NAME.out"""
    try:
        with open(os.path.join(share, name + ".out")) as fo:
            lines = fo.read().splitlines()
        return lines[-1] if lines else ""
    except OSError:
        return ""


kernel = open(os.path.join(share, "kernel")).read().strip()
tag = f"[{kernel}]"
kver = tuple(int(x) for x in kernel.split("-")[0].split(".")[:2])
series = f"{kver[0]}.{kver[1]}"
# x86 trampolines take more than six arguments from 6.6 on: before, the
# seven- and eight-argument methods (write_end, xattr set) are refused
many_args = kver >= (6, 6)
SIX_ARGS = "trampolines take at most six arguments"
# module BTF came in 5.11 (CONFIG_DEBUG_INFO_BTF_MODULES): on 5.10 fentry
# cannot attach to a module's functions, vlbadfs' and ext4's (a module in
# Debian's 5.10) among them
module_btf = kver >= (5, 11)
NO_BTF = "gives modules no BTF"
# the id mapping argument of inode_operations (5.12+) comes first: the
# others are one further on
idmap = 1 if kver >= (5, 12) else 0


def arg(name, n):
    """The role vfslock gives argument @n (counted without an id mapping)."""
    return f"{name} (arg {n + idmap})"


def not_traced_ok(n):
    """A method left untraced for a reason of this kernel's, not of vfslock's."""
    return (not many_args and SIX_ARGS in n["why"]) or (not module_btf and NO_BTF in n["why"])


def prog_runs(r, prog):
    """Runs of the programs named @prog in --prog-stats' list; None if none is loaded."""
    runs = [p["runs"] for p in r.get("programs", []) if p["program"] == prog]
    return sum(runs) if runs else None


def mix_checks(name, r, min_calls):
    """What every mix must give: the workload ran, nothing lost, every call judged."""
    check(r["workload_status"] == 0, f"{tag} {name} mix: stress-ng succeeded")
    check(r["events"]["lost"] == 0, f"{tag} {name} mix: 0 events lost (got {r['events']['lost']})")
    check(r["events"]["malformed"] == 0, f"{tag} {name} mix: 0 malformed records")
    check(r["events"].get("unconfigured_calls") == 0,
          f"{tag} {name} mix: every traced call found its configuration "
          f"({r['events'].get('unconfigured_calls')} did not)")
    check(r["method_calls"] > min_calls,
          f"{tag} {name} mix: method calls judged ({r['method_calls']} > {min_calls})")

# 1. The stock mix: nothing broken, nothing lost.
s = load("stress")
if s:
    check(rc("stress") == 0, f"{tag} stress mix: vfslock check exits 0 (got {rc('stress')})")
    check(s["deviations"] == 0, f"{tag} stress mix: 0 deviations (got {s['deviations']})")
    mix_checks("stress", s, 10000)
    check(s["lock_acquisitions"] > 10000,
          f"{tag} stress mix: i_rwsem acquisitions seen ({s['lock_acquisitions']} > 10000)")
    # a preemptible kernel (7.x) skips a probe's runs on a CPU where it is preempted
    # (events.skipped_runs): a release whose acquisition was skipped has no match,
    # and no more of them than the acquisition probes' skipped runs
    skipped_acq = sum(p.get("skipped", 0) for p in s.get("programs", [])
                      if p["program"].startswith("down_") or p["program"].startswith("_down_"))
    check(s["lock_events"] == "all" and s["unmatched_releases"] <= skipped_acq and
          s["state_mismatch"] == 0,
          f"{tag} stress mix: every lock event streamed, rebuilt holds match the lock words, "
          f"every release matched but those of acquisitions the kernel skipped "
          f"({s['unmatched_releases']} unmatched, {skipped_acq} acquisition runs skipped)")
    check(set(s["filesystems"]) == {"tmpfs", "ext4"}, f"{tag} stress mix: tmpfs and ext4 traced")
    check((prog_runs(s, "up_write_e") or 0) > 10000 and (prog_runs(s, "method_entry") or 0) > 10000,
          f"{tag} stress mix: --prog-stats counts the exclusive release probe and the method "
          f"entries ({prog_runs(s, 'up_write_e')}, {prog_runs(s, 'method_entry')})")
    missing = [n for n in s["not_traced"] if not not_traced_ok(n)]
    check(not missing, f"{tag} stress mix: every checked method attached ({missing})")
    if not module_btf:
        print(f"# stress mix: skipped on {series}: no module BTF: "
              f"{sum(NO_BTF in n['why'] for n in s['not_traced'])} ext4 methods not traced "
              f"(ext4 is a module there)")

# 1b. The broad mix: page cache, mappings, file locks and leases, xattrs.
b = load("broad")
if b:
    mix_checks("broad", b, 1000)
    check(prog_runs(b, "down_write_e") is None and prog_runs(b, "up_write_e") is None and
          (prog_runs(b, "up_read_e") or 0) > 0,
          f"{tag} broad mix: by default the exclusive rwsem probes are not loaded, the read "
          f"ones run ({prog_runs(b, 'up_write_e')}, {prog_runs(b, 'up_read_e')})")
    skipped_rd = sum(p.get("skipped", 0) for p in b.get("programs", [])
                     if p["program"].startswith("down_"))
    check(b["lock_events"] == "readers" and b["unmatched_releases"] <= skipped_rd,
          f"{tag} broad mix: reader holds streamed by default, each release matched "
          f"({b['lock_events']}, {b['unmatched_releases']} unmatched)")
    for k in b.get("suppressed_list", []):
        print(f"# broad mix: {k['count']} x {k['rule']} in {k['function']}, known: "
              f"{k['suppression']['reason']}")
    check(rc("broad") == 0 and b["deviations"] == 0,
          f"{tag} broad mix: 0 deviations, exit 0 (got {b['deviations']}, exit {rc('broad')})")

# 2. The faults: exactly the expected deviations, with the module in the stack.
SLEPT = "slept (a voluntary context switch) inside the call"


def fn_name(frame):
    """'block_permission.isra.0+0x2e [vl_badcall]' -> 'block_permission'"""
    return frame.split("+")[0].split(".")[0]

# Each fault: the rule, the object's role, what was found, the module's
# function that made the call (the first [vl_badcall] frame outside the
# method), the filesystem of the object, whose code vfslock must blame, and
# why not on this kernel (None: expected here). vlbadfs' own methods break
# rules themselves (the filesystem's); the other faults are calls the module
# makes of core kernel or ext4 methods (the module's).
NO_MODULE_BTF = (f"skipped on {series}: no module BTF (CONFIG_DEBUG_INFO_BTF_MODULES came in "
                 f"5.11): vlbadfs' methods cannot be traced") if not module_btf else None
EXT4_NO_BTF = (f"skipped on {series}: ext4 is a module there, with no module BTF: its methods "
               f"cannot be traced") if not module_btf else None
FAULTS = [
    ("inode_operations.lookup.i_rwsem", "dir (arg 0)", "not held", "do_lookup", "tmpfs", "module",
     None),
    ("inode_operations.unlink.i_rwsem", "child (arg 1)", "not held", "do_unlink_victim_unlocked",
     "tmpfs", "module", None),
    ("inode_operations.unlink.i_rwsem.victim", "child (arg 1)", "not held",
     "do_unlink_victim_unlocked", "tmpfs", "module", None),
    ("inode_operations.unlink.i_rwsem.nondir", "child (arg 1)", "not held",
     "do_unlink_victim_unlocked", "tmpfs", "module", None),
    ("inode_operations.rename.i_rwsem", arg("new dir", 2), "not held", "do_rename_one_parent",
     "tmpfs", "module", None),
    # a cross-directory rename without the superblock's s_vfs_rename_mutex
    ("inode_operations.rename.s_vfs_rename.prose", arg("old dir", 0), "not held",
     "do_rename_one_parent", "tmpfs", "module", None),
    ("inode_operations.setattr.i_rwsem", arg("inode", 0), "not held", "do_setattr_unlocked",
     "tmpfs", "module", None),
    ("inode_operations.mkdir.i_rwsem", arg("dir", 0), "shared", "do_mkdir_shared", "tmpfs",
     "module", None),
    ("super_operations.sync_fs.s_umount", "superblock (arg 0)", "not held", "do_sync_fs", "ext4",
     "module", EXT4_NO_BTF),
    ("super_operations.drop_inode.i_lock", "inode (arg 0)", "not held", "do_drop_inode", "tmpfs",
     "module", None),
    # vlbadfs' always_delete_dentry(), a core function: 7.3's tmpfs has no ->d_delete
    ("dentry_operations.d_delete.d_lock", "dentry (arg 0)", "not held", "do_d_delete", "vlbadfs",
     "module", None),
    # block_is_partially_uptodate(), ext4's and core: a page before folios (5.16)
    ("address_space_operations.is_partially_uptodate.folio_lock",
     "folio (arg 0)" if kver >= (5, 16) else "page (arg 0)", "not held", "do_partial", "ext4",
     "module", None),
    ("dentry_operations.d_hash.may_block", "dentry (arg 0)", SLEPT, "block_d_hash", "vlbadfs",
     "filesystem", NO_MODULE_BTF),
    ("inode_operations.permission.may_block.rcu_walk", arg("dir", 0), SLEPT, "block_permission",
     "vlbadfs", "filesystem", NO_MODULE_BTF),
    # write_begin hands back a struct page ** before 6.12, a struct folio ** since
    ("address_space_operations.write_begin.folio_lock",
     "returned folio (arg 4)" if kver >= (6, 12) else "returned page (arg 4)",
     "returned 0 with the folio unlocked", "return_write_begin", "vlbadfs", "filesystem",
     NO_MODULE_BTF),
    ("vm_operations_struct.fault.folio_lock", "vmf (arg 0)",
     "returned VM_FAULT_LOCKED with the page unlocked", "call_fault", "vlbadfs", "filesystem",
     NO_MODULE_BTF),
    ("vm_operations_struct.fault.folio_lock.return", "vmf (arg 0)",
     "returned VM_FAULT_LOCKED with the page unlocked", "call_fault", "vlbadfs", "filesystem",
     NO_MODULE_BTF),
    ("vm_operations_struct.fault.mmap_lock", "vmf (arg 0)", "not held", "call_fault", "vlbadfs",
     "filesystem", NO_MODULE_BTF),
    # "yes, unlocks": a failed ->read_folio must have unlocked its folio
    ("address_space_operations.read_folio.folio_lock", "folio (arg 1)",
     "returned with the folio still locked", "return_read_folio", "vlbadfs", "filesystem",
     NO_MODULE_BTF),
    ("address_space_operations.read_folio.folio_lock.unlocks", "folio (arg 1)",
     "returned with the folio still locked", "return_read_folio", "vlbadfs", "filesystem",
     NO_MODULE_BTF),
    ("lock_manager_operations.lm_change.flc_lock", "lease (arg 0)", "not held",
     "do_lease_change", "tmpfs", "module", None),
    # ->iterate_shared's f_pos_lock is written in locking.rst from 6.12 (whose
    # fdget_pos() takes it for every directory: fs/file.c file_needs_f_pos_lock())
    ("file_operations.iterate_shared.f_pos_lock.prose", "file (arg 0)", "not held", "do_iterate",
     "tmpfs", "module",
     None if kver >= (6, 12) else f"left out on {series}: its locking.rst does not name "
                                  f"f_pos_lock for iterate_shared: the call breaks nothing"),
    # the xattr handler's ->set takes eight arguments (seven before 5.12), ->write_end seven
    ("address_space_operations.write_end.folio_lock", "folio (arg 5)",
     "returned with the folio still locked", "return_write_end", "vlbadfs", "filesystem",
     NO_MODULE_BTF or (None if many_args else
                       f"skipped on {series}: vlbadfs_write_end takes seven arguments, more than "
                       f"this kernel's trampolines take (six, before 6.6)")),
    ("xattr_handler_operations.set.i_rwsem", arg("inode", 2), "not held", "do_xattr_set", "ext4",
     "module",
     EXT4_NO_BTF or (None if many_args else
                     f"skipped on {series}: ext4's xattr set takes eight arguments, more than "
                     f"this kernel's trampolines take (six, before 6.6)")),
]
expected = {f[:4] for f in FAULTS if f[6] is None}
fault_fs = {f[0]: f[4] for f in FAULTS}
fault_by = {f[0]: f[5] for f in FAULTS}
for f in FAULTS:
    if f[6]:
        print(f"# faults: {f[0]} from {f[3]}: {f[6]}")
f = load("faults")
if f:
    check(rc("faults") == 1, f"{tag} faults: vfslock check exits 1 (got {rc('faults')})")
    check(f["workload_status"] == 0, f"{tag} faults: the module made every call it was asked to")
    check(f.get("mounts_picked_up", 0) >= 1 and "vlbadfs" in f["filesystems"],
          f"{tag} faults: vlbadfs, mounted by the workload, picked up "
          f"({f.get('mounts_picked_up')}, {f['filesystems']})")
    got = set()
    for d in f["deviation_list"]:
        # the module's first frame outside the method (a sleep's stack starts inside it),
        # named without the compiler's clone suffix (block_permission.isra.0)
        caller = next((fn_name(fr) for fr in d["stack"][1:]
                       if "[vl_badcall]" in fr and fn_name(fr) != d["function"]), None)
        got.add((d["rule"], d["object"]["role"], d.get("found", d["held"]), caller))
        want = fault_by.get(d["rule"])
        check(d.get("attribution") == want,
              f"{tag} faults: {d['rule']} attributed to the {want} ({d.get('attribution')})")
        check(d["stack_captured"], f"{tag} faults: {d['rule']} has a kernel stack")
        want = fault_fs.get(d["rule"])
        check(d["object"]["fstype"] == want,
              f"{tag} faults: {d['rule']} names the filesystem ({d['object']['fstype']})")
        check(d["task"]["comm"] == "sh", f"{tag} faults: {d['rule']} names the task")
    for e in sorted(expected):
        check(e in got, f"{tag} faults: flagged {e[0]} on {e[1]} ({e[2]}) from {e[3]}")
    for g in sorted(got - expected):
        check(False, f"{tag} faults: nothing else flagged, but got {g}")
    if not module_btf:
        # what cannot be found here must be missing for that reason, said by vfslock
        untraced = {n["function"] for n in f["not_traced"] if NO_BTF in n["why"]}
        want = {"vlbad_d_hash", "vlbad_permission", "vlbad_read_folio", "vlbad_write_begin",
                "vlbad_write_end", "ext4_sync_fs"}
        check(want <= untraced,
              f"{tag} faults: vlbadfs' methods and ext4's sync_fs reported not traced for want of "
              f"module BTF (missing from the list: {sorted(want - untraced)})")
    check(f["internal_calls"] >= 1,
          f"{tag} faults: shmem_mkdir's own call of shmem_mknod not judged as ->mknod")
    # the same deviations as JUnit: a failure per distinct deviation, in its rule's test case
    x = junit("faults")
    if x is not None:
        failed = {}
        for c in x.iter("testcase"):
            for fl in c.findall("failure"):
                failed.setdefault(c.get("name"), []).append(fl)
        want = {}
        for d in f["deviation_list"]:
            want[d["rule"]] = want.get(d["rule"], 0) + 1
        check({r: len(v) for r, v in failed.items()} == want,
              f"{tag} faults: JUnit has a failure per distinct deviation, in its rule's test case "
              f"({len(failed)} rules failing, {len(want)} in the JSON)")
        check(all("stack:" in fl.text and "count:" in fl.text and fl.get("type") in
                  ("filesystem", "module") for v in failed.values() for fl in v),
              f"{tag} faults: each JUnit failure has its count, stack and attribution")
        check(int(x.get("failures")) == len(failed) and
              int(x.get("tests")) == len(x.findall("./testsuite/testcase")) > len(failed),
              f"{tag} faults: JUnit counts (tests {x.get('tests')}, failures {x.get('failures')})")
    check(verdict("faults").startswith("vfslock check: FAIL: "),
          f"{tag} faults: the output ends with the verdict ({verdict('faults')})")

# 3. The same calls made properly: nothing flagged.
c = load("control")
if c:
    check(c["workload_status"] == 0, f"{tag} control: the module made every call it was asked to")
    check(rc("control") == 0 and c["deviations"] == 0,
          f"{tag} control: compliant calls give 0 deviations and exit 0 "
          f"(got {c['deviations']}, exit {rc('control')})")
    x = junit("control")
    if x is not None:
        check(x.get("failures") == "0" and not x.findall(".//failure") and
              len(x.findall("./testsuite/testcase")) >= 10,
              f"{tag} control: JUnit parses, {x.get('tests')} test cases, no failure")
    check(verdict("control").startswith("vfslock check: PASS: no deviation in "),
          f"{tag} control: the output ends with the verdict ({verdict('control')})")

# 4. A baseline written from one fault hides it, and not a new one.
try:
    base = open(os.path.join(share, "base.baseline")).read().splitlines()
except OSError:
    base = []
entries = sorted(ln.split(" at ")[0] for ln in base if ln and not ln.startswith("#"))
check(rc("base1") == 1 and entries == ["inode_operations.lookup.i_rwsem"],
      f"{tag} baseline: written from a run with the lookup fault, exit 1, one entry ({entries})")
x = junit("base2")
if x is not None:
    failed = sorted(c.get("name") for c in x.iter("testcase") if c.find("failure") is not None)
    check(rc("base2") == 1 and failed == ["inode_operations.setattr.i_rwsem"],
          f"{tag} baseline: with a new fault, exit 1 ({rc('base2')}), only the new rule fails "
          f"in JUnit ({failed})")
b3 = load("base3")
if b3:
    check(rc("base3") == 0 and b3["deviations"] == 0 and
          [k["rule"] for k in b3.get("suppressed_list", [])] == ["inode_operations.lookup.i_rwsem"],
          f"{tag} baseline: the known fault alone exits 0 ({rc('base3')}), listed as suppressed")

# 5. --all for a duration: a task outside any workload is checked.
a = load("all")
if a:
    got = [(d["rule"], d["task"]["comm"]) for d in a["deviation_list"]]
    check(rc("all") == 1 and a.get("whole_system") is True and a["workload_status"] is None,
          f"{tag} --all --duration: exit 1 ({rc('all')}), whole_system, no workload status")
    check(("inode_operations.lookup.i_rwsem", "sh") in got,
          f"{tag} --all --duration: the lookup fault of a task started before it flagged ({got})")

tap.finish()
