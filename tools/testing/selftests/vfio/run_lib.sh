# In the guest: how run_guest.sh and upstream_selftests.sh run one test program
# (sourced, not run). scripts/results reads what this prints.

# run_program NAME [--no-tap] CMD ARGS...: runs CMD framed by
# `# vfio-rs: begin NAME` / `# vfio-rs: end NAME rc=N` on stdout and by the
# same words in the kernel log (the dmesg scan attributes reports to programs by
# them). With --no-tap (a program that prints no verdict of its own, vfio_diff)
# its exit status becomes its one TAP case, NAME.exit_status. With CHECK_ONLY set,
# only the programs it names run (and the module check and the dmesg scan, which
# every run needs). The end line also gives the program's guest seconds, so a
# slow boot shows where its time went. Returns CMD's exit status.
run_program() {
	local name=$1 notap=0 rc t0
	shift
	[ "${1:-}" = --no-tap ] && { notap=1; shift; }
	if [ -n "${CHECK_ONLY:-}" ] && [[ " $CHECK_ONLY loaded_modules dmesg_scan " != *" $name "* ]]; then
		return 0
	fi
	echo "# vfio-rs: begin $name [impl ${VFIO_RS_IMPL:-?}]"
	echo "vfio-rs: begin $name" >/dev/kmsg 2>/dev/null
	((notap)) && printf 'TAP version 13\n1..1\n'
	t0=$SECONDS
	"$@"
	rc=$?
	if ((notap)); then
		if [ "$rc" = 0 ]; then echo "ok 1 $name.exit_status"; else echo "not ok 1 $name.exit_status # exit $rc"; fi
	fi
	echo "vfio-rs: end $name" >/dev/kmsg 2>/dev/null
	echo "# vfio-rs: end $name rc=$rc ($((SECONDS - t0)) s)"
	return "$rc"
}
