#!/usr/bin/env bash
# In the guest, last program of a run: the kernel log judged as five TAP cases.
#  1 start_marker_in_buffer  scripts/guest-load's marker (written before any VFIO
#                            module loads) is still in the ring buffer, so nothing
#                            the run logged has been overwritten unseen
#  2 boot_clean              no report from the boot itself (before the marker): it
#                            would have switched lockdep off, or hide a broken kernel
#  3 lockdep_on              lockdep is still validating (debug_locks 1): a report
#                            anywhere turns it off for the rest of the run
#  4 dmesg_clean             no report after the marker (patterns below)
#  5 kmemleak_clean          kmemleak, asked to scan twice, found nothing
# A report comes from the program running at the time (run_lib.sh writes
# `vfio-rs: begin/end NAME` to the log); the allowances below name the only
# programs that may cause a given kind of line, and why.
set -uo pipefail
marker='vfio-rs: tests start'
# Kernel reports: oops/WARN/BUG (incl. KFENCE, soft lockup), lockdep, RCU stalls,
# hung tasks, KASAN, UBSAN, kmemleak, Rust panics, IOMMU DMA faults, user-space
# crashes of test programs (`segfault at`, `traps:`).
pattern='WARNING:|BUG:|kernel BUG|Oops|general protection|Call Trace:|Kernel panic'
pattern+='|possible recursive locking|circular locking|inconsistent lock state|lock held when returning'
pattern+='|suspicious RCU usage|turning off the locking correctness validator'
pattern+='|rcu: INFO:|detected stalls? on CPU|self-detected stall|INFO: task .* blocked|blocked for more than'
pattern+='|KASAN:|UBSAN:|KFENCE:|unreferenced object|rust_panic|panicked at'
pattern+='|DMAR: .*Request device \[|DMAR: DRHD: handling fault'
pattern+='|segfault at |traps: '
# Allowed lines: "program<TAB>regex<TAB>why". upstream's vfio_pci_driver_test makes
# the igb DMA to IOVAs it never mapped (memcpy_{from,to}_unmapped_iova) and expects
# the IOMMU to block them: the vIOMMU logs each blocked access.
# The same program runs again as rust_pci_on_c_core/vfio_pci_driver_test (our vfio-pci on
# upstream's core, upstream_selftests.sh).
allow=$(printf '%s\t%s\t%s\n' \
	upstream/vfio_pci_driver_test 'DMAR: .*Request device \[|DMAR: DRHD: handling fault' \
	'unmapped-IOVA DMA cases: faults are the expected result' \
	rust_pci_on_c_core/vfio_pci_driver_test 'DMAR: .*Request device \[|DMAR: DRHD: handling fault' \
	'unmapped-IOVA DMA cases: faults are the expected result')

echo "TAP version 13"
echo "1..5"
log=$(dmesg)
result() { # n name failure-text (empty = ok)
	if [ -z "$3" ]; then echo "ok $1 dmesg_scan.$2"; else
		echo "$3" | head -40 | sed 's/^/# /'
		echo "not ok $1 dmesg_scan.$2"
		bad=1
	fi
}
bad=0

if grep -q "$marker" <<<"$log"; then
	boot=$(sed -n "/$marker/q;p" <<<"$log")
	run=$(sed -n "/$marker/,\$p" <<<"$log")
	result 1 start_marker_in_buffer ""
else
	boot=""
	run=$log
	result 1 start_marker_in_buffer "the start marker '$marker' is no longer in the kernel log buffer: it wrapped (raise CONFIG_LOG_BUF_SHIFT) or guest-load never ran"
fi

result 2 boot_clean "$(grep -E "$pattern" <<<"$boot" | sed 's/^/boot-time report: /')"

stats=/proc/lockdep_stats
if [ -r "$stats" ]; then
	dl=$(awk '/debug_locks:/ {print $2}' "$stats")
	result 3 lockdep_on "$([ "$dl" = 1 ] || echo "lockdep is off (debug_locks: ${dl:-?}): an earlier report disabled it")"
else
	echo "ok 3 dmesg_scan.lockdep_on # SKIP kernel without lockdep"
fi

# Each report line with the program it came from; allowed ones are dropped.
hits=$(awk -v pat="$pattern" -v allow="$allow" '
	BEGIN { n = split(allow, a, "\n"); for (i = 1; i <= n; i++) { split(a[i], f, "\t"); prog[i] = f[1]; re[i] = f[2] } }
	/vfio-rs: begin / { cur = $0; sub(/.*vfio-rs: begin /, "", cur); next }
	/vfio-rs: end / { cur = ""; next }
	$0 ~ pat {
		for (i = 1; i <= n; i++) if (prog[i] == cur && $0 ~ re[i]) next
		print "[" (cur == "" ? "between programs" : cur) "] " $0
	}' <<<"$run")
allowed=$(($(grep -cE "$pattern" <<<"$run") - $(grep -c . <<<"$hits")))
((allowed > 0)) && echo "# dmesg_scan: $allowed allowed line(s) (expected IOMMU faults of vfio_pci_driver_test)"
result 4 dmesg_clean "$hits"
if [ -n "$hits" ]; then
	echo "# ---- dmesg since the marker, last 200 lines ----"
	tail -200 <<<"$run" | sed 's/^/# /'
fi

if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak
	sleep 1
	echo scan >/sys/kernel/debug/kmemleak
	result 5 kmemleak_clean "$(cat /sys/kernel/debug/kmemleak)"
else
	echo "ok 5 dmesg_scan.kmemleak_clean # SKIP kmemleak not available"
fi
exit $bad
