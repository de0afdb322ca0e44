#!/usr/bin/env bash
# In the guest, by hand (not part of make check): mtty's sysfs ABI as upstream's C
# mtty.ko shows it, then as ours (samples/vfio-mdev/mtty.ko) does, compared, on the
# loaded mdev core, e.g.
#   scripts/vm --impl rust -- tools/testing/selftests/vfio/mtty_abi_diff.sh
# One device of each type: the class, the parent's tree (modes, kinds, link targets),
# the types' attribute values before and after, the devices' links, uevent and vendor
# attribute, the driver's directory, /proc/devices, removal, available_instances after.
# Exit 0 when the two snapshots are identical.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ours=${VFIO_RS_KO_mtty:-$(cd "$here/../../../.." && pwd)/samples/vfio-mdev/mtty.ko}
U1=83b8f4f2-509f-382f-3c1e-e6bfe0fa7001
U2=83b8f4f2-509f-382f-3c1e-e6bfe0fa7002
T=/sys/class/mdev_bus/mtty/mdev_supported_types

types() {
	for f in $T/*/{available_instances,device_api,name,description}; do
		[ -e "$f" ] && { echo "== $f"; cat "$f"; }
	done
}

snap() {
	"$@" || return
	ls /sys/class/mtty /sys/class/mdev_bus
	(cd /sys/devices/virtual/mtty/mtty && find . -path '*/power' -prune -o -printf '%p %m %y %l\n' | sort)
	(cd /sys/bus/mdev/drivers/mtty && find . -maxdepth 1 -printf '%p %m %y %l\n' | sort)
	grep -w mtty /proc/devices | sed 's/^ *[0-9]* //'
	types
	echo $U1 >$T/mtty-1/create && echo $U2 >$T/mtty-2/create
	types
	for u in $U1 $U2; do
		readlink /sys/bus/mdev/devices/$u
		readlink -f /sys/bus/mdev/devices/$u/mdev_type
		readlink -f /sys/bus/mdev/devices/$u/driver
		cat /sys/bus/mdev/devices/$u/uevent /sys/bus/mdev/devices/$u/vendor/sample_mdev_dev
		(cd /sys/bus/mdev/devices/$u && find . -path '*/power' -prune -o -path './vfio-dev/*' -prune \
			-o -path './iommu*' -prune -o -printf '%p %m %y\n' | sort)
	done
	for u in $U1 $U2; do echo 1 >/sys/bus/mdev/devices/$u/remove; echo "remove $u $?"; done
	types
	rmmod mtty
}

[ -d /sys/module/mdev ] || modprobe mdev || exit 2
rmmod mtty 2>/dev/null
snap modprobe mtty >/tmp/mtty-abi.upstream 2>&1
snap insmod "$ours" >/tmp/mtty-abi.rust 2>&1
echo "# $(wc -l </tmp/mtty-abi.rust) lines each"
diff -u /tmp/mtty-abi.upstream /tmp/mtty-abi.rust && echo "# identical"
