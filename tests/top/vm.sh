#!/usr/bin/env bash
# tests/top/vm.sh --kernel 6.1|6.12: `vfslock top` in the VM, where fentry
# loads: hold times beside the waits, two processes fighting over one
# directory, and the screen driven in tmux under stress-ng.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/vmsuite.sh"
vmsuite_kernel "$@"

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT
vmsuite_guest "$share" tests/top/guest.sh --cpus 2 --timeout 900
# keep the reports: docs/performance.md and docs/usage.md quote them
vmsuite_finish top "$KERNEL" "$share" "$VMRC" "$ROOT/tests/top/judge.py" "top-$KERNEL" \
	'*.json' '*.out' '*.txt' '*.err' kernel
