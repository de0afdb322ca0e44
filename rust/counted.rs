// SPDX-License-Identifier: GPL-2.0

//! Reference-counted objects that `kmalloc()` allocates directly.
//!
//! The kernel crate's allocator always calls `krealloc()`, which calls the slab allocator from one
//! stack frame deeper than C's `kmalloc()`. That frame is not free where an allocation records its
//! stack: on a kmemleak kernel every allocation unwinds up to 16 frames, ~1,900 instructions per
//! frame. [`Counted`] is `Arc` for objects that a file open creates on every call (a VFIO
//! container), allocated the way the C code they replace allocates them.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h).

use crate::helpers;
use core::{
    ops::Deref,
    ptr::{
        addr_of_mut,
        NonNull, //
    },
};
use kernel::{
    bindings,
    prelude::*,
    sync::{
        aref::{
            ARef,
            AlwaysRefCounted, //
        },
        Refcount,
    },
};

/// `T` with a reference count, in memory from `kmalloc(GFP_KERNEL_ACCOUNT)` (user space creates
/// these objects, so they are charged to it, as upstream's `kzalloc(..., GFP_KERNEL_ACCOUNT)`).
///
/// # Invariants
///
/// Every [`Counted`] lives in its own `kmalloc()` allocation, pinned there, and `refs` counts the
/// [`ARef`]s to it; the last one drops `data` and frees the allocation.
pub struct Counted<T> {
    refs: Refcount,
    data: T,
}

impl<T: Send + Sync> Counted<T> {
    /// Allocates and initialises a new object, with one reference.
    pub fn new(init: impl PinInit<T, Error>) -> Result<ARef<Self>> {
        const { assert!(core::mem::align_of::<Self>() <= bindings::ARCH_KMALLOC_MINALIGN) };
        // SAFETY: No precondition; the size is not zero (the reference count).
        let raw =
            unsafe { helpers::vfio_rs_kmalloc(size_of::<Self>(), bindings::GFP_KERNEL_ACCOUNT) };
        let ptr = NonNull::new(raw.cast::<Self>()).ok_or(ENOMEM)?;
        let raw = ptr.as_ptr();
        // SAFETY: `raw` is a fresh allocation big and aligned enough for `Self` (the assertion:
        // kmalloc aligns to `ARCH_KMALLOC_MINALIGN`); it never moves, so `data` may be pinned.
        unsafe {
            addr_of_mut!((*raw).refs).write(Refcount::new(1));
            if let Err(e) = init.__init(addr_of_mut!((*raw).data)) {
                bindings::kfree(raw.cast());
                return Err(e);
            }
        }
        // SAFETY: Initialised above, with the one reference handed to the `ARef` (INVARIANT).
        Ok(unsafe { ARef::from_raw(ptr) })
    }
}

impl<T> Deref for Counted<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

// SAFETY: `inc_ref` and `dec_ref` keep `refs` equal to the number of references, and the object
// is freed only when the last one goes (type invariant); `T: Send + Sync` because the last
// reference may be dropped on any thread and references are shared between threads.
unsafe impl<T: Send + Sync> AlwaysRefCounted for Counted<T> {
    fn inc_ref(&self) {
        self.refs.inc();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference, so the object is alive.
        if unsafe { obj.as_ref() }.refs.dec_and_test() {
            // SAFETY: That was the last reference: nobody else sees the object, which `new`
            // allocated with `kmalloc()` and initialised; `data` is dropped in place (pinned).
            unsafe {
                core::ptr::drop_in_place(obj.as_ptr());
                bindings::kfree(obj.as_ptr().cast());
            }
        }
    }
}
