#!/usr/bin/env bash
# Fail (as one kselftest result) on any WARN, BUG, oops, lockdep, KASAN or
# kmemleak report in the kernel log since scripts/guest-load's start marker
# (written before it loads any VFIO module).
# kmemleak is asked to scan first. Reports from the boot itself (before the
# marker, before any VFIO module loaded) are printed as notes: they belong to
# the kernel under test, and both implementations see the same boot.
set -uo pipefail
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	leaks=$(cat /sys/kernel/debug/kmemleak)
else
	leaks=""
	echo "# dmesg_scan: kmemleak not available"
fi
pattern='WARNING:|BUG:|kernel BUG|Oops|general protection|Call Trace:|possible recursive locking|circular locking|inconsistent lock state|lock held when returning|suspicious RCU usage|KASAN:|UBSAN:|unreferenced object|rust_panic|panicked at|blocked for more than'
marker='vfio-rs: tests start'
log=$(dmesg)
if grep -q "$marker" <<<"$log"; then
	boot=$(sed -n "1,/$marker/p" <<<"$log")
	log=$(sed -n "/$marker/,\$p" <<<"$log")
	grep -E "$pattern" <<<"$boot" | head -5 | sed 's/^/# note: boot-time report (not counted): /'
fi
hits=$(grep -E "$pattern" <<<"$log")
echo "TAP version 13"
echo "1..1"
if [ -z "$hits" ] && [ -z "$leaks" ]; then
	echo "ok 1 dmesg_clean"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
else
	echo "$hits" | head -40 | sed 's/^/# dmesg: /'
	echo "$leaks" | head -40 | sed 's/^/# kmemleak: /'
	echo "# ---- full dmesg ----"
	tail -200 <<<"$log" | sed 's/^/# /'
	echo "not ok 1 dmesg_clean"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
fi
