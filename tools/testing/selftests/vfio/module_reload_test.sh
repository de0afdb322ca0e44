#!/usr/bin/env bash
# Unload and reload the VFIO core 20 times (insmod by path for the Rust core,
# modprobe for upstream's), checking /dev/vfio/vfio comes and goes with it,
# then restore the whole stack as scripts/guest-load had it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
impl=${VFIO_RS_IMPL:-rust}
rounds=20

load_core() {
	case $impl in
	upstream) modprobe vfio ;;
	*) insmod "$repo/drivers/vfio/vfio.ko" ;;
	esac
}

# Modules that must go before vfio can: everything using it, recursively.
users_of() { awk -v m="$1" '$1 == m { gsub(",", " ", $4); if ($4 != "-") print $4 }' /proc/modules; }
unload_tree() {
	local u
	for u in $(users_of "$1"); do unload_tree "$u"; done
	rmmod "$1"
}

echo "TAP version 13"
echo "1..1"
fail=""
for i in $(seq 1 $rounds); do
	unload_tree vfio || { fail="round $i: rmmod failed"; break; }
	[ -e /dev/vfio/vfio ] && { fail="round $i: /dev/vfio/vfio still there"; break; }
	load_core || { fail="round $i: load failed"; break; }
	[ -c /dev/vfio/vfio ] || { fail="round $i: no /dev/vfio/vfio"; break; }
	[ -d /sys/class/vfio ] && [ -d /sys/class/vfio-dev ] || { fail="round $i: classes missing"; break; }
done
# Put the rest of the stack back the way guest-load had it.
if grep -q '^vfio ' /proc/modules; then rmmod vfio 2>/dev/null; fi
"$repo/scripts/guest-load" "$impl" true 2>/dev/null || fail="${fail:-restore failed}"
if [ -z "$fail" ]; then
	echo "ok 1 module_reload_x$rounds"
	echo "# Totals: pass:1 fail:0 xfail:0 xpass:0 skip:0 error:0"
else
	echo "# $fail"
	echo "not ok 1 module_reload_x$rounds"
	echo "# Totals: pass:0 fail:1 xfail:0 xpass:0 skip:0 error:0"
fi
