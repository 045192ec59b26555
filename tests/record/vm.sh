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
vmsuite_guest "$share" tests/record/guest.sh --cpus 2 --timeout 900
VFSLOCK="$ROOT/build/vfslock" vmsuite_finish record "$KERNEL" "$share" "$VMRC" \
	"$ROOT/tests/record/judge.py" "record-$KERNEL" '*.json' '*.err' '*.txt' kernel stress.vlt
