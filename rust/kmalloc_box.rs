// SPDX-License-Identifier: GPL-2.0

//! Uniquely owned objects that `kmalloc()` allocates directly.
//!
//! What [`crate::counted::Counted`] is to `Arc`, [`KmBox`] is to `KBox`: the kernel crate's
//! allocator reaches the slab allocator one stack frame deeper than C's `kmalloc()`, and on a
//! kmemleak kernel every allocation unwinds its stack (~1,900 instructions per frame). Objects
//! that a file open creates on every call (a device file's private data) use this instead.
//!
//! C header: [`include/linux/slab.h`](srctree/include/linux/slab.h).

use crate::helpers;
use core::{
    ops::Deref,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    prelude::*, //
};

/// A `T` in its own `kmalloc(GFP_KERNEL_ACCOUNT)` allocation (user space creates these
/// objects, so they are charged to it, as upstream's `kzalloc(..., GFP_KERNEL_ACCOUNT)`).
///
/// # Invariants
///
/// The pointer is to an initialised `T` in a `kmalloc()` allocation that this box owns.
pub struct KmBox<T>(NonNull<T>);

// SAFETY: A `KmBox<T>` owns its `T` like a `KBox<T>` does.
unsafe impl<T: Send> Send for KmBox<T> {}
// SAFETY: As above.
unsafe impl<T: Sync> Sync for KmBox<T> {}

impl<T> KmBox<T> {
    /// Allocates memory for `value` and moves it there.
    pub fn new(value: T) -> Result<Self> {
        const { assert!(core::mem::align_of::<T>() <= bindings::ARCH_KMALLOC_MINALIGN) };
        // SAFETY: No precondition; a zero size gives `ZERO_SIZE_PTR`, which is never
        // dereferenced for a zero-sized `T` and which `kfree` accepts.
        let raw = unsafe { helpers::vfio_rs_kmalloc(size_of::<T>(), bindings::GFP_KERNEL_ACCOUNT) };
        let ptr = NonNull::new(raw.cast::<T>()).ok_or(ENOMEM)?;
        // SAFETY: A fresh allocation, big and aligned enough for `T` (the assertion: kmalloc
        // aligns to `ARCH_KMALLOC_MINALIGN`).
        unsafe { ptr.as_ptr().write(value) };
        // INVARIANT: Initialised in a kmalloc allocation owned by the box.
        Ok(Self(ptr))
    }

    /// Gives up ownership: the pointer must come back through [`KmBox::from_raw`].
    pub fn into_raw(this: Self) -> *mut T {
        let ptr = this.0.as_ptr();
        core::mem::forget(this);
        ptr
    }

    /// Takes back what [`KmBox::into_raw`] gave.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`KmBox::into_raw`] and not have been taken back since.
    pub unsafe fn from_raw(ptr: *mut T) -> Self {
        // SAFETY: Non-null and owning, per the contract.
        Self(unsafe { NonNull::new_unchecked(ptr) })
    }
}

impl<T> Deref for KmBox<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: Initialised and owned (type invariant).
        unsafe { self.0.as_ref() }
    }
}

impl<T> Drop for KmBox<T> {
    fn drop(&mut self) {
        // SAFETY: The box owns an initialised `T` in a kmalloc allocation (type invariant);
        // neither is used again.
        unsafe {
            core::ptr::drop_in_place(self.0.as_ptr());
            bindings::kfree(self.0.as_ptr().cast());
        }
    }
}
