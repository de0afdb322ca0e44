// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio.ko` for emulated-IOMMU drivers' DMA through the CPU (`vfio_pin_pages`,
//! `vfio_unpin_pages`, `vfio_dma_rw`), dispatched to the container backend or the iommufd access
//! of the open device (their iommufd ops are in `iommufd.rs`).
//!
//! C sources mirrored: `vfio_main.c` (`vfio_pin_pages` .. `vfio_dma_rw`), `container.c`
//! (`vfio_device_container_*`).

use crate::{
    dma_access,
    ffi::core::dev,
    kernel_ext::{
        bindings,
        vfio::emulated::PIN_PAGES_MAX, //
    },
};
use kernel::prelude::*;

/// `int vfio_pin_pages(struct vfio_device *, dma_addr_t iova, int npage, int prot,
/// struct page **pages)`: pins user pages behind `iova`; the number pinned or an errno.
///
/// # Safety
///
/// `device` must be a live device; `pages` null or room for `npage` pointers.
#[no_mangle]
unsafe extern "C" fn vfio_pin_pages(
    device: *mut bindings::vfio_device,
    iova: u64,
    npage: c_int,
    prot: c_int,
    pages: *mut *mut bindings::page,
) -> c_int {
    // SAFETY: Per the function contract.
    let dev = unsafe { dev(device) };
    if pages.is_null() || npage == 0 || kernel::warn_on!(!dev.is_open_unlocked()) {
        return EINVAL.to_errno();
    }
    if !dev.has_dma_unmap() {
        return EINVAL.to_errno();
    }
    let ret = if let Some((backend, group)) = dma_access::container_of(dev) {
        if npage > PIN_PAGES_MAX {
            return E2BIG.to_errno();
        }
        // SAFETY: `pages` has room for `npage` pointers per the function contract.
        unsafe { backend.pin_pages(&group, iova, npage, prot, pages) }
    } else if dev.has_access() {
        let write = prot as u32 & bindings::IOMMU_WRITE != 0;
        // SAFETY: As above.
        unsafe { dev.access_pin(iova, npage, write, pages) }
    } else {
        Err(EINVAL)
    };
    ret.unwrap_or_else(|e| e.to_errno())
}

/// `void vfio_unpin_pages(struct vfio_device *, dma_addr_t iova, int npage)`.
///
/// # Safety
///
/// `device` must be a live device.
#[no_mangle]
unsafe extern "C" fn vfio_unpin_pages(device: *mut bindings::vfio_device, iova: u64, npage: c_int) {
    // SAFETY: Per the function contract.
    let dev = unsafe { dev(device) };
    if kernel::warn_on!(!dev.is_open_unlocked()) || kernel::warn_on!(!dev.has_dma_unmap()) {
        return;
    }
    if let Some((backend, _)) = dma_access::container_of(dev) {
        if kernel::warn_on!(npage <= 0 || npage > PIN_PAGES_MAX) {
            return;
        }
        backend.unpin_pages(iova, npage);
    } else if dev.has_access() {
        dev.access_unpin(iova, npage);
    }
}

/// `int vfio_dma_rw(struct vfio_device *, dma_addr_t iova, void *data, size_t len, bool write)`:
/// the CPU does the device's DMA to or from `data`.
///
/// # Safety
///
/// `device` must be a live device; `data` null or valid for `len` bytes.
#[no_mangle]
unsafe extern "C" fn vfio_dma_rw(
    device: *mut bindings::vfio_device,
    iova: u64,
    data: *mut c_void,
    len: usize,
    write: bool,
) -> c_int {
    // SAFETY: Per the function contract.
    let dev = unsafe { dev(device) };
    if data.is_null() || len == 0 || kernel::warn_on!(!dev.is_open_unlocked()) {
        return EINVAL.to_errno();
    }
    let ret = if let Some((backend, _)) = dma_access::container_of(dev) {
        // SAFETY: `data` is valid for `len` bytes per the function contract.
        unsafe { backend.dma_rw(iova, data, len, write) }
    } else if dev.has_access() {
        // SAFETY: As above.
        unsafe { dev.access_rw(iova, data, len, write) }
    } else {
        Err(EINVAL)
    };
    match ret {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
