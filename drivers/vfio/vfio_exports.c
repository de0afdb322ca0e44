// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko's C ABI: exports the Rust #[no_mangle] functions of
 * rust/vfio/core_exports.rs under upstream's names, with upstream's
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

MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
MODULE_SOFTDEP("post: vfio_iommu_type1 vfio_iommu_spapr_tce");
MODULE_VERSION("0.3");
