// SPDX-License-Identifier: GPL-2.0

//! IOMMU drivers (`struct vfio_iommu_driver_ops`) as registered with the VFIO core: the core's
//! (calling) side; implementing one is [`super::iommu_driver_impl`].
//!
//! An IOMMU driver module (type1, ...) passes the core a pointer to its static ops table with
//! `vfio_register_iommu_driver` and withdraws it with `vfio_unregister_iommu_driver` before it
//! unloads. Calls into the IOMMU driver hold a reference on its module, as upstream does. A
//! [`Backend`] is one driver's instance opened for one container (upstream's `iommu_data`).
//!
//! C header: [`drivers/vfio/vfio.h`](srctree/drivers/vfio/vfio.h).

use crate::{
    bindings,
    iommu::IommuGroup,
    module_ref::ModuleRef,
    uapi, //
};
use core::ptr::NonNull;
use kernel::prelude::*;

// Upstream 7.3's ops table has 13 pointer-sized members; a change means the ABI moved.
static_assert!(size_of::<bindings::vfio_iommu_driver_ops>() == 13 * size_of::<usize>());

/// An IOMMU driver's ops table while it is registered.
///
/// # Invariants
///
/// `ops` points to a `struct vfio_iommu_driver_ops` that stays valid as long as the table is
/// registered with the core (the IOMMU driver's contract: it unregisters before unloading).
/// Values of this type are only kept by the core's registry and by containers holding a module
/// reference.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IommuDriver {
    ops: NonNull<bindings::vfio_iommu_driver_ops>,
}

// SAFETY: The ops table is immutable, static data of the IOMMU driver's module.
unsafe impl Send for IommuDriver {}
// SAFETY: The ops table is immutable, static data of the IOMMU driver's module.
unsafe impl Sync for IommuDriver {}

impl IommuDriver {
    /// Wraps an ops table being registered; `None` for a null pointer.
    ///
    /// # Safety
    ///
    /// `ops` must be null or stay valid until it is unregistered from the core.
    pub unsafe fn from_raw(ops: *const bindings::vfio_iommu_driver_ops) -> Option<Self> {
        // INVARIANT: The caller guarantees validity while registered.
        NonNull::new(ops.cast_mut()).map(|ops| Self { ops })
    }

    fn ops(&self) -> &bindings::vfio_iommu_driver_ops {
        // SAFETY: By the type invariant the table is valid while this value exists.
        unsafe { self.ops.as_ref() }
    }

    /// Upstream requires `register_device` and `unregister_device` to come as a pair.
    pub fn has_paired_device_ops(&self) -> bool {
        self.ops().register_device.is_some() == self.ops().unregister_device.is_some()
    }

    /// Pins the IOMMU driver's module so its code can be called; `None` if it is unloading.
    pub fn get_module(&self) -> Option<ModuleRef> {
        // SAFETY: The table is valid (type invariant), so its `owner` is null or the IOMMU driver's
        // module, which cannot be freed while its table is registered.
        unsafe { ModuleRef::try_get(self.ops().owner) }
    }

    /// Asks the IOMMU driver, without an instance, whether it supports extension `ext`.
    ///
    /// `_module` proves the IOMMU driver's module is pinned for the call.
    pub fn check_extension(&self, _module: &ModuleRef, ext: usize) -> isize {
        match self.ops().ioctl {
            // SAFETY: The IOMMU driver's `ioctl` accepts a null instance for VFIO_CHECK_EXTENSION,
            // as upstream's core calls it that way; its module is pinned by `_module`.
            Some(ioctl) => unsafe {
                ioctl(
                    core::ptr::null_mut(),
                    uapi::VFIO_CHECK_EXTENSION,
                    ext as c_ulong,
                ) as isize
            },
            None => 0,
        }
    }
}

/// An instance of an IOMMU driver bound to one container (`ops->open` .. `ops->release`).
///
/// # Invariants
///
/// `data` is what `driver`'s `open` returned; `_module` pins the IOMMU driver for the instance's
/// whole life; `release` runs exactly once, on drop.
pub struct Backend {
    driver: IommuDriver,
    data: *mut c_void,
    _module: ModuleRef,
}

// SAFETY: IOMMU drivers serialise their own instance state (type1 has its own lock), as upstream
// calls them from any thread.
unsafe impl Send for Backend {}
// SAFETY: As above.
unsafe impl Sync for Backend {}

impl Backend {
    /// Opens an instance of `driver` for IOMMU type `arg` (`VFIO_SET_IOMMU`'s argument).
    pub fn open(driver: IommuDriver, module: ModuleRef, arg: usize) -> Result<Self> {
        let Some(open) = driver.ops().open else {
            return Err(ENODEV);
        };
        // SAFETY: The IOMMU driver's module is pinned by `module`; `open` takes the type id.
        let data = unsafe { open(arg as c_ulong) };
        let data = kernel::error::from_err_ptr(data)?;
        // INVARIANT: `data` came from `open`, and `module` is kept.
        Ok(Self {
            driver,
            data,
            _module: module,
        })
    }

    /// The instance's IOMMU driver.
    pub fn driver(&self) -> IommuDriver {
        self.driver
    }

    /// `ops->attach_group`: makes `group`'s DMA go through this instance.
    pub fn attach_group(&self, group: &IommuGroup, group_type: u32) -> Result {
        let Some(attach) = self.driver.ops().attach_group else {
            return Err(EINVAL);
        };
        // SAFETY: `data` is a live instance (type invariant) and `group` a referenced group.
        kernel::error::to_result(unsafe { attach(self.data, group.as_raw(), group_type) })
    }

    /// `ops->detach_group`.
    pub fn detach_group(&self, group: &IommuGroup) {
        if let Some(detach) = self.driver.ops().detach_group {
            // SAFETY: As for `attach_group`; `group` was attached to this instance.
            unsafe { detach(self.data, group.as_raw()) };
        }
    }

    /// `ops->ioctl` on this instance (container ioctls the core does not handle itself).
    pub fn ioctl(&self, cmd: u32, arg: usize) -> isize {
        match self.driver.ops().ioctl {
            // SAFETY: `data` is a live instance; the IOMMU driver copies `arg` from userspace
            // itself.
            Some(ioctl) => unsafe { ioctl(self.data, cmd, arg as c_ulong) },
            None => ENOTTY.to_errno() as isize,
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        if let Some(release) = self.driver.ops().release {
            // SAFETY: `data` is a live instance, released exactly once here (type invariant).
            unsafe { release(self.data) };
        }
    }
}

impl Backend {
    /// `ops->register_device`: a device of an attached group was opened.
    pub fn register_device(&self, dev: &crate::vfio::device::RawDevice) {
        if let Some(f) = self.driver.ops().register_device {
            // SAFETY: `data` is a live instance and `dev` an open device of an attached group.
            unsafe { f(self.data, dev.as_raw()) };
        }
    }

    /// `ops->unregister_device`, at the device's last close.
    pub fn unregister_device(&self, dev: &crate::vfio::device::RawDevice) {
        if let Some(f) = self.driver.ops().unregister_device {
            // SAFETY: As for `register_device`; paired with it.
            unsafe { f(self.data, dev.as_raw()) };
        }
    }
}

impl Backend {
    /// `ops->pin_pages` for an emulated device of `group`; `ENOTTY` if the IOMMU driver has none.
    ///
    /// # Safety
    ///
    /// `pages` must have room for `npage` pointers.
    pub unsafe fn pin_pages(
        &self,
        group: &IommuGroup,
        iova: u64,
        npage: i32,
        prot: i32,
        pages: *mut *mut bindings::page,
    ) -> Result<i32> {
        let Some(pin) = self.driver.ops().pin_pages else {
            return Err(ENOTTY);
        };
        // SAFETY: `data` is a live instance, `group` attached to it; `pages` per the contract.
        let ret = unsafe { pin(self.data, group.as_raw(), iova, npage, prot, pages) };
        kernel::error::to_result(ret).map(|()| ret)
    }

    /// `ops->unpin_pages`.
    pub fn unpin_pages(&self, iova: u64, npage: i32) {
        if let Some(unpin) = self.driver.ops().unpin_pages {
            // SAFETY: `data` is a live instance; the IOMMU driver checks the range was pinned.
            unsafe { unpin(self.data, iova, npage) };
        }
    }

    /// `ops->dma_rw`; `ENOTTY` if the IOMMU driver has none.
    ///
    /// # Safety
    ///
    /// `data` must be valid for `len` bytes of reads (and writes when `!write`).
    pub unsafe fn dma_rw(&self, iova: u64, data: *mut c_void, len: usize, write: bool) -> Result {
        let Some(rw) = self.driver.ops().dma_rw else {
            return Err(ENOTTY);
        };
        // SAFETY: `data` (the instance) is live; the buffer per the function contract.
        kernel::error::to_result(unsafe { rw(self.data, iova, data, len, write) })
    }
}
