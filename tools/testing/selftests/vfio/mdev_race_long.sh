#!/usr/bin/env bash
# In the guest (make mdev-race): vfio_mdev_test's remove_race_long alone (10,000
# create/remove rounds over four pairs of threads, both mtty types; see
# vfio_mdev_test.c), then the dmesg scan, whose kmemleak scan must find no leak.
# Framed like run_guest.sh's programs; exit 0 when both passed.
set -uo pipefail
exec 2>&1
here=$(cd "$(dirname "$0")" && pwd)
bins=$(cd "$here/../../../.." && pwd)/out/selftests
. "$here/run_lib.sh"
dmesg -n 4 2>/dev/null
(cd /tmp && export VFIO_RS_MDEV_RACE_LONG=1 && run_program vfio_mdev_test \
	"$here/bounded.sh" "${VFIO_RS_RACE_BOUND:-3000}" vfio_mdev_test "$bins/vfio_mdev_test" -t remove_race_long)
rc=$?
run_program dmesg_scan "$here/dmesg_scan.sh" || rc=1
echo "# vfio-rs: run complete"
exit $rc
