# shellcheck shell=sh
# tests/reffs/guest-lib.sh: what the guest-side scripts share.

# check DESCRIPTION CMD [ARG...]: one line, "ok - ..." when CMD succeeds,
# "not ok - ..." with the tail of its output as comments otherwise
check() {
	desc=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		echo "ok - $desc"
	else
		echo "not ok - $desc"
		sed 's/^/#   /' /tmp/check.out | tail -20
	fi
}

no_kernel_complaint() {
	! dmesg | grep -E 'WARNING:|BUG:|Oops|scheduling while atomic|Call Trace'
}
