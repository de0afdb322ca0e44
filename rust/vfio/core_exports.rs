// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio.ko`: `#[no_mangle]` entry points with upstream's names and signatures.
//!
//! Only `vfio.ko`'s crate root includes this file. Each function converts raw arguments into the
//! safe types of [`crate::kabi`] and calls the core; `drivers/vfio/vfio_exports.c` then does the
//! `EXPORT_SYMBOL_GPL`s, with upstream's prototypes in scope.

use crate::kabi::{
    bindings,
    vfio::iommu_driver::IommuDriver, //
};
use kernel::prelude::*;

/// `int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops)`.
///
/// # Safety
///
/// `ops` must be null or stay valid until passed to [`vfio_unregister_iommu_driver`].
#[no_mangle]
unsafe extern "C" fn vfio_register_iommu_driver(
    ops: *const bindings::vfio_iommu_driver_ops,
) -> c_int {
    // SAFETY: Validity until unregistration is the caller's contract.
    let Some(driver) = (unsafe { IommuDriver::from_raw(ops) }) else {
        return EINVAL.to_errno();
    };
    match crate::iommu_drivers::register(driver) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops)`.
///
/// # Safety
///
/// `ops` must be null or a table the caller registered (unknown tables are ignored, as upstream).
#[no_mangle]
unsafe extern "C" fn vfio_unregister_iommu_driver(ops: *const bindings::vfio_iommu_driver_ops) {
    // SAFETY: `ops` is only compared with registered tables, never dereferenced here.
    if let Some(driver) = unsafe { IommuDriver::from_raw(ops) } {
        crate::iommu_drivers::unregister(driver);
    }
}
