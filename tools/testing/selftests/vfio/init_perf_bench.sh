#!/usr/bin/env bash
# In the guest (make bench, after vfio_bench): upstream's
# vfio_pci_device_init_perf_test on the igb in each of its five IOMMU modes, in
# phases upstream,rust,rust,upstream (VFIO_BENCH_INIT_ROUNDS times, default 2),
# the stack switched by SWITCH (bench_guest.sh's `switch` mode). Each phase runs
# the test once; its "Avg init time (per device)" per mode is one sample (the
# guest clock: with -icount, instructions). Prints per mode the medians and the
# ratio rust/upstream as `vfio_bench: metric=init_perf_MODE ...` lines, the format
# vfio_bench uses. Exit status non-zero if a run failed.
#
#   init_perf_bench.sh "SWITCH-COMMAND"
set -uo pipefail
switch=$1
kdir=${VFIO_RS_KDIR:?the kernel tree (make bench sets it)}
dir=$kdir/tools/testing/selftests/vfio
test=$dir/vfio_pci_device_init_perf_test
rounds=${VFIO_BENCH_INIT_ROUNDS:-2}
bdf=$(for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10c9 ] && basename "$d"
done | head -1)
[ -n "$bdf" ] && [ -x "$test" ] || { echo "init_perf_bench: no igb or no $test" >&2; exit 1; }

declare -A samples=()
rc=0
for ((r = 0; r < rounds; r++)); do
	for label in upstream rust rust upstream; do
		$switch "$label" >/dev/null || { echo "init_perf_bench: switch to $label failed" >&2; exit 1; }
		bash "$dir/scripts/setup.sh" "$bdf" >/dev/null
		out=$(cd /tmp && "$test" "$bdf" 2>&1) || { echo "$out" | tail -20; rc=1; }
		# "#  RUN  vfio_pci_device_init_perf_test.MODE.init ..." then the times.
		while read -r mode ns; do
			samples[$label.$mode]+=" $ns"
		done < <(awk '
			/ RUN / { split($3, f, "."); mode = f[2] }
			/Avg init time/ { split($NF, t, /[.s]/); print mode, t[1] * 1000000000 + t[2] }' <<<"$out")
		bash "$dir/scripts/cleanup.sh" >/dev/null 2>&1
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {
	if (NR == 0) print 0; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "# init_perf: upstream's vfio_pci_device_init_perf_test, Avg init time per device, medians"
for mode in vfio_type1_iommu vfio_type1v2_iommu iommufd_compat_type1 iommufd_compat_type1v2 iommufd; do
	u=$(median <<<"${samples[upstream.$mode]:-}")
	s=$(median <<<"${samples[rust.$mode]:-}")
	nu=$(wc -w <<<"${samples[upstream.$mode]:-}") ns=$(wc -w <<<"${samples[rust.$mode]:-}")
	if [ "$nu" = 0 ] || [ "$ns" = 0 ]; then
		echo "init_perf_bench: no samples for $mode" >&2
		rc=1
		continue
	fi
	awk -v m="$mode" -v u="$u" -v s="$s" -v nu="$nu" -v ns="$ns" 'BEGIN {
		printf "vfio_bench: metric=init_perf_%s upstream_ns=%.0f rust_ns=%.0f ratio=%.3f samples=%d,%d\n",
			m, u, s, s / u, nu, ns }'
done
exit $rc
