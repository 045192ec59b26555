#!/bin/sh
# tests/reffs/guest-load.sh: the guest side of tests/reffs/load.sh. With
# vlrefs loaded, mount it, check what it stores, run stress-ng's filesystem
# stressors on it, plain then with -o casefold, and unload it. One line per
# check, "ok - ..." or "not ok - ...".
#
# usage: guest-load.sh [SECONDS]   (stress time in all, default 60: two
# thirds on the plain mount, one third on the casefold one)

secs=${1:-60}
plain_secs=$((secs * 2 / 3))
ci_secs=$((secs - plain_secs))
mnt=/mnt/r
ref=/mnt/tmp/vlrefs-ref

# shellcheck source=tests/reffs/guest-lib.sh
. /opt/vfslock/tests/reffs/guest-lib.sh

data_roundtrip() {
	head -c 1234567 /dev/urandom >"$ref" &&
		dd if="$ref" of="$mnt/data" bs=1000 2>/dev/null &&
		cmp "$ref" "$mnt/data" &&
		printf XYZ | dd of="$ref" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
		printf XYZ | dd of="$mnt/data" bs=1 seek=5000 conv=notrunc 2>/dev/null &&
		cmp "$ref" "$mnt/data"
}

hole_reads_zero() {
	truncate -s 3000000 "$mnt/data" &&
		[ "$(tail -c 1765433 "$mnt/data" | tr -d '\000' | wc -c)" -eq 0 ] && data_intact
}

# the first 1234567 bytes of the file are those written at first
data_intact() {
	head -c 1234567 "$mnt/data" | cmp - "$ref"
}

fallocate_zero() {
	fallocate -l 100000 "$mnt/falloc" &&
		[ "$(stat -c %s "$mnt/falloc")" -eq 100000 ] &&
		[ "$(tr -d '\000' <"$mnt/falloc" | wc -c)" -eq 0 ] &&
		fallocate -o 4096 -l 8192 "$mnt/data" && data_intact
}

# exec goes through mmap: ->fault and ->map_pages return the right pages
exec_from_mount() {
	cp /bin/busybox "$mnt/busybox" && [ "$("$mnt/busybox" echo vlrefs-exec)" = vlrefs-exec ]
}

stress() { reffs_stress "$@"; }

# stress-ng's own verdict and its bogo-ops, as comments
stress_summary() {
	grep -E 'metrc: \[[0-9]+\] [a-z]+ +[0-9]+ |(passed|failed|skipped|untrustworthy):|(warn|fail|error):' /tmp/check.out |
		sed 's/^/# /'
}

check "vlrefs is registered" grep -qw vlrefs /proc/filesystems
mkdir -p "$mnt"
check "mount -t vlrefs -o size=256m" mount -t vlrefs -o size=256m none "$mnt"
check "statfs reports size=256m" [ "$(blocks "$mnt")" -eq 65536 ]
check "data written reads back equal (odd block size, overwrite)" data_roundtrip
check "a hole past the data reads as zeroes, the data stays" hole_reads_zero
check "fallocate preallocates zeroes and keeps data" fallocate_zero
check "a binary on vlrefs runs (mmap, fault, map_pages)" exec_from_mount
check "names are case-sensitive without casefold" casesensitive_lookup
echo "# stress-ng ${plain_secs}s on $mnt"
check "stress-ng ${plain_secs}s, filesystem stressors, plain mount" stress "$mnt" "$plain_secs"
stress_summary
check "the data is intact after stress" data_intact
check "all blocks free once every file is removed" all_blocks_free "$mnt"
check "umount" umount "$mnt"
check "mount -o size=1m: a 2 MiB write fails with ENOSPC" enospc

check "mount -t vlrefs -o casefold" mount -t vlrefs -o casefold,size=256m none "$mnt"
check "casefold appears in /proc/mounts" grep -q "$mnt vlrefs .*casefold" /proc/mounts
check "names match without regard to case with casefold" casefold_lookup "$mnt"
check "data written reads back equal, casefold mount" data_roundtrip
echo "# stress-ng ${ci_secs}s on $mnt (casefold)"
check "stress-ng ${ci_secs}s, filesystem stressors, casefold mount" stress "$mnt" "$ci_secs"
stress_summary
check "the data is intact after stress, casefold mount" data_intact
check "all blocks free once every file is removed, casefold mount" all_blocks_free "$mnt"
check "umount, casefold mount" umount "$mnt"

check "rmmod vlrefs" rmmod vlrefs
check "no kernel warning, BUG or oops in dmesg" no_kernel_complaint
