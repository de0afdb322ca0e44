# In the guest: loading and unloading a VFIO implementation (sourced, not run).
# scripts/guest-load is the command-line front end; scripts that change
# implementation in the middle of a boot (the benchmark) use it too, so the
# loading rules live in one place.
#
# SPEC: `rust` = every module we have in Rust (insmod by path, in dependency
# order) and upstream's C modules for the rest; `upstream` = the test kernel's C
# modules; or `mod=rust|upstream,...` per module (unlisted modules: upstream).
# Under every SPEC our library module vfio_rs_kernel_ext (the shared Rust layer, no upstream
# counterpart) is loaded after iommufd and before vfio, and unloaded after all its users.
# modprobe is only used for upstream modules, after their dependencies are
# loaded, so it never pulls in upstream's copy of a module we replace.

vfio_rs_repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Dependency order of the VFIO stack, and where our Rust build of each lives.
vfio_rs_order=(iommufd vfio_rs_kernel_ext vfio vfio_iommu_type1 vfio_pci_core vfio_pci mdev)
declare -A vfio_rs_ko=(
	[vfio_rs_kernel_ext]=$vfio_rs_repo/rust/vfio_rs_kernel_ext.ko
	[vfio]=$vfio_rs_repo/drivers/vfio/vfio.ko
	[vfio_iommu_type1]=$vfio_rs_repo/drivers/vfio/type1/vfio_iommu_type1.ko
	[mdev]=$vfio_rs_repo/drivers/vfio/mdev/mdev.ko
	[vfio_pci_core]=$vfio_rs_repo/drivers/vfio/pci/core/vfio-pci-core.ko
	[vfio_pci]=$vfio_rs_repo/drivers/vfio/pci/vfio-pci.ko
	[mtty]=$vfio_rs_repo/samples/vfio-mdev/mtty.ko
)
# Modules loaded at the start only when a per-module SPEC names them; otherwise they stay
# unloaded until their users' modprobe pulls in upstream's copy. (Empty since mdev joined
# `rust`: every SPEC now loads mdev at the start, ours or upstream's.)
vfio_rs_on_demand=()
# The Rust modules `rust` loads: those that pass upstream's tests (all of ours now). A module
# added to vfio_rs_ko later is reached only through a per-module SPEC until it does.
vfio_rs_complete=(vfio vfio_iommu_type1 vfio_pci_core vfio_pci mdev mtty)
# Driver modules the tests load and unload themselves (not at the start, not in
# vfio_rs_order): vfio_rs_load only exports VFIO_RS_KO_<module> when SPEC picks our build,
# and the tests' loader (vfio_rs_modprobe_mdev_driver in vfio_rs_test.h) insmods that
# instead of modprobing upstream's.
vfio_rs_drivers=(mtty)
# Our modules with no upstream counterpart, loaded (ours) under every SPEC: the shared layer's
# library module, which our Rust modules need (`modinfo -F depends`), including the sample
# drivers the tests insmod on top of upstream's core. It depends only on kernel modules
# (iommufd), and stays loaded when a test reloads vfio.
vfio_rs_always=(vfio_rs_kernel_ext)

# vfio_rs_choice SPEC MODULE: prints `rust` or `upstream`.
vfio_rs_choice() {
	local spec=$1 m=$2 kv
	[[ " ${vfio_rs_always[*]} " == *" $m "* ]] && { echo rust; return; }
	case $spec in
	rust) [[ " ${vfio_rs_complete[*]} " == *" $m "* ]] && echo rust || echo upstream ;;
	upstream) echo upstream ;;
	*) for kv in ${spec//,/ }; do
		[ "${kv%%=*}" = "$m" ] && { echo "${kv#*=}"; return; }
	   done; echo upstream ;;
	esac
}

# vfio_rs_named SPEC MODULE: true if SPEC is a per-module list naming MODULE.
vfio_rs_named() {
	local kv
	case $1 in rust | upstream) return 1 ;; esac
	for kv in ${1//,/ }; do
		[ "${kv%%=*}" = "$2" ] && return 0
	done
	return 1
}

# vfio_rs_wanted SPEC: the modules SPEC loads at the start, in dependency order (all but
# the on-demand ones it does not name).
vfio_rs_wanted() {
	local m
	for m in "${vfio_rs_order[@]}"; do
		if [[ " ${vfio_rs_on_demand[*]} " == *" $m "* ]] && ! vfio_rs_named "$1" "$m"; then
			continue
		fi
		echo "$m"
	done
}

# vfio_rs_load SPEC: loads the stack as SPEC says (modules already loaded stay,
# except an upstream copy of one we load in Rust). Sets vfio_rs_loaded to the
# list of `module=impl` and exports VFIO_RS_KO_<module> for each Rust build loaded.
# Returns 2 when a Rust module cannot be loaded.
vfio_rs_load() {
	local spec=$1 m c ko dep
	vfio_rs_loaded=()
	for m in "${vfio_rs_drivers[@]}"; do
		unset "VFIO_RS_KO_$m"
		[ "$(vfio_rs_choice "$spec" "$m")" = rust ] || continue
		ko=${vfio_rs_ko[$m]}
		[ -f "$ko" ] || { echo "guest-load: no Rust build of $m" >&2; return 2; }
		export "VFIO_RS_KO_$m=$ko"
	done
	for m in $(vfio_rs_wanted "$spec"); do
		c=$(vfio_rs_choice "$spec" "$m")
		case $c in
		rust)
			ko=${vfio_rs_ko[$m]:-}
			[ -n "$ko" ] && [ -f "$ko" ] || { echo "guest-load: no Rust build of $m" >&2; return 2; }
			# Tests that reload vfio leave the library loaded: keep it (it has no upstream
			# copy to replace).
			if [ -d "/sys/module/$m" ] && [[ " ${vfio_rs_always[*]} " == *" $m "* ]]; then
				export "VFIO_RS_KO_$m=$ko"
				vfio_rs_loaded+=("$m=rust")
				continue
			fi
			# Upstream's vfio.ko pulls in its type1 by softdep; ours replaces it.
			if [ -d "/sys/module/$m" ]; then
				rmmod "$m" || { echo "guest-load: cannot unload upstream $m" >&2; return 2; }
			fi
			# insmod resolves no dependencies: the kernel's own modules ours use (e.g.
			# irqbypass for vfio-pci-core) are modprobed first.
			for dep in $(modinfo -F depends "$ko" 2>/dev/null | tr ',' ' '); do
				[[ " ${vfio_rs_order[*]} " == *" $dep "* ]] || [ -d "/sys/module/$dep" ] ||
					modprobe "$dep" || { echo "guest-load: modprobe $dep failed" >&2; return 2; }
			done
			insmod "$ko" || { echo "guest-load: insmod $ko failed" >&2; return 2; }
			# Tests that unload and reload a module load this same build again.
			export "VFIO_RS_KO_$m=$ko"
			vfio_rs_loaded+=("$m=rust") ;;
		upstream)
			if modprobe "$m" 2>/tmp/guest-load.err; then
				vfio_rs_loaded+=("$m=upstream")
			else
				# Expected while our core lacks exports an upstream module needs.
				echo "guest-load: note: upstream $m not loaded: $(tr '\n' ' ' </tmp/guest-load.err)" >&2
			fi ;;
		*) echo "guest-load: bad choice '$c' for $m" >&2; return 2 ;;
		esac
	done
}

# The modules using module $1 (from /proc/modules).
vfio_rs_users_of() {
	awk -v m="$1" '$1 == m { gsub(",", " ", $4); if ($4 != "-") print $4 }' /proc/modules
}

# vfio_rs_unload_tree MODULE: unloads MODULE after everything using it, recursively.
vfio_rs_unload_tree() {
	local u
	for u in $(vfio_rs_users_of "$1"); do vfio_rs_unload_tree "$u" || return; done
	rmmod "$1"
}

# vfio_rs_unload: unloads the whole VFIO stack (and whatever uses it, e.g. mdev
# drivers), last module first. Devices bound to vfio-pci are unbound by it; their
# driver_override stays, so vfio-pci takes them again when it loads. Fails if a
# module stays busy (an open VFIO file).
vfio_rs_unload() {
	local i m
	for ((i = ${#vfio_rs_order[@]} - 1; i >= 0; i--)); do
		m=${vfio_rs_order[i]}
		if grep -q "^$m " /proc/modules; then
			vfio_rs_unload_tree "$m" || { echo "guest-load: cannot unload $m" >&2; return 2; }
		fi
	done
}

# vfio_rs_switch SPEC: replaces whatever VFIO stack is loaded by SPEC's.
vfio_rs_switch() {
	vfio_rs_unload && vfio_rs_load "$1"
}

# The modules vfio_rs_show lists: the stack, and the test-loaded drivers (mdev and the
# drivers only when something loaded them).
vfio_rs_show_mods=("${vfio_rs_order[@]}" "${vfio_rs_drivers[@]}")

# vfio_rs_build_id FILE: the GNU build ID (hex) of a .ko, empty if it cannot be read
# (no readelf, a compressed module).
vfio_rs_build_id() {
	readelf -n "$1" 2>/dev/null | sed -n 's/^ *Build ID: //p' | head -1
}

# vfio_rs_ko_path MODULE: the .ko file of the loaded MODULE, found by its build ID (the
# kernel keeps the loaded module's notes in /sys/module/M/notes/), so the path names the
# very build running. Candidates: the Rust build guest-load loaded (VFIO_RS_KO_M), ours
# in the repository, the kernel's (modinfo). A path that could not be checked is
# marked "?", none matching prints "?".
vfio_rs_ko_path() {
	local m=$1 note id ko kid kv unchecked=""
	note=/sys/module/$m/notes/.note.gnu.build-id
	# The note is a 12-byte header, "GNU\0", then the ID.
	id=$(od -An -v -tx1 -j16 "$note" 2>/dev/null | tr -d ' \n')
	kv=VFIO_RS_KO_$m
	for ko in "${!kv:-}" "${vfio_rs_ko[$m]:-}" "$(modinfo -n "$m" 2>/dev/null)"; do
		[ -n "$ko" ] && [ -f "$ko" ] || continue
		kid=$(vfio_rs_build_id "$ko")
		if [ -n "$id" ] && [ -n "$kid" ]; then
			[ "$kid" = "$id" ] && { echo "$ko"; return; }
		elif [ -z "$unchecked" ]; then
			unchecked=$ko
		fi
	done
	echo "${unchecked:+$unchecked }?"
}

# vfio_rs_show: which build of each VFIO module is loaded, as a table: ours are built out
# of the kernel tree, so the kernel taints them `O` (/sys/module/M/taint); upstream's are
# the test kernel's own. For `make run` and anything else that wants to show it.
vfio_rs_show() {
	local m impl taint path
	printf '%-18s %-9s %-6s %s\n' module impl taint path
	for m in "${vfio_rs_show_mods[@]}"; do
		if [ ! -d "/sys/module/$m" ]; then
			[ "$m" = mdev ] || [[ " ${vfio_rs_drivers[*]} " == *" $m "* ]] || printf '%-18s %-9s %-6s %s\n' "$m" - - "(not loaded)"
			continue
		fi
		if [ ! -e "/sys/module/$m/initstate" ]; then
			impl=built-in taint=- path="(in the kernel image)"
		else
			taint=$(cat "/sys/module/$m/taint")
			[[ $taint == *O* ]] && impl=rust || impl=upstream
			path=$(vfio_rs_ko_path "$m")
		fi
		printf '%-18s %-9s %-6s %s\n' "$m" "$impl" "${taint:--}" "$path"
	done
}
