#!/usr/bin/env bash
# In the guest (via scripts/vm): run every vfio-rs kselftest against the loaded
# implementation, then upstream's selftests, then QEMU's vfio-pci on the igb
# (both paths), then the module reload test, then scan dmesg. Each part ends
# with a kselftest "# Totals:" line, which scripts/check adds up.
# VFIO_RS_INJECT_SPLAT=1 writes a fake WARNING to the kernel log first, to show
# the dmesg scan can fail.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
bins=$repo/out/selftests

dmesg -n 1 2>/dev/null   # keep the console for test output; the log is scanned below
for t in "$bins"/*_test; do
	[ -x "$t" ] || continue
	echo "# vfio-rs: running $(basename "$t") [impl ${VFIO_RS_IMPL:-?}]"
	(cd /tmp && "$t")
done
[ -n "${VFIO_RS_KDIR:-}" ] && "$here/upstream_selftests.sh" "$VFIO_RS_KDIR"
echo "# vfio-rs: running qemu_vfio_test.sh [impl ${VFIO_RS_IMPL:-?}]"
"$here/qemu_vfio_test.sh"
"$here/module_reload_test.sh"

[ "${VFIO_RS_INJECT_SPLAT:-0}" = 1 ] &&
	echo "WARNING: CPU: 0 PID: 1 at vfio-rs injected splat (scan self-test)" >/dev/kmsg
"$here/dmesg_scan.sh"
exit 0
