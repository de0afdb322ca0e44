#!/usr/bin/env bash
# In the guest: Debian's mdevctl (the host's, seen through the shared filesystem;
# scripts/setup installs it) manages mtty devices on the loaded mdev core:
#  - types: `mdevctl types` lists mtty's two types with their available instances;
#  - start_transient: `mdevctl start -u UUID -p mtty -t mtty-2` creates the device:
#    /sys/bus/mdev/devices/UUID appears with mdev_type mtty-2, `mdevctl list` shows it
#    (UUID, parent, type), mtty-2's available_instances drops by one;
#  - stop_transient: `mdevctl stop -u UUID` removes it, `mdevctl list` is empty and
#    available_instances is back;
#  - define_start_stop: a persistent definition (`define`, in /etc/mdevctl.d, on a
#    tmpfs when the guest's /etc is read-only) is listed by `list -d`, started by UUID
#    alone, stopped and undefined.
# mdevctl needs no udev for these: it writes sysfs itself (udev only autostarts
# `--auto` devices when a parent registers, not tested here). Prints kselftest TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/mdev_lib.sh"
U1=83b8f4f2-509f-382f-3c1e-e6bfe0fa8001
U2=83b8f4f2-509f-382f-3c1e-e6bfe0fa8002
cases=(mdevctl_types mdevctl_start_transient mdevctl_stop_transient mdevctl_define_start_stop)

tap_plan ${#cases[@]}
skip_all() {
	local c
	echo "# SKIP: $1"
	for c in "${cases[@]}"; do tap_skip "$c" "$1"; done
	tap_totals
	exit 0
}
command -v mdevctl >/dev/null || skip_all "no mdevctl (scripts/setup installs it)"
mdev_have_mtty || skip_all "no mtty module in this kernel"
loaded=0
[ -d /sys/module/mtty ] && loaded=1
mdev_load_mtty || { tap_fail mdevctl_types "mtty did not load"; exit 1; }
mounted=0
cleanup() {
	local u
	for u in $U1 $U2; do [ -e "/sys/bus/mdev/devices/$u" ] && mdev_remove "$u"; done
	((mounted)) && umount /etc/mdevctl.d
	[ $loaded = 1 ] || rmmod mtty
}
trap cleanup EXIT
out=$(mktemp -d)

# run NAME CMD...: runs CMD, its output in $out/NAME (and as comments); its status.
run() {
	local name=$1 rc
	shift
	"$@" >"$out/$name" 2>&1
	rc=$?
	echo "# \$ $* -> $rc"
	sed 's/^/#   /' "$out/$name"
	return $rc
}

avail0=$(mdev_avail mtty-2)

# types
why=""
if ! run types mdevctl types; then
	why="mdevctl types failed"
elif ! grep -q '^mtty$' "$out/types" || ! grep -q 'mtty-1' "$out/types" ||
     ! grep -q 'mtty-2' "$out/types"; then
	why="parent mtty or its types mtty-1, mtty-2 not listed"
elif ! grep -A1 'mtty-2' "$out/types" | grep -q "Available instances: $avail0"; then
	why="mtty-2's available instances ($avail0) not listed"
fi
if [ -z "$why" ]; then tap_ok mdevctl_types; else tap_fail mdevctl_types "$why"; fi

# start_transient
why=""
if ! run start mdevctl start -u $U1 -p mtty -t mtty-2; then
	why="mdevctl start failed"
elif [ ! -d /sys/bus/mdev/devices/$U1 ]; then
	why="/sys/bus/mdev/devices/$U1 missing after start"
elif [ "$(basename "$(readlink -f /sys/bus/mdev/devices/$U1/mdev_type)")" != mtty-2 ]; then
	why="mdev_type is not mtty-2"
elif ! run list mdevctl list || ! grep -q "^$U1 mtty mtty-2" "$out/list"; then
	why="mdevctl list does not show '$U1 mtty mtty-2'"
elif [ "$(mdev_avail mtty-2)" != $((avail0 - 1)) ]; then
	why="available_instances $(mdev_avail mtty-2), not $((avail0 - 1))"
fi
if [ -z "$why" ]; then tap_ok mdevctl_start_transient; else tap_fail mdevctl_start_transient "$why"; fi

# stop_transient
why=""
if [ ! -d /sys/bus/mdev/devices/$U1 ]; then
	why="no device to stop"
elif ! run stop mdevctl stop -u $U1; then
	why="mdevctl stop failed"
elif [ -e /sys/bus/mdev/devices/$U1 ]; then
	why="/sys/bus/mdev/devices/$U1 still there after stop"
elif ! run list2 mdevctl list || grep -q "$U1" "$out/list2"; then
	why="mdevctl list still shows $U1"
elif [ "$(mdev_avail mtty-2)" != "$avail0" ]; then
	why="available_instances $(mdev_avail mtty-2), not $avail0"
fi
if [ -z "$why" ]; then tap_ok mdevctl_stop_transient; else tap_fail mdevctl_stop_transient "$why"; fi

# define_start_stop: the definitions go to /etc/mdevctl.d/<parent>/<uuid>.
why=""
if ! touch /etc/mdevctl.d/.w 2>/dev/null; then
	mount -t tmpfs -o mode=0755 mdevctl /etc/mdevctl.d && mounted=1 &&
		mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers
else
	rm -f /etc/mdevctl.d/.w
fi
avail1=$(mdev_avail mtty-1)
if ! run define mdevctl define -u $U2 -p mtty -t mtty-1; then
	why="mdevctl define failed"
elif [ ! -f /etc/mdevctl.d/mtty/$U2 ]; then
	why="no /etc/mdevctl.d/mtty/$U2 after define"
elif [ -e /sys/bus/mdev/devices/$U2 ]; then
	why="define started the device"
elif ! run listd mdevctl list -d || ! grep -q "^$U2 mtty mtty-1 manual" "$out/listd"; then
	why="mdevctl list -d does not show '$U2 mtty mtty-1 manual'"
elif ! run start2 mdevctl start -u $U2; then
	why="mdevctl start -u (defined) failed"
elif [ "$(basename "$(readlink -f /sys/bus/mdev/devices/$U2/mdev_type 2>/dev/null)")" != mtty-1 ]; then
	why="the defined device is not running as mtty-1"
elif [ "$(mdev_avail mtty-1)" != $((avail1 - 1)) ]; then
	why="mtty-1 available_instances $(mdev_avail mtty-1), not $((avail1 - 1))"
elif ! run list3 mdevctl list || ! grep -q "^$U2 mtty mtty-1 manual (defined)" "$out/list3"; then
	why="mdevctl list does not show '$U2 mtty mtty-1 manual (defined)'"
elif ! run stop2 mdevctl stop -u $U2 || [ -e /sys/bus/mdev/devices/$U2 ]; then
	why="mdevctl stop of the defined device failed or left it"
elif [ "$(mdev_avail mtty-1)" != "$avail1" ]; then
	why="mtty-1 available_instances $(mdev_avail mtty-1), not $avail1"
elif ! run undefine mdevctl undefine -u $U2 || [ -e /etc/mdevctl.d/mtty/$U2 ]; then
	why="mdevctl undefine failed or left the definition"
fi
if [ -z "$why" ]; then tap_ok mdevctl_define_start_stop; else tap_fail mdevctl_define_start_stop "$why"; fi
rm -rf "$out"
tap_totals
