// SPDX-License-Identifier: GPL-2.0

//! ID allocators (`struct ida`): lowest free id first, as upstream numbers `vfioN` and minors.
//! [`Ida`] owns one; [`IdaRef`] is one embedded in a C struct (or an [`Ida`], which derefs to it).
//!
//! C header: [`include/linux/idr.h`](srctree/include/linux/idr.h).

use crate::helpers;
use core::ops::Deref;
use kernel::{
    bindings,
    prelude::*,
    types::Opaque, //
};

/// An IDA.
///
/// # Invariants
///
/// `inner` is initialised and pinned; it is destroyed on drop.
#[pin_data(PinnedDrop)]
pub struct Ida {
    #[pin]
    inner: Opaque<bindings::ida>,
}

// SAFETY: The IDA has its own internal lock.
unsafe impl Send for Ida {}
// SAFETY: The IDA has its own internal lock.
unsafe impl Sync for Ida {}

impl Ida {
    /// An empty allocator.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `ida_init` fully initialises it.
            inner <- Opaque::ffi_init(|slot| unsafe { helpers::vfio_rs_ida_init(slot) }),
        })
    }
}

impl Deref for Ida {
    type Target = IdaRef;

    fn deref(&self) -> &IdaRef {
        // SAFETY: The IDA is initialised for as long as `self` lives (type invariant).
        unsafe { IdaRef::from_raw(self.inner.get()) }
    }
}

/// An initialised IDA owned by someone else (an [`Ida`], or a C struct embedding one).
#[repr(transparent)]
pub struct IdaRef(Opaque<bindings::ida>);

impl IdaRef {
    /// Borrows an IDA.
    ///
    /// # Safety
    ///
    /// `ptr` must be an initialised IDA, not destroyed or re-initialised for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::ida) -> &'a Self {
        // SAFETY: Per the function contract; `IdaRef` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Allocates the lowest free id in `0..=max`.
    pub fn alloc_max(&self, max: u32) -> Result<u32> {
        self.alloc_range(0, max)
    }

    /// Allocates the lowest free id in `min..=max`.
    pub fn alloc_range(&self, min: u32, max: u32) -> Result<u32> {
        // SAFETY: The IDA is initialised (`from_raw`'s contract).
        let id = unsafe { bindings::ida_alloc_range(self.0.get(), min, max, bindings::GFP_KERNEL) };
        kernel::error::to_result(id)?;
        Ok(id as u32)
    }

    /// The lowest allocated id in `min..=max`, if any.
    pub fn first_in(&self, min: u32, max: u32) -> Option<u32> {
        // SAFETY: The IDA is initialised (`from_raw`'s contract).
        let id = unsafe { bindings::ida_find_first_range(self.0.get(), min, max) };
        u32::try_from(id).ok()
    }

    /// Frees an allocated id.
    pub fn free(&self, id: u32) {
        // SAFETY: The IDA is initialised (`from_raw`'s contract).
        unsafe { bindings::ida_free(self.0.get(), id) };
    }
}

#[pinned_drop]
impl PinnedDrop for Ida {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The IDA is initialised (type invariant) and no longer used.
        unsafe { bindings::ida_destroy(self.inner.get()) };
    }
}
