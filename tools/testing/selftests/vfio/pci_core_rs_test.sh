#!/usr/bin/env bash
# In the guest: our Rust vfio-pci-core.ko + vfio-pci.ko against upstream's C ones, in one boot,
# under the same VFIO core and type1 (the boot's: upstream's on the upstream boot, ours on the
# rust boot). The whole of vfio_diff (containers, groups, type1, the device through its group
# and its cdev with every ioctl, SET_IRQS, features, hot reset, IOEVENTFD, migration, VF
# tokens, SR-IOV, the config space of the igb, edu, nvme and ivshmem at every offset and width with
# FLRs and D3 on the way, BARs and the ROM) runs with the C pair, then with ours, and the two
# outputs must be identical. The boot's stack is loaded back at the end. TAP output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
bins=$repo/out/selftests
. "$repo/scripts/guest-lib.sh"

boot=${VFIO_RS_IMPL:-rust}
case $boot in
upstream) theirs=upstream ours=vfio_pci_core=rust,vfio_pci=rust ;;
rust)
	theirs=vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=upstream,vfio_pci=upstream,mdev=rust
	ours=vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=rust,vfio_pci=rust,mdev=rust ;;
*) theirs=$boot,vfio_pci_core=upstream,vfio_pci=upstream ours=$boot,vfio_pci_core=rust,vfio_pci=rust ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..4"
# The device node's name (vfioN) changes with every registration: not behaviour.
diff_lines() { # OUT
	(cd /tmp && "$bins/vfio_diff") | grep ' = ' | grep -v '^setup\.vfio_dev_name\.value ' >"$1"
}
if vfio_rs_switch "$theirs" >"$tmp/switch" 2>&1; then
	diff_lines "$tmp/c"
else
	sed 's/^/# /' "$tmp/switch"
	: >"$tmp/c"
fi
n=$(wc -l <"$tmp/c")
[ "$n" -ge 2500 ] && echo "ok 1 c_pci_core_diff - $n lines of vfio_diff on upstream's vfio-pci-core ($theirs)" ||
	echo "not ok 1 c_pci_core_diff - only $n lines on upstream's vfio-pci-core ($theirs)"

if vfio_rs_switch "$ours" >"$tmp/switch" 2>&1 && [ -n "$(grep -l . /sys/module/vfio_pci_core/taint)" ]; then
	echo "ok 2 switch_to_rust_core - $ours"
	diff_lines "$tmp/rust"
	if diff -u "$tmp/c" "$tmp/rust" >"$tmp/diff"; then
		echo "ok 3 diff_identical - $(wc -l <"$tmp/rust") lines, the same on the Rust vfio-pci-core"
	else
		echo "not ok 3 diff_identical - differs on the Rust vfio-pci-core"
		sed 's/^/# /' "$tmp/diff" | head -60
	fi
else
	echo "not ok 2 switch_to_rust_core - $ours"
	sed 's/^/# /' "$tmp/switch"
	echo "not ok 3 diff_identical - not run"
fi
if vfio_rs_switch "$boot" >"$tmp/switch" 2>&1; then
	echo "ok 4 switch_back - $boot"
else
	echo "not ok 4 switch_back - $boot"
	sed 's/^/# /' "$tmp/switch"
fi
