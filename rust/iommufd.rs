// SPDX-License-Identifier: GPL-2.0

//! iommufd contexts (`struct iommufd_ctx`), as a VFIO core uses them: from a user's
//! `/dev/iommu` fd, for binding devices and for the compat IOAS of the group path.
//!
//! C header: [`include/linux/iommufd.h`](srctree/include/linux/iommufd.h).

use crate::kernel_ext::{
    bindings,
    iommu::IommuGroup, //
};
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    fs::LocalFile,
    prelude::*, //
};

/// A counted reference on an iommufd context.
///
/// # Invariants
///
/// This object owns one reference on `ptr`, dropped with `iommufd_ctx_put`.
pub(crate) struct IommufdCtx {
    ptr: NonNull<bindings::iommufd_ctx>,
}

// SAFETY: iommufd contexts are refcounted and internally locked.
unsafe impl Send for IommufdCtx {}
// SAFETY: As above.
unsafe impl Sync for IommufdCtx {}

impl IommufdCtx {
    /// The context behind a user's fd (`EBADF`, or `EBADFD` if it is not `/dev/iommu`).
    pub(crate) fn from_fd(fd: i32) -> Result<Self> {
        // SAFETY: Any fd number is accepted; a context comes back with a new reference.
        let ptr = from_err_ptr(unsafe { bindings::iommufd_ctx_from_fd(fd) })?;
        // INVARIANT: `iommufd_ctx_from_fd` took a reference.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(EBADF)?,
        })
    }

    /// The context of an open `/dev/iommu` file, or `None` for any other file.
    pub(crate) fn from_file(file: &LocalFile) -> Option<Self> {
        // SAFETY: `file` is a live file; a context comes back with a new reference.
        let ptr = from_err_ptr(unsafe { bindings::iommufd_ctx_from_file(file.as_ptr()) }).ok()?;
        // INVARIANT: `iommufd_ctx_from_file` took a reference.
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// The raw context, for device binding.
    pub(crate) fn as_raw(&self) -> *mut bindings::iommufd_ctx {
        self.ptr.as_ptr()
    }

    /// Creates the context's compat IOAS (VFIO type1 emulation) if it has none.
    pub(crate) fn compat_ioas_create(&self) -> Result {
        // SAFETY: The context is valid (type invariant).
        kernel::error::to_result(unsafe {
            bindings::iommufd_vfio_compat_ioas_create(self.as_raw())
        })
    }

    /// The id of the context's compat IOAS.
    pub(crate) fn compat_ioas_id(&self) -> Result<u32> {
        let mut id = 0u32;
        // SAFETY: The context is valid; `id` is a valid out pointer.
        kernel::error::to_result(unsafe {
            bindings::iommufd_vfio_compat_ioas_get_id(self.as_raw(), &mut id)
        })?;
        Ok(id)
    }
}

/// Whether a raw context (from a C caller) holds a device of `group`.
///
/// # Safety
///
/// `ictx` must be a valid context.
pub(crate) unsafe fn ctx_has_group(ictx: *mut bindings::iommufd_ctx, group: &IommuGroup) -> bool {
    // SAFETY: Per the function contract; `group` is referenced.
    unsafe { bindings::iommufd_ctx_has_group(ictx, group.as_raw()) }
}

impl Drop for IommufdCtx {
    fn drop(&mut self) {
        // SAFETY: This object owns one reference (type invariant).
        unsafe { bindings::iommufd_ctx_put(self.as_raw()) };
    }
}
