/* SPDX-License-Identifier: GPL-2.0 */
/*
 * In-kernel VFIO headers for bindgen (scripts/gen-bindings ->
 * rust/generated/bindings.rs). drivers/vfio/vfio.h is upstream's private
 * header: its structs are the ABI between vfio.ko and the IOMMU backends.
 */
#include <linux/vfio.h>
#include "vfio.h"
#include <linux/anon_inodes.h>
#include <linux/fs.h>

/* fmode_t values are __force casts bindgen cannot evaluate. */
const unsigned int RUST_CONST_HELPER_FMODE_PREAD = (__force unsigned int)FMODE_PREAD;
const unsigned int RUST_CONST_HELPER_FMODE_PWRITE = (__force unsigned int)FMODE_PWRITE;
#include <linux/iommufd.h>
#include "vfio/layout_helper.h"
#include <linux/eventpoll.h>

/* __poll_t values are __force casts too. */
const unsigned int RUST_CONST_HELPER_EPOLLIN = (__force unsigned int)EPOLLIN;
const unsigned int RUST_CONST_HELPER_EPOLLHUP = (__force unsigned int)EPOLLHUP;
#include <linux/pci.h>

/* pci_power_t values are __force casts too (rust/pci/device.rs). */
const int RUST_CONST_HELPER_PCI_D0 = (__force int)PCI_D0;
const int RUST_CONST_HELPER_PCI_D1 = (__force int)PCI_D1;
const int RUST_CONST_HELPER_PCI_D2 = (__force int)PCI_D2;
const int RUST_CONST_HELPER_PCI_D3hot = (__force int)PCI_D3hot;
const int RUST_CONST_HELPER_PCI_D3cold = (__force int)PCI_D3cold;

/* vfio-pci-core's exports and struct vfio_pci_core_device (drivers/vfio/pci/, vfio-pci.ko). */
#include <linux/vfio_pci_core.h>

/* memremap (rust/memremap.rs): its flags are an anonymous enum. */
#include <linux/io.h>
const unsigned long RUST_CONST_HELPER_MEMREMAP_WB = MEMREMAP_WB;
