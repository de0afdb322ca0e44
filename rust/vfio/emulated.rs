// SPDX-License-Identifier: GPL-2.0

//! Emulated-IOMMU devices (mdev-style drivers that do their DMA through the CPU): their
//! iommufd access object and page pinning / CPU copies through it.
//!
//! C sources mirrored: `drivers/vfio/iommufd.c` (the `vfio_iommufd_emulated_*` ops) and the
//! iommufd half of `vfio_pin_pages`/`vfio_unpin_pages`/`vfio_dma_rw` in `vfio_main.c`.

use crate::{
    bindings,
    vfio::{
        dev_set::SetLocked,
        device::RawDevice, //
    },
};
use kernel::prelude::*;

/// Most pages one `vfio_pin_pages` call may pin (`VFIO_PIN_PAGES_MAX_ENTRIES`).
pub const PIN_PAGES_MAX: i32 = (kernel::page::PAGE_SIZE / size_of::<c_ulong>()) as i32;

/// `unmap` callback of the access: iommufd tells the driver to drop pins in a range.
///
/// # Safety
///
/// Called by iommufd with the `data` given to `iommufd_access_create`: a live device.
unsafe extern "C" fn emulated_unmap(data: *mut c_void, iova: c_ulong, length: c_ulong) {
    let vdev = data.cast::<bindings::vfio_device>();
    // SAFETY: `vdev` is live while its access exists (function contract); `ops` is the driver's
    // static table.
    if let Some(unmap) = unsafe { (*(*vdev).ops).dma_unmap } {
        // SAFETY: The driver's op takes its own device and a range.
        unsafe { unmap(vdev, iova as u64, length as u64) };
    }
}

/// The access ops of every emulated device, as upstream's `vfio_user_ops`.
struct AccessOps(bindings::iommufd_access_ops);

// SAFETY: Immutable after construction; only read by iommufd.
unsafe impl Sync for AccessOps {}

static ACCESS_OPS: AccessOps = AccessOps(bindings::iommufd_access_ops {
    _bitfield_align_1: [],
    // Bit 0 is `needs_pin_pages`, the only bitfield member.
    _bitfield_1: bindings::__BindgenBitfieldUnit::new([1]),
    unmap: Some(emulated_unmap),
});

impl RawDevice {
    fn access(&self) -> *mut bindings::iommufd_access {
        // SAFETY: Reading a field of the live struct; writers hold the set's mutex.
        unsafe { (*self.as_raw()).iommufd_access }
    }

    /// `vfio_iommufd_emulated_bind`: an access object on `ictx` for the driver's CPU DMA.
    ///
    /// # Safety
    ///
    /// `ictx` must be a valid iommufd context.
    pub unsafe fn emulated_bind(
        &self,
        held: &SetLocked<'_>,
        ictx: *mut bindings::iommufd_ctx,
    ) -> Result<u32> {
        held.check(self);
        let mut id = 0u32;
        // SAFETY: `ictx` is valid (function contract); the ops are static and the device
        // outlives its access (it is destroyed at unbind, before the last close completes).
        let access = unsafe {
            bindings::iommufd_access_create(ictx, &ACCESS_OPS.0, self.as_raw().cast(), &mut id)
        };
        let access = kernel::error::from_err_ptr(access)?;
        // SAFETY: The device's set mutex is held (`held`, checked above), which serialises this
        // field's writers.
        unsafe { (*self.as_raw()).iommufd_access = access };
        Ok(id)
    }

    /// `vfio_iommufd_emulated_unbind`.
    pub fn emulated_unbind(&self, held: &SetLocked<'_>) {
        held.check(self);
        let d = self.as_raw();
        let access = self.access();
        if access.is_null() {
            return;
        }
        // SAFETY: The device's set mutex is held (`held`, checked above), which serialises
        // the access's users; `access` is this device's live access.
        unsafe {
            bindings::iommufd_access_destroy(access);
            (*d).set_iommufd_attached(0);
            (*d).iommufd_access = core::ptr::null_mut();
        }
    }

    /// `vfio_iommufd_emulated_attach_ioas`: attach (or replace) the IOAS the access reads.
    pub fn emulated_attach(&self, held: &SetLocked<'_>, pt_id: u32) -> Result {
        held.check(self);
        let d = self.as_raw();
        let access = self.access();
        // SAFETY: The device's set mutex is held (`held`, checked above); `access` is this
        // device's access (iommufd checks a null one is never passed: the core only attaches
        // bound devices).
        unsafe {
            let rc = if (*d).iommufd_attached() != 0 {
                bindings::iommufd_access_replace(access, pt_id)
            } else {
                bindings::iommufd_access_attach(access, pt_id)
            };
            kernel::error::to_result(rc)?;
            (*d).set_iommufd_attached(1);
        }
        Ok(())
    }

    /// `vfio_iommufd_emulated_detach_ioas`.
    pub fn emulated_detach(&self, held: &SetLocked<'_>) {
        held.check(self);
        let d = self.as_raw();
        let access = self.access();
        if kernel::warn_on!(access.is_null()) {
            return;
        }
        // SAFETY: The device's set mutex is held (`held`, checked above), which serialises
        // the access's users; `access` is this device's live access.
        unsafe {
            if (*d).iommufd_attached() == 0 {
                return;
            }
            bindings::iommufd_access_detach(access);
            (*d).set_iommufd_attached(0);
        }
    }

    /// Whether the driver can be told to drop pins (`ops->dma_unmap`), which pinning needs.
    pub fn has_dma_unmap(&self) -> bool {
        self.ops().dma_unmap.is_some()
    }

    /// Whether the device is bound through an access object (emulated, iommufd path).
    pub fn has_access(&self) -> bool {
        !self.access().is_null()
    }

    /// Pins `npage` pages from the page holding `iova` through the access.
    ///
    /// # Safety
    ///
    /// `pages` must have room for `npage` pointers.
    pub unsafe fn access_pin(
        &self,
        iova: u64,
        npage: i32,
        write: bool,
        pages: *mut *mut bindings::page,
    ) -> Result<i32> {
        let iova = usize::try_from(iova).map_err(|_| EINVAL)?;
        let flags = if write {
            bindings::IOMMUFD_ACCESS_RW_WRITE
        } else {
            0
        };
        let start = iova & !(kernel::page::PAGE_SIZE - 1);
        let len = (npage as usize)
            .checked_mul(kernel::page::PAGE_SIZE)
            .ok_or(EINVAL)?;
        // SAFETY: The access is live while the device is open (callers' contract with the
        // core); `pages` has room per the function contract.
        kernel::error::to_result(unsafe {
            bindings::iommufd_access_pin_pages(
                self.access(),
                start as c_ulong,
                len as c_ulong,
                pages,
                flags as c_uint,
            )
        })?;
        Ok(npage)
    }

    /// Unpins what [`RawDevice::access_pin`] pinned.
    pub fn access_unpin(&self, iova: u64, npage: i32) {
        let Ok(iova) = usize::try_from(iova) else {
            kernel::warn_on!(true);
            return;
        };
        let start = iova & !(kernel::page::PAGE_SIZE - 1);
        let len = (npage.max(0) as usize).saturating_mul(kernel::page::PAGE_SIZE);
        // SAFETY: The access is live while the device is open; iommufd checks the range was
        // pinned.
        unsafe {
            bindings::iommufd_access_unpin_pages(self.access(), start as c_ulong, len as c_ulong)
        };
    }

    /// Copies between IOAS memory at `iova` and `data` through the access.
    ///
    /// # Safety
    ///
    /// `data` must be valid for `len` bytes of reads (and writes when `!write`).
    pub unsafe fn access_rw(
        &self,
        iova: u64,
        data: *mut c_void,
        len: usize,
        write: bool,
    ) -> Result {
        let iova = usize::try_from(iova).map_err(|_| EINVAL)?;
        let mut flags = 0;
        // VFIO historically guesses a kthread caller from a missing mm.
        if kernel::current!().mm().is_none() {
            flags |= bindings::IOMMUFD_ACCESS_RW_KTHREAD;
        }
        if write {
            flags |= bindings::IOMMUFD_ACCESS_RW_WRITE;
        }
        // SAFETY: The access is live while the device is open; `data` per the contract.
        kernel::error::to_result(unsafe {
            bindings::iommufd_access_rw(self.access(), iova as c_ulong, data, len, flags as c_uint)
        })
    }
}

impl RawDevice {
    /// Whether the device is open, read without the set's mutex (`vfio_assert_device_open`:
    /// drivers may only pin or copy while it is, and then the count cannot drop to 0).
    pub fn is_open_unlocked(&self) -> bool {
        // SAFETY: An aligned field of the live struct; a racy read is what upstream's
        // `READ_ONCE` does here.
        unsafe { core::ptr::read_volatile(&raw const (*self.as_raw()).open_count) != 0 }
    }
}
