// SPDX-License-Identifier: GPL-2.0

//! VFIO's in-kernel ABI objects, shared between `vfio.ko`, its IOMMU drivers and its drivers.
//!
//! C headers: [`include/linux/vfio.h`](srctree/include/linux/vfio.h),
//! [`drivers/vfio/vfio.h`](srctree/drivers/vfio/vfio.h).

pub mod dev_set;
pub mod device;
pub mod device_file;
pub mod driver;
pub mod emulated;
pub mod feature_check;
pub mod info_cap;
pub mod iommu_driver;
pub mod iommu_driver_impl;
pub mod kvm;
pub mod layout;
pub mod migration;
pub mod unmap_notify;
