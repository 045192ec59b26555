# shellcheck shell=bash
# Driving a program in tmux and reading its screen (tests/top/*.sh). The
# caller sets $sock (the server's socket) and $tmp (where a screen that did
# not come is left, as last-screen), and starts a session named t.
tm() { tmux -S "$sock" "$@"; }
# screen: the pane as text now
screen() { tm capture-pane -p -t t; }
# wait_for REGEX [SECONDS]: until the screen shows REGEX
wait_for() {
	local i
	for ((i = 0; i < ${2:-20} * 5; i++)); do
		screen | grep -Eq -- "$1" && return 0
		sleep 0.2
	done
	screen > "$tmp/last-screen"
	return 1
}
keys() { tm send-keys -t t "$@"; sleep 0.6; }
