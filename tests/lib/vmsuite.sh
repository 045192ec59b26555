# shellcheck shell=bash
# What the VM suites (tests/check, tests/reffs, tests/top, tests/record)
# share: the guest booted on its script (vmsuite_guest), then the verdict
# on the boot itself, the judge's lines, the reports kept under
# build/reports/, and the closing "N passed, M failed".

# vmsuite_kernel "$@": KERNEL from --kernel K (a series the bench boots), the suites' only
# argument, or a usage message and exit 2.
vmsuite_kernel() {
	KERNEL=
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) KERNEL=${2:-}; shift 2 || break ;;
		*) break ;;
		esac
	done
	if [ $# -gt 0 ] || [ -z "$KERNEL" ]; then
		echo "usage: $0 --kernel K (5.10, 6.1, 6.12, 6.18, 7.3, latest...)" >&2
		exit 2
	fi
}

# vmsuite_guest SHARE SCRIPT [tests/vm/run OPTION...]: boot KERNEL and run
# /opt/vfslock/SCRIPT in the guest, its console in SHARE/console.log, whose
# last line is shown. SCRIPT writes SHARE/done as its last step: VMRC is
# tests/vm/run's status, or 1 when the script stopped before its end.
vmsuite_guest() {
	local share=$1 script=$2
	shift 2
	"$ROOT/tests/vm/run" --kernel "$KERNEL" --share "$share" "$@" \
		-- sh "/opt/vfslock/$script" > "$share/console.log" 2>&1
	VMRC=$?
	tail -1 "$share/console.log" | sed 's/^/  /'
	if [ "$VMRC" -eq 0 ] && [ ! -f "$share/done" ]; then VMRC=1; fi
}

# vmsuite_finish NAME KERNEL SHARE VMRC JUDGE KEEP [PATTERN...]
#   NAME   the suite, for the boot's verdict ("check", "reffs", "top")
#   VMRC   tests/vm/run's exit status; the guest must also have written
#          SHARE/kernel
#   JUDGE  a script taking SHARE, printing "ok - ..." / "not ok - ..."
#   KEEP   the directory under build/reports/ to keep SHARE's PATTERNs in,
#          besides the results and the console log
# Returns non-zero if anything failed.
vmsuite_finish() {
	local name=$1 kernel=$2 share=$3 vmrc=$4 judge=$5 keep=$6 p f
	local dest="$ROOT/build/reports/$keep"
	shift 6
	if [ "$vmrc" -ne 0 ] || [ ! -f "$share/kernel" ]; then
		grep -E '^ *vm: ' "$share/console.log" | sed 's/^/  /'
		grep -E 'WARNING|BUG|Oops|panic' "$share/console.log" | tail -20 | sed 's/^/#   /'
		echo "not ok - [$kernel] VM ran the $name suite cleanly (tests/vm/run exited $vmrc)"
		echo "0 passed, 1 failed"
		return 1
	fi
	{
		echo "ok - [$kernel] VM ran the $name suite with no kernel warning"
		python3 "$judge" "$share" | grep -E '^((not )?ok - |# )'
	} > "$share/results"
	cat "$share/results"
	mkdir -p "$dest"
	# shellcheck disable=SC2068 # the patterns are globs, expanded in SHARE
	(cd "$share" && cp -- $@ results console.log "$dest/" 2>/dev/null)
	p=$(grep -c '^ok - ' "$share/results")
	f=$(grep -c '^not ok - ' "$share/results")
	echo "$p passed, $f failed"
	[ "$f" -eq 0 ]
}
