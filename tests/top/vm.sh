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
"$ROOT/tests/vm/run" --kernel "$KERNEL" --cpus 2 --share "$share" --timeout 900 \
	-- sh /opt/vfslock/tests/top/guest.sh > "$share/console.log" 2>&1
vmrc=$?
tail -1 "$share/console.log" | sed 's/^/  /'
# the guest script's last step: one that stopped early did not run cleanly
if [ "$vmrc" -eq 0 ] && [ ! -f "$share/done" ]; then vmrc=1; fi
# keep the reports: docs/performance.md and docs/usage.md quote them
vmsuite_finish top "$KERNEL" "$share" "$vmrc" "$ROOT/tests/top/judge.py" "top-$KERNEL" \
	'*.json' '*.out' '*.txt' '*.err' kernel
