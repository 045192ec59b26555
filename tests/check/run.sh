#!/usr/bin/env bash
# tests/check/run.sh --kernel 6.1|6.12: `vfslock check` in the VM, both ways:
# the stock metadata mix (no deviation, nothing lost) and tests/modules/
# vl_badcall breaking chosen rules (each flagged, nothing else).
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
KERNEL=
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=$2; shift 2 ;;
	*) echo "usage: $0 --kernel 6.1|6.12" >&2; exit 2 ;;
	esac
done
[ -n "$KERNEL" ] || { echo "usage: $0 --kernel 6.1|6.12" >&2; exit 2; }

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
if [ "$vmrc" -ne 0 ] || [ ! -f "$share/kernel" ]; then
	grep -E 'vm: ' "$share/console.log" | sed 's/^/  /'
	echo "not ok - [$KERNEL] VM ran the check suite cleanly (tests/vm/run exited $vmrc)"
	echo "0 passed, 1 failed"
	exit 1
fi
{
	echo "ok - [$KERNEL] VM ran the check suite with no kernel warning"
	python3 "$ROOT/tests/check/judge.py" "$share" | grep -E '^(not )?ok - '
} > "$share/results"
cat "$share/results"
# keep the reports: docs/measurements.md quotes them
mkdir -p "$ROOT/build/reports/check-$KERNEL"
cp "$share"/*.json "$share"/*.out "$share"/*.rc "$share/results" "$share/console.log" \
	"$ROOT/build/reports/check-$KERNEL/" 2>/dev/null
p=$(grep -c '^ok - ' "$share/results")
f=$(grep -c '^not ok - ' "$share/results")
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
