#!/usr/bin/env bash
# In the guest: QEMU (the host's, seen through the shared filesystem) opens the
# loaded VFIO stack the way a VMM does. The igb is bound to vfio-pci, then a
# paused q35 machine (TCG) is started with `-device vfio-pci` on it, once
# through iommufd (cdev /dev/vfio/devices/vfioN + /dev/iommu) and once through
# the legacy path (group + container + type1). Each run must realize the
# device (it shows up as 8086:10c9 in `info pci`), quit with status 0 and
# print nothing on stderr.
#
#   qemu_vfio_test.sh [-v] [iommufd|legacy ...]
#
# -v also prints QEMU's `info pci` output. Without names, both paths run.
# Prints kselftest TAP and a "# Totals:" line. The igb goes back to the driver
# it had (if any) at the end.
set -uo pipefail
. "$(cd "$(dirname "$0")" && pwd)/pci_bind_lib.sh"
qemu=${QEMU:-/usr/bin/qemu-system-x86_64}
verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(iommufd legacy)

echo "TAP version 13"
echo "1..${#paths[@]}"
skip_all() {
	local i
	echo "# SKIP: $1"
	for i in "${!paths[@]}"; do echo "ok $((i + 1)) qemu_${paths[i]}_realize # SKIP $1"; done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:${#paths[@]} error:0"
	exit 0
}

bdf=$(vfio_rs_igb_bdf)
[ -n "$bdf" ] || skip_all "no igb (8086:10c9) in this guest"
[ -x "$qemu" ] || skip_all "no $qemu"
[ -d /sys/bus/pci/drivers/vfio-pci ] || skip_all "vfio-pci not loaded"
dev=/sys/bus/pci/devices/$bdf

# Bind to vfio-pci, remembering the driver to give it back to.
vfio_pci_remember "$bdf"
trap 'vfio_pci_give_back "$bdf"' EXIT
vfio_pci_take "$bdf" || skip_all "could not bind $bdf to vfio-pci"

if [ $verbose = 1 ]; then
	group=$(basename "$(readlink "$dev/iommu_group")")
	cdev=$(ls "$dev/vfio-dev" 2>/dev/null | head -1)
	echo "# $bdf bound to vfio-pci: group /dev/vfio/$group${cdev:+, cdev /dev/vfio/devices/$cdev}"
fi

# The legacy path pins all guest RAM; root has CAP_IPC_LOCK, but be explicit.
ulimit -l unlimited 2>/dev/null

out=$(mktemp -d)
pass=0 fail=0 n=0

# run_qemu NAME DEVICE-OPTIONS...: boots nothing (-S), asks `info pci`, quits.
run_qemu() {
	local name=$1 rc why=""
	shift
	n=$((n + 1))
	printf 'info pci\nquit\n' |
		timeout 120 "$qemu" -S -nodefaults -display none -machine q35 -accel tcg -m 256 \
			"$@" -monitor stdio >"$out/$name.out" 2>"$out/$name.err"
	rc=$?
	if [ $rc = 124 ]; then
		why="timed out after 120 s"
	elif [ $rc != 0 ]; then
		why="exit status $rc"
	elif [ -s "$out/$name.err" ]; then
		why="output on stderr"
	elif ! grep -q 'Ethernet controller: PCI device 8086:10c9' "$out/$name.out"; then
		why="igb (8086:10c9) not in info pci"
	fi
	if [ $verbose = 1 ] || [ -n "$why" ]; then
		echo "# $name: $qemu $*"
		# The monitor's readline redraws each typed command; keep the final text.
		sed -E '/^\(qemu\)/{s/.*\x1b\[[0-9]*D//; s/\x1b\[K//g; s/^(\(qemu\) )?/(qemu) /}' \
			"$out/$name.out" | sed 's/^/# /'
		sed 's/^/# stderr: /' "$out/$name.err"
	fi
	if [ -z "$why" ]; then
		echo "ok $n qemu_${name}_realize"
		pass=$((pass + 1))
	else
		echo "# $name: $why"
		echo "not ok $n qemu_${name}_realize"
		fail=$((fail + 1))
	fi
}

for p in "${paths[@]}"; do
	case $p in
	iommufd)
		if [ ! -c /dev/iommu ] || ! ls "$dev"/vfio-dev/vfio* >/dev/null 2>&1; then
			n=$((n + 1))
			echo "ok $n qemu_iommufd_realize # SKIP no /dev/iommu or no vfio cdev"
			continue
		fi
		run_qemu iommufd -object iommufd,id=i0 -device "vfio-pci,host=$bdf,iommufd=i0" ;;
	legacy)
		run_qemu legacy -device "vfio-pci,host=$bdf" ;;
	*)
		n=$((n + 1))
		echo "not ok $n qemu_${p}_realize # unknown path (iommufd, legacy)"
		fail=$((fail + 1)) ;;
	esac
done
rm -rf "$out"
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$((n - pass - fail)) error:0"
[ $fail = 0 ]
