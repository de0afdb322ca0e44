#!/usr/bin/env bash
# In the guest: run one test command with a time bound. A test that runs over
# is a stall: print what every task of it is doing (state, wait channel, kernel
# stack), ask the kernel for its blocked-task and per-CPU backtraces (sysrq w/l,
# which land in dmesg and so also fail the dmesg scan), kill its process group,
# and count one failure, so that the rest of the run still happens and leaves
# a result instead of eating the whole boot's time budget.
# Usage: bounded.sh SECONDS NAME CMD [ARGS...]
set -uo pipefail
limit=$1 name=$2
shift 2

setsid -w "$@" &
pid=$!
waited=0
while kill -0 "$pid" 2>/dev/null; do
	if ((waited >= limit)); then
		echo "# vfio-rs: STALL: $name still running after $limit s"
		{ echo "<3>vfio-rs: STALL: $name still running after $limit s" >/dev/kmsg; } 2>/dev/null
		for t in $(pgrep -s "$pid"; pgrep -g "$pid") ; do
			[ -d "/proc/$t" ] || continue
			for task in /proc/"$t"/task/*; do
				echo "# stall: task $(basename "$task") ($(cat "$task/comm" 2>/dev/null))" \
					"state $(awk '/^State:/ {print $2}' "$task/status" 2>/dev/null)" \
					"wchan $(cat "$task/wchan" 2>/dev/null)"
				sed 's/^/# stall:   /' "$task/stack" 2>/dev/null
			done
		done | awk '!seen[$0]++'
		{ echo w >/proc/sysrq-trigger; echo l >/proc/sysrq-trigger; } 2>/dev/null
		sleep 2
		dmesg | tail -150 | sed 's/^/# stall dmesg: /'
		kill -KILL -- "-$pid" 2>/dev/null
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 1
		done
		kill -0 "$pid" 2>/dev/null && echo "# vfio-rs: STALL: $name did not die on SIGKILL"
		echo "not ok 1 $name # stalled (over $limit s)"
		echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done
wait "$pid"
