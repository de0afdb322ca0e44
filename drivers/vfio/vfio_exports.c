// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko's C ABI: exports the Rust #[no_mangle] functions of
 * drivers/vfio/ffi/ under upstream's names, with upstream's
 * prototypes in scope so the compiler checks each name exists there, plus the
 * module metadata the Rust module! macro cannot express.
 */
#include <linux/module.h>
#include <linux/miscdevice.h>
#include <linux/vfio.h>
#include "vfio.h"

/* drivers/vfio/container.c */
EXPORT_SYMBOL_GPL(vfio_register_iommu_driver);
EXPORT_SYMBOL_GPL(vfio_unregister_iommu_driver);

/* drivers/vfio/vfio_main.c (plain exports where upstream's are plain) */
EXPORT_SYMBOL_GPL(vfio_info_cap_add);
EXPORT_SYMBOL(vfio_info_cap_shift);
EXPORT_SYMBOL(vfio_info_add_capability);
EXPORT_SYMBOL(vfio_set_irqs_validate_and_prepare);

EXPORT_SYMBOL_GPL(_vfio_alloc_device);
EXPORT_SYMBOL_GPL(vfio_register_group_dev);
EXPORT_SYMBOL_GPL(vfio_register_emulated_iommu_dev);
EXPORT_SYMBOL_GPL(vfio_unregister_group_dev);
EXPORT_SYMBOL_GPL(vfio_assign_device_set);
EXPORT_SYMBOL_GPL(vfio_device_set_open_count);
EXPORT_SYMBOL_GPL(vfio_find_device_in_devset);
EXPORT_SYMBOL_GPL(vfio_device_try_get_registration);
EXPORT_SYMBOL_GPL(vfio_device_put_registration);

/* drivers/vfio/ffi/file.rs: for KVM (symbol_get) */
EXPORT_SYMBOL_GPL(vfio_file_is_valid);
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);

/* drivers/vfio/ffi/mig.rs: for migration drivers */
EXPORT_SYMBOL_GPL(vfio_mig_get_next_state);
EXPORT_SYMBOL_GPL(vfio_combine_iova_ranges);

/* drivers/vfio/group.c */
EXPORT_SYMBOL_GPL(vfio_file_is_group);
EXPORT_SYMBOL_GPL(vfio_file_has_dev);
EXPORT_SYMBOL_GPL(vfio_file_iommu_group);

/* drivers/vfio/iommufd.c */
EXPORT_SYMBOL_GPL(vfio_iommufd_device_ictx);
EXPORT_SYMBOL_GPL(vfio_iommufd_get_dev_id);
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_bind);
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_unbind);
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_attach_ioas);
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_detach_ioas);
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_pasid_attach_ioas);
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_pasid_detach_ioas);
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_bind);
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_unbind);
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_attach_ioas);
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_detach_ioas);

/* drivers/vfio/vfio_main.c: CPU DMA for emulated-IOMMU drivers (plain, as upstream) */
EXPORT_SYMBOL(vfio_pin_pages);
EXPORT_SYMBOL(vfio_unpin_pages);
EXPORT_SYMBOL(vfio_dma_rw);

/* drivers/vfio/virqfd.c */
EXPORT_SYMBOL_GPL(vfio_virqfd_enable);
EXPORT_SYMBOL_GPL(vfio_virqfd_disable);
EXPORT_SYMBOL_GPL(vfio_virqfd_flush_thread);

MODULE_IMPORT_NS("IOMMUFD");
MODULE_IMPORT_NS("IOMMUFD_VFIO");

MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
MODULE_SOFTDEP("post: vfio_iommu_type1 vfio_iommu_spapr_tce");
MODULE_VERSION("0.3");
