#!/bin/sh
# tests/reffs/guest-faults.sh: the guest side of tests/reffs/faults.sh. With
# vlrefs loaded, provoke each fault of its "break" parameter once on a
# vlbreak* file, check that the fault broke its rule (break_hits counts it)
# and that the kernel goes on: the filesystem still works, unmounts, and
# the module unloads. The sequences are those docs/reference-fs.md gives.

# shellcheck source=tests/reffs/guest-lib.sh
. /opt/vfslock/tests/reffs/guest-lib.sh

param=/sys/module/vlrefs/parameters
r=/mnt/r
rc=/mnt/rc

hits() { awk -v f="$1" '$1 == f { print $2 }' "$param/break_hits"; }

# why NAME cannot be made on this kernel ("faults" parameter), or nothing
unavailable() {
	awk -v f="$1" '$1 == f && $2 == "unavailable:" { sub(/^[^:]*: /, ""); print }' "$param/faults"
}

# fault NAME DESCRIPTION CMD...: CMD runs with NAME in force, and must make
# NAME break its rule at least once; the fault is cleared whatever happens.
# A fault the module cannot make on this kernel must be refused instead.
fault() {
	name=$1
	desc=$2
	shift 2
	why=$(unavailable "$name")
	if [ -n "$why" ]; then
		echo "# $name: left out on $(uname -r): $why"
		check "$name: refused by break on this kernel" sh -c "! echo $name >$param/break"
		return
	fi
	before=$(hits "$name")
	echo "$name" >"$param/break"
	check "$name: $desc" "$@"
	echo none >"$param/break"
	after=$(hits "$name")
	check "$name: broke its rule ($before -> $after hits)" [ "$after" -gt "$before" ]
}

# a read that must fail with EIO, the folio lock left behind dropped
# later: a second read, without the fault, sees the hole's zeroes
read_fails() { ! cat "$1" >/dev/null; }
reads_zeroes() { [ "$(wc -c <"$1")" -eq "$2" ] && [ "$(tr -d '\000' <"$1" | wc -c)" -eq 0 ]; }
creates() { stat "$1" >/dev/null && [ -f "$1" ]; }

mkdir -p $r $rc
check "mount -t vlrefs" mount -t vlrefs none $r
check "mount -t vlrefs -o casefold" mount -t vlrefs -o casefold none $rc
check "break rejects an unknown fault" sh -c "! echo no_such_fault >$param/break"
check "break reads back what was set" sh -c \
	"echo sleep_d_delete,create_shared >$param/break && [ \"\$(cat $param/break)\" = sleep_d_delete,create_shared ] && echo none >$param/break"

fault sleep_d_compare "touch $rc/vlbreak_dc (casefold mount)" touch $rc/vlbreak_dc

touch $r/vlbreak_dd
fault sleep_d_delete "rm $r/vlbreak_dd" rm $r/vlbreak_dd

touch $r/vlbreak_di
fault sleep_drop_inode "rm $r/vlbreak_di" rm $r/vlbreak_di

touch $r/vlbreak_sa
fault setattr_unlocked "dd conv=notrunc,fsync of=$r/vlbreak_sa" \
	dd if=/dev/null of=$r/vlbreak_sa conv=notrunc,fsync

fault create_shared "stat $r/vlbreak_cs creates it" creates $r/vlbreak_cs

touch $r/vlbreak_wb
fault write_begin_unlocked "fallocate -l 8192 $r/vlbreak_wb" fallocate -l 8192 $r/vlbreak_wb
check "write_begin_unlocked: the file has 8192 zeroes" reads_zeroes $r/vlbreak_wb 8192

cp /bin/busybox $r/vlbreak_busybox
ln -s vlbreak_busybox $r/echo
fault fault_locked_lie "exec $r/echo (a busybox named vlbreak_busybox)" \
	sh -c "[ \"\$($r/echo vlrefs-fault)\" = vlrefs-fault ]"
check "fault_locked_lie: the binary runs again without the fault" \
	sh -c "[ \"\$($r/echo again)\" = again ]"

truncate -s 8192 $r/vlbreak_rf
fault read_folio_leave_locked "cat $r/vlbreak_rf fails with EIO" read_fails $r/vlbreak_rf
check "read_folio_leave_locked: read again without the fault: zeroes" reads_zeroes $r/vlbreak_rf 8192

# the kernel went on: the filesystem works, unmounts, and the module goes
check "data written reads back equal after the faults" \
	sh -c "head -c 300000 /dev/urandom >/tmp/ref && cp /tmp/ref $r/after && cmp /tmp/ref $r/after"
check "umount $r" umount $r
check "umount $rc" umount $rc
check "rmmod vlrefs" rmmod vlrefs
check "no kernel warning, BUG or oops in dmesg" no_kernel_complaint
dmesg | grep 'vlrefs:' | sed 's/^/# /'
