# SPDX-License-Identifier: GPL-2.0
#
# vfio-rs: out-of-tree Rust VFIO modules. Kbuild does the compiling (see Kbuild);
# this file drives it against a Rust-enabled 7.3 kernel tree, KDIR. Without KDIR
# the project's cached guest kernel is used (built on first use, see
# scripts/build-kernel); KVARIANT=debug selects the KASAN build.

KVARIANT ?= base
# Looked up when a recipe first uses it, not at parse time: scripts/build-kernel needs the
# tools scripts/setup installs, and `make run`/`make check` run the setup target first on
# a fresh machine. The first use replaces this with the plain value (no second lookup).
ifeq ($(KDIR),)
KDIR = $(eval KDIR := $(or $(shell $(CURDIR)/scripts/build-kernel $(KVARIANT)),$(error \
	no kernel tree: scripts/build-kernel failed and KDIR is not set (`make setup` installs its tools))))$(KDIR)
endif

LLVM ?= -19
RUSTC ?= /usr/bin/rustc
RUSTDOC ?= /usr/bin/rustdoc
CLIPPY_DRIVER ?= /usr/bin/clippy-driver
RUSTFMT ?= /usr/bin/rustfmt
BINDGEN ?= $(HOME)/.cache/vfio-rs/cargo/bin/bindgen
export LIBCLANG_PATH ?= /usr/lib/llvm-19/lib
KMAKE = $(MAKE) -C $(KDIR) M=$(CURDIR) LLVM=$(LLVM) RUSTC=$(RUSTC) RUSTDOC=$(RUSTDOC) \
	BINDGEN=$(BINDGEN) CLIPPY_DRIVER=$(CLIPPY_DRIVER)
GEN = rust/generated
SELFTESTS = tools/testing/selftests/vfio

.PHONY: all modules bindings clippy fmt fmt-check modules_install selftests check check-host \
	check-debug check-harness run bench bench-run print-kdir clean host-test setup mdev-samples \
	mdev-matrix mdev-race variant-drivers

all: variant-drivers selftests

bindings:
	@scripts/gen-bindings $(KDIR) rust/uapi_helper.h $(GEN)/uapi.rs \
		--allowlist-var 'VFIO_.*' --allowlist-var 'RUST_CONST_HELPER_.*' \
		--allowlist-type 'vfio_.*'
	@scripts/gen-bindings $(KDIR) rust/bindings_helper.h $(GEN)/bindings.rs \
		--allowlist-type 'vfio_.*' --allowlist-type 'iommufd_.*' --allowlist-type 'virqfd' --allowlist-type 'kvm' \
		--allowlist-function 'anon_inode_getfile(_fmode)?' --allowlist-var 'RUST_CONST_HELPER_.*' \
		--allowlist-function 'iommufd_.*' --allowlist-var 'IOMMUFD_ACCESS_RW_.*' \
		--allowlist-function '_vfio_alloc_device|vfio_(register_emulated_iommu_dev|register_group_dev|unregister_group_dev|assign_device_set|device_set_open_count|iommufd_emulated_.*|iommufd_physical_.*|pin_pages|unpin_pages|dma_rw|register_iommu_driver|unregister_iommu_driver|info_cap_add|info_cap_shift|info_add_capability|set_irqs_validate_and_prepare|virqfd_.*|mig_get_next_state|file_has_dev|file_is_group|iommufd_device_ictx|iommufd_get_dev_id|find_device_in_devset)' \
		--allowlist-function 'iova_bitmap_set' \
		--allowlist-function 'mem(re|un)map' --allowlist-var 'RUST_CONST_HELPER_MEMREMAP_WB' \
		--allowlist-type 'irq_bypass_(producer|consumer)' --allowlist-function 'irq_bypass_(un)?register_producer' \
		--allowlist-type 'perm_bits|p2pdma_provider|phys_vec' \
		--allowlist-function 'vfio_pci_core_(init_dev|release_dev|enable|disable|finish_enable|close_device|ioctl|ioctl_feature|read|write|mmap|request|match|match_token_uuid|register_device|unregister_device|sriov_configure|aer_err_detected|get_dmabuf_phys|register_dev_region)|vfio_pci_ioctl_get_region_info'
	@scripts/gen-bindings $(KDIR) rust/helpers_helper.h $(GEN)/helpers.rs \
		--allowlist-function 'vfio_rs_.*' --allowlist-type 'vfio_rs_.*' --allowlist-var 'VFIO_RS_.*' \
		--with-derive-custom-struct 'vfio_rs_.*=Clone,Copy'
	@scripts/gen-bindings $(KDIR) rust/mdev_helper.h $(GEN)/mdev.rs \
		--allowlist-type 'mdev_(device|type|parent|driver)' --allowlist-function 'mdev_(register|unregister)_(parent|driver)' --allowlist-var 'RUST_CONST_HELPER_VFIO_RS_.*_mdev_.*'

modules: bindings
	$(KMAKE) modules

clippy: bindings
	$(KMAKE) CLIPPY=1 modules

fmt:
	$(RUSTFMT) --config-path $(KDIR)/.rustfmt.toml --edition 2021 $$(git ls-files '*.rs')

fmt-check:
	$(RUSTFMT) --check --config-path $(KDIR)/.rustfmt.toml --edition 2021 $$(git ls-files '*.rs')

# Installs to /lib/modules/<release>/updates/, which modprobe prefers over in-tree copies.
modules_install: modules
	$(KMAKE) INSTALL_MOD_DIR=updates modules_install

# Ours (with the test-only module in out/kmod), and upstream's own (built in the
# kernel tree, unmodified).
selftests:
	$(MAKE) -C $(SELFTESTS) KDIR=$(KDIR)
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(SELFTESTS)/kmod MO=$(CURDIR)/out/kmod LLVM=$(LLVM) modules
	cd $(KDIR)/tools/testing/selftests/vfio && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(MAKE) -s
	$(MAKE) --no-print-directory mdev-samples

# Upstream's unmodified variant drivers, built out of tree against OUR vfio-pci-core's
# exports (KBUILD_EXTRA_SYMBOLS=our Module.symvers) into out/variant/<driver>/, so that
# variant_abi_test can load them on it in the guest: virtio-vfio-pci (main.c, migrate.c and,
# with CONFIG_VIRTIO_VFIO_PCI_ADMIN_LEGACY defined as its Kconfig would, legacy_io.c, which
# uses the core's ioread/iowrite and range exports). The sources are copied from the kernel
# tree at build time (cp -p: unchanged files are not rebuilt); the test kernel does not build
# the driver itself (CONFIG_VIRTIO_VFIO_PCI unset). Skipped when KDIR has no such sources.
VARIANT_VIRTIO = $(KDIR)/drivers/vfio/pci/virtio
variant-drivers: modules
	@if [ -f $(VARIANT_VIRTIO)/main.c ]; then \
		mkdir -p out/variant/virtio && \
		cp -p $(VARIANT_VIRTIO)/main.c $(VARIANT_VIRTIO)/migrate.c $(VARIANT_VIRTIO)/legacy_io.c \
			$(VARIANT_VIRTIO)/common.h out/variant/virtio/ && \
		printf '%s\n' 'obj-m += virtio-vfio-pci.o' \
			'virtio-vfio-pci-y := main.o migrate.o legacy_io.o' \
			'ccflags-y += -DCONFIG_VIRTIO_VFIO_PCI_ADMIN_LEGACY' >out/variant/virtio/Kbuild && \
		$(MAKE) -C $(KDIR) M=$(CURDIR)/out/variant/virtio LLVM=$(LLVM) \
			KBUILD_EXTRA_SYMBOLS=$(CURDIR)/Module.symvers modules; \
	else \
		echo "variant-drivers: no $(VARIANT_VIRTIO)/main.c in KDIR: virtio-vfio-pci not built"; \
	fi

# Upstream's unmodified mdpy and mbochs samples (more mdev parents: core-counted
# max_instances, descriptions), built out of tree into out/mdev-samples/ for
# vfio_mdev_test when the kernel tree did not build them.
MDEV_SAMPLES = $(KDIR)/samples/vfio-mdev
mdev-samples:
	@if [ -f $(MDEV_SAMPLES)/mdpy.c ] && [ -f $(MDEV_SAMPLES)/mbochs.c ]; then \
		mkdir -p out/mdev-samples && \
		cp $(MDEV_SAMPLES)/mdpy.c $(MDEV_SAMPLES)/mdpy-defs.h $(MDEV_SAMPLES)/mbochs.c \
			out/mdev-samples/ && \
		echo 'obj-m := mdpy.o mbochs.o' >out/mdev-samples/Kbuild && \
		$(MAKE) -C $(KDIR) M=$(CURDIR)/out/mdev-samples LLVM=$(LLVM) modules; \
	fi

# Packages, QEMU, virtme-ng, bindgen, kernel source: whatever is missing (idempotent; a
# fraction of a second when nothing is). The targets that boot a guest start with it, and
# only then build (a sub-make, so that under -j nothing looks for KDIR before it is done).
setup:
	@scripts/setup

# The README's test command: host unit tests, then our kselftests in the guest
# against --impl rust and --impl upstream, then one summary line.
check: setup
	$(MAKE) --no-print-directory KDIR=$(KDIR) all
	KDIR=$(KDIR) KVARIANT=$(KVARIANT) scripts/check

# The host half of make check alone (cargo tests judged by the manifest; no kernel, no
# guest): run it before committing a renamed or added host test.
check-host:
	HOST_ONLY=1 scripts/check

# Self-tests of make check itself: each injected fault must fail a small run, naming
# its cause (scripts/check-harness; about 3 min per case).
check-harness: setup
	$(MAKE) --no-print-directory KDIR=$(KDIR) all
	KDIR=$(KDIR) scripts/check-harness

# The mdev stack's tests (MATRIX_PROGS) in every mix of C and Rust core (vfio + type1),
# mdev and mtty, one boot each: one summary line per combination (scripts/mdev-matrix).
mdev-matrix: setup
	$(MAKE) --no-print-directory KDIR=$(KDIR) all
	KDIR=$(KDIR) scripts/mdev-matrix

# vfio_mdev_test's remove_race_long (MDEV_RACE_ROUNDS create/remove rounds in all, default
# 10,000, over four pairs of threads, both mtty types) on MDEV_RACE_IMPL, then the dmesg and
# kmemleak scan.
MDEV_RACE_IMPL ?= rust
MDEV_RACE_ROUNDS ?= 10000
mdev-race: setup
	$(MAKE) --no-print-directory KDIR=$(KDIR) all
	@mkdir -p out/mdev-race
	{ KDIR=$(KDIR) scripts/vm --icount --impl $(MDEV_RACE_IMPL) -- \
		env VFIO_RS_MDEV_RACE_LONG_ROUNDS=$(MDEV_RACE_ROUNDS) \
		$(CURDIR)/$(SELFTESTS)/mdev_race_long.sh; echo $$? >out/mdev-race/rc; } | \
		tee out/mdev-race/guest.stdout
	@exit $$(cat out/mdev-race/rc)

check-debug: setup
	$(MAKE) --no-print-directory KVARIANT=debug KDIR=$$(scripts/build-kernel debug) check

# The main job: boot the guest with the Rust stack loaded, show what it made and which
# build of each VFIO module is loaded (ours: rust, taint O), then have QEMU (paused, TCG)
# take the igb through iommufd and show its `info pci`.
RUN_SHOW = ls -l /dev/vfio; echo; $(CURDIR)/scripts/guest-load --show; echo; \
	$(CURDIR)/$(SELFTESTS)/qemu_vfio_test.sh -v iommufd
run: setup
	$(MAKE) --no-print-directory KDIR=$(KDIR) all
	KDIR=$(KDIR) scripts/vm --impl rust -- sh -c '$(RUN_SHOW)'

# Upstream's C vfio + type1 against ours in one guest boot, timed (MAP/UNMAP_DMA of 1 GiB in
# 4 KiB and 2 MiB pages, device open on both paths): a table and one `vfio_bench: metric=...`
# line per metric, also in out/bench/bench.log. BENCH_ARGS go to vfio_bench (e.g. `-k 3 -n 20`);
# BENCH_RUST_SPEC is the guest-load SPEC of the `rust` side (default: the all-Rust stack). BENCH_CLOCK=icount (default)
# times in guest instructions (scripts/vm --icount: reproducible on a loaded host),
# BENCH_CLOCK=wall in host time (TCG or KVM).
BENCH_TIMEOUT ?= 1200
BENCH_RUST_SPEC ?= vfio=rust,vfio_iommu_type1=rust,vfio_pci_core=rust,vfio_pci=rust
BENCH_CLOCK ?= icount
# Room for the 4 GiB scaling buffer of 2 MiB pages beside the three 1 GiB buffers (4 KiB,
# shared 2 MiB) and the 1 GiB page.
BENCH_MEM ?= 10G
# The figures are taken on the bench kernel (scripts/kconfig/bench.config: no lockdep,
# kmemleak or list debugging, as users run); BENCH_KVARIANT=base takes them on the test kernel.
BENCH_KVARIANT ?= bench
bench: setup
	$(MAKE) --no-print-directory KVARIANT=$(BENCH_KVARIANT) \
		KDIR=$$(scripts/build-kernel $(BENCH_KVARIANT)) bench-run
bench-run:
	$(MAKE) --no-print-directory KDIR=$(KDIR) all
	@mkdir -p out/bench
	{ timeout $(BENCH_TIMEOUT) env KDIR=$(KDIR) scripts/vm --impl upstream --mem $(BENCH_MEM) \
		$(if $(filter icount,$(BENCH_CLOCK)),--icount) -- \
		env VFIO_BENCH_RUST_SPEC=$(BENCH_RUST_SPEC) VFIO_BENCH_CLOCK=$(BENCH_CLOCK) VFIO_RS_KDIR=$(KDIR) \
		$(CURDIR)/$(SELFTESTS)/bench_guest.sh \
		$(BENCH_ARGS) 2>&1; echo $$? >out/bench/rc; } | \
		tee out/bench/bench.log
	@exit $$(cat out/bench/rc)

print-kdir:
	@echo $(KDIR)

clean:
	$(KMAKE) clean
	$(MAKE) -C $(SELFTESTS) clean
	rm -rf $(GEN) out/variant
