#!/usr/bin/env bash
# In the guest: one TAP case per module of the VFIO stack (scripts/guest-lib.sh's
# order): it is loaded, and it is the implementation the boot's SPEC asked for
# (ours are out-of-tree: taint `O`; upstream's are not). A module that failed to
# load would otherwise only make later tests skip. Our library module vfio_rs_kernel_ext
# is expected (ours) under every SPEC.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../../../scripts/guest-lib.sh"
spec=${VFIO_RS_IMPL:-rust}
# On-demand modules (mdev) are checked only when the SPEC names them.
mapfile -t mods < <(vfio_rs_wanted "$spec")
echo "TAP version 13"
echo "1..${#mods[@]}"
i=0 bad=0
for m in "${mods[@]}"; do
	i=$((i + 1))
	want=$(vfio_rs_choice "$spec" "$m")
	if [ ! -d "/sys/module/$m" ]; then
		echo "not ok $i loaded_modules.$m # not loaded (wanted $want)"
		bad=1
		continue
	fi
	taint=$(cat "/sys/module/$m/taint" 2>/dev/null)
	got=upstream
	[[ $taint == *O* ]] && got=rust
	if [ "$got" = "$want" ]; then
		echo "ok $i loaded_modules.$m # $got"
	else
		echo "not ok $i loaded_modules.$m # $got loaded, $want wanted (taint '$taint')"
		bad=1
	fi
done
exit $bad
