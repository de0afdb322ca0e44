# In the guest: what the shell tests of mdev clients share (sourced, not run).

# mdev_load_mtty: loads the mtty sample on the mdev core the boot's SPEC chose. When
# scripts/guest-load loaded our mdev.ko (VFIO_RS_KO_mdev) and a test has unloaded it
# since, that build is loaded again first, so that modprobe does not pull in upstream's;
# when it loaded a Rust mtty (VFIO_RS_KO_mtty), that build is the one loaded, after
# upstream's mdev when the SPEC kept it (insmod does not pull in dependencies; the same
# order as vfio_rs_modprobe_mdev_driver). 0 or the failing command's status.
mdev_load_mtty() {
	[ -d /sys/module/mtty ] && return 0
	if [ -n "${VFIO_RS_KO_mdev:-}" ] && [ ! -d /sys/module/mdev ]; then
		insmod "$VFIO_RS_KO_mdev" || return
	fi
	if [ -n "${VFIO_RS_KO_mtty:-}" ]; then
		[ -d /sys/module/mdev ] || modprobe mdev || return
		insmod "$VFIO_RS_KO_mtty"
	else
		modprobe mtty
	fi
}

# mdev_have_mtty: true if an mtty module can be loaded in this guest.
mdev_have_mtty() {
	[ -d /sys/module/mtty ] || [ -n "${VFIO_RS_KO_mtty:-}" ] || modinfo mtty >/dev/null 2>&1
}

# mdev_avail TYPE: mtty's available_instances of TYPE (mtty-1, mtty-2).
mdev_avail() {
	cat "/sys/class/mdev_bus/mtty/mdev_supported_types/$1/available_instances" 2>/dev/null
}

# mdev_create UUID TYPE / mdev_remove UUID: through sysfs; the write's status.
mdev_create() {
	echo "$1" >"/sys/class/mdev_bus/mtty/mdev_supported_types/$2/create"
}
mdev_remove() {
	echo 1 >"/sys/bus/mdev/devices/$1/remove"
}

# The TAP of a shell test: tap_plan N, then tap_ok NAME / tap_fail NAME WHY /
# tap_skip NAME WHY per case, and tap_totals at the end (exit status: 0 if nothing failed).
tap_n=0 tap_pass=0 tap_fail=0 tap_skip=0
tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}
tap_ok() {
	tap_n=$((tap_n + 1)) tap_pass=$((tap_pass + 1))
	echo "ok $tap_n $1"
}
tap_fail() {
	tap_n=$((tap_n + 1)) tap_fail=$((tap_fail + 1))
	echo "# $1: $2"
	echo "not ok $tap_n $1"
}
tap_skip() {
	tap_n=$((tap_n + 1)) tap_skip=$((tap_skip + 1))
	echo "ok $tap_n $1 # SKIP $2"
}
tap_totals() {
	echo "# Totals: pass:$tap_pass fail:$tap_fail xfail:0 xpass:0 skip:$tap_skip error:0"
	[ "$tap_fail" = 0 ]
}
