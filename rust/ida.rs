// SPDX-License-Identifier: GPL-2.0

//! ID allocators (`struct ida`): lowest free id first, as upstream numbers `vfioN` and minors.
//!
//! C header: [`include/linux/idr.h`](srctree/include/linux/idr.h).

use crate::kernel_ext::helpers;
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
pub(crate) struct Ida {
    #[pin]
    inner: Opaque<bindings::ida>,
}

// SAFETY: The IDA has its own internal lock.
unsafe impl Send for Ida {}
// SAFETY: The IDA has its own internal lock.
unsafe impl Sync for Ida {}

impl Ida {
    /// An empty allocator.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `ida_init` fully initialises it.
            inner <- Opaque::ffi_init(|slot| unsafe { helpers::vfio_rs_ida_init(slot) }),
        })
    }

    /// Allocates the lowest free id in `0..=max`.
    pub(crate) fn alloc_max(&self, max: u32) -> Result<u32> {
        // SAFETY: The IDA is initialised (type invariant).
        let id =
            unsafe { bindings::ida_alloc_range(self.inner.get(), 0, max, bindings::GFP_KERNEL) };
        kernel::error::to_result(id)?;
        Ok(id as u32)
    }

    /// Frees an id returned by [`Ida::alloc_max`].
    pub(crate) fn free(&self, id: u32) {
        // SAFETY: The IDA is initialised (type invariant).
        unsafe { bindings::ida_free(self.inner.get(), id) };
    }
}

#[pinned_drop]
impl PinnedDrop for Ida {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The IDA is initialised (type invariant) and no longer used.
        unsafe { bindings::ida_destroy(self.inner.get()) };
    }
}
