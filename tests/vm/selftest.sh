#!/usr/bin/env bash
#
# tests/vm/selftest.sh: check the VM bench itself with real boots, on each
# kernel asked for (default 6.1 and 6.12). Prints "ok - NAME" or
# "not ok - NAME" per check and ends with "N passed, M failed"; exits 1 if
# any check failed.
#
# Checks share boots where one boot can show several things without hiding
# a failure: each check still looks at its own evidence (a file on the
# share, a line of output, an exit status, a message).
set -euo pipefail

VM_PROG=selftest
# shellcheck source=tests/vm/lib/common.sh
. "$(dirname -- "$(readlink -f -- "${BASH_SOURCE[0]}")")/lib/common.sh"

RUN=$VM_DIR/run
BUILD_MODULE=$VM_DIR/build-module

passed=0
failed=0
WORK=

usage() {
	cat <<'EOF'
usage: tests/vm/selftest.sh [--kernel K]...

Boot each kernel K (default: 6.1 and 6.12) several times under tests/vm/run
and check exit statuses, verdicts, the share, mounts, argument quoting and
modules built with tests/vm/build-module.
EOF
}

ok() {
	printf 'ok - %s\n' "$1"
	passed=$((passed + 1))
}

not_ok() {
	printf 'not ok - %s\n' "$1"
	shift
	local line
	for line in "$@"; do
		printf '#   %s\n' "$line"
	done
	failed=$((failed + 1))
	return 0
}

# check NAME COMMAND...: ok when COMMAND succeeds. On failure the last lines
# of the run's stderr help to see why.
check() {
	local name=$1
	shift
	if "$@"; then
		ok "$name"
	else
		not_ok "$name" "${DIAG[@]}"
	fi
}

# vm NAME [RUN ARGS...]: run tests/vm/run, keeping stdout, stderr and status
# in $WORK/NAME.{out,err} and RC; DIAG gets the lines that explain a failure.
RC=0
DIAG=()
vm() {
	local name=$1
	shift
	RC=0
	"$RUN" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null || RC=$?
	mapfile -t DIAG < <(printf 'exit status %s; stderr:\n' "$RC"; tail -n 4 -- "$WORK/$name.err")
}

# excerpt FILE [N]: FILE's last N lines (3) on one line, for a diagnosis.
# Never fails: a missing file is itself the diagnosis.
excerpt() {
	{ tail -n "${2:-3}" -- "$1" 2>/dev/null || echo "(no ${1##*/})"; } | tr '\n' ' '
}

rc_is() {
	[[ $RC == "$1" ]]
}

# err_has NAME PATTERN: the run's stderr has a line matching PATTERN (ERE).
err_has() {
	grep -E -- "$2" "$WORK/$1.err" >/dev/null
}

# build KERNEL DIR: path of the module built from DIR, or nothing.
build() {
	local out
	out=$("$BUILD_MODULE" --kernel "$1" "$2" 2>"$WORK/build-$(basename -- "$2").err") || return 1
	printf '%s\n' "$out" | head -n 1
}

# verdict NAME CODE PATTERN: the run exited CODE and said why on stderr.
verdict() {
	rc_is "$2" && err_has "$1" "$3"
}

mounts_ok() {
	grep -Eq '^/dev/vda /mnt/ext4 ext4 ' "$1" && grep -Eq '^[^ ]+ /mnt/tmp tmpfs ' "$1"
}

# timed_out NAME SECONDS: the run hit its 20 s timeout and was over soon after.
timed_out() {
	verdict "$1" "$VM_EXIT_TIMEOUT" '^vm: timeout' &&
		awk -v t="$2" 'BEGIN { exit !(t < 40) }'
}

has_btf_section() {
	[[ -n $1 ]] && readelf -S -W -- "$1" | grep -E '[[:space:]]\.BTF[[:space:]]' >/dev/null
}

selftest_kernel() {
	local k=$1 hello provoke share token start took expected
	local -a quoted_args

	# --- modules ---------------------------------------------------------
	hello=$(build "$k" "$VM_DIR/selftest/hello") || hello=
	DIAG=("build-module: $(excerpt "$WORK/build-hello.err")")
	check "$k: build-module builds hello.ko with a .BTF section" has_btf_section "$hello"
	provoke=$(build "$k" "$VM_DIR/selftest/provoke") || provoke=
	DIAG=("build-module: $(excerpt "$WORK/build-provoke.err")")
	check "$k: build-module builds provoke.ko with a .BTF section" has_btf_section "$provoke"

	# --- one boot: status, share, mounts, --insmod -------------------------
	share=$WORK/share-$k
	mkdir -p -- "$share"
	token="from-host-$$-$RANDOM"
	printf '%s\n' "$token" >"$share/in"
	local -a insmod=()
	[[ -z $hello ]] || insmod=(--insmod "$hello")
	vm main-"$k" --kernel "$k" --share "$share" "${insmod[@]}" -- sh -c '
		{ cat /share/in; echo from-guest; } >/share/out
		cp /proc/mounts /share/mounts
		if [ -e /sys/kernel/btf/hello ]; then echo present; else echo absent; fi >/share/btf
		exit 7'
	check "$k: CMD's exit status 7 comes back as 7" rc_is 7
	DIAG+=("share/out: $(excerpt "$share/out")")
	check "$k: --share round trip (host file read and copied back by the guest)" \
		test "$(cat -- "$share/out" 2>/dev/null)" == "$token"$'\n'from-guest
	check "$k: ext4 on /mnt/ext4 and tmpfs on /mnt/tmp in /proc/mounts" mounts_ok "$share/mounts"
	if [[ -n $hello ]]; then
		DIAG+=("share/btf: $(excerpt "$share/btf")")
		check "$k: hello.ko loads with --insmod and /sys/kernel/btf/hello exists" \
			grep -qx present "$share/btf"
	else
		not_ok "$k: hello.ko loads with --insmod and /sys/kernel/btf/hello exists" "hello.ko was not built"
	fi

	# --- status 0 and the summary line ---------------------------------------
	vm true-"$k" --kernel "$k" -- true
	check "$k: 'true' exits 0" rc_is 0
	check "$k: summary line 'vm: RELEASE: boot S s, ..., exit 0'" \
		err_has true-"$k" '^vm: [^ ]+: boot [0-9.]+ s, setup [0-9.]+ s, command [0-9.]+ s, exit 0$'

	# --- arguments keep their words --------------------------------------------
	# shellcheck disable=SC2016 # the $ must reach the guest unexpanded
	quoted_args=('a b' 'c' "it's" '$HOME' '*' '' 'x"y' 'back\slash' ';exit 3')
	expected=$(printf '%s|' "${quoted_args[@]}")
	vm quote-"$k" --kernel "$k" -- printf '%s|' "${quoted_args[@]}"
	DIAG+=("stdout: $(excerpt "$WORK/quote-$k.out" 2)")
	check "$k: CMD arguments arrive unchanged ($expected)" \
		grep -qxF -- "$expected" "$WORK/quote-$k.out"

	# --- kernel verdicts ----------------------------------------------------------
	vm panic-"$k" --kernel "$k" -- sh -c 'echo c > /proc/sysrq-trigger'
	check "$k: sysrq crash is a kernel panic ($VM_EXIT_PANIC)" \
		verdict panic-"$k" "$VM_EXIT_PANIC" 'kernel panic: .*Kernel panic - not syncing'

	if [[ -n $provoke ]]; then
		vm oops-"$k" --kernel "$k" --insmod "$provoke" -- \
			sh -c 'echo oops > /sys/module/provoke/parameters/trigger'
		check "$k: an oops that panics is reported as an oops ($VM_EXIT_OOPS)" \
			verdict oops-"$k" "$VM_EXIT_OOPS" 'kernel oops/BUG: .*NULL pointer dereference'
		vm warn-"$k" --kernel "$k" --insmod "$provoke" -- \
			sh -c 'echo warn > /sys/module/provoke/parameters/trigger'
		check "$k: a WARNING with CMD exiting 0 gives $VM_EXIT_WARNING" \
			verdict warn-"$k" "$VM_EXIT_WARNING" 'kernel warning: .*WARNING: CPU: '
	else
		not_ok "$k: an oops that panics is reported as an oops ($VM_EXIT_OOPS)" "provoke.ko was not built"
		not_ok "$k: a WARNING with CMD exiting 0 gives $VM_EXIT_WARNING" "provoke.ko was not built"
	fi

	start=$(vm_now)
	vm timeout-"$k" --kernel "$k" --timeout 20 -- sleep 1000
	took=$(vm_elapsed "$start")
	DIAG+=("took $took s")
	check "$k: --timeout 20 on 'sleep 1000' gives $VM_EXIT_TIMEOUT within 40 s" \
		timed_out timeout-"$k" "$took"

	# Under TCG no kernel reaches /init in one second.
	VFSLOCK_VM_BOOT_TIMEOUT=1 vm noboot-"$k" --kernel "$k" -- true
	check "$k: no /init within the boot timeout is a boot failure ($VM_EXIT_BOOT)" \
		verdict noboot-"$k" "$VM_EXIT_BOOT" '^vm: boot failure'
}

main() {
	local -a kernels=()
	while (($#)); do
		case $1 in
		--kernel)
			(($# >= 2)) || { usage >&2; exit 2; }
			kernels+=("$2")
			shift 2
			;;
		--kernel=*)
			kernels+=("${1#*=}")
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		*)
			usage >&2
			exit 2
			;;
		esac
	done
	((${#kernels[@]})) || kernels=(6.1 6.12)

	WORK=$(mktemp -d -- "${TMPDIR:-/tmp}/vfslock-vm-selftest.XXXXXX")
	trap 'rm -rf -- "$WORK"' EXIT

	# Bad arguments never boot anything.
	vm badargs --kernel 6.1 --no-such-option -- true
	check "bad arguments are a harness error ($VM_EXIT_HARNESS)" rc_is "$VM_EXIT_HARNESS"

	local k
	for k in "${kernels[@]}"; do
		selftest_kernel "$k"
	done

	printf '%d passed, %d failed\n' "$passed" "$failed"
	((failed == 0))
}

main "$@"
