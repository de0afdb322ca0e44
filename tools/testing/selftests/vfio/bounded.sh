#!/usr/bin/env bash
# In the guest: run one test command with a time bound, in its own session. Two
# kinds of stall count as one failure each, reported with what every task of the
# session is doing (state, wait channel, kernel stack) and the kernel's blocked-task
# and per-CPU backtraces (sysrq w/l, which land in dmesg and so also fail the dmesg
# scan), after which the session is killed so the rest of the run still happens:
# - the command runs over the bound;
# - the command ended but left processes behind (a kselftest harness gives up on a
#   timed-out test child it cannot reap: such a child, stuck in the kernel, keeps
#   its VFIO files and makes every later test fail with EBUSY).
# Usage: bounded.sh SECONDS NAME CMD [ARGS...]
set -uo pipefail
limit=$1 name=$2
shift 2

# Prints the session's tasks and the kernel's view of them, then kills the session.
report_and_kill() { # session-id why
	echo "# vfio-rs: STALL: $name: $2"
	{ echo "<3>vfio-rs: STALL: $name: $2" >/dev/kmsg; } 2>/dev/null
	for t in $(pgrep -s "$1"); do
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
	pkill -KILL -s "$1" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pgrep -s "$1" >/dev/null || break
		sleep 1
	done
	pgrep -s "$1" >/dev/null && echo "# vfio-rs: STALL: $name: tasks did not die on SIGKILL"
	echo "not ok 1 $name # $2"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
}

setsid -w "$@" &
pid=$!
waited=0
while kill -0 "$pid" 2>/dev/null; do
	if ((waited >= limit)); then
		report_and_kill "$pid" "still running after $limit s"
		exit 1
	fi
	sleep 1
	waited=$((waited + 1))
done
wait "$pid"
rc=$?
sleep 1
if pgrep -s "$pid" >/dev/null; then
	report_and_kill "$pid" "left processes behind"
	exit 1
fi
exit "$rc"
