# shellcheck shell=bash
#
# Shared by tests/vm/run and tests/vm/build-module: exit codes, messages,
# the cache and its lock, and turning a kernel series ("6.1", "6.12") into
# an unpacked Debian kernel (vmlinux, modules) or its headers.
#
# Debian's point releases roll (6.1.0-56 today, -57 tomorrow) and the mirror
# drops old ones, so a release is never written down anywhere: it is read
# from the meta package's Depends at run time, and the cache keeps what was
# fetched so that a later run works offline.

# shellcheck disable=SC2034 # the exit codes and HDIR are for the scripts that source this

# Exit codes of tests/vm/run. CMD's own status is passed through otherwise;
# a CMD that itself exits with one of these is indistinguishable from the
# bench's verdict (the stderr summary line still tells which it was).
readonly VM_EXIT_SETUP=247      # a module or mount in the guest failed before CMD
readonly VM_EXIT_LOST=248       # guest stopped after init started but never reported CMD's status
readonly VM_EXIT_WARNING=249    # CMD exited 0 but the kernel printed a WARNING
readonly VM_EXIT_HARNESS=250    # bad arguments, missing host tool, download or unpack failure
readonly VM_EXIT_BOOT=251       # no "init started" marker: kernel never reached /init
readonly VM_EXIT_PANIC=252      # "Kernel panic - not syncing" without an oops before it
readonly VM_EXIT_OOPS=253       # Oops, BUG, general protection fault (oops=panic ends the VM)
readonly VM_EXIT_TIMEOUT=254    # still running when --timeout expired; qemu was killed

VM_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd -- "$VM_DIR/../.." && pwd)
VFSLOCK_CACHE=${VFSLOCK_CACHE:-$REPO_ROOT/build/cache}
VM_CACHE=$VFSLOCK_CACHE/vm

# Name used in messages; each entry script sets it before sourcing.
: "${VM_PROG:=vm}"

vm_msg() {
	printf '%s: %s\n' "$VM_PROG" "$*" >&2
}

# Harness errors share one exit code so that callers can tell "the bench
# could not run" from "the kernel or CMD failed".
vm_die() {
	vm_msg "error: $*"
	exit "$VM_EXIT_HARNESS"
}

vm_need_tools() {
	local tool missing=()
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
	done
	((${#missing[@]} == 0)) ||
		vm_die "missing host tools: ${missing[*]} (make deps installs them)"
}

# Seconds since the epoch with microseconds, without forking date(1).
vm_now() {
	printf '%s\n' "${EPOCHREALTIME/,/.}"
}

# vm_elapsed START [END]: "12.3", seconds with one decimal.
vm_elapsed() {
	local start=$1 end=${2:-$(vm_now)}
	awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}

# --- cache lock -------------------------------------------------------------
#
# One exclusive lock covers every change to the cache. Entries are built in
# a scratch directory and renamed into place, so readers never need the lock:
# a directory with its .ready file is complete and is never modified again.

VM_LOCK_FD=

vm_cache_lock() {
	[[ -z $VM_LOCK_FD ]] || return 0
	mkdir -p -- "$VM_CACHE" || vm_die "cannot create cache directory $VM_CACHE"
	exec {VM_LOCK_FD}>>"$VM_CACHE/.lock"
	if ! flock -n "$VM_LOCK_FD"; then
		vm_msg "waiting for the cache lock ($VM_CACHE/.lock) held by another run"
		flock -w "${VFSLOCK_VM_LOCK_WAIT:-1800}" "$VM_LOCK_FD" ||
			vm_die "timed out waiting for the cache lock $VM_CACHE/.lock"
	fi
	# Scratch directories left by an interrupted run: nobody else can be
	# writing one while this lock is held.
	rm -rf -- "$VM_CACHE"/kernel/.unpack.* "$VM_CACHE"/headers/.unpack.*
}

vm_cache_unlock() {
	[[ -n $VM_LOCK_FD ]] || return 0
	flock -u "$VM_LOCK_FD"
	exec {VM_LOCK_FD}>&-
	VM_LOCK_FD=
}

# --- resolving a series to a release ----------------------------------------

# A full release ("6.1.0-56-amd64", "6.12.117+deb12-amd64") is used as given;
# a series ("6.1") is looked up.
vm_is_release() {
	[[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+.*-amd64$ ]]
}

vm_release_series() {
	local rel=$1
	[[ $rel =~ ^([0-9]+\.[0-9]+)\. ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# Debian names a series' meta package linux-image-<series>-amd64, except for
# the distribution's default series, whose meta package is linux-image-amd64.
# The release found must belong to the series asked for: on a later Debian
# linux-image-amd64 moves to another series. apt-cache reads the local
# package lists only; it takes most of a second to start, so its answer is
# kept until apt-get update changes the lists directory.
vm_resolve_release() {
	local series=$1 lists="" stamp="" memo=$VM_CACHE/resolved-$1 rel="" line
	eval "$(apt-config shell lists Dir::State::lists/d 2>/dev/null)" || true
	if [[ -n $lists ]]; then
		stamp=$(stat -c %Y -- "$lists" 2>/dev/null) || stamp=
	fi
	if [[ -n $stamp && -f $memo ]]; then
		line=$(<"$memo")
		if [[ ${line%% *} == "$stamp" ]]; then
			printf '%s\n' "${line#* }"
			return 0
		fi
	fi
	rel=$(apt-cache depends --no-recommends --no-suggests \
		"linux-image-$series-amd64" linux-image-amd64 2>/dev/null |
		awk -v s="$series." '
			$1 == "Depends:" && index($2, "linux-image-" s) == 1 && !found++ {
				print substr($2, length("linux-image-") + 1)
			}') || true
	[[ -n $rel ]] || return 1
	if [[ -n $stamp ]] && mkdir -p -- "$VM_CACHE" && printf '%s %s\n' "$stamp" "$rel" >"$memo.$$"; then
		mv -f -- "$memo.$$" "$memo" || rm -f -- "$memo.$$"
	fi
	printf '%s\n' "$rel"
}

# Newest release of a series that is already unpacked in the cache.
vm_newest_cached() {
	local series=$1 dir
	for dir in "$VM_CACHE"/kernel/"$series".*/; do
		[[ -f $dir.ready ]] && basename -- "$dir"
	done | sort -V | tail -n 1
}

# --- downloading -----------------------------------------------------------

# vm_download PKG: PKG's .deb in $VM_CACHE/debs, fetched once; prints its path.
vm_download() {
	local pkg=$1 deb debs=$VM_CACHE/debs start size
	local -a apt_opts=(-q)
	mkdir -p -- "$debs"
	deb=$(vm_find_deb "$pkg")
	if [[ -z $deb ]]; then
		# As root apt drops to the _apt user, which cannot write into the
		# cache, and says so on every download: stay root instead.
		((EUID != 0)) || apt_opts+=(-o APT::Sandbox::User=root)
		start=$(vm_now)
		vm_msg "downloading $pkg (once: kept in $debs)"
		if ! (cd -- "$debs" && apt-get "${apt_opts[@]}" download "$pkg" >&2); then
			vm_msg "apt-get download $pkg failed (offline, or the package lists are stale: apt-get update)"
			return 1
		fi
		deb=$(vm_find_deb "$pkg")
		[[ -n $deb ]] || { vm_msg "apt-get download $pkg left no .deb in $debs"; return 1; }
		size=$(stat -c %s -- "$deb")
		vm_msg "downloaded $pkg: $(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }') in $(vm_elapsed "$start") s"
	fi
	printf '%s\n' "$deb"
}

vm_find_deb() {
	local pkg=$1 f
	for f in "$VM_CACHE/debs/${pkg}"_*.deb; do
		[[ -f $f ]] && { printf '%s\n' "$f"; return 0; }
	done
	return 0
}

# --- kernel image: vmlinuz, vmlinux, modules --------------------------------

# vm_extract_vmlinux VMLINUZ OUT: the ELF vmlinux inside a bzImage. Debian
# compresses 6.1 with xz and 6.12 with zstd; the first magic that
# decompresses to an ELF wins. The decompressors complain about the data that
# follows the payload, so their status is ignored and the ELF header checked.
vm_extract_vmlinux() {
	local zimage=$1 out=$2 spec name magic off
	local -a cands=()
	for spec in 'xz:\xfd7zXZ\x00' 'zstd:\x28\xb5\x2f\xfd' 'gzip:\x1f\x8b\x08'; do
		name=${spec%%:*} magic=${spec#*:}
		off=$(LC_ALL=C grep -obUaP -m 1 -- "$magic" "$zimage" 2>/dev/null | head -n 1 | cut -d: -f1) || true
		[[ -n $off ]] && cands+=("$off:$name")
	done
	while IFS=: read -r off name; do
		tail -c "+$((off + 1))" -- "$zimage" | "$name" -dc >"$out" 2>/dev/null || true
		if [[ $(head -c 4 -- "$out" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
			return 0
		fi
	done < <(printf '%s\n' "${cands[@]}" | sort -n)
	rm -f -- "$out"
	return 1
}

# vm_unpack_kernel RELEASE: fetch linux-image-RELEASE and lay it out as
# $VM_CACHE/kernel/RELEASE/{vmlinuz,vmlinux,config,lib/modules/RELEASE}.
# Caller holds the cache lock.
vm_unpack_kernel() {
	local rel=$1 dest=$VM_CACHE/kernel/$1 deb tmp start
	[[ -f $dest/.ready ]] && return 0
	deb=$(vm_download "linux-image-$rel") || return 1
	start=$(vm_now)
	tmp=$(mktemp -d -- "$VM_CACHE/kernel/.unpack.XXXXXX") || return 1
	if ! vm_layout_kernel "$rel" "$deb" "$tmp"; then
		rm -rf -- "$tmp"
		return 1
	fi
	rm -rf -- "$dest"
	mv -- "$tmp/out" "$dest" || { rm -rf -- "$tmp"; return 1; }
	rm -rf -- "$tmp"
	# The unpacked tree is what later runs use; the .deb is not needed again.
	rm -f -- "$deb"
	vm_msg "unpacked linux-image-$rel in $(vm_elapsed "$start") s"
}

# Callers test this function's status, which switches errexit off inside it:
# every step checks for itself.
vm_layout_kernel() {
	local rel=$1 deb=$2 tmp=$3
	dpkg-deb -x "$deb" "$tmp/pkg" || { vm_msg "cannot unpack $deb"; return 1; }
	if ! { mkdir -p -- "$tmp/out/lib" &&
		mv -- "$tmp/pkg/boot/vmlinuz-$rel" "$tmp/out/vmlinuz" &&
		mv -- "$tmp/pkg/boot/config-$rel" "$tmp/out/config" &&
		mv -- "$tmp/pkg/lib/modules" "$tmp/out/lib/modules"; }; then
		vm_msg "unexpected layout in $deb"
		return 1
	fi
	# The packages ship no modules.dep: depmod makes it from the tree.
	depmod -b "$tmp/out" "$rel" || { vm_msg "depmod failed on linux-image-$rel"; return 1; }
	# The .deb is deleted once unpacked; its version stays for reports.
	dpkg-deb -f "$deb" Version >"$tmp/out/package-version" ||
		{ vm_msg "cannot read the version of $deb"; return 1; }
	vm_extract_vmlinux "$tmp/out/vmlinuz" "$tmp/out/vmlinux" ||
		vm_msg "no ELF vmlinux inside vmlinuz-$rel: bzImage boot only, and no BTF for build-module"
	touch -- "$tmp/out/.ready"
}

# vm_prepare_kernel SERIES|RELEASE: sets KREL and KDIR to a complete kernel
# in the cache, fetching it when needed. Without network or package lists, the
# newest cached release of the series stands in, and says so.
KREL=
KDIR=
vm_prepare_kernel() {
	local want=$1 series rel="" cached
	if vm_is_release "$want"; then
		rel=$want
		series=$(vm_release_series "$rel")
	else
		series=$want
		rel=$(vm_resolve_release "$series") ||
			vm_msg "cannot resolve the current $series release from the package lists (apt-get update?)"
	fi
	if [[ -n $rel && ! -f $VM_CACHE/kernel/$rel/.ready ]]; then
		mkdir -p -- "$VM_CACHE/kernel"
		vm_cache_lock
		vm_unpack_kernel "$rel" || rel=""
		vm_cache_unlock
	fi
	if [[ -z $rel || ! -f $VM_CACHE/kernel/$rel/.ready ]]; then
		vm_is_release "$want" && vm_die "kernel $want is neither cached nor downloadable"
		cached=$(vm_newest_cached "$series")
		[[ -n $cached ]] || vm_die "no $series kernel: it cannot be resolved or downloaded, and none is cached in $VM_CACHE"
		vm_msg "using cached $cached instead of the current $series release"
		rel=$cached
	fi
	KREL=$rel
	KDIR=$VM_CACHE/kernel/$rel
}

# --- kernel headers for out-of-tree modules ---------------------------------

# vm_prepare_headers: with KREL/KDIR set, sets HDIR to an unpacked, relocated
# linux-headers-KREL tree in which Kbuild can build modules with BTF.
# .ready holds the directory the tree was relocated for: a cache that was
# moved (VFSLOCK_CACHE pointing elsewhere) is relocated again.
HDIR=
vm_prepare_headers() {
	local dest=$VM_CACHE/headers/$KREL
	HDIR=$dest/usr/src/linux-headers-$KREL
	[[ -f $dest/.ready && $(<"$dest/.ready") == "$dest" ]] && return 0
	mkdir -p -- "$VM_CACHE/headers"
	vm_cache_lock
	if [[ -f $dest/.ready ]]; then
		[[ $(<"$dest/.ready") == "$dest" ]] || vm_relocate_headers "$dest" ||
			{ vm_cache_unlock; vm_die "cannot relocate the headers of $KREL in $dest"; }
		printf '%s\n' "$dest" >"$dest/.ready"
	else
		vm_unpack_headers || { vm_cache_unlock; vm_die "cannot prepare the headers of $KREL"; }
	fi
	vm_cache_unlock
}

# The headers of one release come in three packages: the -amd64 tree (config,
# Module.symvers), the -common tree it includes, and linux-kbuild with the
# host programs. The names of the last two are read from the Depends of the
# first rather than guessed.
vm_unpack_headers() {
	local dest=$VM_CACHE/headers/$KREL top="linux-headers-$KREL" tmp pkg deb start
	local -a pkgs=("$top")
	local common kbuild
	common=$(vm_header_dep "$top" linux-headers-) || true
	kbuild=$(vm_header_dep "$top" linux-kbuild-) || true
	[[ -n $common && -n $kbuild ]] ||
		{ vm_msg "cannot read the Depends of $top (apt-get update?)"; return 1; }
	pkgs+=("$common" "$kbuild")
	start=$(vm_now)
	tmp=$(mktemp -d -- "$VM_CACHE/headers/.unpack.XXXXXX")
	for pkg in "${pkgs[@]}"; do
		if ! deb=$(vm_download "$pkg") || ! dpkg-deb -x "$deb" "$tmp/root"; then
			rm -rf -- "$tmp"
			vm_msg "cannot fetch or unpack $pkg"
			return 1
		fi
	done
	# Relocated for its final place, then moved there.
	rm -rf -- "$dest"
	if ! mv -- "$tmp/root" "$dest"; then
		rm -rf -- "$tmp"
		return 1
	fi
	rmdir -- "$tmp"
	vm_relocate_headers "$dest" || { rm -rf -- "$dest"; return 1; }
	printf '%s\n' "$dest" >"$dest/.ready"
	for pkg in "${pkgs[@]}"; do
		rm -f -- "$(vm_find_deb "$pkg")"
	done
	vm_msg "fetched and unpacked the headers of $KREL in $(vm_elapsed "$start") s"
}

# The -amd64 headers depend on "linux-headers-<rel>-common" and
# "linux-kbuild-<series or rel>", alongside linux-base, compilers and images.
vm_header_dep() {
	local top=$1 prefix=$2 dep
	dep=$(apt-cache depends --no-recommends --no-suggests "$top" 2>/dev/null |
		awk -v p="$prefix" '
			$1 ~ /^\|?Depends:$/ && index($2, p) == 1 && $2 !~ /-amd64$/ && !found++ { print $2 }')
	[[ -n $dep ]] && printf '%s\n' "$dep"
}

# Make an unpacked headers tree usable where it lies: the -amd64 Makefile
# includes the -common tree by absolute path, symlinks may point at
# /usr/lib/linux-kbuild-*, and Kbuild takes the base BTF for module BTF from
# a file named vmlinux in the build directory. That BTF comes from the
# kernel actually booted, never from the host's /sys/kernel/btf/vmlinux.
# Absolute paths are rewritten from their /usr/ on, so that running this
# again on a moved tree fixes it.
vm_relocate_headers() {
	local root=$1 hdr=$1/usr/src/linux-headers-$KREL link target
	[[ -f $hdr/Makefile ]] || { vm_msg "no $hdr/Makefile in the headers package"; return 1; }
	sed -i -E "s#^(include[[:space:]]+)/.*/?usr/src/#\\1$root/usr/src/#" "$hdr/Makefile"
	[[ $(sed -n 's/^include[[:space:]]*//p' "$hdr/Makefile") == "$root"/usr/src/*/Makefile ]] ||
		{ vm_msg "unexpected Makefile in linux-headers-$KREL: $(head -n 3 "$hdr/Makefile")"; return 1; }
	while IFS= read -r -d '' link; do
		target=$(readlink -- "$link")
		[[ $target == /*usr/* ]] && ln -sfn -- "$root/usr/${target#*/usr/}" "$link"
	done < <(find "$root/usr/src" "$root/lib/modules" -type l -print0 2>/dev/null)
	[[ -f $KDIR/vmlinux ]] ||
		{ vm_msg "no ELF vmlinux was extracted for $KREL: module BTF cannot be generated"; return 1; }
	objcopy -O binary --only-section=.BTF -- "$KDIR/vmlinux" "$hdr/vmlinux" ||
		{ vm_msg "objcopy could not take .BTF out of $KDIR/vmlinux"; return 1; }
	[[ -s $hdr/vmlinux ]] || { vm_msg "vmlinux of $KREL has no .BTF section"; return 1; }
}
