# shellcheck shell=bash
# One line per check ("ok - NAME" / "not ok - NAME") and a last line
# "N passed, M failed", which is what tests/run-all and CI read.
T_PASS=0
T_FAIL=0

t_ok() {
	printf 'ok - %s\n' "$*"
	T_PASS=$((T_PASS + 1))
}

t_not_ok() {
	printf 'not ok - %s\n' "$*"
	T_FAIL=$((T_FAIL + 1))
}

# t_check NAME CMD...: ok when CMD succeeds
t_check() {
	local name=$1
	shift
	if "$@"; then t_ok "$name"; else t_not_ok "$name"; fi
}

t_summary() {
	printf '%d passed, %d failed\n' "$T_PASS" "$T_FAIL"
	[ "$T_FAIL" -eq 0 ]
}
