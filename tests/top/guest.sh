#!/bin/sh
# Runs inside the VM (tests/top/vm.sh): `vfslock top` while two processes
# fight over one directory's i_rwsem, in batch JSON and on its screen in
# tmux under stress-ng. Results go to /share for tests/top/judge.py.
set -u
S=/share
uname -r > $S/kernel
mkdir -p /mnt/tmp/fight /mnt/tmp/stress
export TERM=screen LC_ALL=C.UTF-8

. "$(dirname "$0")/../lib/guest.sh"

# 1. batch: one snapshot, taken when top is told to stop after the fight
vfslock top -j --holds --fs tmpfs -d 3600 > $S/fight.json 2> $S/fight.err &
top=$!
wait_file $S/fight.err 'watching' 300 || echo "top never started" >> $S/fight.err
vl_fight /mnt/tmp/fight ${FIGHT_SECONDS:-8} 2 > $S/fight.out 2>&1
echo $? > $S/fighters.rc
kill -TERM $top
wait $top
echo $? > $S/fight.rc

# 2. the screen, 80x24, live under stress-ng and the same fight
screen() { tmux capture-pane -p -t t > "$S/tui-$1.txt"; }
keys() { tmux send-keys -t t "$@"; sleep 2; }
tmux new-session -d -s t -x 80 -y 24 \
	"TERM=screen vfslock top -d 1 --holds --check --fs tmpfs 2> $S/tui.err; echo \$? > $S/tui.rc; sleep 600"
i=0
while [ $i -lt 600 ]; do
	tmux capture-pane -p -t t | grep -q '^CLASS ' && break
	sleep 0.5
	i=$((i + 1))
done
stress-ng --dir 1 --rename 1 --open 1 --temp-path /mnt/tmp/stress -t 20 > $S/tui-stress.out 2>&1 &
stress=$!
vl_fight /mnt/tmp/fight 16 2 > $S/tui-fight.out 2>&1 &
fight=$!
sleep 8
screen locks
keys f
keys "class=i_rwsem" Enter
screen filtered
keys Enter
screen detail
keys NPage
screen detail-down
# the pane outgrows two screens when the histograms have many buckets
keys NPage NPage NPage
screen detail-end
keys Escape
keys t
screen tasks
keys d
screen deviations
keys q
wait_file $S/tui.rc '.' 30
screen after
wait $fight
wait $stress
tmux kill-server
echo done > $S/done
