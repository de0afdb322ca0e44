// SPDX-License-Identifier: GPL-2.0

//! Implementing an IOMMU driver (the provider side of `struct vfio_iommu_driver_ops`): an IOMMU
//! driver module (type1) implements [`IommuDriverImpl`], builds its static ops table with
//! [`IommuOpsVtable`] and registers it with whichever VFIO core is loaded
//! (`vfio_register_iommu_driver`, ours or upstream's). The core's (calling) side is
//! [`super::iommu_driver`].
//!
//! C header: [`drivers/vfio/vfio.h`](srctree/drivers/vfio/vfio.h).

use crate::{
    bindings,
    iommu::IommuGroup,
    iommu_domain::IommuDomain,
    user_mm::{PageArray, RwData},
    vfio::unmap_notify::NotifyDevice, //
};
use core::{
    marker::PhantomData,
    pin::Pin, //
};
use kernel::{
    module::ThisModule,
    prelude::*, //
};

/// One backend instance per container (`ops->open` .. `ops->release`).
pub trait IommuDriverImpl: Sized + Send + Sync + 'static {
    /// `VFIO_SET_IOMMU` with IOMMU type `arg` (the core already asked `check_extension`).
    fn open(arg: u64) -> Result<Pin<KBox<Self>>>;

    /// `VFIO_CHECK_EXTENSION`, with (`Some`) or without (`None`, while the core polls its
    /// IOMMU drivers) an instance.
    fn check_extension(this: Option<&Self>, ext: u64) -> isize;

    /// Container ioctls the core passes on.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;

    /// A group joins the container; `emulated` for a `VFIO_EMULATED_IOMMU` group.
    fn attach_group(&self, group: &IommuGroup, emulated: bool) -> Result;

    /// A group leaves the container.
    fn detach_group(&self, group: &IommuGroup);

    /// `group_iommu_domain`: the IOMMU domain `group` is attached to in this container;
    /// `ENODEV` if the group has none here (an emulated-IOMMU group, or one not attached).
    fn group_iommu_domain(&self, _group: &IommuGroup) -> Result<DomainHandle> {
        Err(ENODEV)
    }

    /// Whether the IOMMU driver serves emulated-IOMMU devices: the ops below are only put in the
    /// table when true (the core treats a missing op as "not supported").
    const EMULATED: bool = false;

    /// `pin_pages`: pins `npage` pages from `iova` for a device of `group`, filling `pages`
    /// (absent: the caller passed `NULL`); the number pinned.
    fn pin_pages(
        &self,
        _group: &IommuGroup,
        _iova: u64,
        _npage: i32,
        _prot: i32,
        _pages: Option<PageArray<'_>>,
    ) -> Result<i32> {
        Err(EINVAL)
    }

    /// `unpin_pages`: drops pins [`Self::pin_pages`] took.
    fn unpin_pages(&self, _iova: u64, _npage: i32) {}

    /// `dma_rw`: the CPU does a device's DMA to or from `data`.
    fn dma_rw(&self, _iova: u64, _data: RwData<'_>) -> Result {
        Err(EINVAL)
    }

    /// `register_device`: a device of an attached group was opened.
    fn register_device(&self, _dev: &NotifyDevice) {}

    /// `unregister_device`: its last close.
    fn unregister_device(&self, _dev: &NotifyDevice) {}
}

/// An IOMMU domain as `group_iommu_domain` hands it to the core: a bare pointer, which stays
/// valid only while the group stays attached to it (no reference is taken, as upstream).
#[derive(Clone, Copy)]
pub struct DomainHandle(*mut bindings::iommu_domain);

impl DomainHandle {
    /// The handle of `domain`.
    pub fn of(domain: &IommuDomain) -> Self {
        Self(domain.as_raw())
    }
}

/// A `struct vfio_iommu_driver_ops` that may live in a `static`: immutable function, name and
/// module pointers.
#[repr(transparent)]
pub struct StaticIommuOps(bindings::vfio_iommu_driver_ops);

// SAFETY: The table is never mutated after construction; its pointers are to code, a static
// string and the owning module, valid for the module's lifetime.
unsafe impl Sync for StaticIommuOps {}

/// Builds the ops table of an [`IommuDriverImpl`].
pub struct IommuOpsVtable<T>(PhantomData<T>);

impl<T: IommuDriverImpl> IommuOpsVtable<T> {
    /// # Safety
    ///
    /// Called by the VFIO core only (no precondition beyond that).
    unsafe extern "C" fn open(arg: c_ulong) -> *mut c_void {
        match T::open(arg as u64) {
            // SAFETY: The instance is never moved out of its box: `release` rebuilds the pin.
            Ok(this) => KBox::into_raw(unsafe { Pin::into_inner_unchecked(this) }).cast(),
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// `data` must be an instance from [`Self::open`] that is not used again.
    unsafe extern "C" fn release(data: *mut c_void) {
        // SAFETY: `open` leaked a pinned `KBox<T>`; ownership comes back here once.
        drop(unsafe { Pin::new_unchecked(KBox::from_raw(data.cast::<T>())) });
    }

    /// # Safety
    ///
    /// `data` must be null (only for `VFIO_CHECK_EXTENSION`) or a live instance.
    unsafe extern "C" fn ioctl(data: *mut c_void, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: Null or a live instance per the function contract.
        let this = unsafe { data.cast::<T>().as_ref() };
        if cmd == crate::uapi::VFIO_CHECK_EXTENSION {
            return T::check_extension(this, arg as u64) as c_long;
        }
        let Some(this) = this else {
            return EINVAL.to_errno() as c_long;
        };
        match this.ioctl(cmd, arg) {
            Ok(v) => v as c_long,
            Err(e) => e.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// `data` must be a live instance and `group` a group the core holds a reference on.
    unsafe extern "C" fn attach_group(
        data: *mut c_void,
        group: *mut bindings::iommu_group,
        group_type: bindings::vfio_group_type,
    ) -> c_int {
        // SAFETY: A live instance per the function contract.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: The core holds a reference on `group` for the call.
        let Some(group) = (unsafe { IommuGroup::from_borrowed(group) }) else {
            return EINVAL.to_errno();
        };
        let emulated = group_type == bindings::vfio_group_type_VFIO_EMULATED_IOMMU;
        match this.attach_group(&group, emulated) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// As for [`Self::attach_group`].
    unsafe extern "C" fn detach_group(data: *mut c_void, group: *mut bindings::iommu_group) {
        // SAFETY: A live instance per the function contract.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: The core holds a reference on `group` for the call.
        if let Some(group) = unsafe { IommuGroup::from_borrowed(group) } {
            this.detach_group(&group);
        }
    }

    /// # Safety
    ///
    /// `data` must be null or a live instance; `group` null or a group the caller holds a
    /// reference on.
    unsafe extern "C" fn group_iommu_domain(
        data: *mut c_void,
        group: *mut bindings::iommu_group,
    ) -> *mut bindings::iommu_domain {
        // SAFETY: Null or a live instance per the function contract.
        let Some(this) = (unsafe { data.cast::<T>().as_ref() }) else {
            return EINVAL.to_ptr();
        };
        // SAFETY: Null or referenced by the caller for the call, per the function contract.
        let Some(group) = (unsafe { IommuGroup::from_borrowed(group) }) else {
            return EINVAL.to_ptr();
        };
        match this.group_iommu_domain(&group) {
            Ok(domain) => domain.0,
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// `data` must be a live instance, `group` attached to it, and `pages` null or valid for
    /// `npage` pointers.
    unsafe extern "C" fn pin_pages(
        data: *mut c_void,
        group: *mut bindings::iommu_group,
        iova: bindings::dma_addr_t,
        npage: c_int,
        prot: c_int,
        pages: *mut *mut bindings::page,
    ) -> c_int {
        // SAFETY: Null or a live instance per the function contract.
        let Some(this) = (unsafe { data.cast::<T>().as_ref() }) else {
            return EINVAL.to_errno();
        };
        // SAFETY: The core holds a reference on `group` for the call.
        let Some(group) = (unsafe { IommuGroup::from_borrowed(group) }) else {
            return EINVAL.to_errno();
        };
        let pages = match usize::try_from(npage) {
            // SAFETY: `pages` has room for `npage` pointers per the function contract.
            Ok(n) if !pages.is_null() => Some(unsafe { PageArray::from_raw(pages, n) }),
            _ => None,
        };
        match this.pin_pages(&group, iova, npage, prot, pages) {
            Ok(n) => n,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// `data` must be a live instance.
    unsafe extern "C" fn unpin_pages(data: *mut c_void, iova: bindings::dma_addr_t, npage: c_int) {
        // SAFETY: A live instance per the function contract.
        let this = unsafe { &*data.cast::<T>() };
        this.unpin_pages(iova, npage);
    }

    /// # Safety
    ///
    /// `data` must be a live instance; `buf` valid for `count` bytes of reads, and of writes
    /// unless `write`, and not otherwise accessed during the call.
    unsafe extern "C" fn dma_rw(
        data: *mut c_void,
        iova: bindings::dma_addr_t,
        buf: *mut c_void,
        count: usize,
        write: bool,
    ) -> c_int {
        // SAFETY: A live instance per the function contract.
        let this = unsafe { &*data.cast::<T>() };
        if buf.is_null() {
            return EINVAL.to_errno();
        }
        let rw = if write {
            // SAFETY: Readable for `count` bytes per the function contract.
            RwData::Write(unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) })
        } else {
            // SAFETY: Writable for `count` bytes and unaliased per the function contract.
            RwData::Read(unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), count) })
        };
        match this.dma_rw(iova, rw) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// `data` must be a live instance; `vdev` an opened device of an attached group, live until
    /// [`Self::unregister_device`] for it returns.
    unsafe extern "C" fn register_device(data: *mut c_void, vdev: *mut bindings::vfio_device) {
        // SAFETY: A live instance per the function contract.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: Live until unregistered per the function contract.
        this.register_device(&unsafe { NotifyDevice::from_raw(vdev) });
    }

    /// # Safety
    ///
    /// As for [`Self::register_device`], paired with it.
    unsafe extern "C" fn unregister_device(data: *mut c_void, vdev: *mut bindings::vfio_device) {
        // SAFETY: A live instance per the function contract.
        let this = unsafe { &*data.cast::<T>() };
        // SAFETY: Still live for this call per the function contract.
        this.unregister_device(&unsafe { NotifyDevice::from_raw(vdev) });
    }

    /// The ops table of `T`, named `name`, owned by `owner`.
    pub const fn build(name: &'static CStr, owner: &'static ThisModule) -> StaticIommuOps {
        #[expect(clippy::disallowed_methods, reason = "`as_char_ptr` is not a const fn")]
        let name = name.as_ptr().cast_mut().cast();
        StaticIommuOps(bindings::vfio_iommu_driver_ops {
            name,
            owner: owner.as_ptr(),
            open: Some(Self::open),
            release: Some(Self::release),
            ioctl: Some(Self::ioctl),
            attach_group: Some(Self::attach_group),
            detach_group: Some(Self::detach_group),
            pin_pages: if T::EMULATED {
                Some(Self::pin_pages)
            } else {
                None
            },
            unpin_pages: if T::EMULATED {
                Some(Self::unpin_pages)
            } else {
                None
            },
            dma_rw: if T::EMULATED {
                Some(Self::dma_rw)
            } else {
                None
            },
            register_device: if T::EMULATED {
                Some(Self::register_device)
            } else {
                None
            },
            unregister_device: if T::EMULATED {
                Some(Self::unregister_device)
            } else {
                None
            },
            group_iommu_domain: Some(Self::group_iommu_domain),
        })
    }
}

/// A registered IOMMU driver; unregistered on drop (which waits for no container to use it, as
/// the core only lets an IOMMU driver go when no instance of it is open).
pub struct IommuDriverRegistration {
    ops: &'static StaticIommuOps,
}

impl IommuDriverRegistration {
    /// Registers `ops` with the loaded VFIO core.
    // Inline: calls a vfio.ko export (see kernel_ext.rs).
    #[inline]
    pub fn new(ops: &'static StaticIommuOps) -> Result<Self> {
        // SAFETY: `ops` is a static table valid until unregistered in `drop`.
        kernel::error::to_result(unsafe { bindings::vfio_register_iommu_driver(&ops.0) })?;
        Ok(Self { ops })
    }
}

impl Drop for IommuDriverRegistration {
    // Inline: calls a vfio.ko export (see kernel_ext.rs).
    #[inline]
    fn drop(&mut self) {
        // SAFETY: The table was registered in `new`.
        unsafe { bindings::vfio_unregister_iommu_driver(&self.ops.0) };
    }
}
