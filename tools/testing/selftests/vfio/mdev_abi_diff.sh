#!/usr/bin/env bash
# In the guest, by hand (not part of make check): the mdev sysfs ABI as one mdev.ko
# shows it, then as upstream's does, compared. Boot with our mdev loaded, e.g.
#   scripts/vm --impl vfio=rust,vfio_iommu_type1=rust,mdev=rust -- \
#       tools/testing/selftests/vfio/mdev_abi_diff.sh
# With upstream's mtty and the out-of-tree mdpy and mbochs (make mdev-samples), one
# device each: the parents' trees (modes, kinds, link targets), the type attributes'
# values, the devices' links and uevent files, removal, available_instances after.
# Exit 0 when the two snapshots are identical.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
samples=$(cd "$here/../../../.." && pwd)/out/mdev-samples
U1=83b8f4f2-509f-382f-3c1e-e6bfe0fa6001
U2=83b8f4f2-509f-382f-3c1e-e6bfe0fa6002
U3=83b8f4f2-509f-382f-3c1e-e6bfe0fa6003
T=/sys/class/mdev_bus

snap() {
	modprobe mtty && insmod "$samples/mdpy.ko" && insmod "$samples/mbochs.ko" || return
	echo $U1 >$T/mtty/mdev_supported_types/mtty-2/create
	echo $U2 >$T/mdpy/mdev_supported_types/mdpy-xga/create
	echo $U3 >$T/mbochs/mdev_supported_types/mbochs-medium/create
	ls $T /sys/bus/mdev /sys/bus/mdev/devices /sys/bus/mdev/drivers
	cat /sys/module/mdev/version
	ls /sys/module/mdev
	for p in mtty mdpy mbochs; do
		(cd $T/$p/ && find . -path '*/power' -prune -o -path './*/vfio-dev/*' -prune \
			-o -printf '%p %m %y %l\n' | sort)
		for f in $T/$p/mdev_supported_types/*/{available_instances,device_api,name,description}; do
			[ -e "$f" ] && { echo "== $f"; cat "$f"; }
		done
	done
	for u in $U1 $U2 $U3; do
		readlink /sys/bus/mdev/devices/$u
		readlink -f /sys/bus/mdev/devices/$u/mdev_type
		cat /sys/bus/mdev/devices/$u/uevent
	done
	for u in $U1 $U2 $U3; do echo 1 >/sys/bus/mdev/devices/$u/remove; echo "remove $u $?"; done
	for p in mtty mdpy mbochs; do echo $(cat $T/$p/mdev_supported_types/*/available_instances); done
	rmmod mbochs mdpy mtty
}

taint=$(cat /sys/module/mdev/taint 2>/dev/null) || { echo "mdev.ko not loaded" >&2; exit 2; }
[[ $taint == *O* ]] || { echo "the loaded mdev.ko is upstream's: load ours first" >&2; exit 2; }
snap >/tmp/mdev-abi.rust 2>&1
rmmod mdev && modprobe mdev || exit 2
snap >/tmp/mdev-abi.upstream 2>&1
echo "# $(wc -l </tmp/mdev-abi.rust) lines each"
diff -u /tmp/mdev-abi.upstream /tmp/mdev-abi.rust && echo "# identical"
