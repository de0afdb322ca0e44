// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci-core.ko's C ABI: exports the Rust #[no_mangle] functions of
 * drivers/vfio/pci/core/ffi/ under upstream's names, with upstream's
 * prototypes in scope so the compiler checks each against them.
 */
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/module.h>
#include <linux/vfio_pci_core.h>

/* Upstream declares it in its private vfio_pci_priv.h; the same prototype here. */
ssize_t vfio_pci_config_rw_single(struct vfio_pci_core_device *vdev,
				  char __user *buf, size_t count, loff_t *ppos,
				  bool iswrite);

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
EXPORT_SYMBOL_GPL(vfio_pci_core_do_io_rw);
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread8);
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread16);
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread32);
EXPORT_SYMBOL_GPL(vfio_pci_core_ioread64);
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite8);
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite16);
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite32);
EXPORT_SYMBOL_GPL(vfio_pci_core_iowrite64);
EXPORT_SYMBOL_GPL(vfio_pci_config_rw_single);
EXPORT_SYMBOL_GPL(vfio_pci_vmf_insert_pfn);
EXPORT_SYMBOL_GPL(vfio_pci_core_range_intersect_range);
EXPORT_SYMBOL_GPL(vfio_pci_core_register_dev_region);

/* The error handlers of a VFIO PCI driver: a static table, as upstream's (data, so C). */
const struct pci_error_handlers vfio_pci_core_err_handlers = {
	.error_detected = vfio_pci_core_aer_err_detected,
};
EXPORT_SYMBOL_GPL(vfio_pci_core_err_handlers);
