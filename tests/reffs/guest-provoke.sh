#!/bin/sh
# tests/reffs/guest-provoke.sh on|off: the workload of tests/reffs/check.sh's
# fault and control runs, under `vfslock check`. Runs the trigger sequence
# of every fault of vlrefs (docs/reference-fs.md) one after the other, each
# in its own directory: with the fault in force ("on"), or with "break" left
# at none ("off", the control: the same calls, every rule kept). For each it
# prints one line for the judge:
#
#   provoked NAME exit STATUS hits N
#
# STATUS the trigger's exit status, N the rule breaks vlrefs counted
# (break_hits) during it. A fault this kernel does not let vlrefs make
# (its "faults" parameter says why) is not triggered; instead:
#
#   unavailable NAME refused yes|no: WHY
#
# "refused yes" when writing it to "break" failed, as it must. Expects
# vlrefs mounted at /mnt/r, and with -o casefold at /mnt/rc.
set -u
mode=${1:?usage: guest-provoke.sh on|off}
param=/sys/module/vlrefs/parameters
r=/mnt/r/$mode
rc=/mnt/rc/$mode
mkdir -p "$r" "$rc" || exit 9

hits() { awk -v f="$1" '$1 == f { print $2 }' "$param/break_hits"; }

# why NAME cannot be made on this kernel, or nothing
unavailable() {
	awk -v f="$1" '$1 == f && $2 == "unavailable:" { sub(/^[^:]*: /, ""); print }' "$param/faults"
}

# provoke NAME CMD...: CMD with NAME in force (mode on) or none (off)
provoke() {
	name=$1
	shift
	why=$(unavailable "$name")
	if [ -n "$why" ]; then
		refused=yes
		if echo "$name" >"$param/break" 2>/dev/null; then
			refused=no
			echo none >"$param/break"
		fi
		echo "unavailable $name refused $refused: $why"
		return
	fi
	before=$(hits "$name")
	[ "$mode" = off ] || echo "$name" >"$param/break" || exit 9
	"$@" >/dev/null 2>&1
	st=$?
	echo none >"$param/break"
	echo "provoked $name exit $st hits $(($(hits "$name") - before))"
}

provoke sleep_d_compare touch "$rc/vlbreak_dc"

touch "$r/vlbreak_dd" "$r/vlbreak_di" "$r/vlbreak_sa" "$r/vlbreak_wb"
truncate -s 8192 "$r/vlbreak_rf"
cp /bin/busybox "$r/vlbreak_busybox"
ln -s vlbreak_busybox "$r/echo"

provoke sleep_d_delete rm "$r/vlbreak_dd"
provoke sleep_drop_inode rm "$r/vlbreak_di"
provoke setattr_unlocked dd if=/dev/null of="$r/vlbreak_sa" conv=notrunc,fsync
# the lookup of stat creates the file when the fault is on; stat fails without
provoke create_shared stat "$r/vlbreak_cs"
provoke write_begin_unlocked fallocate -l 8192 "$r/vlbreak_wb"
# exec of a busybox named vlbreak_busybox: every page it touches is faulted
provoke fault_locked_lie "$r/echo" hi
# EIO with the fault on, 8192 zeroes without
provoke read_folio_leave_locked cat "$r/vlbreak_rf"
exit 0
