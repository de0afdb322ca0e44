#!/usr/bin/env bash
# In the guest: DPDK (Debian's dpdk-testpmd 22.11, the host's, seen through the
# shared filesystem; scripts/setup installs it) drives the igb through vfio-pci on
# the loaded VFIO stack, as a user-space driver does: the group + container + type1
# path (/dev/vfio/vfio), DMA maps of its hugepage memory, BAR mmaps, MSI-X eventfds.
# The igb is bound to vfio-pci and 2 MiB hugepages are reserved (a private
# hugetlbfs mount), then testpmd (interactive, commands fed on stdin once its
# prompt shows) runs `start tx_first` in txonly forwarding for a few seconds,
# `show port stats all`, `stop`, `quit`:
#  - probe_vfio: EAL probed the igb with net_e1000_igb and set it up through VFIO
#    (the `Probe PCI driver: net_e1000_igb ... device: BDF` and `VFIO support
#    initialized` lines, and testpmd holds /dev/vfio/GROUP open while it runs);
#  - tx_packets: the port's hardware counters (`show port stats all`, read from
#    the igb's registers) show TX-packets > 0: the device fetched descriptors and
#    packets from DMA-mapped memory through the vIOMMU;
#  - clean_exit: testpmd quit with status 0 within the bound, printing `Bye...`,
#    and the igb has no MSI/MSI-X vectors left enabled afterwards (vfio-pci tore
#    down its interrupts when testpmd closed the device).
# Under TCG testpmd takes most of a minute to reach its prompt (linking ~70 DPDK
# libraries, EAL loading Debian's ~130 PMD plugins); --no-mlockall saves another
# ~100 s (testpmd's default mlockall() faults in every one of those libraries).
# The bound is generous all the same.
#
#   dpdk_test.sh [-v]
#
# -v also prints testpmd's whole output. Prints kselftest TAP and a "# Totals:"
# line. Skips (every case) only when dpdk-testpmd is not installed, the guest has
# no igb or no vfio-pci. The igb goes back to the driver it had (if any) and the
# 2 MiB hugepage count to its old value at the end.
set -uo pipefail
. "$(cd "$(dirname "$0")" && pwd)/pci_bind_lib.sh"
testpmd=${DPDK_TESTPMD:-/usr/bin/dpdk-testpmd}
bound=${DPDK_TEST_TIMEOUT:-480}   # whole testpmd run, EAL init to quit (TCG is slow)
txsecs=${DPDK_TX_SECONDS:-5}      # forwarding time between `start` and `stop`
verbose=0
[ "${1:-}" = -v ] && verbose=1
cases=(probe_vfio tx_packets clean_exit)

echo "TAP version 13"
echo "1..${#cases[@]}"
n=0 pass=0 fail=0 skip=0
tap_ok() { n=$((n + 1)) pass=$((pass + 1)); echo "ok $n $1"; }
tap_fail() { n=$((n + 1)) fail=$((fail + 1)); echo "# $1: $2"; echo "not ok $n $1"; }
fail_all() {
	local c
	for c in "${cases[@]}"; do tap_fail "$c" "$1"; done
	echo "# Totals: pass:0 fail:$fail xfail:0 xpass:0 skip:0 error:0"
	exit 1
}
skip_all() {
	local c
	echo "# SKIP: $1"
	for c in "${cases[@]}"; do n=$((n + 1)) skip=$((skip + 1)); echo "ok $n $c # SKIP $1"; done
	echo "# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:$skip error:0"
	exit 0
}

[ -x "$testpmd" ] || skip_all "no $testpmd (Debian's dpdk-dev; scripts/setup installs it)"
bdf=$(vfio_rs_igb_bdf)
[ -n "$bdf" ] || skip_all "no igb (8086:10c9) in this guest"
[ -d /sys/bus/pci/drivers/vfio-pci ] || skip_all "vfio-pci not loaded"
dev=/sys/bus/pci/devices/$bdf
hp=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages

out=$(mktemp -d)
prefix=dpdk_test_$$
old_hp="" mnt="" pid=""
vfio_pci_remember "$bdf"
restore() {
	# timeout passes the TERM on to testpmd (and KILLs it 10 s later).
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	exec 3>&- 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" && rmdir "$mnt"
	rm -rf "/run/dpdk/$prefix"
	rmdir /run/dpdk 2>/dev/null
	[ -n "$old_hp" ] && echo "$old_hp" >"$hp"
	vfio_pci_give_back "$bdf"
	rm -rf "$out"
	return 0
}
trap restore EXIT

vfio_pci_take "$bdf" || fail_all "could not bind $bdf to vfio-pci"
group=$(basename "$(readlink "$dev/iommu_group")")

# 2 MiB hugepages (256 = 512 MiB; testpmd below needs far less) on a private
# hugetlbfs mount, EAL's only --huge-dir, so it uses them and not the boot-time
# 1 GiB page (with --in-memory EAL takes hugepages of every size through memfd,
# mounted or not).
old_hp=$(cat "$hp")
((old_hp >= 256)) || echo 256 >"$hp"
mnt=$(mktemp -d)
mount -t hugetlbfs -o pagesize=2M nodev "$mnt" || { rmdir "$mnt"; mnt=""; fail_all "could not mount hugetlbfs"; }
echo "# $bdf on vfio-pci (group $group), 2 MiB hugepages: $(cat "$hp") (free" \
	"$(cat "${hp%/*}/free_hugepages")), hugetlbfs $mnt"

ulimit -l unlimited 2>/dev/null
# -i with commands on a FIFO: each is sent once testpmd has done the one before
# (its prompt shows), so slow EAL init under TCG does not eat the forwarding time.
# --no-shconf and --huge-unlink leave no files behind but EAL's empty runtime
# directory /run/dpdk/PREFIX (removed at the end). --total-num-mbufs keeps the
# mbuf pool (whose every object testpmd initialises) small.
mkfifo "$out/in"
t0=$SECONDS
timeout -k 10 "$bound" "$testpmd" -l 0-1 -n 1 -a "$bdf" --iova-mode=va \
	--no-shconf --huge-unlink --huge-dir "$mnt" --file-prefix "$prefix" \
	-- -i --no-mlockall --forward-mode=txonly --total-num-mbufs=2048 \
	--rxq=1 --txq=1 --nb-cores=1 <"$out/in" >"$out/log" 2>&1 &
pid=$!
exec 3>"$out/in"

# wait_for PATTERN COUNT: until testpmd's output has COUNT lines matching PATTERN
# (grep -E, counting each match), or it exits. Status 0 if it got there.
wait_for() {
	while kill -0 "$pid" 2>/dev/null; do
		(($(grep -oE -- "$1" "$out/log" | wc -l) >= $2)) && return 0
		sleep 1
	done
	(($(grep -oE -- "$1" "$out/log" | wc -l) >= $2))
}
send() { echo "# testpmd> $1 ($((SECONDS - t0)) s)"; echo "$1" >&3; }

fds=""
prompts=0
if wait_for 'testpmd> ' 1; then
	prompts=1
	fds=$(ls -l "/proc/$pid/fd" 2>/dev/null; for p in $(pgrep -P "$pid"); do ls -l "/proc/$p/fd"; done 2>/dev/null)
	send "start tx_first"
	prompts=$((prompts + 1))
	wait_for 'testpmd> ' "$prompts" && sleep "$txsecs"
	for c in "show port stats all" stop quit; do
		send "$c"
		prompts=$((prompts + 1))
		[ "$c" = quit ] || wait_for 'testpmd> ' "$prompts"
	done
fi
exec 3>&-
wait "$pid"
rc=$?
pid=""
secs=$((SECONDS - t0))
# The prompt has no newline: the next output follows it on the same line.
sed -i 's/testpmd> /&\n/g' "$out/log"
if ((verbose)) || ! grep -q '^Bye' "$out/log"; then
	sed 's/^/# /' "$out/log"
else
	grep -E 'EAL: (Probe|VFIO|Using IOMMU)|Port 0: |link|TX-packets|Bye' "$out/log" | sed 's/^/# /'
fi
echo "# testpmd exit status $rc after $secs s"

# probe_vfio
why=""
if ! grep -qE "EAL: Probe PCI driver: net_e1000_igb .*device: $bdf" "$out/log"; then
	why="no 'Probe PCI driver: net_e1000_igb' line for $bdf"
elif ! grep -q 'EAL: VFIO support initialized' "$out/log"; then
	why="no 'VFIO support initialized' line"
elif ! grep -q "/dev/vfio/$group\$" <<<"$fds"; then
	why="testpmd did not hold /dev/vfio/$group open at its prompt"
fi
if [ -z "$why" ]; then tap_ok probe_vfio; else tap_fail probe_vfio "$why"; fi

# tx_packets: the first TX-packets of `show port stats all` (port 0's NIC statistics).
tx=$(sed -n '/NIC statistics for port 0/,/####/s/.*TX-packets: *\([0-9]*\).*/\1/p' "$out/log" | head -1)
if [ -n "$tx" ] && ((tx > 0)); then
	echo "# port 0 TX-packets: $tx"
	tap_ok tx_packets
else
	tap_fail tx_packets "port 0 TX-packets ${tx:-not shown} after ${txsecs} s of txonly"
fi

# clean_exit
why=""
if [ $rc = 124 ] || [ $rc = 137 ]; then
	why="timed out after $bound s"
elif [ $rc != 0 ]; then
	why="exit status $rc"
elif ! grep -q '^Bye' "$out/log"; then
	why="no 'Bye...' (quit did not run)"
elif [ -n "$(ls "$dev/msi_irqs" 2>/dev/null)" ]; then
	why="the igb still has MSI vectors enabled after testpmd exited"
fi
if [ -z "$why" ]; then tap_ok clean_exit; else tap_fail clean_exit "$why"; fi

echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:$skip error:0"
[ $fail = 0 ]
