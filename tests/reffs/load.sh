#!/usr/bin/env bash
#
# tests/reffs/load.sh: build the reference filesystem (reference-fs/,
# vlrefs) for each kernel, load it in a QEMU guest, and check that it
# mounts, stores data faithfully and survives stress-ng's filesystem
# stressors, plain and with -o casefold, without a kernel warning, and
# unloads. The guest side is tests/reffs/guest-load.sh.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: tests/reffs/load.sh [--kernel K]... [--seconds N]

  --kernel K    5.10, 6.1, 6.12 or 7.3 (repeatable; default: 6.1 and 6.12)
  --seconds N   stress-ng time per kernel, in all (default 60)

Prints one "ok - ..." or "not ok - ..." line per check and a last line
"N passed, M failed"; exits 1 when a check failed, 2 on a usage error.
USAGE
}

# shellcheck source=tests/reffs/lib.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

kernels=()
secs=60
while (($#)); do
	case $1 in
	--kernel) kernels+=("${2:?--kernel needs a value}"); shift 2 ;;
	--seconds) secs=${2:?--seconds needs a value}; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
((${#kernels[@]})) || kernels=(6.1 6.12)
if ! [[ $secs =~ ^[0-9]+$ ]] || ((secs < 3)); then
	echo "load.sh: --seconds takes a number >= 3" >&2
	exit 2
fi

for k in "${kernels[@]}"; do
	reffs_run_kernel "$k" $((300 + 4 * secs)) guest-load.sh "$secs"
done
reffs_finish
