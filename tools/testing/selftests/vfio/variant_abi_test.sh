#!/usr/bin/env bash
# In the guest: upstream's unmodified variant driver virtio-vfio-pci (drivers/vfio/pci/virtio/,
# built out of tree by `make variant-drivers` against our Module.symvers into
# out/variant/virtio/) loads on OUR Rust vfio-pci-core: the stack is switched to one with our
# vfio-pci-core and vfio-pci (under `--impl rust`: the all-Rust stack), the driver is
# insmodded, must have linked to our core (a holder of vfio_pci_core, which must be the Rust
# build), must have registered its PCI driver through our exports, and must unload; then
# the boot's stack is loaded back. Its id table only matches devices whose driver_override
# names it, so it binds nothing here. TAP output.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
. "$repo/scripts/guest-lib.sh"

ko=$repo/out/variant/virtio/virtio-vfio-pci.ko
mod=virtio_vfio_pci # KBUILD_MODNAME: the module's and its PCI driver's name
boot=${VFIO_RS_IMPL:-rust}
case $boot in
upstream) ours=vfio_pci_core=rust,vfio_pci=rust ;;
rust) ours=vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=rust,vfio_pci=rust,mdev=rust ;;
*) ours=$boot,vfio_pci_core=rust,vfio_pci=rust ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "TAP version 13"
echo "1..5"
loaded=0
if [ ! -f "$ko" ]; then
	echo "not ok 1 insmod_on_rust_core - $ko not built (make variant-drivers)"
elif ! vfio_rs_switch "$ours" >"$tmp/switch" 2>&1; then
	echo "not ok 1 insmod_on_rust_core - switching to $ours failed"
	sed 's/^/# /' "$tmp/switch"
elif insmod "$ko" >"$tmp/insmod" 2>&1; then
	loaded=1
	echo "ok 1 insmod_on_rust_core - $(basename "$ko") on $ours"
else
	echo "not ok 1 insmod_on_rust_core - insmod failed on $ours"
	sed 's/^/# /' "$tmp/insmod"
	dmesg | tail -20 | sed 's/^/# dmesg: /'
fi

if ((loaded)); then
	core_ko=$(vfio_rs_ko_path vfio_pci_core)
	taint=$(cat /sys/module/vfio_pci_core/taint 2>/dev/null)
	if [ ! -d "/sys/module/$mod" ]; then
		echo "not ok 2 linked_to_rust_core - no /sys/module/$mod"
	elif [ ! -e "/sys/module/vfio_pci_core/holders/$mod" ]; then
		echo "not ok 2 linked_to_rust_core - $mod is not a holder of vfio_pci_core: $(ls /sys/module/vfio_pci_core/holders 2>&1 | tr '\n' ' ')"
	elif [ "$core_ko" != "${vfio_rs_ko[vfio_pci_core]}" ] || [[ $taint != *O* ]]; then
		echo "not ok 2 linked_to_rust_core - vfio_pci_core is not ours: $core_ko (taint '$taint')"
	else
		echo "ok 2 linked_to_rust_core - holder of vfio_pci_core = ${core_ko#"$repo"/} (taint $taint)"
	fi
	if [ -d "/sys/bus/pci/drivers/$mod" ]; then
		echo "ok 3 pci_driver_registered - /sys/bus/pci/drivers/$mod"
	else
		echo "not ok 3 pci_driver_registered - no /sys/bus/pci/drivers/$mod"
	fi
	if rmmod "$mod" >"$tmp/rmmod" 2>&1 && [ ! -d "/sys/module/$mod" ] && [ ! -d "/sys/bus/pci/drivers/$mod" ]; then
		echo "ok 4 rmmod - $mod unloaded, its PCI driver gone"
	else
		echo "not ok 4 rmmod - $mod"
		sed 's/^/# /' "$tmp/rmmod"
	fi
else
	echo "not ok 2 linked_to_rust_core - not loaded"
	echo "not ok 3 pci_driver_registered - not loaded"
	echo "not ok 4 rmmod - not loaded"
fi

[ -d "/sys/module/$mod" ] && rmmod "$mod" 2>/dev/null
if vfio_rs_switch "$boot" >"$tmp/switch" 2>&1; then
	echo "ok 5 switch_back - $boot"
else
	echo "not ok 5 switch_back - $boot"
	sed 's/^/# /' "$tmp/switch"
fi
