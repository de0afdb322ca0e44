// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio.ko`: `#[no_mangle]` entry points with upstream's names and signatures.
//!
//! Only `vfio.ko`'s crate root includes this file. Each function converts raw arguments into the
//! safe types of [`crate::kabi`] and calls the core; `drivers/vfio/vfio_exports.c` then does the
//! `EXPORT_SYMBOL_GPL`s, with upstream's prototypes in scope.

use crate::{
    irq_set::{
        self,
        IrqSetHeader, //
    },
    kabi::{
        bindings,
        vfio::{
            info_cap::{
                cap_bytes,
                InfoCapBuf, //
            },
            iommu_driver::IommuDriver, //
        },
    },
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

/// `struct vfio_info_cap_header *vfio_info_cap_add(struct vfio_info_cap *caps, size_t size,
/// u16 id, u16 version)`: appends a zeroed entry; `ERR_PTR(-ENOMEM)` (buffer freed) on failure.
///
/// # Safety
///
/// `caps` must be a valid `struct vfio_info_cap` whose `buf` is null or kmalloc'ed `size` bytes.
#[no_mangle]
unsafe extern "C" fn vfio_info_cap_add(
    caps: *mut bindings::vfio_info_cap,
    size: usize,
    id: u16,
    version: u16,
) -> *mut bindings::vfio_info_cap_header {
    // SAFETY: Validity is the caller's contract.
    let Some(mut caps) = (unsafe { InfoCapBuf::from_raw(caps) }) else {
        return EINVAL.to_ptr();
    };
    match crate::caps::add(&mut caps, size, id, version) {
        Ok(offset) => caps.entry_ptr(offset),
        Err(e) => e.to_ptr(),
    }
}

/// `void vfio_info_cap_shift(struct vfio_info_cap *caps, size_t offset)`.
///
/// # Safety
///
/// As [`vfio_info_cap_add`].
#[no_mangle]
unsafe extern "C" fn vfio_info_cap_shift(caps: *mut bindings::vfio_info_cap, offset: usize) {
    // SAFETY: Validity is the caller's contract.
    if let Some(mut caps) = unsafe { InfoCapBuf::from_raw(caps) } {
        crate::caps::shift(&mut caps, offset);
    }
}

/// `int vfio_info_add_capability(struct vfio_info_cap *caps, struct vfio_info_cap_header *cap,
/// size_t size)`: appends a copy of `size` bytes at `cap`.
///
/// # Safety
///
/// As [`vfio_info_cap_add`]; `cap` must be readable for `size` bytes.
#[no_mangle]
unsafe extern "C" fn vfio_info_add_capability(
    caps: *mut bindings::vfio_info_cap,
    cap: *mut bindings::vfio_info_cap_header,
    size: usize,
) -> c_int {
    // SAFETY: Validity is the caller's contract.
    let Some(mut caps) = (unsafe { InfoCapBuf::from_raw(caps) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `cap` is readable for `size` bytes per the caller's contract.
    let cap = unsafe { cap_bytes(cap, size) };
    match crate::caps::add_capability(&mut caps, cap) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `int vfio_set_irqs_validate_and_prepare(struct vfio_irq_set *hdr, int num_irqs,
/// int max_irq_type, size_t *data_size)`.
///
/// # Safety
///
/// `hdr` must be a valid header (kernel memory); `data_size` null or valid for writes.
#[no_mangle]
unsafe extern "C" fn vfio_set_irqs_validate_and_prepare(
    hdr: *mut bindings::vfio_irq_set,
    num_irqs: c_int,
    max_irq_type: c_int,
    data_size: *mut usize,
) -> c_int {
    // SAFETY: `hdr` is valid per the caller's contract.
    let Some(raw) = (unsafe { hdr.as_ref() }) else {
        return EINVAL.to_errno();
    };
    let hdr = IrqSetHeader {
        argsz: raw.argsz,
        flags: raw.flags,
        index: raw.index,
        start: raw.start,
        count: raw.count,
    };
    if irq_set::check_header(&hdr, max_irq_type).is_err() {
        return EINVAL.to_errno();
    }
    // SAFETY: `data_size` is null or valid for writes per the caller's contract.
    let out = unsafe { data_size.as_mut() };
    let wants_size = out.is_some();
    if let Some(out) = out {
        *out = 0;
        match irq_set::data_size(&hdr, num_irqs, wants_size) {
            Ok(n) => {
                *out = n;
                0
            }
            Err(()) => EINVAL.to_errno(),
        }
    } else {
        match irq_set::data_size(&hdr, num_irqs, wants_size) {
            Ok(_) => 0,
            Err(()) => EINVAL.to_errno(),
        }
    }
}
