// SPDX-License-Identifier: GPL-2.0

//! iommufd contexts (`struct iommufd_ctx`), as a VFIO core uses them: from a user's
//! `/dev/iommu` fd, for binding devices and for the compat IOAS of the group path; and devices
//! bound to a context (`struct iommufd_device`), attached to its page tables.
//!
//! C header: [`include/linux/iommufd.h`](srctree/include/linux/iommufd.h).

use crate::{
    bindings,
    iommu::IommuGroup, //
};
use core::{
    ops::Deref,
    ptr::NonNull, //
};
use kernel::{
    error::{
        from_err_ptr,
        to_result, //
    },
    fs::LocalFile,
    prelude::*,
    types::Opaque, //
};

/// A counted reference on an iommufd context.
///
/// # Invariants
///
/// This object owns one reference on `ptr`, dropped with `iommufd_ctx_put`.
pub struct IommufdCtx {
    ptr: NonNull<bindings::iommufd_ctx>,
}

// SAFETY: iommufd contexts are refcounted and internally locked.
unsafe impl Send for IommufdCtx {}
// SAFETY: As above.
unsafe impl Sync for IommufdCtx {}

impl IommufdCtx {
    /// The context behind a user's fd (`EBADF`, or `EBADFD` if it is not `/dev/iommu`).
    pub fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: Any fd number is accepted; a context comes back with a new reference.
        let ptr = from_err_ptr(unsafe { bindings::iommufd_ctx_from_fd(fd) })?;
        // INVARIANT: `iommufd_ctx_from_fd` took a reference.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(EBADF)?,
        })
    }

    /// The context of an open `/dev/iommu` file, or `None` for any other file.
    pub fn from_file(file: &LocalFile) -> Option<Self> {
        // SAFETY: `file` is a live file; a context comes back with a new reference.
        let ptr = from_err_ptr(unsafe { bindings::iommufd_ctx_from_file(file.as_ptr()) }).ok()?;
        // INVARIANT: `iommufd_ctx_from_file` took a reference.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Creates the context's compat IOAS (VFIO type1 emulation) if it has none.
    pub fn compat_ioas_create(&self) -> Result {
        // SAFETY: The context is valid (type invariant).
        kernel::error::to_result(unsafe {
            bindings::iommufd_vfio_compat_ioas_create(self.as_raw())
        })
    }

    /// The id of the context's compat IOAS.
    pub fn compat_ioas_id(&self) -> Result<u32> {
        let mut id = 0u32;
        // SAFETY: The context is valid; `id` is a valid out pointer.
        kernel::error::to_result(unsafe {
            bindings::iommufd_vfio_compat_ioas_get_id(self.as_raw(), &mut id)
        })?;
        Ok(id)
    }
}

/// A context a C caller lends (it holds the reference).
#[repr(transparent)]
pub struct IommufdCtxRef(Opaque<bindings::iommufd_ctx>);

impl IommufdCtxRef {
    /// Borrows a context.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid context for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::iommufd_ctx) -> &'a Self {
        // SAFETY: Per the function contract; `IommufdCtxRef` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw context.
    pub fn as_raw(&self) -> *mut bindings::iommufd_ctx {
        self.0.get()
    }

    /// Whether the context holds a device of `group`.
    pub fn has_group(&self, group: &IommuGroup) -> bool {
        // SAFETY: The context is valid for `&self`; `group` is referenced.
        unsafe { bindings::iommufd_ctx_has_group(self.as_raw(), group.as_raw()) }
    }
}

/// A device bound to an iommufd context (`struct iommufd_device`), borrowed from its binding.
#[repr(transparent)]
pub struct IommufdDevice(Opaque<bindings::iommufd_device>);

impl IommufdDevice {
    /// Borrows a binding kept in a C struct.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live binding for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::iommufd_device) -> &'a Self {
        // SAFETY: Per the function contract; `IommufdDevice` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw binding.
    pub fn as_raw(&self) -> *mut bindings::iommufd_device {
        self.0.get()
    }

    /// Attaches `pasid` (0: the device itself) to the page table `*pt_id` (an IOAS or HWPT id;
    /// iommufd writes back the HWPT used).
    pub fn attach(&self, pasid: u32, pt_id: &mut u32) -> Result {
        // SAFETY: The binding is live for `&self`; `pt_id` is valid for reads and writes.
        to_result(unsafe { bindings::iommufd_device_attach(self.as_raw(), pasid, pt_id) })
    }

    /// Replaces the page table `pasid` is attached to, as [`IommufdDevice::attach`].
    pub fn replace(&self, pasid: u32, pt_id: &mut u32) -> Result {
        // SAFETY: As in `attach`.
        to_result(unsafe { bindings::iommufd_device_replace(self.as_raw(), pasid, pt_id) })
    }

    /// Detaches `pasid`, which must be attached.
    pub fn detach(&self, pasid: u32) {
        // SAFETY: The binding is live for `&self`.
        unsafe { bindings::iommufd_device_detach(self.as_raw(), pasid) };
    }

    /// The context the device is bound to.
    pub fn ctx(&self) -> &IommufdCtxRef {
        // SAFETY: The binding holds its context for as long as it lives (`&self`).
        unsafe { IommufdCtxRef::from_raw(bindings::iommufd_device_to_ictx(self.as_raw())) }
    }

    /// The device's id in its context.
    pub fn id(&self) -> u32 {
        // SAFETY: The binding is live for `&self`.
        unsafe { bindings::iommufd_device_to_id(self.as_raw()) }
    }
}

/// A device's binding to an iommufd context, unbound (`iommufd_device_unbind`) on drop.
///
/// # Invariants
///
/// `ptr` is a live binding from `iommufd_device_bind` that this object owns.
pub struct IommufdBinding {
    ptr: NonNull<bindings::iommufd_device>,
}

// SAFETY: iommufd bindings are internally locked; unbinding may happen on any thread.
unsafe impl Send for IommufdBinding {}
// SAFETY: As above.
unsafe impl Sync for IommufdBinding {}

impl IommufdBinding {
    /// Binds `dev` to `ctx`: the binding and the device's id in `ctx`.
    ///
    /// # Safety
    ///
    /// `dev` must be a valid device until the binding is dropped.
    pub unsafe fn bind(ctx: &IommufdCtxRef, dev: *mut bindings::device) -> Result<(Self, u32)> {
        let mut id = 0u32;
        // SAFETY: `ctx` is valid for the call, `dev` until unbinding (function contract).
        let ptr =
            from_err_ptr(unsafe { bindings::iommufd_device_bind(ctx.as_raw(), dev, &mut id) })?;
        // INVARIANT: A binding came back, ours to unbind.
        Ok((
            Self {
                ptr: NonNull::new(ptr).ok_or(EINVAL)?,
            },
            id,
        ))
    }

    /// Gives up ownership, for storing the binding in a C struct.
    pub fn into_raw(self) -> *mut bindings::iommufd_device {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Takes back ownership of a binding from [`IommufdBinding::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from `into_raw` and not be used through it afterwards.
    pub unsafe fn from_raw(ptr: NonNull<bindings::iommufd_device>) -> Self {
        // INVARIANT: Per the function contract, ownership comes back.
        Self { ptr }
    }
}

impl Deref for IommufdBinding {
    type Target = IommufdDevice;

    fn deref(&self) -> &IommufdDevice {
        // SAFETY: The binding is live while owned (type invariant); `IommufdDevice` is
        // transparent over the C struct.
        unsafe { &*self.ptr.as_ptr().cast::<IommufdDevice>() }
    }
}

impl Drop for IommufdBinding {
    fn drop(&mut self) {
        // SAFETY: This object owns the binding (type invariant).
        unsafe { bindings::iommufd_device_unbind(self.ptr.as_ptr()) };
    }
}

impl Deref for IommufdCtx {
    type Target = IommufdCtxRef;

    fn deref(&self) -> &IommufdCtxRef {
        // SAFETY: We hold a reference for as long as the borrow (type invariant).
        unsafe { IommufdCtxRef::from_raw(self.ptr.as_ptr()) }
    }
}

impl Drop for IommufdCtx {
    fn drop(&mut self) {
        // SAFETY: This object owns one reference (type invariant).
        unsafe { bindings::iommufd_ctx_put(self.as_raw()) };
    }
}
