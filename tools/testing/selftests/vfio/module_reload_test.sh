#!/usr/bin/env bash
# Unload and reload the VFIO core 20 times (the build scripts/guest-load loaded),
# checking /dev/vfio/vfio comes and goes with it,
# then restore the whole stack as scripts/guest-load had it. The library module
# vfio_rs_kernel_ext, which our vfio needs, stays loaded throughout (only vfio's users go).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
impl=${VFIO_RS_IMPL:-rust}
rounds=20

# The core scripts/guest-load loaded: ours by path (VFIO_RS_KO_vfio), or upstream's.
load_core() {
	if [ -n "${VFIO_RS_KO_vfio:-}" ]; then insmod "$VFIO_RS_KO_vfio" "$@"; else modprobe vfio "$@"; fi
}

# Modules that must go before vfio can: everything using it, recursively.
users_of() { awk -v m="$1" '$1 == m { gsub(",", " ", $4); if ($4 != "-") print $4 }' /proc/modules; }
unload_tree() {
	local u
	for u in $(users_of "$1"); do unload_tree "$u"; done
	rmmod "$1"
}

echo "TAP version 13"
echo "1..2"
fail=""
for i in $(seq 1 $rounds); do
	unload_tree vfio || { fail="round $i: rmmod failed"; break; }
	[ -e /dev/vfio/vfio ] && { fail="round $i: /dev/vfio/vfio still there"; break; }
	load_core || { fail="round $i: load failed"; break; }
	[ -c /dev/vfio/vfio ] || { fail="round $i: no /dev/vfio/vfio"; break; }
	[ -d /sys/class/vfio ] && [ -d /sys/class/vfio-dev ] || { fail="round $i: classes missing"; break; }
done
[ -z "$fail" ] && echo "ok 1 module_reload_x$rounds" || { echo "# $fail"; echo "not ok 1 module_reload_x$rounds"; }
first=$fail

# Loading with enable_unsafe_noiommu_mode=1. Upstream has the parameter only with
# CONFIG_VFIO_NOIOMMU; without it the module loader ignores the argument with a
# warning and the module loads. With it, upstream enables no-IOMMU mode and our
# core (which has none) must refuse to load.
param=/sys/module/vfio/parameters/enable_unsafe_noiommu_mode
fail=""
if zcat /proc/config.gz 2>/dev/null | grep -qx CONFIG_VFIO_NOIOMMU=y; then has_noiommu=1; else has_noiommu=0; fi
unload_tree vfio 2>/dev/null
echo "vfio-rs: noiommu load test" >/dev/kmsg
since_marker() { dmesg | sed -n '/vfio-rs: noiommu load test/,$p'; }
if load_core enable_unsafe_noiommu_mode=1 2>/dev/null; then
	if [ $has_noiommu = 0 ]; then
		[ -e $param ] && fail="parameter exists without CONFIG_VFIO_NOIOMMU"
		since_marker | grep -q "unknown parameter 'enable_unsafe_noiommu_mode' ignored" ||
			fail="${fail:-no 'unknown parameter ... ignored' warning}"
	else
		[ "$(cat $param)" = Y ] || fail="loaded with =1 but the parameter reads $(cat $param)"
	fi
else
	[ $has_noiommu = 1 ] || fail="load with an unknown parameter failed"
	since_marker | grep -q "enable_unsafe_noiommu_mode: no-IOMMU mode is not supported" ||
		fail="${fail:-load refused without our warning}"
fi
# Put the rest of the stack back the way guest-load had it.
if grep -q '^vfio ' /proc/modules; then unload_tree vfio 2>/dev/null; fi
"$repo/scripts/guest-load" "$impl" true 2>/dev/null || fail="${fail:-restore failed}"
[ -z "$fail" ] && echo "ok 2 load_with_enable_unsafe_noiommu_mode" ||
	{ echo "# $fail"; echo "not ok 2 load_with_enable_unsafe_noiommu_mode"; }
npass=0; nfail=0
for f in "$first" "$fail"; do [ -z "$f" ] && npass=$((npass + 1)) || nfail=$((nfail + 1)); done
echo "# Totals: pass:$npass fail:$nfail xfail:0 xpass:0 skip:0 error:0"
[ "$nfail" = 0 ]
