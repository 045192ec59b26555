#!/usr/bin/env bash
#
# tests/reffs/faults.sh: for each kernel, load the reference filesystem
# (vlrefs) in a QEMU guest and provoke each fault of its "break" parameter
# once, on a vlbreak* file; check that each broke its rule (the module
# counts it in /sys/module/vlrefs/parameters/break_hits), that the kernel
# survives without a warning, and that the module unloads. The guest side
# is tests/reffs/guest-faults.sh. vfslock is not run: this shows that the
# faults happen and are safe, not that they are caught.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: tests/reffs/faults.sh [--kernel K]...

  --kernel K    5.10, 6.1, 6.12 or 7.3 (repeatable; default: 6.1 and 6.12)

Prints one "ok - ..." or "not ok - ..." line per check and a last line
"N passed, M failed"; exits 1 when a check failed, 2 on a usage error.
USAGE
}

# shellcheck source=tests/reffs/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

kernels=()
while (($#)); do
	case $1 in
	--kernel) kernels+=("${2:?--kernel needs a value}"); shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
((${#kernels[@]})) || kernels=(6.1 6.12)

for k in "${kernels[@]}"; do
	reffs_run_kernel "$k" 300 guest-faults.sh
done
reffs_finish
