#!/usr/bin/env bash
# tests/matrix/run.sh --kernel K: one boot of kernel K (5.10, 6.1, 6.12,
# 6.18, 7.3, latest...) showing what every kernel of the matrix must:
# probe's dry loads, the stock mix checked clean, vl_badcall's and vlrefs'
# faults flagged with their rules, top seeing a fight, and the recording of
# the faults replayed here to the same result (tests/matrix/guest.sh).
# The modules are built for K where Debian has its headers; where it has
# none (6.16 to 7.1), their checks are skipped, saying so.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/vmsuite.sh"
vmsuite_kernel "$@"

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
insmod=()

# build SRCDIR NAME: its .ko for KERNEL on --insmod, or a note why not
build() {
	local ko err=$share/build-$2.err
	ko=$("$ROOT/tests/vm/build-module" --kernel "$KERNEL" "$ROOT/$1" 2>"$err" |
		grep '\.ko$' | tail -1)
	if [ -n "$ko" ]; then
		insmod+=(--insmod "$ko")
	elif grep -q "archive has no" "$err"; then
		echo "# [$KERNEL] $2 not built: $(grep -o "Debian's archive has no.*" "$err" | head -1)" \
			> "$share/$2.skipped"
	else
		tail -5 "$err" | sed 's/^/#   /'
		echo "not ok - [$KERNEL] $2 builds"
		echo "0 passed, 1 failed"
		exit 1
	fi
}
build tests/modules/vl_badcall vl_badcall
build reference-fs vlrefs

# a program refused by the kernel, check going on without it: on the oldest
# and the newest kernel (their loaders differ most), VFSLOCK_MATRIX_REFUSE
case " ${VFSLOCK_MATRIX_REFUSE:-5.10 7.3 latest} " in
*" $KERNEL "*) touch "$share/refuse" ;;
esac
vmsuite_guest "$share" tests/matrix/guest.sh "${insmod[@]}" --cpus 2 --timeout 1200
cat "$share"/*.skipped 2>/dev/null
VFSLOCK="$ROOT/build/vfslock" vmsuite_finish matrix "$KERNEL" "$share" "$VMRC" \
	"$ROOT/tests/matrix/judge.py" "matrix-$KERNEL" '*.json' '*.out' '*.err' '*.rc' \
	'*.skipped' reffs.hits kernel
