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

# reffs_stress DIR SECONDS: stress-ng's filesystem stressors on DIR, one
# worker each, small sizes (1 GiB defaults would not fit in the guest)
reffs_stress() {
	stress-ng --temp-path "$1" -t "$2" --verify --metrics-brief \
		--dir 1 --dir-dirs 256 --dentry 1 --dentries 256 --rename 1 \
		--link 1 --symlink 1 --chmod 1 --touch 1 --utime 1 --open 1 \
		--getdent 1 --mmap 1 --mmap-file --mmap-bytes 1m \
		--fallocate 1 --fallocate-bytes 1m --flock 1 --lease 1 \
		--xattr 1 --readahead 1 --readahead-bytes 1m --sendfile 1 \
		--sendfile-size 64k --seek 1 --seek-size 1m --hdd 1 --hdd-bytes 1m
}

# statfs: blocks in all, and free
blocks() { stat -f -c %b "$1"; }
free_blocks() { stat -f -c %f "$1"; }

enospc() {
	mkdir -p /mnt/small && mount -t vlrefs -o size=1m none /mnt/small || return 1
	if dd if=/dev/zero of=/mnt/small/f bs=4096 count=512 2>/dev/null; then
		umount /mnt/small
		return 1
	fi
	umount /mnt/small
}

casefold_lookup() {
	touch "$1/MixedCase" && [ -e "$1/mixedcase" ] && [ -e "$1/MIXEDCASE" ] &&
		! mkdir "$1/mixedCASE" 2>/dev/null && [ "$(find "$1" -maxdepth 1 -iname mixedcase | wc -l)" -eq 1 ] &&
		rm "$1/MIXEDcase" && [ ! -e "$1/MixedCase" ]
}

casesensitive_lookup() {
	touch "$1/MixedCase" && [ ! -e "$1/mixedcase" ] && rm "$1/MixedCase"
}

# nothing may be left once every file is gone: the folios were all given back
all_blocks_free() {
	rm -rf "${1:?}"/* && [ "$(free_blocks "$1")" -eq "$(blocks "$1")" ]
}
