#!/usr/bin/env bash
# tests/record/vm.sh --kernel 6.1|6.12: `vfslock record` in the VM under
# stress-ng; the traces read back on this host by report, check --replay
# and export, and compared with the live result (tests/record/judge.py).
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/vmsuite.sh"
vmsuite_kernel "$@"

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
"$ROOT/tests/vm/run" --kernel "$KERNEL" --cpus 2 --share "$share" --timeout 900 \
	-- sh /opt/vfslock/tests/record/guest.sh > "$share/console.log" 2>&1
vmrc=$?
tail -1 "$share/console.log" | sed 's/^/  /'
if [ "$vmrc" -eq 0 ] && [ ! -f "$share/done" ]; then vmrc=1; fi
VFSLOCK="$ROOT/build/vfslock" vmsuite_finish record "$KERNEL" "$share" "$vmrc" \
	"$ROOT/tests/record/judge.py" "record-$KERNEL" '*.json' '*.err' '*.txt' kernel stress.vlt
