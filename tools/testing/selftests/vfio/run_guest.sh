#!/usr/bin/env bash
# In the guest (via scripts/vm): run every vfio-rs kselftest against the loaded
# implementation, upstream's selftests, QEMU's vfio-pci on the igb (both
# paths), the differential probe vfio_diff, then the module reload test, then
# scan dmesg. Each test part ends with a kselftest "# Totals:" line, which
# scripts/check adds up. Each runs under bounded.sh: a stalled test is reported
# with its tasks' kernel stacks, killed and counted as one failure. vfio_diff prints no verdict: its output (between
# "# vfio_diff: begin" and "# vfio_diff: end" in this log, as the guest cannot
# write the host's filesystem) is compared across the two implementations by
# scripts/check. It runs after the other tests so that a lockdep report it
# provokes does not switch lockdep off for them.
# VFIO_RS_INJECT_SPLAT=1 writes a fake WARNING to the kernel log first, to show
# the dmesg scan can fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
bins=$repo/out/selftests

# Errors and worse also reach the console (scripts/vm's VFIO_RS_CONSOLE file); the
# whole log is scanned below.
dmesg -n 4 2>/dev/null
for t in "$bins"/*_test; do
	[ -x "$t" ] || continue
	echo "# vfio-rs: running $(basename "$t") [impl ${VFIO_RS_IMPL:-?}]"
	(cd /tmp && "$here/bounded.sh" 300 "$(basename "$t")" "$t")
done
[ -n "${VFIO_RS_KDIR:-}" ] && "$here/upstream_selftests.sh" "$VFIO_RS_KDIR"
echo "# vfio-rs: running qemu_vfio_test.sh [impl ${VFIO_RS_IMPL:-?}]"
"$here/bounded.sh" 600 qemu_vfio_test "$here/qemu_vfio_test.sh"
if [ -x "$bins/vfio_diff" ]; then
	echo "# vfio-rs: running vfio_diff [impl ${VFIO_RS_IMPL:-?}]"
	(cd /tmp && "$here/bounded.sh" 300 vfio_diff "$bins/vfio_diff")
fi
"$here/bounded.sh" 600 module_reload_test "$here/module_reload_test.sh"

[ "${VFIO_RS_INJECT_SPLAT:-0}" = 1 ] &&
	echo "WARNING: CPU: 0 PID: 1 at vfio-rs injected splat (scan self-test)" >/dev/kmsg
"$here/dmesg_scan.sh"
exit 0
