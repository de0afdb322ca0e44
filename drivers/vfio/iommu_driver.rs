// SPDX-License-Identifier: GPL-2.0

//! The core's registry of IOMMU drivers (`vfio_register_iommu_driver`).
//!
//! Newest first, as upstream's `list_add`: `VFIO_CHECK_EXTENSION` and `VFIO_SET_IOMMU` poll the
//! IOMMU drivers in this order.
//!
//! Lock order: a container's state lock, then [`drivers`].

use crate::kernel_ext::{
    global::module_mutex,
    module_ref::ModuleRef,
    vfio::iommu_driver::IommuDriver, //
};
use kernel::prelude::*;

module_mutex! {
    /// Registered IOMMU drivers, oldest first (iterate in reverse for upstream's order).
    pub(crate) static drivers: KVec<IommuDriver> = KVec::new();
}

/// Sets the registry up at module init and empties it at module exit.
pub(crate) struct Registry;

impl Registry {
    /// Called once from module init, before any export can be reached.
    pub(crate) fn new() -> Self {
        drivers::init();
        Self
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // IOMMU drivers hold a reference on vfio.ko, so none can still be registered here; free the
        // vector's memory all the same.
        *drivers::lock() = KVec::new();
    }
}

/// Adds an IOMMU driver; `EINVAL` for a table already registered or with unpaired device ops.
pub(crate) fn register(driver: IommuDriver) -> Result {
    if kernel::warn_on!(!driver.has_paired_device_ops()) {
        return Err(EINVAL);
    }
    let mut list = drivers::lock();
    if list.contains(&driver) {
        return Err(EINVAL);
    }
    list.push(driver, GFP_KERNEL)?;
    Ok(())
}

/// Removes an IOMMU driver; unknown tables are ignored, as upstream.
pub(crate) fn unregister(driver: IommuDriver) {
    let mut list = drivers::lock();
    if let Some(i) = list.iter().position(|d| *d == driver) {
        list.remove(i).ok();
    }
}

/// Answers `VFIO_CHECK_EXTENSION` for a container without a backend: polls every backend,
/// newest first, and returns the first positive answer (else the last answer, or 0).
pub(crate) fn check_extension(ext: usize) -> isize {
    let list = drivers::lock();
    let mut ret = 0;
    for driver in list.iter().rev() {
        let Some(module) = driver.get_module() else {
            continue;
        };
        ret = driver.check_extension(&module, ext);
        if ret > 0 {
            break;
        }
    }
    ret
}

/// Offers `try_open` each IOMMU driver supporting IOMMU type `ext`, newest first, with its
/// module pinned, until one succeeds: `VFIO_SET_IOMMU`. The registry stays locked meanwhile, as
/// upstream holds `iommu_drivers_lock` across `open` and the group attaches. `ENODEV` if no
/// driver supports `ext`, else the last driver's error.
pub(crate) fn open_first<R>(
    ext: usize,
    mut try_open: impl FnMut(IommuDriver, ModuleRef) -> Result<R>,
) -> Result<R> {
    let list = drivers::lock();
    let mut ret = Err(ENODEV);
    for driver in list.iter().rev() {
        let Some(module) = driver.get_module() else {
            continue;
        };
        if driver.check_extension(&module, ext) <= 0 {
            continue;
        }
        match try_open(*driver, module) {
            Ok(r) => return Ok(r),
            Err(e) => ret = Err(e),
        }
    }
    ret
}
