#!/usr/bin/env bash
# tests/check/run.sh --kernel 5.10|6.1|6.12|7.3: `vfslock check` in the VM,
# both ways: the stock metadata mix (no deviation, nothing lost) and
# tests/modules/vl_badcall breaking chosen rules (each flagged, nothing
# else). tests/check/judge.py expects per kernel what it can see (on 5.10,
# no module BTF: nothing of vlbadfs' or ext4's own methods) and says why.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/vmsuite.sh"
vmsuite_kernel "$@"

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT

ko=$("$ROOT/tests/vm/build-module" --kernel "$KERNEL" "$ROOT/tests/modules/vl_badcall" |
	grep '\.ko$' | tail -1)
if [ -z "$ko" ]; then
	echo "not ok - [$KERNEL] vl_badcall builds"
	echo "0 passed, 1 failed"
	exit 1
fi
"$ROOT/tests/vm/run" --kernel "$KERNEL" --insmod "$ko" --share "$share" --timeout 900 \
	-- sh /opt/vfslock/tests/check/guest.sh > "$share/console.log" 2>&1
vmrc=$?
tail -1 "$share/console.log" | sed 's/^/  /'
# keep the reports: docs/measurements.md quotes them
vmsuite_finish check "$KERNEL" "$share" "$vmrc" "$ROOT/tests/check/judge.py" "check-$KERNEL" \
	'*.json' '*.out' '*.rc' '*.xml' base.baseline kernel
