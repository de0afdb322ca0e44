/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The project's C helpers for bindgen (scripts/gen-bindings ->
 * rust/generated/helpers.rs, the `helpers` module of kernel_ext): every
 * vfio_rs_* prototype, struct and constant of include/vfio-rs/. The C files
 * implementing them are rust/helpers.c (generic), drivers/vfio/device_inode.c
 * (vfio.ko), drivers/vfio/type1/type1_*.c (vfio_iommu_type1.ko) and
 * drivers/vfio/pci/core/pci_core_helpers.c (vfio-pci-core.ko).
 */
#include <vfio-rs/device_inode.h>
#include <vfio-rs/helpers.h>
#include <vfio-rs/pci_core.h>
#include <vfio-rs/type1_emulated.h>
#include <vfio-rs/type1_helpers.h>
