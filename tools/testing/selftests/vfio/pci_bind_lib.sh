# In the guest, sourced by the shell tests that hand the igb to vfio-pci (qemu_vfio_test.sh,
# dpdk_test.sh): finding it, binding it through driver_override, giving it back.

# vfio_rs_igb_bdf: the guest's first igb (8086:10c9), empty if there is none.
vfio_rs_igb_bdf() {
	local d
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10c9 ] && basename "$d"
	done | head -1
}

# vfio_pci_remember BDF: notes the driver BDF is bound to now, for vfio_pci_give_back.
vfio_pci_remember() {
	local dev=/sys/bus/pci/devices/$1
	vfio_pci_old_drv=""
	[ -e "$dev/driver" ] && vfio_pci_old_drv=$(basename "$(readlink "$dev/driver")")
	return 0
}

# vfio_pci_take BDF: binds BDF to vfio-pci (driver_override) unless it is there already;
# fails if it did not end up on vfio-pci.
vfio_pci_take() {
	local dev=/sys/bus/pci/devices/$1
	if [ "${vfio_pci_old_drv:-}" != vfio-pci ]; then
		[ -n "${vfio_pci_old_drv:-}" ] && echo "$1" >"$dev/driver/unbind"
		echo vfio-pci >"$dev/driver_override"
		echo "$1" >/sys/bus/pci/drivers/vfio-pci/bind
	fi
	[ "$(basename "$(readlink "$dev/driver" 2>/dev/null)")" = vfio-pci ]
}

# vfio_pci_give_back BDF: unbinds BDF from vfio-pci, clears driver_override and binds the
# driver vfio_pci_remember noted again.
vfio_pci_give_back() {
	local dev=/sys/bus/pci/devices/$1
	[ "$(basename "$(readlink "$dev/driver" 2>/dev/null)")" = vfio-pci ] &&
		echo "$1" >/sys/bus/pci/drivers/vfio-pci/unbind
	echo >"$dev/driver_override"
	[ -n "${vfio_pci_old_drv:-}" ] && [ "$vfio_pci_old_drv" != vfio-pci ] &&
		echo "$1" >"/sys/bus/pci/drivers/$vfio_pci_old_drv/bind" 2>/dev/null
	return 0
}
