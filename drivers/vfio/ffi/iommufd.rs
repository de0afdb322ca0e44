// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio.ko`'s iommufd binding (upstream `drivers/vfio/iommufd.c`): the
//! `vfio_iommufd_physical_*` ops of drivers whose devices sit behind a real IOMMU, the
//! `vfio_iommufd_emulated_*` ops of emulated-IOMMU drivers, and the binding's queries for
//! vfio-pci's hot reset. The logic of the physical ops is `drivers/vfio/iommufd.rs`; the
//! `EXPORT_SYMBOL_GPL`s are in `drivers/vfio/vfio_exports.c`.

use super::core::{
    dev,
    held, //
};
use crate::{
    iommufd,
    kernel_ext::{
        bindings,
        iommufd::IommufdCtxRef, //
    },
};
use kernel::prelude::*;

/// `struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev)`.
///
/// # Safety
///
/// `vdev` must be a live device.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_device_ictx(
    vdev: *mut bindings::vfio_device,
) -> *mut bindings::iommufd_ctx {
    // SAFETY: Per the function contract.
    unsafe { dev(vdev) }.bound_ictx()
}

/// `int vfio_iommufd_get_dev_id(struct vfio_device *vdev, struct iommufd_ctx *ictx)`: the
/// device's id in `ictx`; `-ENOENT` if `ictx` only holds another device of its group,
/// `-ENODEV` otherwise.
///
/// # Safety
///
/// `vdev` must be a live device and `ictx` a valid context.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_get_dev_id(
    vdev: *mut bindings::vfio_device,
    ictx: *mut bindings::iommufd_ctx,
) -> c_int {
    if ictx.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: Per the function contract.
    let (dev, ctx) = unsafe { (dev(vdev), IommufdCtxRef::from_raw(ictx)) };
    match iommufd::get_dev_id(dev, ctx) {
        Ok(id) => id as c_int,
        Err(e) => e.to_errno(),
    }
}

/// `int vfio_iommufd_physical_bind(struct vfio_device *, struct iommufd_ctx *, u32 *)`.
///
/// # Safety
///
/// `vdev` must be a live device in a set whose mutex the caller holds for the whole call, `ictx`
/// a valid context, `out_device_id` writable.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_physical_bind(
    vdev: *mut bindings::vfio_device,
    ictx: *mut bindings::iommufd_ctx,
    out_device_id: *mut u32,
) -> c_int {
    if ictx.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof; `ictx` is valid for the call (function contract).
    let (Some((dev, mut held)), ctx) = (unsafe { held(vdev) }, unsafe {
        IommufdCtxRef::from_raw(ictx)
    }) else {
        return EINVAL.to_errno();
    };
    match iommufd::physical_bind(dev, &mut held, ctx) {
        Ok(id) => {
            // SAFETY: Writable per the function contract.
            unsafe { *out_device_id = id };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_iommufd_physical_unbind(struct vfio_device *)`; set's mutex held.
///
/// # Safety
///
/// `vdev` must be a live device in a set whose mutex the caller holds for the whole call.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_physical_unbind(vdev: *mut bindings::vfio_device) {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof (function contract).
    if let Some((dev, mut held)) = unsafe { held(vdev) } {
        iommufd::physical_unbind(dev, &mut held);
    }
}

/// `int vfio_iommufd_physical_attach_ioas(struct vfio_device *, u32 *pt_id)`; mutex held.
///
/// # Safety
///
/// As [`vfio_iommufd_physical_unbind`]; `pt_id` must be valid for reads and writes.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_physical_attach_ioas(
    vdev: *mut bindings::vfio_device,
    pt_id: *mut u32,
) -> c_int {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof; `pt_id` is valid (function contract).
    let (Some((dev, held)), Some(pt)) = (unsafe { held(vdev) }, unsafe { pt_id.as_mut() }) else {
        return EINVAL.to_errno();
    };
    match iommufd::physical_attach(dev, &held, pt) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_iommufd_physical_detach_ioas(struct vfio_device *)`; mutex held.
///
/// # Safety
///
/// As [`vfio_iommufd_physical_unbind`].
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_physical_detach_ioas(vdev: *mut bindings::vfio_device) {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof (function contract).
    if let Some((dev, held)) = unsafe { held(vdev) } {
        iommufd::physical_detach(dev, &held);
    }
}

/// `int vfio_iommufd_physical_pasid_attach_ioas(struct vfio_device *, u32 pasid, u32 *pt_id)`.
///
/// # Safety
///
/// As [`vfio_iommufd_physical_attach_ioas`].
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_physical_pasid_attach_ioas(
    vdev: *mut bindings::vfio_device,
    pasid: u32,
    pt_id: *mut u32,
) -> c_int {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof; `pt_id` is valid (function contract).
    let (Some((dev, held)), Some(pt)) = (unsafe { held(vdev) }, unsafe { pt_id.as_mut() }) else {
        return EINVAL.to_errno();
    };
    match iommufd::pasid_attach(dev, &held, pasid, pt) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_iommufd_physical_pasid_detach_ioas(struct vfio_device *, u32 pasid)`.
///
/// # Safety
///
/// As [`vfio_iommufd_physical_unbind`].
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_physical_pasid_detach_ioas(
    vdev: *mut bindings::vfio_device,
    pasid: u32,
) {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof (function contract).
    if let Some((dev, held)) = unsafe { held(vdev) } {
        iommufd::pasid_detach(dev, &held, pasid);
    }
}

/// `int vfio_iommufd_emulated_bind(struct vfio_device *, struct iommufd_ctx *, u32 *)`.
///
/// # Safety
///
/// `vdev` must be a live device in a set whose mutex the caller holds for the whole call, `ictx`
/// a valid context, `out_device_id` writable.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_emulated_bind(
    vdev: *mut bindings::vfio_device,
    ictx: *mut bindings::iommufd_ctx,
    out_device_id: *mut u32,
) -> c_int {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof (function contract).
    let Some((dev, held)) = (unsafe { held(vdev) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: `ictx` is valid per the function contract.
    match unsafe { dev.emulated_bind(&held, ictx) } {
        Ok(id) => {
            // SAFETY: Writable per the function contract.
            unsafe { *out_device_id = id };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_iommufd_emulated_unbind(struct vfio_device *)`; set's mutex held.
///
/// # Safety
///
/// `vdev` must be a live device in a set whose mutex the caller holds for the whole call.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_emulated_unbind(vdev: *mut bindings::vfio_device) {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof (function contract).
    if let Some((dev, held)) = unsafe { held(vdev) } {
        dev.emulated_unbind(&held);
    }
}

/// `int vfio_iommufd_emulated_attach_ioas(struct vfio_device *, u32 *pt_id)`; mutex held.
///
/// # Safety
///
/// As [`vfio_iommufd_emulated_unbind`]; `pt_id` must be valid for reads.
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_emulated_attach_ioas(
    vdev: *mut bindings::vfio_device,
    pt_id: *mut u32,
) -> c_int {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof; `pt_id` is valid (function contract).
    let (Some((dev, held)), Some(pt)) = (unsafe { held(vdev) }, unsafe { pt_id.as_ref() }) else {
        return EINVAL.to_errno();
    };
    match dev.emulated_attach(&held, *pt) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_iommufd_emulated_detach_ioas(struct vfio_device *)`; mutex held.
///
/// # Safety
///
/// As [`vfio_iommufd_emulated_unbind`].
#[no_mangle]
unsafe extern "C" fn vfio_iommufd_emulated_detach_ioas(vdev: *mut bindings::vfio_device) {
    // SAFETY: `vdev` is live and the caller holds its set's mutex for the whole call, so
    // for as long as the proof (function contract).
    if let Some((dev, held)) = unsafe { held(vdev) } {
        dev.emulated_detach(&held);
    }
}
