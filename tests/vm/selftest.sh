#!/usr/bin/env bash
#
# tests/vm/selftest.sh: check the VM bench itself with real boots, on each
# kernel asked for (default 6.1 and 6.12; any --kernel that tests/vm/run
# takes: 5.10, 6.18, 7.3, latest...). Prints "ok - NAME" or "not ok - NAME"
# per check ("ok - NAME # SKIP why" where a kernel lacks what a check needs:
# Debian has no headers for 6.16 to 7.1, so no module) and ends with
# "N passed, M failed" (", K skipped"); exits 1 if any check failed.
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
skipped=0
WORK=

usage() {
	cat <<'EOF'
usage: tests/vm/selftest.sh [--kernel K]...

Boot each kernel K (default: 6.1 and 6.12; a series such as 5.10, 6.18 or
7.3, latest, or a full release) several times under tests/vm/run and check
exit statuses, verdicts, the share, mounts, the modules loaded, argument
quoting, how the kernel was resolved and laid out in the cache, and
modules built with tests/vm/build-module.
EOF
}

ok() {
	printf 'ok - %s\n' "$1"
	passed=$((passed + 1))
}

skip() {
	printf 'ok - %s # SKIP %s\n' "$1" "$2"
	skipped=$((skipped + 1))
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

# linux-image-* names of the lists, one per line, read from the list files
# themselves rather than through apt-cache as the bench does; $1 limits
# them to the lists of one suite.
list_images() {
	local f suite=${1:-}
	for f in "$VM_APT"/lists/*_dists_*_main_binary-amd64_Packages*; do
		[[ -z $suite || $f == *_dists_"${suite}"_main_* ]] || continue
		/usr/lib/apt/apt-helper cat-file "$f" || return 1
	done | sed -n 's/^Package: linux-image-\([0-9][0-9.]*\.[0-9].*-amd64\)$/\1/p' |
		grep -vE -- '-dbg|-unsigned|-rt-|-cloud-' | sort -uV
}

# The release `latest` gave and what stderr said, checked against the
# newest linux-image of trixie-backports.
latest_ok() {
	local want=$1 got=$2
	[[ -n $want && $got == "$want" ]] && grep -qxF -- "vm: latest is $want" "$WORK/resolve-latest.err"
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

# Built, without .BTF, and build-module said why.
no_btf_said() {
	[[ -n $1 ]] && ! has_btf_section "$1" &&
		grep -q 'makes no module BTF' "$WORK/build-$2.err"
}

# no_headers_said REL: build-module failed saying Debian has no headers for
# REL, and the lists indeed name no linux-headers-REL.
no_headers_said() {
	grep -q "^build-module: Debian's archive has no linux-headers-$1 " "$WORK/build-hello.err" &&
		[[ -z $(vm_pkg_versions "linux-headers-$1") ]]
}

# The kernel's cache entry is complete: vmlinuz, an ELF vmlinux with a PVH
# entry note (the fast boot path), config, modules.dep and modules.builtin.
cache_complete() {
	local d=$1 rel=$2
	[[ -f $d/.ready && -s $d/vmlinuz && -s $d/config && -s $d/lib/modules/$rel/modules.dep &&
		-s $d/lib/modules/$rel/modules.builtin ]] &&
		readelf -n -- "$d/vmlinux" 2>/dev/null | grep -E '\(0x00000012\)|PHYS32_ENTRY' >/dev/null
}

# layout_has DIR WHAT PKG PATH: the cache's layout file says WHAT came from
# PKG at PATH.
layout_has() {
	grep -qxF -- "$2 $3 $4" "$1/layout" 2>/dev/null
}

split_ok() {
	local d=$1 rel=$2 m=usr/lib/modules/$2
	layout_has "$d" vmlinuz "linux-binary-$rel" "$m/vmlinuz" &&
		layout_has "$d" kernel "linux-modules-$rel" "$m/kernel" &&
		layout_has "$d" config "linux-base-$rel" "$m/config" &&
		layout_has "$d" modules.builtin "linux-base-$rel" "$m/modules.builtin"
}

# 5.10: the module loads, and only the kernel has BTF.
loaded_without_btf() {
	grep -q '^hello ' "$1/proc-modules" && grep -qx 'vmlinux present' "$1/btf" &&
		grep -qx 'hello absent' "$1/btf"
}

# The .ko tree came from usr/lib/modules/REL, and ext4 from it was loaded.
usrlib_ok() {
	awk -v p="usr/lib/modules/$2/kernel" '$1 == "kernel" && $3 == p { found = 1 } END { exit !found }' \
		"$1/layout" 2>/dev/null && grep -q '^ext4 ' "$3/proc-modules"
}

# Every module the bench staged is in /proc/modules, and each base module
# is there or built in.
modules_loaded() {
	local share=$1 m ko
	[[ -s $share/staged && -s $share/proc-modules ]] || return 1
	while IFS= read -r ko; do
		m=${ko##*/}
		m=${m%.ko}
		m=${m//-/_}
		grep -q "^$m " "$share/proc-modules" || { echo "staged $m is not loaded"; return 1; }
	done <"$share/staged"
	for m in "${VM_BASE_MODULES[@]}"; do
		grep -q "^$m " "$share/proc-modules" && continue
		sed 's#.*/##; s/\.ko$//; s/-/_/g' "$share/builtin" | grep -qx -- "$m" && continue
		echo "$m is neither loaded nor built in"
		return 1
	done
}
selftest_kernel() {
	local k=$1 rel kdir hello provoke share token start took expected btf=1 headers=1
	local -a quoted_args

	# --- the release and its cache entry ---------------------------------------
	rel=$("$RUN" --kernel "$k" --resolve 2>"$WORK/resolve-$k.err") || rel=
	if [[ $k =~ ^[0-9]+\.[0-9]+$ ]]; then
		expected=$(awk -v p="$k." 'index($0, p) == 1' "$WORK/images" | tail -n 1)
		DIAG=("resolved '$rel'; newest $k in the lists: '$expected'")
		check "$k: resolves to the newest $k release of all suites ($expected)" \
			test -n "$rel" -a "$rel" == "$expected"
	fi
	kdir=$VM_CACHE/kernel/$rel

	# --- modules ---------------------------------------------------------
	hello=$(build "$k" "$VM_DIR/selftest/hello") || hello=
	[[ -n $rel ]] || rel=$(sed -n 's#.*/build/modules/\([^/]*\)/.*#\1#p' <<<"$hello")
	kdir=$VM_CACHE/kernel/$rel
	[[ -z $rel ]] || grep -qx 'CONFIG_DEBUG_INFO_BTF_MODULES=y' "$kdir/config" 2>/dev/null || btf=0
	DIAG=("build-module: $(excerpt "$WORK/build-hello.err")")
	if [[ -z $hello ]] && grep -q "Debian's archive has no linux-headers-" "$WORK/build-hello.err"; then
		headers=0
		check "$k: build-module says Debian has no linux-headers-$rel, and the lists have none" \
			no_headers_said "$rel"
	elif ((btf)); then
		check "$k: build-module builds hello.ko with a .BTF section" has_btf_section "$hello"
	else
		check "$k: build-module builds hello.ko, without .BTF, saying $rel makes no module BTF" \
			no_btf_said "$hello" hello
	fi
	if ((headers)); then
		provoke=$(build "$k" "$VM_DIR/selftest/provoke") || provoke=
		DIAG=("build-module: $(excerpt "$WORK/build-provoke.err")")
		if ((btf)); then
			check "$k: build-module builds provoke.ko with a .BTF section" has_btf_section "$provoke"
		else
			check "$k: build-module builds provoke.ko, without .BTF" no_btf_said "$provoke" provoke
		fi
	else
		provoke=
		skip "$k: build-module builds provoke.ko" "no headers for $rel"
	fi

	# --- one boot: status, share, mounts, modules, --insmod -------------------
	share=$WORK/share-$k
	mkdir -p -- "$share"
	token="from-host-$$-$RANDOM"
	printf '%s\n' "$token" >"$share/in"
	local -a insmod=()
	[[ -z $hello ]] || insmod=(--insmod "$hello")
	# shellcheck disable=SC2016 # expanded by the guest's shell
	vm main-"$k" --kernel "$k" --share "$share" "${insmod[@]}" -- sh -c '
		{ cat /share/in; echo from-guest; } >/share/out
		cp /proc/mounts /share/mounts
		uname -r >/share/uname
		cp /proc/modules /share/proc-modules
		cp /etc/vfslock-vm/modules /share/staged
		cp "/lib/modules/$(uname -r)/modules.builtin" /share/builtin
		echo "$$-on-ext4" >/mnt/ext4/probe && sync && cat /mnt/ext4/probe >/share/ext4
		for f in vmlinux hello; do
			if [ -e /sys/kernel/btf/$f ]; then echo "$f present"; else echo "$f absent"; fi
		done >/share/btf
		exit 7'
	check "$k: CMD's exit status 7 comes back as 7" rc_is 7
	DIAG+=("share/out: $(excerpt "$share/out")")
	check "$k: --share round trip (host file read and copied back by the guest)" \
		test "$(cat -- "$share/out" 2>/dev/null)" == "$token"$'\n'from-guest
	DIAG+=("uname: $(excerpt "$share/uname")")
	check "$k: the guest runs $rel" grep -qxF -- "${rel:-?}" "$share/uname"
	check "$k: ext4 on /mnt/ext4 and tmpfs on /mnt/tmp in /proc/mounts" mounts_ok "$share/mounts"
	DIAG+=("share/ext4: $(excerpt "$share/ext4")")
	check "$k: a file written on /mnt/ext4 reads back" grep -qE -- '^[0-9]+-on-ext4$' "$share/ext4"
	DIAG+=("$(modules_loaded "$share" 2>&1 | tail -n 1)" "loaded: $(cut -d' ' -f1 "$share/proc-modules" 2>/dev/null | tr '\n' ' ')")
	check "$k: the modules staged are loaded, and ${VM_BASE_MODULES[*]} each loaded or built in" \
		modules_loaded "$share"
	if [[ -z $hello ]]; then
		skip "$k: hello.ko loads with --insmod" "hello.ko was not built"
	elif ((btf)); then
		DIAG+=("share/btf: $(excerpt "$share/btf")")
		check "$k: hello.ko loads with --insmod and /sys/kernel/btf/hello exists" \
			grep -qx 'hello present' "$share/btf"
	else
		DIAG+=("share/btf: $(excerpt "$share/btf")")
		check "$k: hello.ko loads with --insmod; /sys/kernel/btf/vmlinux only (no module BTF)" \
			loaded_without_btf "$share"
	fi

	# --- the cache entry: one layout whatever the packages ------------------------
	DIAG=("$kdir: $(find "$kdir" -maxdepth 1 -printf '%f ' 2>&1)")
	check "$k: $rel cached with vmlinuz, ELF vmlinux (PVH), config, modules.dep, modules.builtin" \
		cache_complete "$kdir" "$rel"
	if vm_kernel_packages "$rel" | grep -qx "linux-modules-$rel"; then
		DIAG=("layout: $(excerpt "$kdir/layout" 4)")
		check "$k: split packages: vmlinuz from linux-binary, .ko tree from linux-modules, config and modules.builtin from linux-base" \
			split_ok "$kdir" "$rel"
	fi
	if [[ -n $rel && $(printf '%s\n' 6.18 "$(vm_release_series "$rel")" | sort -V | head -n 1) == 6.18 ]]; then
		DIAG=("layout: $(excerpt "$kdir/layout" 4)")
		check "$k: modules from usr/lib/modules/$rel (merged /usr), loaded in the guest" \
			usrlib_ok "$kdir" "$rel" "$share"
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
			verdict warn-"$k" "$VM_EXIT_WARNING" 'kernel warning: .*WARNING: (CPU: |.*, CPU#[0-9]+: )'
	elif ((headers)); then
		not_ok "$k: an oops that panics is reported as an oops ($VM_EXIT_OOPS)" "provoke.ko was not built"
		not_ok "$k: a WARNING with CMD exiting 0 gives $VM_EXIT_WARNING" "provoke.ko was not built"
	else
		skip "$k: an oops that panics is reported as an oops ($VM_EXIT_OOPS)" "no headers for $rel, so no provoke.ko"
		skip "$k: a WARNING with CMD exiting 0 gives $VM_EXIT_WARNING" "no headers for $rel, so no provoke.ko"
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

	# latest: printed, and the newest kernel of trixie-backports, read from
	# the list files themselves. The lists exist once run has resolved.
	local latest want k start
	latest=$("$RUN" --kernel latest --resolve 2>"$WORK/resolve-latest.err") || latest=
	list_images >"$WORK/images"
	want=$(list_images "$VM_LATEST_SUITE" | tail -n 1)
	DIAG=("resolved '$latest'; newest of $VM_LATEST_SUITE in the lists: '$want'" "stderr: $(excerpt "$WORK/resolve-latest.err")")
	check "latest resolves to the newest kernel of $VM_LATEST_SUITE (${want:-none}) and says so" \
		latest_ok "$want" "$latest"

	for k in "${kernels[@]}"; do
		start=$(vm_now)
		selftest_kernel "$k"
		printf '# %s: %s s\n' "$k" "$(vm_elapsed "$start")"
	done

	if ((skipped)); then
		printf '%d passed, %d failed, %d skipped\n' "$passed" "$failed" "$skipped"
	else
		printf '%d passed, %d failed\n' "$passed" "$failed"
	fi
	((failed == 0))
}

main "$@"
