#!/usr/bin/env bash
# tests/host/run.sh: vfslock on the machine running the tests, whatever it
# allows. On a kernel that refuses fentry (like the build machines), check
# must say so and exit 2; where fentry loads, it must run.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/tap.sh"
V=$ROOT/build/vfslock
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$V" -j probe > "$tmp/probe.json"
t_check "probe -j prints JSON with every capability" python3 - "$tmp/probe.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
caps = p["capabilities"]
need = {"btf", "ringbuf", "fentry", "fexit", "tp_btf", "iter", "contention_tp", "kallsyms"}
assert need <= set(caps), set(caps)
assert all(isinstance(c["ok"], bool) for c in caps.values())
assert all("error" in c for c in caps.values() if not c["ok"])
assert p["modes"]["check"]
PY
fentry=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["capabilities"]["fentry"]["ok"])' "$tmp/probe.json")

"$V" check --fs tmpfs -- true > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$fentry" = False ]; then
	t_check "check exits 3 (unsupported kernel) where fentry is refused (got $rc)" \
		[ "$rc" -eq 3 ]
	t_check "check names what it cannot attach and why" \
		grep -q 'fentry: load refused by the kernel: Operation not permitted' "$tmp/err"
	t_check "check points at what the host allows" grep -q "vfslock probe" "$tmp/err"
	"$V" -j check --fs tmpfs -- true > "$tmp/out.json" 2>/dev/null
	t_check "check -j reports the refusal as JSON" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert "fentry" in e and "refused" in e, e' "$tmp/out.json"
else
	t_check "check runs where fentry loads (got $rc)" [ "$rc" -eq 0 ]
fi

"$V" check > /dev/null 2> "$tmp/err"
t_check "check without a command exits 2" [ $? -eq 2 ]

# Suppression files are read before anything is loaded into the kernel: a
# bad one is the only error, whatever this host allows (no fentry complaint).
printf '# known\n*.lookup.*: a reason\n\ninode_operations.rename.* at ext4_* core: a reason\n' \
	> "$tmp/bad.supp"
printf 'inode_operations.lookup.i_rwsem drift: the kernel calls it so\n' > "$tmp/good.supp"
"$V" check --suppressions "$tmp/bad.supp" -- true > /dev/null 2> "$tmp/err"
rc=$?
t_check "check --suppressions with a bad line exits 2 naming file:line, before loading" \
	sh -c "[ $rc -eq 2 ] && [ \$(wc -l < '$tmp/err') -eq 1 ] &&
	       grep -q 'bad.supp:4: .core. is neither' '$tmp/err'"
"$V" check --suppressions "$tmp/good.supp" --suppressions "$tmp/bad.supp" -- true \
	> /dev/null 2> "$tmp/err"
rc=$?
t_check "check --suppressions is repeatable; the bad file's line is named" \
	sh -c "[ $rc -eq 2 ] && grep -q 'bad.supp:4: ' '$tmp/err' && ! grep -q good.supp '$tmp/err'"
"$V" -j check --suppressions "$tmp/bad.supp" -- true > "$tmp/out.json" 2>/dev/null
t_check "check -j reports a bad suppression file as a JSON error" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert "bad.supp:4: " in e, e' "$tmp/out.json"
"$V" check --suppressions "$tmp/missing.supp" -- true > /dev/null 2> "$tmp/err"
rc=$?
t_check "check --suppressions of a missing file exits 2 and says so" \
	sh -c "[ $rc -eq 2 ] && grep -q 'missing.supp: No such file' '$tmp/err'"

"$V" rules dump "$ROOT/rules/locking-v6.12.rst" > "$tmp/dump"
t_check "rules dump: one line per non-empty cell (171 in 6.12)" [ "$(wc -l < "$tmp/dump")" -eq 171 ]
t_check "rules dump: section, op, column, value, tab-separated" \
	grep -qxP 'inode_operations\trename\ti_rwsem\(inode\)\texclusive \(both parents, some children\) \(see below\)' "$tmp/dump"
printf 'not a rules file\n' > "$tmp/bogus.txt"
"$V" rules dump "$tmp/bogus.txt" > /dev/null 2> "$tmp/err"
rc=$?
t_check "rules dump of a stranger exits 2 naming file:line" \
	sh -c "[ $rc -eq 2 ] && grep -q 'bogus.txt:1: not a locking.rst' '$tmp/err'"

"$V" rules diff 5.15 6.12 > "$tmp/diff"
t_check "rules diff 5.15 6.12 exits 1 (they differ)" [ $? -eq 1 ]
t_check "rules diff shows rename's prototype change" grep -q '^~ prototype inode_operations.rename$' "$tmp/diff"
"$V" -j rules diff 6.4 6.12 > "$tmp/diff.json"
t_check "rules diff -j 6.4 6.12: rename's i_rwsem cell changed, subdir rule added" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["id"]: x for x in d["rules"]}
assert r["inode_operations.rename.i_rwsem"]["change"] == "changed"
assert "(all)" in r["inode_operations.rename.i_rwsem"]["a"]
assert r["inode_operations.rename.i_rwsem.subdir"]["change"] == "added"' "$tmp/diff.json"
"$V" rules diff 6.12 "$ROOT/rules/locking-v6.12.rst" > /dev/null
t_check "rules diff of a version against its own file exits 0" [ $? -eq 0 ]
"$V" rules diff 4.4 6.12 > /dev/null 2> "$tmp/err"
rc=$?
t_check "rules diff of an unknown version exits 2 and lists the embedded ones" \
	sh -c "[ $rc -eq 2 ] && grep -q 'embedded: 5.10 5.15 6.1 6.4 6.12 7.3' '$tmp/err'"
"$V" rules --kernel abc > "$tmp/out" 2> "$tmp/err"
rc=$?
t_check "rules --kernel abc exits 2 naming abc, and lists no rules" \
	sh -c "[ $rc -eq 2 ] && grep -q '\"abc\": not a kernel version' '$tmp/err' && [ ! -s '$tmp/out' ]"

"$V" -j rules coverage --kernel 6.12 > "$tmp/cov.json"
t_check "rules coverage -j: counts agree with the list, locks read by the kernel checked" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = {x["id"]: x for x in d["rules"]}
assert d["checked"] == sum(x["checked"] for x in d["rules"]) and d["checked"] > 40
assert d["constraining"] == len(d["rules"])
for i in ("super_operations.sync_fs.s_umount", "dentry_operations.d_delete.d_lock",
          "address_space_operations.read_folio.folio_lock", "inode_operations.rename.i_rwsem"):
    assert r[i]["checked"] and r[i]["how"], i
# "no" constrains nothing, so it is not listed; an unchecked rule says why
assert "dentry_operations.d_revalidate.rename_lock" not in r
assert r["dentry_operations.d_compare.may_block"]["checked"]
assert "sched_switch" in r["dentry_operations.d_compare.may_block"]["how"]
# the state at return: read at the method'"'"'s exit
assert "return" in r["address_space_operations.write_begin.folio_lock"]["how"]
assert "VM_FAULT_LOCKED" in r["vm_operations_struct.page_mkwrite.folio_lock"]["how"]
assert not r["dentry_operations.d_compare.rename_lock"]["checked"]
assert r["dentry_operations.d_compare.rename_lock"]["why"]' "$tmp/cov.json"

# Discovery needs iterators only, which hosts refusing fentry still allow.
if "$V" -j methods --fs tmpfs > "$tmp/methods.json" 2> "$tmp/err"; then
	t_check "methods -j: tmpfs's vm_operations found through a mapping, write_begin's folio out" \
		python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["methods"]
roles = {r: x for x in m for r in x["roles"]}
assert roles["vm_operations_struct.fault"]["args"] == ["vm_fault"], roles.get("vm_operations_struct.fault")
assert "folio_out" in roles["address_space_operations.write_begin"]["args"] or \
       "page_out" in roles["address_space_operations.write_begin"]["args"]
# nothing from a filesystem mounted below a tmpfs (cgroup2 under /sys/fs/cgroup)
assert all("tmpfs" in x["fstypes"].split(",") for x in m), [x for x in m if "tmpfs" not in x["fstypes"]]' "$tmp/methods.json"
else
	t_check "methods fails only where iterators do (got: $(head -c 200 "$tmp/err"))" \
		sh -c "! '$V' -j probe | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"capabilities\"][\"iter\"][\"ok\"] else 1)'"
fi

# CI outputs, on recordings with known faults (bench/trace-gen): the same
# engine and report as a live check, judged here on any host.
G=$ROOT/build/trace-gen
"$G" "$tmp/f1.vlt" 200000 faults > /dev/null	# ->mknod without its parent's i_rwsem
"$G" "$tmp/f2.vlt" 200000 faults2 > /dev/null	# ... and ->lookup too
"$G" "$tmp/ok.vlt" 200000 mix > /dev/null	# no fault
"$V" check --replay "$tmp/ok.vlt" --junit "$tmp/ok.xml" > /dev/null 2>&1
rc=$?
t_check "check --junit of a clean run exits 0 (got $rc)" [ "$rc" -eq 0 ]
t_check "the clean run's JUnit parses: a passing test case per rule judged" python3 - "$tmp/ok.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
cases = root.findall("./testsuite/testcase")
names = {c.get("name") for c in cases}
assert names == {"inode_operations.mknod.i_rwsem", "inode_operations.lookup.i_rwsem"}, names
assert not root.findall(".//failure") and root.get("failures") == "0"
assert root.get("tests") == str(len(cases))
PY
"$V" check --replay "$tmp/f1.vlt" --junit "$tmp/f1.xml" --write-baseline "$tmp/f1.base" \
	> /dev/null 2>&1
rc=$?
t_check "check --junit of a faulty run exits 1 (got $rc)" [ "$rc" -eq 1 ]
t_check "the faulty run's JUnit: one failure, on the rule broken, with its site and count" \
	python3 - "$tmp/f1.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
failed = [c for c in root.iter("testcase") if c.find("failure") is not None]
assert [c.get("name") for c in failed] == ["inode_operations.mknod.i_rwsem"], failed
f = failed[0].find("failure")
assert "shmem_mknod" in f.get("message") and "34 times" in f.get("message"), f.attrib
assert "count: 34" in f.text and "stack:" in f.text, f.text
assert root.get("failures") == "1" and root.get("tests") == "2"
PY
t_check "the baseline names the deviation, in the suppression format" \
	grep -qx 'inode_operations.mknod.i_rwsem at shmem_mknod: baseline, not held in shmem_mknod' \
	"$tmp/f1.base"
"$V" check --replay "$tmp/f1.vlt" --baseline "$tmp/f1.base" > /dev/null 2>&1
rc=$?
t_check "a baseline hides the deviations it holds: exit 0 (got $rc)" [ "$rc" -eq 0 ]
"$V" check --replay "$tmp/f2.vlt" --baseline "$tmp/f1.base" --junit "$tmp/f2.xml" > /dev/null 2>&1
rc=$?
t_check "a baseline does not hide a new deviation: exit 1 (got $rc)" [ "$rc" -eq 1 ]
t_check "... and the JUnit fails only the new one" python3 - "$tmp/f2.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
assert failed == ["inode_operations.lookup.i_rwsem"], failed
PY
printf 'inode_operations.mknod.i_rwsem at shmem_mknod: a known fault of the generator\n' \
	> "$tmp/f1.supp"
"$V" check --replay "$tmp/f1.vlt" --suppressions "$tmp/f1.supp" --junit "$tmp/s.xml" \
	> /dev/null 2>&1
rc=$?
t_check "a suppressed deviation does not fail: exit 0 (got $rc), no JUnit failure" \
	sh -c "[ $rc -eq 0 ] && ! grep -q '<failure' '$tmp/s.xml'"
# The verdict is the last line, stderr included, for CI logs and tail -1.
"$V" check --replay "$tmp/ok.vlt" > "$tmp/out" 2>&1
t_check "a clean check ends with PASS and the calls judged ($(tail -1 "$tmp/out"))" \
	grep -qE '^vfslock check: PASS: no deviation in [1-9][0-9]* method calls judged against embedded:[0-9.]+; exit 0$' \
	"$tmp/out"
"$V" check --replay "$tmp/f1.vlt" > "$tmp/out" 2>&1
t_check "a faulty check ends with FAIL and the count ($(tail -1 "$tmp/out"))" \
	grep -qE '^vfslock check: FAIL: 34 deviations \(1 distinct\) in [0-9]+ method calls .*; exit 1$' \
	"$tmp/out"
"$V" check --replay "$tmp/f1.vlt" --suppressions "$tmp/f1.supp" > "$tmp/out" 2>&1
t_check "a suppressed one ends with PASS, counted ($(tail -1 "$tmp/out"))" \
	sh -c "tail -1 '$tmp/out' | grep -qE '^vfslock check: PASS: no deviation .*, 34 suppressed; exit 0$'"
# past its first compressed block (about 1 MB): some calls judged before the cut
"$G" "$tmp/big.vlt" 2000000 mix > /dev/null
head -c 3000000 "$tmp/big.vlt" > "$tmp/cut.vlt"
"$V" check --replay "$tmp/cut.vlt" > "$tmp/out" 2>&1
rc=$?
t_check "a cut recording exits 2 and ends with INCOMPLETE ($(tail -1 "$tmp/out"))" \
	sh -c "[ $rc -eq 2 ] && tail -1 '$tmp/out' | grep -qE '^vfslock check: INCOMPLETE: recording cut or damaged; no deviation in the [1-9][0-9]* method calls judged against .*; exit 2$'"
# CI logs: nothing check or report prints to a pipe is a terminal escape
{ "$V" check --replay "$tmp/f2.vlt"; "$V" report "$tmp/f2.vlt"; } > "$tmp/out" 2>&1
t_check "check and report write no escape sequence to a pipe ($(wc -l < "$tmp/out") lines)" \
	sh -c "[ \$(wc -l < '$tmp/out') -gt 20 ] && ! grep -q \$(printf '\033') '$tmp/out'"
"$V" check --duration 5 -- true > /dev/null 2> "$tmp/err"
rc=$?
t_check "check --duration without --all exits 2 and says why" \
	sh -c "[ $rc -eq 2 ] && grep -q 'duration is for --all' '$tmp/err'"
"$V" check --replay "$tmp/f1.vlt" --all > /dev/null 2> "$tmp/err"
rc=$?
t_check "check --replay with --all exits 2 and says why" \
	sh -c "[ $rc -eq 2 ] && grep -q 'no command, --all or --duration' '$tmp/err'"

t_summary
