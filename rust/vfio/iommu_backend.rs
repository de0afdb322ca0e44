// SPDX-License-Identifier: GPL-2.0

//! The backend side of `struct vfio_iommu_driver_ops`: an IOMMU backend module (type1)
//! implements [`IommuBackend`], builds its static ops table with [`IommuOpsVtable`] and registers
//! it with whichever VFIO core is loaded (`vfio_register_iommu_driver`, ours or upstream's).
//!
//! C header: [`drivers/vfio/vfio.h`](srctree/drivers/vfio/vfio.h).

use crate::kabi::{
    bindings,
    iommu::IommuGroup, //
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
pub(crate) trait IommuBackend: Sized + Send + Sync + 'static {
    /// `VFIO_SET_IOMMU` with IOMMU type `arg` (the core already asked `check_extension`).
    fn open(arg: u64) -> Result<Pin<KBox<Self>>>;

    /// `VFIO_CHECK_EXTENSION`, with (`Some`) or without (`None`, while the core polls its
    /// backends) an instance.
    fn check_extension(this: Option<&Self>, ext: u64) -> isize;

    /// Container ioctls the core passes on.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;

    /// A group joins the container; `emulated` for a `VFIO_EMULATED_IOMMU` group.
    fn attach_group(&self, group: &IommuGroup, emulated: bool) -> Result;

    /// A group leaves the container.
    fn detach_group(&self, group: &IommuGroup);
}

/// A `struct vfio_iommu_driver_ops` that may live in a `static`: immutable function, name and
/// module pointers.
#[repr(transparent)]
pub(crate) struct StaticIommuOps(bindings::vfio_iommu_driver_ops);

// SAFETY: The table is never mutated after construction; its pointers are to code, a static
// string and the owning module, valid for the module's lifetime.
unsafe impl Sync for StaticIommuOps {}

/// Builds the ops table of an [`IommuBackend`].
pub(crate) struct IommuOpsVtable<T>(PhantomData<T>);

impl<T: IommuBackend> IommuOpsVtable<T> {
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
        if cmd == crate::kabi::uapi::VFIO_CHECK_EXTENSION {
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

    /// The ops table of `T`, named `name`, owned by `owner`.
    pub(crate) const fn build(name: &'static CStr, owner: &'static ThisModule) -> StaticIommuOps {
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
            // SAFETY: The remaining members are optional function pointers: null is `None`.
            ..unsafe { core::mem::zeroed() }
        })
    }
}

/// A registered backend; unregistered on drop (which waits for no container to use it, as
/// the core only lets a backend go when no instance of it is open).
pub(crate) struct IommuDriverRegistration {
    ops: &'static StaticIommuOps,
}

impl IommuDriverRegistration {
    /// Registers `ops` with the loaded VFIO core.
    pub(crate) fn new(ops: &'static StaticIommuOps) -> Result<Self> {
        // SAFETY: `ops` is a static table valid until unregistered in `drop`.
        kernel::error::to_result(unsafe { bindings::vfio_register_iommu_driver(&ops.0) })?;
        Ok(Self { ops })
    }
}

impl Drop for IommuDriverRegistration {
    fn drop(&mut self) {
        // SAFETY: The table was registered in `new`.
        unsafe { bindings::vfio_unregister_iommu_driver(&self.ops.0) };
    }
}
