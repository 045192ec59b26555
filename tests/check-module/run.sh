#!/usr/bin/env bash
# tests/check-module/run.sh [KERNEL...]: the CI command of docs/ci.md,
# tests/vm/check-module, on reference-fs as a filesystem project would run
# it, on each kernel (default 6.1 6.12) in one invocation:
#   clean   the workload on vlrefs with no fault: exit 0, each kernel's JUnit
#           parsed with no failure, its verdict PASS
#   mixed   the same workload breaking two rules on the last kernel only:
#           exit 1, the failures in that kernel's JUnit alone, one summary
#   broken  a module that does not build, and a --setup that fails: exit 4
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
CM=$ROOT/tests/vm/check-module
kernels=("$@")
((${#kernels[@]})) || kernels=(6.1 6.12)
last=${kernels[-1]}
kargs=()
for k in "${kernels[@]}"; do kargs+=(--kernel "$k"); done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0
fail=0
t_check() {
	local desc=$1
	shift
	if "$@"; then
		echo "ok - $desc"
		pass=$((pass + 1))
	else
		echo "not ok - $desc"
		fail=$((fail + 1))
	fi
}

SETUP='mkdir -p /mnt/vlrefs && mount -t vlrefs -o size=128m none /mnt/vlrefs'
SUPP=$ROOT/suppressions/kernel.supp

# junit DIR FAILING...: every kernel directory's JUnit parses (python3's
# xml), has test cases, and fails exactly the rules named for DIR's kernel
junit() {
	python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
path, want = sys.argv[1], set(sys.argv[2:])
root = ET.parse(path).getroot()
cases = root.findall("./testsuite/testcase")
failed = {c.get("name") for c in cases if c.find("failure") is not None}
assert len(cases) >= 5, f"{len(cases)} test cases"
assert failed == want, f"failing {sorted(failed)}, expected {sorted(want)}"
for c in cases:
    for f in c.findall("failure"):
        assert f.get("type") == "filesystem" and "vlrefs_" in f.get("message"), f.attrib
        assert "stack:" in f.text and "count:" in f.text, f.text
assert root.get("failures") == str(len(failed)) or int(root.get("failures")) >= len(failed)
PY
}

# 1. clean
"$CM" "${kargs[@]}" --out "$out/clean" --setup "$SETUP" reference-fs \
	--fs vlrefs --suppressions "$SUPP" -- sh ci/workload.sh none 8 >"$out/clean.log" 2>&1
rc=$?
grep -E '^(check-module|vm|build-module):' "$out/clean.log" | grep -v '^build-module: building' | sed 's/^/  /'
t_check "clean: exit 0 (got $rc)" [ "$rc" -eq 0 ]
t_check "clean: the log ends with the one-line summary, a PASS per kernel" \
	grep -qE "^check-module: ([^ ]+ PASS, ){$((${#kernels[@]} - 1))}[^ ]+ PASS; reports in .*; exit 0$" \
	<(tail -n 1 "$out/clean.log")
for d in "$out"/clean/*-amd64; do
	r=$(basename "$d")
	t_check "clean [$r]: JUnit parses, no failure" junit "$d/junit.xml"
	t_check "clean [$r]: vfslock's verdict PASS, vlrefs calls judged" \
		grep -qE '^vfslock check: PASS: no deviation in [0-9]{4,} method calls' <(tail -n 1 "$d/check.log")
done
t_check "clean: a report directory per kernel" [ "$(ls -d "$out"/clean/*-amd64 | wc -l)" -eq ${#kernels[@]} ]

# 2. mixed: setattr_unlocked and create_shared on the last kernel
WL="case \$(uname -r) in $last.*) exec sh ci/workload.sh setattr_unlocked,create_shared 3 ;;
	*) exec sh ci/workload.sh none 3 ;; esac"
"$CM" "${kargs[@]}" --out "$out/mixed" --setup "$SETUP" reference-fs \
	--fs vlrefs --suppressions "$SUPP" -- sh -c "$WL" >"$out/mixed.log" 2>&1
rc=$?
t_check "mixed: exit 1 (got $rc)" [ "$rc" -eq 1 ]
t_check "mixed: the summary says which kernel failed ($(tail -n 1 "$out/mixed.log"))" \
	grep -qE "[^ ]+ FAIL; reports in .*; exit 1$" <(tail -n 1 "$out/mixed.log")
for d in "$out"/mixed/*-amd64; do
	r=$(basename "$d")
	case $r in
	"$last".*)
		t_check "mixed [$r]: JUnit fails setattr's and create's i_rwsem rules, with stacks" \
			junit "$d/junit.xml" inode_operations.setattr.i_rwsem inode_operations.create.i_rwsem
		t_check "mixed [$r]: status 1, verdict FAIL" \
			sh -c "[ \"\$(cat '$d/status')\" = 1 ] && tail -n 1 '$d/check.log' | grep -q '^vfslock check: FAIL: '"
		t_check "mixed [$r]: the deviations are printed in the log" \
			grep -q "^\[$r\] .*inode_operations.setattr.i_rwsem" "$out/mixed.log"
		t_check "mixed [$r]: a baseline written, naming both" \
			sh -c "grep -q '^inode_operations.setattr.i_rwsem at ' '$d/baseline' &&
				grep -q '^inode_operations.create.i_rwsem at ' '$d/baseline'"
		;;
	*)
		t_check "mixed [$r]: JUnit parses, no failure" junit "$d/junit.xml"
		t_check "mixed [$r]: status 0" [ "$(cat "$d/status")" = 0 ]
		;;
	esac
done

# 3. the module's own failures
cp -r "$ROOT/reference-fs" "$out/badfs"
echo '#error "does not build"' >>"$out/badfs/super.c"
"$CM" --kernel "$last" --out "$out/nobuild" "$out/badfs" --fs vlrefs -- true >"$out/nobuild.log" 2>&1
rc=$?
t_check "a module that does not build: exit 4 (got $rc), said so" \
	sh -c "[ $rc -eq 4 ] && grep -q 'BROKEN.*did not build' '$out/nobuild.log'"
"$CM" --kernel "$last" --out "$out/nosetup" --setup 'mount -t vlrefs none /nonexistent' \
	reference-fs --fs vlrefs -- true >"$out/nosetup.log" 2>&1
rc=$?
t_check "a --setup that fails: exit 4 (got $rc), its error shown" \
	sh -c "[ $rc -eq 4 ] && grep -q 'BROKEN.*--setup failed: .*nonexistent' '$out/nosetup.log'"
"$CM" --out "$out/x" reference-fs --json x.json -- true >"$out/usage.log" 2>&1
rc=$?
t_check "--json among the check options: exit 2 (got $rc), said why" \
	sh -c "[ $rc -eq 2 ] && grep -q 'writes the reports itself' '$out/usage.log'"

# keep the reports: docs/ci.md quotes them
keep=$ROOT/build/reports/check-module
rm -rf "$keep"
mkdir -p "$keep"
cp -r "$out/clean" "$out/mixed" "$out"/*.log "$keep/" 2>/dev/null
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
