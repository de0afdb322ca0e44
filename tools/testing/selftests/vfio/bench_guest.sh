#!/usr/bin/env bash
# In the guest (`make bench`, booted with --impl upstream): upstream's C VFIO
# core and type1 against ours, in one boot. Reserves the huge pages, then runs
# vfio_bench, which loads each implementation in turn through this script's
# `switch` mode (scripts/guest-lib.sh's vfio_rs_switch: the whole VFIO stack is
# unloaded, then the phase's one loaded). Ends with the dmesg scan; the exit
# code is non-zero if the benchmark failed or the log is not clean.
#
#   bench_guest.sh [vfio_bench options]      run the benchmark (default: 4 phases,
#                                            upstream,rust,rust,upstream, 1 GiB buffers)
#   bench_guest.sh switch LABEL              load LABEL's stack
#
# Then upstream's vfio_pci_device_init_perf_test on the igb, per IOMMU mode, the
# same phases (init_perf_bench.sh).
#
# Labels: `upstream` (all C); `rust` = VFIO_BENCH_RUST_SPEC (default
# vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=rust,vfio_pci=rust: our core, type1 and
# vfio-pci, upstream's iommufd); to tell the two apart, `rust-core` (our vfio.ko, C type1) and
# `rust-type1` (C vfio.ko, our type1), e.g. `-p upstream,rust-type1,rust-type1,upstream`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
. "$repo/scripts/guest-lib.sh"

declare -A specs=(
	[upstream]=upstream
	[rust]=${VFIO_BENCH_RUST_SPEC:-vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=rust,vfio_pci=rust}
	[rust-core]=vfio=rust
	[rust-type1]=vfio_iommu_type1=rust
)

if [ "${1:-}" = switch ]; then
	spec=${specs[${2:-}]:-}
	[ -n "$spec" ] || { echo "bench_guest.sh: unknown label '${2:-}'" >&2; exit 2; }
	vfio_rs_switch "$spec" || exit
	echo "# bench: $2 = ${vfio_rs_loaded[*]}"
	exit 0
fi

# Enough 2 MiB pages for the two hugetlb buffers (private: the larger of -m MiB, default
# 1024, and -S MiB, default 4096; memfd-shared: -m MiB), plus slack; a guest too small for
# -S gets -S 0 (no large scaling run).
mib=1024 large=4096 args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[i]}" = -m ] && mib=${args[i + 1]:-1024}
	[ "${args[i]}" = -S ] && large=${args[i + 1]:-0}
done
huge=$((large > mib ? large : mib))
echo $(((huge + mib) / 2 + 8)) >/proc/sys/vm/nr_hugepages
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt $(((huge + mib) / 2)) ] && [ "$huge" != "$mib" ]; then
	echo "# bench: only $have huge pages of 2 MiB for -S $large: scaling run left out (scripts/vm --mem)"
	args+=(-S 0) huge=$mib
	echo $(((huge + mib) / 2 + 8)) >/proc/sys/vm/nr_hugepages
	have=$(cat /proc/sys/vm/nr_hugepages)
fi
if [ "$have" -lt $(((huge + mib) / 2)) ]; then
	echo "bench_guest.sh: only $have of $(((huge + mib) / 2 + 8)) huge pages reserved (guest memory: scripts/vm --mem)" >&2
	exit 1
fi
set -- "${args[@]}"

dmesg -n 1 2>/dev/null   # keep the console for the figures; the log is scanned below
echo "# bench: $(uname -r), $(nproc) vCPUs, $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) MiB, $have huge pages of 2 MiB, $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null || echo 0) of 1 GiB"
case ${VFIO_BENCH_CLOCK:-} in
icount) echo "# bench: clock: QEMU -icount shift=0, 1 ns = 1 guest instruction (host load does not count)" ;;
wall) echo "# bench: clock: host time (noisy on a loaded host)" ;;
esac
(cd /tmp && "$repo/out/selftests/vfio_bench" -s "$0 switch" "$@")
rc=$?
"$here/init_perf_bench.sh" "$0 switch" || { [ "$rc" = 0 ] && rc=1; }
"$here/dmesg_scan.sh" || { [ "$rc" = 0 ] && rc=1; }
exit $rc
