#!/usr/bin/env bash
# In the guest: QEMU (the host's, seen through the shared filesystem) assigns an mtty
# mdev the way a VMM does, `-device vfio-pci,sysfsdev=/sys/bus/mdev/devices/UUID`, in a
# paused q35 machine (TCG, -S, no firmware, no guest kernel), once through the legacy
# path (the mdev's group + a type1 container) and once through its cdev bound to
# iommufd (`-object iommufd` + `iommufd=`). Through QEMU's human monitor, each run:
#  - config: `info pci` lists the device as 4348:3253 (mtty's IDs) and a config read
#    of dword 0 through the machine's 0xcf8/0xcfc mechanism returns 0x32534348;
#  - uart: with BAR0 programmed to I/O port 0xc000 and I/O decoding enabled (config
#    writes through 0xcf8/0xcfc, as firmware would), the UART's line status register
#    (port 0xc005) reads 0x60 (THR empty + transmitter empty: mtty's idle state), a byte
#    written to THR makes it 0x01 (data ready: mtty loops THR back to RBR), RBR returns
#    the byte, and LSR is 0x60 again.
# QEMU must exit with status 0 and print nothing on stderr but its note that mtty has
# no reset.
#
#   qemu_mdev_test.sh [-v] [legacy|iommufd ...]
#
# -v prints the monitor's output. Without names, both paths run. Prints kselftest TAP
# (two cases per path) and a "# Totals:" line.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/mdev_lib.sh"
qemu=${QEMU:-/usr/bin/qemu-system-x86_64}
verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(legacy iommufd)
UUID=83b8f4f2-509f-382f-3c1e-e6bfe0fa7001
DEV=/sys/bus/mdev/devices/$UUID
# The device's slot on pcie.0, and the config address (0xcf8) of its dword 0.
SLOT=5
CFG=$((0x80000000 | SLOT << 11))
PORT=0xc000

tap_plan $((2 * ${#paths[@]}))
skip_all() {
	local p
	echo "# SKIP: $1"
	for p in "${paths[@]}"; do
		tap_skip "qemu_mdev_${p}_config" "$1"
		tap_skip "qemu_mdev_${p}_uart" "$1"
	done
	tap_totals
	exit 0
}
[ -x "$qemu" ] || skip_all "no $qemu"
mdev_have_mtty || skip_all "no mtty module in this kernel"
loaded=0
[ -d /sys/module/mtty ] && loaded=1
mdev_load_mtty || { tap_fail "qemu_mdev_${paths[0]}_config" "mtty did not load"; exit 1; }
cleanup() {
	[ -e "$DEV" ] && mdev_remove "$UUID"
	[ $loaded = 1 ] || rmmod mtty
}
trap cleanup EXIT
ulimit -l unlimited 2>/dev/null
out=$(mktemp -d)

# What the monitor is asked, in order (`i`/`o` sizes: /b byte, /h 16 bits, /w 32 bits).
monitor_script() {
	printf '%s\n' \
		"info pci" \
		"o /w 0xcf8 $(printf 0x%x $CFG)" \
		"i /w 0xcfc" \
		"o /w 0xcf8 $(printf 0x%x $((CFG + 0x10)))" \
		"o /w 0xcfc $PORT" \
		"o /w 0xcf8 $(printf 0x%x $((CFG + 0x04)))" \
		"o /h 0xcfc 0x1" \
		"i /b $(printf 0x%x $((PORT + 5)))" \
		"o /b $PORT 0x5a" \
		"i /b $(printf 0x%x $((PORT + 5)))" \
		"i /b $PORT" \
		"i /b $(printf 0x%x $((PORT + 5)))" \
		"quit"
}

# mtty reports no reset (VFIO_DEVICE_FLAGS_RESET clear), so QEMU says so at each system
# reset (realize, quit): the only stderr output allowed.
reset_warning="^qemu-system-x86_64: vfio: Cannot reset device $UUID, no available reset mechanism\.\$"

# run_path NAME DEVICE-OPTIONS...: one QEMU run, judged as two cases.
run_path() {
	local name=$1 rc why="" log
	shift
	log=$out/$name
	if ! mdev_create "$UUID" mtty-2; then
		tap_fail "qemu_mdev_${name}_config" "cannot create the mtty-2 device"
		tap_fail "qemu_mdev_${name}_uart" "cannot create the mtty-2 device"
		return
	fi
	monitor_script |
		timeout 120 "$qemu" -S -nodefaults -display none -machine q35 -accel tcg -m 256 \
			"$@" -monitor stdio >"$log.raw" 2>"$log.err"
	rc=$?
	# The monitor's readline redraws each typed command; keep the final text.
	sed -E '/^\(qemu\)/{s/.*\x1b\[[0-9]*D//; s/\x1b\[K//g; s/^(\(qemu\) )?/(qemu) /}' \
		"$log.raw" | tr -d '\r' >"$log.out"
	if [ $rc = 124 ]; then
		why="timed out after 120 s"
	elif [ $rc != 0 ]; then
		why="exit status $rc"
	elif grep -qv "$reset_warning" "$log.err"; then
		why="output on stderr"
	fi
	if [ $verbose = 1 ] || [ -n "$why" ]; then
		echo "# $name: $qemu $*"
		sed 's/^/# /' "$log.out"
		sed 's/^/# stderr: /' "$log.err"
	fi
	# The port reads, in order: config dword 0, LSR, LSR, RBR, LSR.
	mapfile -t reads < <(sed -n 's/^(qemu) //; s/^port[bwl]\[0x[0-9a-f]*\] = \(0x[0-9a-f]*\)$/\1/p' "$log.out")
	local cwhy=$why uwhy=$why
	if [ -z "$cwhy" ]; then
		if ! grep -q 'PCI device 4348:3253' "$log.out"; then
			cwhy="4348:3253 not in info pci"
		elif [ "${reads[0]:-}" != 0x32534348 ]; then
			cwhy="config dword 0 read ${reads[0]:-nothing}, not 0x32534348"
		fi
	fi
	if [ -z "$uwhy" ]; then
		local want=(0x60 0x01 0x5a 0x60) got="${reads[*]:1}"
		[ "$got" = "${want[*]}" ] ||
			uwhy="LSR, LSR after a THR write, RBR, LSR read '$got', not '${want[*]}'"
	fi
	if [ -z "$cwhy" ]; then tap_ok "qemu_mdev_${name}_config"; else tap_fail "qemu_mdev_${name}_config" "$cwhy"; fi
	if [ -z "$uwhy" ]; then tap_ok "qemu_mdev_${name}_uart"; else tap_fail "qemu_mdev_${name}_uart" "$uwhy"; fi
	[ -e "$DEV" ] && ! mdev_remove "$UUID" && echo "# $name: removing the device failed"
}

for p in "${paths[@]}"; do
	case $p in
	legacy)
		run_path legacy -device "vfio-pci,sysfsdev=$DEV,addr=$SLOT.0" ;;
	iommufd)
		if [ ! -c /dev/iommu ]; then
			tap_skip qemu_mdev_iommufd_config "no /dev/iommu"
			tap_skip qemu_mdev_iommufd_uart "no /dev/iommu"
			continue
		fi
		run_path iommufd -object iommufd,id=i0 -device "vfio-pci,sysfsdev=$DEV,iommufd=i0,addr=$SLOT.0" ;;
	*)
		tap_fail "qemu_mdev_${p}_config" "unknown path (legacy, iommufd)"
		tap_fail "qemu_mdev_${p}_uart" "unknown path (legacy, iommufd)" ;;
	esac
done
rm -rf "$out"
tap_totals
