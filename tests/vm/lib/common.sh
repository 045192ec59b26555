# shellcheck shell=bash
#
# Shared by tests/vm/run and tests/vm/build-module (and by any script that
# needs a Debian package of the kernel matrix: vm_fetch_deb): exit codes,
# messages, the cache and its lock, the bench's own apt configuration, and
# turning a kernel series ("5.10", "6.1", "7.3", "latest") into an unpacked
# Debian kernel (vmlinux, modules), its headers, and the compiler its
# modules are built with.
#
# Debian's point releases roll (6.1.0-56 today, -57 tomorrow) and the mirror
# drops old ones, so a release is never written down anywhere: it is read
# from the package lists at run time, and the cache keeps what was fetched
# so that a later run works offline. The lists are the bench's own, kept in
# the cache (bullseye to trixie-backports); the machine's apt configuration
# and lists are never touched.

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

# Modules from the kernel package that every guest (tests/vm/run) loads, by
# module name: the disk (virtio PCI, virtio_blk), ext4, the 9p share, loop
# and overlay.
# Their dependencies are added from modules.dep and their soft dependencies
# (ext4's "pre: crc32c", through the crypto API) from modules.softdep, each
# taken from the modules this kernel has (crc32c_generic up to 6.17,
# crc32c-cryptoapi from 6.18); a module built into the kernel is skipped.
# Suites that need more (xfs, btrfs) pass --module NAME or set
# VFSLOCK_VM_MODULES_EXTRA.
VM_BASE_MODULES=(virtio_pci virtio_blk ext4 9pnet_virtio 9p loop overlay)

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
	rm -rf -- "$VM_CACHE"/kernel/.unpack.* "$VM_CACHE"/headers/.unpack.* \
		"$VM_CACHE"/toolchain/.unpack.*
}

vm_cache_unlock() {
	[[ -n $VM_LOCK_FD ]] || return 0
	flock -u "$VM_LOCK_FD"
	exec {VM_LOCK_FD}>&-
	VM_LOCK_FD=
}

# --- the bench's own apt configuration ---------------------------------------
#
# The kernels of the matrix live in several suites of Debian's archive: 5.10
# in bullseye (its newest only in bullseye-security), 6.1 and 6.12 in
# bookworm, 6.16 to 7.x in trixie-backports, and trixie's gcc-14 builds the
# modules of the latter. The bench reaches them with apt, through a sources
# list, lists and archives of its own under $VM_CACHE/apt passed with -o
# options: the machine's /etc/apt and its lists are never touched. The lists
# are fetched when missing, and again (once per run) when a lookup or a
# download fails; otherwise the bench does not go to the network for them.

VM_APT_SUITES=(bullseye bullseye-security bookworm bookworm-updates bookworm-security trixie trixie-backports)
# --kernel latest: the newest kernel of this suite.
VM_LATEST_SUITE=trixie-backports
VM_APT=$VM_CACHE/apt
VM_APT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Lists younger than this (seconds) are not fetched again after a failure:
# a package missing from them is missing from the archive.
VM_APT_FRESH=600
# An empty dpkg status: what this machine has installed does not matter.
# pkgcache.bin (84 MB, which Debian's container images switch off) spares
# each apt call reading the 60 MB of lists again (1.5 s).
VM_APT_OPTS=(
	-o "Dir::Etc::sourcelist=$VM_APT/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$VM_APT/lists" -o "Dir::State::status=$VM_APT/status"
	-o "Dir::Cache=$VM_APT/cache" -o Dir::Cache::pkgcache=pkgcache.bin -o Acquire::Languages=none
)
# As root apt drops to the _apt user, which cannot write into the cache,
# and says so on every download: stay root instead.
((EUID != 0)) || VM_APT_OPTS+=(-o APT::Sandbox::User=root)

vm_apt_cache() {
	apt-cache "${VM_APT_OPTS[@]}" "$@"
}

# The archive's URIs, "MAIN SECURITY", taken from the machine's own Debian
# sources (a mirror or proxy it uses applies to the bench too), in deb822
# or one-line form; deb.debian.org when it names none.
vm_apt_uris() {
	local f main=- sec=-
	for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
		[[ -r $f ]] || continue
		read -r main sec < <(awk '
			function flush(   n, i, s, u, security) {
				if (uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && tolower(enabled) !~ /no/) {
					split(uris, u, " ")
					n = split(suites, s, " ")
					security = 0
					for (i = 1; i <= n; i++)
						if (s[i] ~ /-security$|\/updates$/) security = 1
					if (security) { if (sec == "") sec = u[1] }
					else if (main == "") main = u[1]
				}
				uris = suites = types = enabled = ""
			}
			/^[ \t]*#/ { next }
			/^[ \t]*$/ { flush(); next }
			$1 == "deb" {
				line = $0
				sub(/^deb[ \t]+(\[[^]]*\][ \t]+)?/, "", line)
				split(line, w, /[ \t]+/)
				uris = w[1]; suites = w[2]; types = "deb"
				flush()
				next
			}
			{
				key = tolower($1); val = $0
				sub(/^[^:]*:[ \t]*/, "", val)
				if (key == "uris:") uris = val
				else if (key == "suites:") suites = val
				else if (key == "types:") types = val
				else if (key == "enabled:") enabled = val
			}
			END { flush(); print (main == "" ? "-" : main), (sec == "" ? "-" : sec) }' "$f") || true
		[[ -z $main || $main == - ]] || break
	done
	[[ -n $main && $main != - ]] || main=http://deb.debian.org/debian
	[[ -n $sec && $sec != - ]] || sec=${main%/debian}/debian-security
	printf '%s %s\n' "$main" "$sec"
}

vm_apt_sources_text() {
	local main sec suite uri
	read -r main sec < <(vm_apt_uris)
	for suite in "${VM_APT_SUITES[@]}"; do
		uri=$main
		[[ $suite != *-security ]] || uri=$sec
		printf 'deb [signed-by=%s] %s %s main\n' "$VM_APT_KEYRING" "$uri" "$suite"
	done
}

# vm_apt_update: fetch the bench's lists (some 40 MB, a few seconds). The
# outcome is noted with this run's pid, so that a run tries once at most.
vm_apt_update() {
	local had_lock=${VM_LOCK_FD:+1} log=$VM_APT/update.log rc=0 start
	if [[ ! -r $VM_APT_KEYRING ]]; then
		vm_msg "no $VM_APT_KEYRING (package debian-archive-keyring): cannot read Debian's package lists"
		return 1
	fi
	vm_cache_lock
	# Another run may have fetched them while this one waited for the lock.
	if vm_apt_fresh; then
		[[ -n $had_lock ]] || vm_cache_unlock
		return 0
	fi
	if ! mkdir -p -- "$VM_APT/lists/partial" "$VM_APT/cache/archives/partial" ||
		! { [[ -f $VM_APT/status ]] || : >"$VM_APT/status"; } ||
		! vm_apt_sources_text >"$VM_APT/sources.list"; then
		[[ -n $had_lock ]] || vm_cache_unlock
		vm_msg "cannot write the bench's apt configuration in $VM_APT"
		return 1
	fi
	vm_msg "updating the bench's package lists (${VM_APT_SUITES[*]})"
	start=$(vm_now)
	# apt-get update exits 0 when an index could not be fetched, with a
	# warning: that is a failure here (the lists would miss a suite).
	if apt-get "${VM_APT_OPTS[@]}" -q update >"$log" 2>&1 &&
		! grep -qE '^(E|Err):|^W: (Failed to fetch|Some index files failed)' "$log"; then
		printf '%s ok\n' "$$" >"$VM_APT/last-update"
		touch -- "$VM_APT/updated"
		vm_msg "updated the package lists in $(vm_elapsed "$start") s"
	else
		rc=1
		printf '%s failed\n' "$$" >"$VM_APT/last-update"
		vm_msg "apt-get update failed (offline?): $({ grep -E '^(E|W):' "$log" || grep -E '^Err' "$log"; } | head -n 1)"
	fi
	[[ -n $had_lock ]] || vm_cache_unlock
	return "$rc"
}

# vm_apt_ensure: the lists, fetched if missing or made for other sources.
vm_apt_ensure() {
	if [[ -f $VM_APT/updated && -f $VM_APT/sources.list ]] &&
		[[ $(<"$VM_APT/sources.list") == "$(vm_apt_sources_text)" ]]; then
		return 0
	fi
	vm_apt_refresh
}

# vm_apt_refresh: after a lookup or a download failed, fetch the lists again,
# unless this run did already or they are younger than VM_APT_FRESH seconds.
# Fails when nothing changed.
vm_apt_refresh() {
	local last=""
	[[ -f $VM_APT/last-update ]] && last=$(<"$VM_APT/last-update")
	[[ ${last%% *} != "$$" ]] || return 1
	! vm_apt_fresh || return 1
	vm_apt_update
}

# The lists were fetched for the current sources less than VM_APT_FRESH
# seconds ago.
vm_apt_fresh() {
	local stamp
	stamp=$(stat -c %Y -- "$VM_APT/updated" 2>/dev/null) &&
		((EPOCHSECONDS - stamp < VM_APT_FRESH)) && [[ -f $VM_APT/sources.list ]] &&
		[[ $(<"$VM_APT/sources.list") == "$(vm_apt_sources_text)" ]]
}

# vm_pkg_versions PKG: PKG's versions in the lists, newest first, each once.
vm_pkg_versions() {
	vm_apt_cache madison "$1" 2>/dev/null | awk -F'|' '
		{ v = $2; gsub(/[ \t]/, "", v); if (v != "" && !seen[v]++) print v }'
}

# --- resolving a series to a release ----------------------------------------

# A full release ("6.1.0-57-amd64", "6.12.118+deb12-amd64", "7.3.4+deb13-amd64")
# is used as given; a series ("6.1") or "latest" is looked up.
vm_is_release() {
	[[ $1 =~ ^[0-9]+\.[0-9]+\.[0-9]+.*-amd64$ ]]
}

vm_valid_kernel() {
	[[ $1 == latest || $1 =~ ^[0-9]+\.[0-9]+$ ]] || vm_is_release "$1"
}

vm_release_series() {
	local rel=$1
	[[ $rel =~ ^([0-9]+\.[0-9]+)\. ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# vm_kernel_table: "RELEASE VERSION SUITE" for each linux-image-RELEASE of
# the lists (meta packages, -rt, -cloud, -dbg and -unsigned left out), one
# line per version and suite. It is kept until the lists change, so that a
# run with everything cached does not call apt at all.
vm_kernel_table() {
	local table=$VM_APT/kernels stamp
	local -a names
	stamp=$(stat -c %Y -- "$VM_APT/updated" 2>/dev/null) || return 1
	if [[ -f $table && $(head -n 1 -- "$table") == "# $stamp" ]]; then
		tail -n +2 -- "$table"
		return 0
	fi
	mapfile -t names < <(vm_apt_cache pkgnames linux-image- 2>/dev/null |
		grep -E '^linux-image-[0-9]+\.[0-9]+\.[0-9]+[^ ]*-amd64$' |
		grep -vE -- '-dbg|-unsigned|-rt-|-cloud-' | sort -u)
	((${#names[@]})) || return 1
	{
		printf '# %s\n' "$stamp"
		vm_apt_cache madison "${names[@]}" 2>/dev/null | awk -F'|' '
			{
				for (i = 1; i <= 3; i++) gsub(/^[ \t]+|[ \t]+$/, "", $i)
				split($3, w, " "); suite = w[2]; sub(/\/.*/, "", suite)
				rel = $1; sub(/^linux-image-/, "", rel)
				print rel, $2, suite
			}'
	} >"$table.$$" || { rm -f -- "$table.$$"; return 1; }
	mv -f -- "$table.$$" "$table" || return 1
	tail -n +2 -- "$table"
}

# vm_lookup_release SERIES|latest: the newest release of SERIES in any suite
# (sort -V on the release: 6.12.118+deb12 beats 6.12.117+deb13, 6.1.0-57
# beats 6.1.0-0.deb11.52), or of trixie-backports for latest.
vm_lookup_release() {
	local want=$1 table
	table=$(vm_kernel_table) || return 1
	if [[ $want == latest ]]; then
		awk -v s="$VM_LATEST_SUITE" '$3 == s && $1 !~ /rc[0-9]/ { print $1 }' <<<"$table"
	else
		awk -v p="$want." 'index($1, p) == 1 { print $1 }' <<<"$table"
	fi | sort -uV | tail -n 1 | grep .
}

# vm_current_release SERIES|latest: the lookup, with the lists fetched first
# when missing and once more when the lookup fails.
vm_current_release() {
	local want=$1 rel
	vm_apt_ensure || true
	rel=$(vm_lookup_release "$want") || { vm_apt_refresh && rel=$(vm_lookup_release "$want"); } || return 1
	printf '%s\n' "$rel"
}

# Newest release of a series already unpacked in the cache; for latest, the
# newest that came from a backports suite.
vm_newest_cached() {
	local want=$1 dir rel
	for dir in "$VM_CACHE"/kernel/*/; do
		[[ -f $dir.ready ]] || continue
		rel=$(basename -- "$dir")
		if [[ $want == latest ]]; then
			grep -q '~bpo' "$dir/package-version" 2>/dev/null || continue
		else
			[[ $rel == "$want".* ]] || continue
		fi
		printf '%s\n' "$rel"
	done | sort -V | tail -n 1
}

# vm_resolve_kernel SERIES|latest|RELEASE: the release to boot, without
# fetching it: the current one, or the newest cached one (saying so) when
# the lists cannot tell. "latest" is named on stderr.
vm_resolve_kernel() {
	local want=$1 rel cached
	if vm_is_release "$want"; then
		printf '%s\n' "$want"
		return 0
	fi
	if rel=$(vm_current_release "$want"); then
		[[ $want != latest ]] || vm_msg "latest is $rel"
		printf '%s\n' "$rel"
		return 0
	fi
	vm_msg "cannot resolve the current $want release from the bench's package lists"
	cached=$(vm_newest_cached "$want")
	[[ -n $cached ]] || return 1
	vm_msg "using cached $cached instead of the current $want release"
	printf '%s\n' "$cached"
}

# --- downloading -----------------------------------------------------------

# vm_fetch_deb PKG: path of PKG's .deb in $VM_CACHE/debs, fetched once from
# the bench's lists. Its newest version first; when the mirror lacks that
# file (some files the lists name are gone: 404), the next lower version,
# saying which was taken. When no version downloads, the lists are fetched
# again (once per run) and the versions tried again. For other scripts too:
# source this file, then deb=$(vm_fetch_deb linux-doc-7.3).
vm_fetch_deb() {
	local pkg=$1 deb had_lock=${VM_LOCK_FD:+1} rc=0
	mkdir -p -- "$VM_CACHE/debs" || return 1
	deb=$(vm_find_deb "$pkg")
	if [[ -n $deb ]]; then
		printf '%s\n' "$deb"
		return 0
	fi
	vm_cache_lock
	vm_apt_ensure || true
	# Another run may have fetched it while this one waited for the lock.
	deb=$(vm_find_deb "$pkg")
	if [[ -z $deb ]] && ! deb=$(vm_fetch_versions "$pkg"); then
		if vm_apt_refresh; then
			deb=$(vm_fetch_versions "$pkg") || rc=1
		else
			rc=1
		fi
	fi
	[[ -n $had_lock ]] || vm_cache_unlock
	((rc == 0)) || return 1
	printf '%s\n' "$deb"
}

# The old name, for scripts written before vm_fetch_deb.
vm_download() {
	vm_fetch_deb "$@"
}

vm_fetch_versions() {
	local pkg=$1 debs=$VM_CACHE/debs log=$VM_APT/download.log start size ver deb newest=""
	local -a versions
	mapfile -t versions < <(vm_pkg_versions "$pkg")
	if ((${#versions[@]} == 0)); then
		vm_msg "no package $pkg in the bench's package lists (${VM_APT_SUITES[*]})"
		return 1
	fi
	for ver in "${versions[@]}"; do
		[[ -n $newest ]] || newest=$ver
		start=$(vm_now)
		if [[ $ver == "$newest" ]]; then
			vm_msg "downloading $pkg (once: kept in $debs)"
		fi
		if (cd -- "$debs" && apt-get "${VM_APT_OPTS[@]}" -q download "$pkg=$ver") >"$log" 2>&1; then
			deb=$(vm_find_deb "$pkg")
			if [[ -n $deb ]]; then
				size=$(stat -c %s -- "$deb")
				[[ $ver == "$newest" ]] ||
					vm_msg "took $pkg $ver instead of $newest, which the mirror does not have"
				vm_msg "downloaded $pkg: $(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }') in $(vm_elapsed "$start") s"
				printf '%s\n' "$deb"
				return 0
			fi
		fi
		vm_msg "cannot download $pkg $ver: $(grep -E '^(E|Err):|[0-9]{3} ' "$log" | tail -n 1)"
	done
	return 1
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
# compresses 5.10 and 6.1 with xz, 6.12 and later with zstd; the first magic
# that decompresses to an ELF wins. The decompressors complain about the data
# that follows the payload, so their status is ignored and the ELF header
# checked.
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

# vm_kernel_packages RELEASE: linux-image-RELEASE, then the packages of the
# same release it depends on: from 6.19 the image is split into
# linux-binary-REL (vmlinuz), linux-modules-REL (the .ko tree) and
# linux-base-REL (config, System.map, modules.builtin*). One a line; a
# dependency the lists do not have is printed "MISSING NAME" (6.18 depends
# on a linux-base-REL that the archive never had, and needs none).
vm_kernel_packages() {
	local rel=$1 out
	out=$(vm_apt_cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
		--no-replaces --no-enhances "linux-image-$rel" 2>/dev/null) || return 1
	[[ -n $out ]] || return 1
	printf 'linux-image-%s\n' "$rel"
	awk -v r="$rel" '
		$1 ~ /^\|?(Pre)?Depends:$/ {
			n = $2; missing = (n ~ /^<.*>$/); gsub(/[<>]/, "", n)
			if ((n == "linux-binary-" r || n == "linux-modules-" r || n == "linux-base-" r) && !seen[n]++)
				print (missing ? "MISSING " : "") n
		}' <<<"$out"
}

# vm_unpack_kernel RELEASE: fetch linux-image-RELEASE (and the packages it
# is split into) and lay it out as
# $VM_CACHE/kernel/RELEASE/{vmlinuz,vmlinux,config,lib/modules/RELEASE}
# whatever the package layout. Caller holds the cache lock.
vm_unpack_kernel() {
	local rel=$1 dest=$VM_CACHE/kernel/$1 tmp start line deb absent=""
	local -a lines=() debs=()
	[[ -f $dest/.ready ]] && return 0
	vm_apt_ensure || true
	mapfile -t lines < <(vm_kernel_packages "$rel")
	if ((${#lines[@]} == 0)) && vm_apt_refresh; then
		mapfile -t lines < <(vm_kernel_packages "$rel")
	fi
	if ((${#lines[@]} == 0)); then
		vm_msg "no linux-image-$rel in the bench's package lists (${VM_APT_SUITES[*]})"
		return 1
	fi
	for line in "${lines[@]}"; do
		if [[ $line == "MISSING "* ]]; then
			absent+=" ${line#MISSING }"
			continue
		fi
		deb=$(vm_fetch_deb "$line") || return 1
		debs+=("$deb")
	done
	start=$(vm_now)
	tmp=$(mktemp -d -- "$VM_CACHE/kernel/.unpack.XXXXXX") || return 1
	if ! vm_layout_kernel "$rel" "$tmp" "${absent# }" "${debs[@]}"; then
		rm -rf -- "$tmp"
		return 1
	fi
	rm -rf -- "$dest"
	mv -- "$tmp/out" "$dest" || { rm -rf -- "$tmp"; return 1; }
	rm -rf -- "$tmp"
	# The unpacked tree is what later runs use; the .debs are not needed again.
	rm -f -- "${debs[@]}"
	if ((${#debs[@]} > 1)); then
		vm_msg "unpacked linux-image-$rel ($(sed 's/ .*//' "$dest/packages" | paste -sd ' ')) in $(vm_elapsed "$start") s"
	else
		vm_msg "unpacked linux-image-$rel in $(vm_elapsed "$start") s"
	fi
}

# vm_layout_kernel RELEASE TMP "MISSING..." DEB...: each package unpacked
# apart, then vmlinuz and config taken from boot/ (up to 6.18) or from the
# modules directory (6.19 on), and every modules tree, lib/modules/REL (up to
# 6.12) or usr/lib/modules/REL (merged /usr, 6.16 on), merged into
# TMP/out/lib/modules/REL. TMP/out/layout says which package gave what:
#   vmlinuz PKG PATH | config PKG PATH | kernel PKG PATH | modules.builtin PKG PATH
# Callers test this function's status, which switches errexit off inside it:
# every step checks for itself.
vm_layout_kernel() {
	local rel=$1 tmp=$2 absent=$3 deb pkg ver d c piece m out=$2/out found
	local -a pkgs=()
	shift 3
	local hint=""
	[[ -z $absent ]] || hint=" (it depends on $absent, which the bench's package lists do not have)"
	mkdir -p -- "$out/lib/modules/$rel" || return 1
	: >"$out/layout"
	: >"$out/packages"
	for deb in "$@"; do
		{ pkg=$(dpkg-deb -f "$deb" Package) && ver=$(dpkg-deb -f "$deb" Version); } ||
			{ vm_msg "cannot read $deb"; return 1; }
		{ mkdir -p -- "$tmp/pkg/$pkg" && dpkg-deb -x "$deb" "$tmp/pkg/$pkg"; } ||
			{ vm_msg "cannot unpack $deb"; return 1; }
		printf '%s %s\n' "$pkg" "$ver" >>"$out/packages"
		pkgs+=("$pkg")
		# The image's version stays for reports.
		[[ $pkg != "linux-image-$rel" ]] || printf '%s\n' "$ver" >"$out/package-version"
	done
	for piece in vmlinuz config; do
		found=
		for pkg in "${pkgs[@]}"; do
			d=$tmp/pkg/$pkg
			for c in "boot/$piece-$rel" "usr/lib/modules/$rel/$piece" "lib/modules/$rel/$piece"; do
				if [[ -f $d/$c ]]; then
					mv -- "$d/$c" "$out/$piece" || return 1
					printf '%s %s %s\n' "$piece" "$pkg" "$c" >>"$out/layout"
					found=1
					break 2
				fi
			done
		done
		[[ -n $found ]] || { vm_msg "no $piece in ${pkgs[*]}$hint"; return 1; }
	done
	for pkg in "${pkgs[@]}"; do
		d=$tmp/pkg/$pkg
		for m in "lib/modules/$rel" "usr/lib/modules/$rel"; do
			[[ -d $d/$m ]] || continue
			[[ ! -d $d/$m/kernel ]] || printf 'kernel %s %s\n' "$pkg" "$m/kernel" >>"$out/layout"
			[[ ! -f $d/$m/modules.builtin ]] ||
				printf 'modules.builtin %s %s\n' "$pkg" "$m/modules.builtin" >>"$out/layout"
			# Hard links: the trees are on the same file system, and large.
			cp -al -- "$d/$m/." "$out/lib/modules/$rel/" || { vm_msg "cannot merge $pkg's $m"; return 1; }
		done
	done
	if [[ ! -d $out/lib/modules/$rel/kernel || ! -f $out/lib/modules/$rel/modules.builtin ]]; then
		vm_msg "no modules (kernel/, modules.builtin) in ${pkgs[*]}$hint"
		return 1
	fi
	[[ -s $out/package-version ]] || { vm_msg "no linux-image-$rel among the packages unpacked"; return 1; }
	# The packages ship no modules.dep: depmod makes it from the tree.
	depmod -b "$out" "$rel" || { vm_msg "depmod failed on linux-image-$rel"; return 1; }
	vm_extract_vmlinux "$out/vmlinuz" "$out/vmlinux" ||
		vm_msg "no ELF vmlinux inside vmlinuz-$rel: bzImage boot only, and no BTF for build-module"
	touch -- "$out/.ready"
}

# vm_prepare_kernel SERIES|latest|RELEASE: sets KREL and KDIR to a complete
# kernel in the cache, fetching it when needed. Without network or package
# lists, the newest cached release of the series stands in, and says so.
KREL=
KDIR=
vm_prepare_kernel() {
	local want=$1 rel cached why="it cannot be resolved"
	rel=$(vm_resolve_kernel "$want") || rel=""
	if [[ -n $rel && ! -f $VM_CACHE/kernel/$rel/.ready ]]; then
		mkdir -p -- "$VM_CACHE/kernel"
		vm_cache_lock
		vm_unpack_kernel "$rel" || { why="$rel cannot be downloaded or laid out"; rel=""; }
		vm_cache_unlock
	fi
	if [[ -z $rel || ! -f $VM_CACHE/kernel/$rel/.ready ]]; then
		vm_is_release "$want" && vm_die "kernel $want is neither cached nor downloadable"
		cached=$(vm_newest_cached "$want")
		[[ -n $cached ]] || vm_die "no $want kernel: $why, and none is cached in $VM_CACHE"
		vm_msg "using cached $cached instead of the current $want release"
		rel=$cached
	fi
	KREL=$rel
	KDIR=$VM_CACHE/kernel/$rel
}

# vm_module_btf: whether KREL makes BTF for its modules
# (CONFIG_DEBUG_INFO_BTF_MODULES, from 5.11 on: 5.10 has none).
vm_module_btf() {
	grep -qx 'CONFIG_DEBUG_INFO_BTF_MODULES=y' -- "$KDIR/config"
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
# host programs. The names of the last two are read from the Depends of
# the first rather than guessed. Debian does not keep headers for every
# kernel it keeps: trixie-backports has none for 6.16 to 7.1.
vm_unpack_headers() {
	local dest=$VM_CACHE/headers/$KREL top="linux-headers-$KREL" tmp pkg deb start
	local -a pkgs=("$top")
	local common kbuild
	vm_apt_ensure || true
	if [[ -z $(vm_pkg_versions "$top") ]] && { ! vm_apt_refresh || [[ -z $(vm_pkg_versions "$top") ]]; }; then
		vm_msg "Debian's archive has no $top (the bench's lists: ${VM_APT_SUITES[*]}): no module can be built for $KREL"
		return 1
	fi
	common=$(vm_header_dep "$top" linux-headers-) || true
	kbuild=$(vm_header_dep "$top" linux-kbuild-) || true
	[[ -n $common && -n $kbuild ]] ||
		{ vm_msg "cannot read the Depends of $top"; return 1; }
	pkgs+=("$common" "$kbuild")
	start=$(vm_now)
	tmp=$(mktemp -d -- "$VM_CACHE/headers/.unpack.XXXXXX")
	for pkg in "${pkgs[@]}"; do
		if ! deb=$(vm_fetch_deb "$pkg") || ! dpkg-deb -x "$deb" "$tmp/root"; then
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
	dep=$(vm_apt_cache depends --no-recommends --no-suggests "$top" 2>/dev/null |
		awk -v p="$prefix" '
			$1 ~ /^\|?Depends:$/ && index($2, p) == 1 && $2 !~ /-amd64$/ && !found++ { print $2 }')
	[[ -n $dep ]] && printf '%s\n' "$dep"
}

# Make an unpacked headers tree usable where it lies: the -amd64 Makefile
# includes the -common tree by absolute path, symlinks may point at
# /usr/lib/linux-kbuild-*, and Kbuild takes the base BTF for module BTF from
# a file named vmlinux in the build directory. That BTF comes from the
# kernel actually booted (its .BTF section, the same bytes as the vmlinux
# that the headers of 6.12 and later ship), never from the host's
# /sys/kernel/btf/vmlinux. Absolute paths are rewritten from their /usr/ on,
# so that running this again on a moved tree fixes it.
vm_relocate_headers() {
	local root=$1 hdr=$1/usr/src/linux-headers-$KREL link target
	[[ -f $hdr/Makefile ]] || { vm_msg "no $hdr/Makefile in the headers package"; return 1; }
	sed -i -E "s#^(include[[:space:]]+)/.*/?usr/src/#\\1$root/usr/src/#" "$hdr/Makefile"
	# 7.x also names its own directory (KBUILD_OUTPUT=/usr/src/...).
	sed -i -E "s#^(KBUILD_OUTPUT[[:space:]]*=[[:space:]]*)/.*/?usr/src/#\\1$root/usr/src/#" "$hdr/Makefile"
	[[ $(sed -n 's/^include[[:space:]]*//p' "$hdr/Makefile") == "$root"/usr/src/*/Makefile ]] ||
		{ vm_msg "unexpected Makefile in linux-headers-$KREL: $(head -n 3 "$hdr/Makefile")"; return 1; }
	while IFS= read -r -d '' link; do
		target=$(readlink -- "$link")
		[[ $target == /*usr/* ]] && ln -sfn -- "$root/usr/${target#*/usr/}" "$link"
	done < <(find "$root/usr/src" "$root/lib/modules" -type l -print0 2>/dev/null)
	if [[ ! -f $KDIR/vmlinux ]]; then
		vm_module_btf || return 0
		vm_msg "no ELF vmlinux was extracted for $KREL: module BTF cannot be generated"
		return 1
	fi
	objcopy -O binary --only-section=.BTF -- "$KDIR/vmlinux" "$hdr/vmlinux" ||
		{ vm_msg "objcopy could not take .BTF out of $KDIR/vmlinux"; return 1; }
	[[ -s $hdr/vmlinux ]] || vm_module_btf || return 0
	[[ -s $hdr/vmlinux ]] || { vm_msg "vmlinux of $KREL has no .BTF section"; return 1; }
}

# --- the compiler of a kernel's modules -------------------------------------
#
# A module is built by the compiler that built its kernel, or one that takes
# the same flags: the headers' .config enables options by what that compiler
# supports (6.18 and 7.x, built with trixie's gcc-14, pass
# -fmin-function-alignment=16, which gcc-12 refuses), and the programs of
# their linux-kbuild (objtool, resolve_btfids) need trixie's C library
# (GLIBC_2.38). Kernels built with a gcc this machine has, or with an older
# one (5.10: gcc-10, whose flags gcc-12 takes), build on the host; the
# others in a root of the suite that has their compiler (trixie for gcc-14),
# made once from that suite's packages with the bench's apt configuration,
# and entered with chroot. pahole comes from that root too, so module BTF is
# encoded by the pahole the kernel was configured for (1.30 for 7.3; this
# machine's 1.24 knows none of its --btf_features).

# vm_headers_cc: the compiler the headers of KREL name (gcc-14), from
# Debian's .kernelvariables, else CONFIG_CC_VERSION_TEXT.
vm_headers_cc() {
	local cc
	cc=$(grep -E '^CC[[:space:]]*=' -- "$HDIR/.kernelvariables" 2>/dev/null | grep -oE 'gcc-[0-9]+' | tail -n 1) || true
	[[ -n $cc ]] || cc=$(sed -n -E 's/^CONFIG_CC_VERSION_TEXT="([^ "]*-)?(gcc-[0-9]+) .*/\2/p' -- "$HDIR/.config" | head -n 1)
	printf '%s\n' "${cc:-gcc}"
}

# The packages of a toolchain root: the compiler, Kbuild's tools for
# external modules, and the shell utilities its recipes call.
VM_TOOLCHAIN_PKGS=(make libc6-dev binutils libelf-dev pahole dash bash coreutils sed grep mawk
	findutils diffutils)

# vm_toolchain_suite CC: the first suite of the lists that has package CC.
vm_toolchain_suite() {
	local cc=$1 suite suites
	suites=$(vm_apt_cache madison "$cc" 2>/dev/null | awk -F'|' '{ split($3, w, " "); sub(/\/.*/, "", w[2]); print w[2] }')
	for suite in "${VM_APT_SUITES[@]}"; do
		grep -qx -- "$suite" <<<"$suites" && { printf '%s\n' "$suite"; return 0; }
	done
	return 1
}

# vm_prepare_toolchain CC: sets TROOT to a root of the suite that has CC,
# with CC, make, binutils, pahole and a shell, in
# $VM_CACHE/toolchain/SUITE-CC (some 75 MB to fetch, 280 MB unpacked).
# Packages are unpacked, not installed: no maintainer script runs, so the
# links they would make (awk) are made here.
TROOT=
vm_prepare_toolchain() {
	local cc=$1 suite dest tmp start deb d
	vm_apt_ensure || true
	suite=$(vm_toolchain_suite "$cc") ||
		{ vm_apt_refresh && suite=$(vm_toolchain_suite "$cc"); } ||
		vm_die "no suite of the bench's package lists has $cc, which $KREL was built with"
	dest=$VM_CACHE/toolchain/$suite-$cc
	TROOT=$dest/root
	[[ -f $dest/.ready ]] && return 0
	mkdir -p -- "$VM_CACHE/toolchain"
	vm_cache_lock
	if [[ -f $dest/.ready ]]; then
		vm_cache_unlock
		return 0
	fi
	vm_msg "$KREL was built with $suite's $cc: making a $suite root to build its modules in (once: kept in $dest)"
	start=$(vm_now)
	tmp=$(mktemp -d -- "$VM_CACHE/toolchain/.unpack.XXXXXX")
	mkdir -p -- "$tmp/archives/partial" && : >"$tmp/status"
	if ! vm_toolchain_fetch "$tmp" "$suite" "$cc"; then
		if ! vm_apt_refresh || ! vm_toolchain_fetch "$tmp" "$suite" "$cc"; then
			rm -rf -- "$tmp"
			vm_cache_unlock
			vm_die "cannot fetch $suite's $cc and tools: $(grep -E '^(E|Err):' "$VM_APT/toolchain.log" | tail -n 2 | tr '\n' ' ')"
		fi
	fi
	for deb in "$tmp"/archives/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root" || { rm -rf -- "$tmp"; vm_cache_unlock; vm_die "cannot unpack $deb"; }
	done
	for d in bin lib lib64 sbin; do
		[[ -e $tmp/root/$d || -L $tmp/root/$d ]] || ln -s "usr/$d" "$tmp/root/$d"
	done
	[[ -e $tmp/root/usr/bin/awk ]] || ln -s mawk "$tmp/root/usr/bin/awk"
	mkdir -p -- "$tmp/root/dev" "$tmp/root/proc" "$tmp/root/tmp" && chmod 1777 "$tmp/root/tmp"
	for deb in "$tmp"/archives/*.deb; do
		deb=${deb##*/}
		printf '%s\n' "${deb%%_*}"
	done >"$tmp/packages"
	if ! chroot "$tmp/root" "$cc" --version >/dev/null 2>&1; then
		rm -rf -- "$tmp"
		vm_cache_unlock
		vm_die "the $suite root does not run $cc"
	fi
	rm -rf -- "$dest"
	{ mkdir -p -- "$dest" && mv -- "$tmp/root" "$tmp/packages" "$dest/"; } ||
		{ rm -rf -- "$tmp" "$dest"; vm_cache_unlock; vm_die "cannot move the $suite root into $dest"; }
	rm -rf -- "$tmp"
	touch -- "$dest/.ready"
	vm_cache_unlock
	vm_msg "made the $suite root ($(wc -l <"$dest/packages") packages) in $(vm_elapsed "$start") s"
}

# The closure of the root's packages in SUITE, computed by apt against an
# empty dpkg status and downloaded into TMP/archives.
vm_toolchain_fetch() {
	local tmp=$1 suite=$2 cc=$3
	apt-get "${VM_APT_OPTS[@]}" -o "Dir::State::status=$tmp/status" -o Dir::Cache::pkgcache= \
		-o "Dir::Cache::archives=$tmp/archives" -o "APT::Default-Release=$suite" \
		-q -y --no-install-recommends install --download-only \
		"$cc" "${VM_TOOLCHAIN_PKGS[@]}" >"$VM_APT/toolchain.log" 2>&1
}

# vm_toolchain_run DIR... -- CMD [ARG...]: CMD as root in TROOT, with each
# DIR (absolute) bind-mounted at its own path, and /dev and /proc; in a mount
# namespace of its own, so that nothing stays mounted when CMD ends. The
# mount points are made in TROOT (empty directories).
vm_toolchain_run() {
	local d
	local -a dirs=()
	while (($#)) && [[ $1 != -- ]]; do
		dirs+=("$1")
		shift
	done
	shift
	for d in "${dirs[@]}"; do
		mkdir -p -- "$TROOT$d" || return 1
	done
	# shellcheck disable=SC2016 # expanded by that sh
	unshare -m -- sh -c '
		root=$1 n=$2
		shift 2
		while [ "$n" -gt 0 ]; do
			mount --bind "$1" "$root$1" || exit 125
			shift
			n=$((n - 1))
		done
		mount --bind /dev "$root/dev" && mount -t proc proc "$root/proc" || exit 125
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp LC_ALL=C.UTF-8 "$@"
	' sh "$TROOT" "${#dirs[@]}" "${dirs[@]}" "$@"
}
