#!/usr/bin/env bash
# tests/daemon/vm.sh --kernel 6.1|6.12: `vfslock daemon` with fentry, in the
# VM (tests/daemon/guest.sh), judged here (tests/daemon/judge.py) with
# Debian's python3-prometheus-client parsing its metrics.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/vmsuite.sh"
vmsuite_kernel "$@"

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
ko=$("$ROOT/tests/vm/build-module" --kernel "$KERNEL" "$ROOT/tests/modules/vl_badcall" 2>/dev/null |
	grep '\.ko$' | tail -1)
if [ -z "$ko" ]; then
	echo "not ok - [$KERNEL] vl_badcall builds"
	echo "0 passed, 1 failed"
	exit 1
fi
vmsuite_guest "$share" tests/daemon/guest.sh --insmod "$ko" --module dummy --timeout 900
# the judge imports prometheus_client: Debian's python3 has it (make deps)
PATH=/usr/bin:$PATH vmsuite_finish daemon "$KERNEL" "$share" "$VMRC" \
	"$ROOT/tests/daemon/judge.py" "daemon-$KERNEL" '*.json' '*.txt' '*.log' '*.rc' '*.df' '*.err' '*.out' 'progs.*'
