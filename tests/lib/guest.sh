# shellcheck shell=sh
# What the guest-side scripts of tests/top and tests/record share (busybox sh).

# wait_file FILE REGEX SECONDS: until FILE holds a line matching REGEX
wait_file() {
	i=0
	while [ $i -lt $(($3 * 2)) ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
