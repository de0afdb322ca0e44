// SPDX-License-Identifier: GPL-2.0

//! `struct iova_bitmap`: a user bitmap of dirty IOVA pages that a walk hands to a driver window
//! by window (pinning the user pages of each window on demand). The functions are exported by
//! the iommufd driver code in the `IOMMUFD` namespace, which the importing module declares.
//! Without `CONFIG_IOMMUFD_DRIVER` the header's stubs fail with `EOPNOTSUPP`; so does
//! [`IovaBitmap::alloc`] then.
//!
//! C header: [`include/linux/iova_bitmap.h`](srctree/include/linux/iova_bitmap.h).

use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*, //
};

/// An allocated `struct iova_bitmap`, freed (and its pinned pages released) on drop.
///
/// # Invariants
///
/// `ptr` came from `iova_bitmap_alloc` and is freed only by `drop`.
pub struct IovaBitmap {
    ptr: NonNull<bindings::iova_bitmap>,
}

/// The bitmap as a walk's callback sees it: what a driver's `log_read_and_clear` receives.
///
/// # Invariants
///
/// `ptr` is the live bitmap of the walk that made the window.
pub struct IovaBitmapWindow<'a> {
    ptr: *mut bindings::iova_bitmap,
    _walk: core::marker::PhantomData<&'a mut IovaBitmap>,
}

impl IovaBitmapWindow<'_> {
    /// The C object, for a callee that records dirty ranges in it (`iova_bitmap_set`).
    pub fn as_raw(&self) -> *mut bindings::iova_bitmap {
        self.ptr
    }
}

impl IovaBitmap {
    /// `iova_bitmap_alloc`: a bitmap of `length` bytes of IOVA from `iova`, one bit per
    /// `page_size`, stored at the user address `bitmap` (not touched until bits are set).
    pub fn alloc(iova: usize, length: usize, page_size: usize, bitmap: UserPtr) -> Result<Self> {
        #[cfg(not(CONFIG_IOMMUFD_DRIVER))]
        {
            let _ = (iova, length, page_size, bitmap);
            Err(EOPNOTSUPP)
        }
        #[cfg(CONFIG_IOMMUFD_DRIVER)]
        {
            // SAFETY: Any arguments are accepted; the user address is only accessed through
            // `pin_user_pages_fast`, and the result is a new bitmap or an error pointer.
            let ptr = unsafe {
                bindings::iova_bitmap_alloc(iova, length, page_size, bitmap.as_mut_ptr().cast())
            };
            let ptr = kernel::error::from_err_ptr(ptr)?;
            // INVARIANT: A new bitmap from `iova_bitmap_alloc`.
            Ok(Self {
                ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
            })
        }
    }

    /// `iova_bitmap_for_each`: calls `f` with the bitmap, and the IOVA and length it covers;
    /// returns what `f` returns (a negative errno is an error).
    #[cfg(CONFIG_IOMMUFD_DRIVER)]
    pub fn for_each<F>(&mut self, mut f: F) -> Result<c_int>
    where
        F: FnMut(&IovaBitmapWindow<'_>, usize, usize) -> c_int,
    {
        /// The C callback: `opaque` is the closure.
        ///
        /// # Safety
        ///
        /// `opaque` must point to an `F` not otherwise borrowed, and `bitmap` be live.
        unsafe extern "C" fn call<F>(
            bitmap: *mut bindings::iova_bitmap,
            iova: c_ulong,
            length: usize,
            opaque: *mut c_void,
        ) -> c_int
        where
            F: FnMut(&IovaBitmapWindow<'_>, usize, usize) -> c_int,
        {
            // SAFETY: Per the function contract.
            let f = unsafe { &mut *opaque.cast::<F>() };
            // INVARIANT: The walk's live bitmap.
            let window = IovaBitmapWindow {
                ptr: bitmap,
                _walk: core::marker::PhantomData,
            };
            f(&window, iova, length)
        }
        // SAFETY: The bitmap is live (type invariant); `f` outlives the walk and is only used
        // by `call::<F>`, which matches its type.
        let ret = unsafe {
            bindings::iova_bitmap_for_each(self.ptr.as_ptr(), (&raw mut f).cast(), Some(call::<F>))
        };
        kernel::error::to_result(ret)?;
        Ok(ret)
    }
}

#[cfg(not(CONFIG_IOMMUFD_DRIVER))]
impl IovaBitmap {
    /// Never called: no bitmap exists without `CONFIG_IOMMUFD_DRIVER`.
    pub fn for_each<F>(&mut self, _f: F) -> Result<c_int>
    where
        F: FnMut(&IovaBitmapWindow<'_>, usize, usize) -> c_int,
    {
        Err(EOPNOTSUPP)
    }
}

impl Drop for IovaBitmap {
    #[cfg(not(CONFIG_IOMMUFD_DRIVER))]
    fn drop(&mut self) {}

    #[cfg(CONFIG_IOMMUFD_DRIVER)]
    fn drop(&mut self) {
        // SAFETY: The bitmap came from `iova_bitmap_alloc` and is freed once (type invariant).
        unsafe { bindings::iova_bitmap_free(self.ptr.as_ptr()) };
    }
}
