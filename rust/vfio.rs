// SPDX-License-Identifier: GPL-2.0

//! VFIO's in-kernel ABI objects, shared between `vfio.ko`, its IOMMU drivers and its drivers.
//!
//! C headers: [`include/linux/vfio.h`](srctree/include/linux/vfio.h),
//! [`drivers/vfio/vfio.h`](srctree/drivers/vfio/vfio.h).

pub(crate) mod dev_set;
pub(crate) mod device;
pub(crate) mod device_file;
pub(crate) mod driver;
pub(crate) mod emulated;
pub(crate) mod feature_check;
pub(crate) mod info_cap;
pub(crate) mod iommu_driver;
pub(crate) mod iommu_driver_impl;
pub(crate) mod kvm;
pub(crate) mod layout;
pub(crate) mod migration;
pub(crate) mod unmap_notify;
