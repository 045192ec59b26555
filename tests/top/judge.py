#!/usr/bin/env python3
"""Judge what tests/top/guest.sh left in a share directory: one "ok - ..."
or "not ok - ..." line per check."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tap import Tap  # noqa: E402

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


def fights(name):
    """{pid: (ops, elapsed_ns)} from vl_fight's output"""
    out = {}
    for m in re.finditer(r"fight pid=(\d+) ops=(\d+) elapsed_ns=(\d+)", text(name)):
        out[int(m[1])] = (int(m[2]), int(m[3]))
    return out


# --- batch: the snapshot taken at SIGTERM after the fight
check(rc("fight") == 0, f"{tag} top -j --holds exits 0 on SIGTERM (got {rc('fight')})")
f = fights("fight.out")
check(rc("fighters") == 0 and len(f) == 2, f"{tag} the two fighters ran ({f})")
lines = text("fight.json").splitlines()
snap = None
try:
    snap = json.loads(lines[-1])
except (IndexError, ValueError) as e:
    check(False, f"{tag} top -j printed a snapshot on the way out ({e})")
if snap and len(f) == 2:
    check(len(lines) == 1, f"{tag} one snapshot: the one printed at SIGTERM ({len(lines)})")
    check(snap["mode"] == "contention+holds" and "fentry" not in snap["missing"],
          f"{tag} mode contention+holds, nothing missing but rule checks ({snap['mode']}; "
          f"{snap['missing']})")
    check(snap["lost"] == 0, f"{tag} no event lost ({snap['lost']})")
    mine = [l for l in snap["locks"] if l["class"] == "i_rwsem" and l["path"] == "/mnt/tmp/fight"]
    check(len(mine) == 1, f"{tag} the directory is one i_rwsem lock named /mnt/tmp/fight, "
          f"on tmpfs ({[(l['class'], l['path']) for l in snap['locks']][:8]})")
    if mine:
        l = mine[0]
        elapsed = max(e for _, e in f.values())
        waiters = {w["tid"]: w for w in l["waiters"]}
        holders = {w["tid"]: w for w in l["holders"]}
        check(l["fstype"] == "tmpfs", f"{tag} its filesystem type is tmpfs ({l['fstype']})")
        check(set(f) <= set(waiters) and set(f) <= set(holders),
              f"{tag} both fighters are among its waiters and holders "
              f"(fighters {sorted(f)}, waiters {sorted(waiters)}, holders {sorted(holders)})")
        hold = l["hold_write"]["total_ns"]
        wait = l["wait_write"]["total_ns"] + l["wait_read"]["total_ns"]
        # exclusive holds never overlap: together they fit in the time the fight took
        check(0.2 * elapsed < hold <= 1.02 * elapsed,
              f"{tag} exclusive holds add up to {hold / elapsed:.0%} of the fight's "
              f"{elapsed / 1e9:.2f} s (more than 20%, at most all of it)")
        for pid, (ops, el) in sorted(f.items()):
            if pid not in waiters or pid not in holders:
                continue
            w, h = waiters[pid]["total_ns"], holders[pid]["total_ns"]
            # each fighter spends its time waiting for the lock, holding it, or between
            check(0.3 * el < w + h <= 1.02 * el,
                  f"{tag} fighter {pid}: wait {w / 1e9:.2f} s + hold {h / 1e9:.2f} s = "
                  f"{(w + h) / el:.0%} of its {el / 1e9:.2f} s")
            # every create and unlink takes the lock once: holds match the operations
            check(holders[pid]["count"] >= 2 * ops,
                  f"{tag} fighter {pid}: {holders[pid]['count']} holds for {ops} "
                  f"create+unlink steps (at least two each)")
        check(wait > 0 and sum(l["wait_hist_log2_ns"]) ==
              l["wait_write"]["count"] + l["wait_read"]["count"],
              f"{tag} its wait histogram counts every wait")
        check(sum(l["hold_hist_log2_ns"]) == l["hold_write"]["count"] + l["hold_read"]["count"],
              f"{tag} its hold histogram counts every hold")
        check(l["owner"]["tid"] in f and l["owner"]["syscall"] in ("openat", "open", "unlink",
                                                                     "unlinkat", "close"),
              f"{tag} its owner at the last wait is a fighter, in its system call "
              f"({l['owner']})")
        check(any("unlink" in s or "open" in s for s in l["stack"]),
              f"{tag} the last waiter's stack shows the system call ({l['stack'][:6]})")
        tasks = {t["tid"]: t for t in snap["tasks"]}
        check(all(tasks.get(p, {}).get("holds", 0) >= holders[p]["count"] for p in f
                  if p in holders),
              f"{tag} the tasks view counts each fighter's holds")

# --- the screen, live under stress-ng
locks, flt = text("tui-locks.txt"), text("tui-filtered.txt")
detail = text("tui-detail.txt") + text("tui-detail-down.txt") + text("tui-detail-end.txt")
check(re.search(r"^vfslock top .* mode contention\+holds\+check", locks, re.M) is not None,
      f"{tag} screen: header with kernel and mode contention+holds+check")
check("missing:" not in locks, f"{tag} screen: nothing missing where fentry loads")
check(re.search(r"^i_rwsem .*/mnt/tmp/fight", locks, re.M) is not None,
      f"{tag} screen: the fought-over directory is listed by its path")
rows = [r for r in flt.splitlines()[6:-1] if r.strip() and not r.startswith("CLASS")]
check("filter class=i_rwsem" in flt and rows and all(r.startswith("i_rwsem ") for r in rows),
      f"{tag} screen: filtered to i_rwsem rows ({len(rows)})")
check(re.search(r"^i_rwsem +\d+ +\S+ +\S+ +\S+ +[1-9][0-9.]*[mu]?s /mnt/tmp/fight$", flt, re.M)
      is not None, f"{tag} screen: its row has hold time")
check(all(k in detail for k in ("waiters", "holders", "wait (log2 buckets)",
                                "hold (log2 buckets)", "owner at the last wait")),
      f"{tag} screen: the detail pane shows waiters, holders, both histograms (pgdn scrolls), "
      "the owner")
check(re.search(r"^detail, lines 1-", text("tui-detail.txt"), re.M) is not None and
      re.search(r"^detail, lines ([2-9]|\d\d+)-", text("tui-detail-down.txt"), re.M) is not None,
      f"{tag} screen: pgdn scrolls the detail pane")
check("vl_fight" in text("tui-tasks.txt"), f"{tag} screen: the tasks view lists the fighters")
check(re.search(r"TIME\*? +PID COMM +METHOD", text("tui-deviations.txt")) is not None and
      "no rule is checked" not in text("tui-deviations.txt"),
      f"{tag} screen: the deviations view, with rules checked")
check(rc("tui") == 0, f"{tag} screen: q exits 0 (got {rc('tui')})")
check("vfslock top" not in text("tui-after.txt"), f"{tag} screen: the terminal is given back")
check(not text("tui.err").strip(),
      f"{tag} screen: nothing written to stderr ({text('tui.err').strip()[:200]})")
