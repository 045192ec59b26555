#!/usr/bin/env bash
# tests/reffs/check.sh --kernel 5.10|6.1|6.12|7.3 [--seconds N]: vfslock checked
# against the reference filesystem, both ways, in one boot of the guest
# (tests/reffs/guest-check.sh): vlrefs under stress-ng gives no deviation,
# and each fault of its "break" parameter is found, with the rule id it
# breaks, blamed on vlrefs, and nothing else. tests/reffs/judge.py judges.
set -uo pipefail
ROOT=$(cd -- "$(dirname -- "$0")/../.." && pwd)
. "$ROOT/tests/lib/vmsuite.sh"
KERNEL=
SECS=60
usage() { echo "usage: $0 --kernel 5.10|6.1|6.12|7.3 [--seconds N (stress-ng time, default 60)]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL=${2:-}; shift 2 || usage ;;
	--seconds) SECS=${2:-}; shift 2 || usage ;;
	*) usage ;;
	esac
done
[ -n "$KERNEL" ] || usage
if ! [[ $SECS =~ ^[0-9]+$ ]] || ((SECS < 3)); then usage; fi

share=$(mktemp -d)
trap 'rm -rf "$share"' EXIT

if ! ko=$("$ROOT/tests/vm/build-module" --kernel "$KERNEL" reference-fs 2>"$share/build.err" |
	grep '\.ko$' | tail -1) || [ -z "$ko" ]; then
	sed 's/^/#   /' "$share/build.err" | tail -20
	echo "not ok - [$KERNEL] vlrefs builds"
	echo "0 passed, 1 failed"
	exit 1
fi
start=$SECONDS
"$ROOT/tests/vm/run" --kernel "$KERNEL" --insmod "$ko" --share "$share" \
	--timeout $((600 + 4 * SECS)) \
	-- sh /opt/vfslock/tests/reffs/guest-check.sh "$SECS" >"$share/console.log" 2>&1
vmrc=$?
grep -E '^ *vm: ' "$share/console.log" | sed 's/^/  /'
echo "# VM run: $((SECONDS - start)) s"
# keep the reports: docs/reference-fs.md quotes them
vmsuite_finish reffs "$KERNEL" "$share" "$vmrc" "$ROOT/tests/reffs/judge.py" "reffs-$KERNEL" \
	'*.json' '*.out' '*.rc' guest.tap kernel dmesg
