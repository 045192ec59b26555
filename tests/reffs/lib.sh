# shellcheck shell=bash
# tests/reffs/lib.sh: what load.sh and faults.sh share. Per kernel: build
# reference-fs/ (vlrefs), boot the guest with it loaded, run a guest-side
# script from tests/reffs/ and count its "ok - ..." / "not ok - ..." lines
# with the host's own checks (the build, the guest's exit status).

reffs_repo=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
reffs_passed=0
reffs_failed=0
reffs_tmp=$(mktemp -d)
trap 'rm -rf -- "$reffs_tmp"' EXIT

reffs_result() { # OK|FAIL DESCRIPTION
	if [[ $1 == OK ]]; then
		echo "ok - $2"
		reffs_passed=$((reffs_passed + 1))
	else
		echo "not ok - $2"
		reffs_failed=$((reffs_failed + 1))
	fi
}

# reffs_run_kernel K TIMEOUT GUEST_SCRIPT [ARG...]
reffs_run_kernel() {
	local k=$1 timeout=$2 guest=$3 ko line lines=0 rc=0
	shift 3
	cd -- "$reffs_repo" || return
	if ko=$(tests/vm/build-module --kernel "$k" reference-fs 2>"$reffs_tmp/build.err") &&
		! grep -i 'warning' "$reffs_tmp/build.err" >&2; then
		reffs_result OK "$k: build-module reference-fs, no warnings"
	else
		sed 's/^/#   /' "$reffs_tmp/build.err" | tail -20
		reffs_result FAIL "$k: build-module reference-fs, no warnings"
		return
	fi
	tests/vm/run --kernel "$k" --insmod "$ko" --timeout "$timeout" -- \
		sh "/opt/vfslock/tests/reffs/$guest" "$@" >"$reffs_tmp/vm.out" 2>"$reffs_tmp/vm.err" || rc=$?
	while IFS= read -r line; do
		case $line in
		"ok - "*) reffs_result OK "$k: ${line#ok - }"; lines=$((lines + 1)) ;;
		"not ok - "*) reffs_result FAIL "$k: ${line#not ok - }"; lines=$((lines + 1)) ;;
		"#"*) echo "$line" ;;
		esac
	done <"$reffs_tmp/vm.out"
	if ((lines)); then
		reffs_result OK "$k: the guest ran its checks ($lines)"
	else
		reffs_result FAIL "$k: the guest ran its checks"
	fi
	grep '^vm: ' "$reffs_tmp/vm.err" | sed 's/^/# /' || true
	if ((rc == 0)); then
		reffs_result OK "$k: guest exit 0, no kernel warning, oops or panic on the console"
	else
		grep -E 'WARNING|BUG|Oops|panic|vm: ' "$reffs_tmp/vm.err" | tail -20 | sed 's/^/#   /' || true
		reffs_result FAIL "$k: guest exit 0, no kernel warning, oops or panic on the console (exit $rc)"
	fi
}

# the last line, and the exit status: 1 when a check failed
reffs_finish() {
	echo "$reffs_passed passed, $reffs_failed failed"
	((reffs_failed == 0))
}
