#!/usr/bin/env bash
# In the guest (via scripts/vm): run every test program against the loaded
# implementation: the module stack check, every vfio-rs kselftest, upstream's
# selftests, QEMU's vfio-pci on the igb and on an mtty mdev (both paths each), mdevctl
# on mtty, DPDK's testpmd on the igb, our Rust vfio-pci-core against the C one
# (pci_core_rs_test), upstream's variant driver virtio-vfio-pci loaded on our Rust
# vfio-pci-core (variant_abi_test), the differential probe vfio_diff, the module reload
# test, then the dmesg scan.
#
# Each program is framed on stdout by `# vfio-rs: begin NAME` and
# `# vfio-rs: end NAME rc=N` (see run_program), and its stderr goes to stdout
# too, so scripts/results can judge every program by its own TAP stream, plan
# and exit status against the expected-results manifest. The same markers go to
# the kernel log, so the dmesg scan knows which program a report came from.
# The last line is `# vfio-rs: run complete`.
#
# Each program runs under bounded.sh: a stalled test is reported with its tasks'
# kernel stacks and killed (a non-zero exit, which fails the program).
# vfio_diff's output is compared across the two implementations by scripts/check.
# It runs after the other tests so that a lockdep report it provokes does not
# switch lockdep off for them.
#
# CHECK_ONLY="NAME ..." runs only those programs (plus the module check and the
# dmesg scan). VFIO_RS_INJECT=WHAT makes a harness self-test fail on purpose
# (scripts/check documents the values).
set -uo pipefail
exec 2>&1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
bins=$repo/out/selftests
inject=${VFIO_RS_INJECT:-}
. "$here/run_lib.sh"

# Errors and worse also reach the console (scripts/vm's VFIO_RS_CONSOLE file); the
# whole log is scanned at the end.
dmesg -n 4 2>/dev/null

run_program loaded_modules "$here/loaded_modules.sh"
for t in "$bins"/*_test; do
	[ -x "$t" ] || continue
	n=$(basename "$t")
	case $inject in
	truncate) [ "$n" = vfio_group_test ] && { run_program "$n" sh -c 'cd /tmp && "$0" | head -8' "$t"; continue; } ;;
	skip_rust) [ "$n" = vfio_group_test ] && [ "${VFIO_RS_IMPL:-}" = rust ] &&
		{ run_program "$n" sh -c 'cd /tmp && "$0" | sed "0,/^ok \([0-9]*\) \(.*\)/s//ok \1 \2 # SKIP injected: skipped on rust only/"' "$t"; continue; } ;;
	segfault) [ "$n" = vfio_group_test ] &&
		python3 -c 'import ctypes; ctypes.string_at(0)' ;;
	dmar) [ "$n" = vfio_group_test ] &&
		echo "<3>DMAR: [DMA Read NO_PASID] Request device [00:04.0] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set (injected)" >/dev/kmsg ;;
	esac
	(cd /tmp && run_program "$n" "$here/bounded.sh" 300 "$n" "$t")
done
# Upstream's programs are named upstream/NAME, and rust_pci_on_c_core/NAME on our PCI
# driver over upstream's core (CHECK_ONLY too).
if [ -n "${VFIO_RS_KDIR:-}" ] && [[ -z "${CHECK_ONLY:-}" || "$CHECK_ONLY" == *upstream/* ||
	"$CHECK_ONLY" == *rust_pci_on_c_core/* ]]; then
	"$here/upstream_selftests.sh" "$VFIO_RS_KDIR"
fi
run_program qemu_vfio_test "$here/bounded.sh" 600 qemu_vfio_test "$here/qemu_vfio_test.sh"
run_program qemu_mdev_test "$here/bounded.sh" 600 qemu_mdev_test "$here/qemu_mdev_test.sh"
run_program mdevctl_test "$here/bounded.sh" 300 mdevctl_test "$here/mdevctl_test.sh"
run_program dpdk_test "$here/bounded.sh" 600 dpdk_test "$here/dpdk_test.sh"
run_program pci_core_rs_test "$here/bounded.sh" 300 pci_core_rs_test "$here/pci_core_rs_test.sh"
run_program variant_abi_test "$here/bounded.sh" 300 variant_abi_test "$here/variant_abi_test.sh"
# vfio_diff prints no verdict of its own: its lines are compared on the host.
[ -x "$bins/vfio_diff" ] &&
	(cd /tmp && run_program vfio_diff --no-tap "$here/bounded.sh" 300 vfio_diff "$bins/vfio_diff")
run_program module_reload_test "$here/bounded.sh" 600 module_reload_test "$here/module_reload_test.sh"

[ "${VFIO_RS_INJECT_SPLAT:-0}" = 1 ] || [ "$inject" = splat ] &&
	echo "WARNING: CPU: 0 PID: 1 at vfio-rs injected splat (scan self-test)" >/dev/kmsg
run_program dmesg_scan "$here/dmesg_scan.sh"
echo "# vfio-rs: run complete"
exit 0
