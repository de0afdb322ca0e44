#!/usr/bin/env bash
# In the guest: our Rust vfio-pci-core.ko (work in progress, not part of `--impl rust` yet)
# against the C one it will replace, in one boot. vfio_diff's config-space section (every
# offset and width read; ones, zeros and restore written over the header, each capability
# and the extended space of the igb, edu and nvme, with FLRs and D3 transitions on the way)
# and its BAR section (region info, BAR reads at every width, the ends, the hidden MSI-X
# table, EIO with memory decoding off, a write, ioeventfds writing the edu's registers) run on
# the boot's stack, then on the same stack with our vfio-pci-core and vfio-pci in place of the
# C ones (under `--impl rust`: the all-Rust stack, our core, type1, vfio-pci-core and
# vfio-pci), and the two outputs must be identical. The boot's stack is loaded back at the end. TAP output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
bins=$repo/out/selftests
. "$repo/scripts/guest-lib.sh"

boot=${VFIO_RS_IMPL:-rust}
case $boot in
upstream) ours=vfio_pci_core=rust,vfio_pci=rust ;;
rust) ours=vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=rust,vfio_pci=rust,mdev=rust ;;
*) ours=$boot,vfio_pci_core=rust,vfio_pci=rust ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..4"
# The device node's name (vfioN) changes with every registration: not behaviour.
config_lines() { # OUT
	(cd /tmp && "$bins/vfio_diff" config bars) | grep ' = ' | grep -v '^setup\.vfio_dev_name\.value ' >"$1"
}
config_lines "$tmp/c"
n=$(wc -l <"$tmp/c")
[ "$n" -ge 700 ] && echo "ok 1 boot_stack_config - $n lines of the config and BAR sections on the boot's stack" ||
	echo "not ok 1 boot_stack_config - only $n lines on the boot's stack"

if vfio_rs_switch "$ours" >"$tmp/switch" 2>&1 && [ -n "$(grep -l . /sys/module/vfio_pci_core/taint)" ]; then
	echo "ok 2 switch_to_rust_core - $ours"
	config_lines "$tmp/rust"
	if diff -u "$tmp/c" "$tmp/rust" >"$tmp/diff"; then
		echo "ok 3 config_identical - $(wc -l <"$tmp/rust") lines, the same on the Rust vfio-pci-core"
	else
		echo "not ok 3 config_identical - differs on the Rust vfio-pci-core"
		sed 's/^/# /' "$tmp/diff" | head -60
	fi
else
	echo "not ok 2 switch_to_rust_core - $ours"
	sed 's/^/# /' "$tmp/switch"
	echo "not ok 3 config_identical - not run"
fi
if vfio_rs_switch "$boot" >"$tmp/switch" 2>&1; then
	echo "ok 4 switch_back - $boot"
else
	echo "not ok 4 switch_back - $boot"
	sed 's/^/# /' "$tmp/switch"
fi
