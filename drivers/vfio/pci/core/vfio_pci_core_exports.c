// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci-core.ko's C ABI: exports the Rust #[no_mangle] functions of
 * drivers/vfio/pci/core/ffi/ under upstream's names, with upstream's
 * prototypes in scope so the compiler checks each against them.
 */
#include <linux/module.h>
#include <linux/vfio_pci_core.h>

EXPORT_SYMBOL_GPL(vfio_pci_core_init_dev);
EXPORT_SYMBOL_GPL(vfio_pci_core_release_dev);
EXPORT_SYMBOL_GPL(vfio_pci_core_register_device);
EXPORT_SYMBOL_GPL(vfio_pci_core_unregister_device);
EXPORT_SYMBOL_GPL(vfio_pci_core_enable);
EXPORT_SYMBOL_GPL(vfio_pci_core_disable);
EXPORT_SYMBOL_GPL(vfio_pci_core_finish_enable);
EXPORT_SYMBOL_GPL(vfio_pci_core_close_device);
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl);
EXPORT_SYMBOL_GPL(vfio_pci_core_ioctl_feature);
EXPORT_SYMBOL_GPL(vfio_pci_ioctl_get_region_info);
EXPORT_SYMBOL_GPL(vfio_pci_core_read);
EXPORT_SYMBOL_GPL(vfio_pci_core_write);
EXPORT_SYMBOL_GPL(vfio_pci_core_mmap);
EXPORT_SYMBOL_GPL(vfio_pci_core_request);
EXPORT_SYMBOL_GPL(vfio_pci_core_match);
EXPORT_SYMBOL_GPL(vfio_pci_core_match_token_uuid);
EXPORT_SYMBOL_GPL(vfio_pci_core_sriov_configure);
EXPORT_SYMBOL_GPL(vfio_pci_core_aer_err_detected);
EXPORT_SYMBOL_GPL(__vfio_pci_memory_enabled);
