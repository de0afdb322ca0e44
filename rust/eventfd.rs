// SPDX-License-Identifier: GPL-2.0

//! eventfd contexts (`struct eventfd_ctx`), as a consumer that waits on them sees them.
//!
//! C header: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h).

use core::ptr::NonNull;
use kernel::{
    bindings,
    error::from_err_ptr,
    fs::LocalFile,
    prelude::*,
    types::Opaque, //
};

/// An eventfd context, borrowed.
///
/// # Invariants
///
/// A `&EventFd` only exists while someone holds a reference on the context.
#[repr(transparent)]
pub(crate) struct EventFd(Opaque<bindings::eventfd_ctx>);

impl EventFd {
    /// Borrows the context behind `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a context on which a reference is held for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::eventfd_ctx) -> &'a Self {
        // SAFETY: Per the function contract; `EventFd` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The C context.
    pub(crate) fn as_raw(&self) -> *mut bindings::eventfd_ctx {
        self.0.get()
    }

    /// Consumes the counter (`eventfd_ctx_do_read`): what a reader would have got.
    ///
    /// # Safety
    ///
    /// The caller must hold the context's wait-queue lock, as wake callbacks do.
    pub(crate) unsafe fn do_read_locked(&self) -> u64 {
        let mut cnt = 0u64;
        // SAFETY: The context is live (type invariant); the lock is held per the contract.
        unsafe { bindings::eventfd_ctx_do_read(self.as_raw(), &mut cnt) };
        cnt
    }

    /// Unhooks `wait` from the context's wait queue, consuming the counter as it goes
    /// (`eventfd_ctx_remove_wait_queue`); returns the consumed count.
    ///
    /// # Safety
    ///
    /// `wait` must be an entry that was added to this context's wait queue and not removed.
    pub(crate) unsafe fn remove_wait_queue(&self, wait: *mut bindings::wait_queue_entry) -> u64 {
        let mut cnt = 0u64;
        // SAFETY: The context is live (type invariant) and `wait` is queued on it (contract).
        // The call only fails (`-EAGAIN`) when the counter was zero, which we report as 0.
        unsafe { bindings::eventfd_ctx_remove_wait_queue(self.as_raw(), wait, &mut cnt) };
        cnt
    }
}

/// One counted reference on an eventfd context.
///
/// # Invariants
///
/// This object owns one reference on `ptr`, dropped with `eventfd_ctx_put`.
pub(crate) struct EventFdRef {
    ptr: NonNull<bindings::eventfd_ctx>,
}

// SAFETY: eventfd contexts are refcounted and locked internally; a reference may be dropped on
// any thread.
unsafe impl Send for EventFdRef {}
// SAFETY: `&EventFdRef` only reaches `EventFd`, whose `&self` methods are thread-safe.
unsafe impl Sync for EventFdRef {}

impl EventFdRef {
    /// The context of an open eventfd file (`eventfd_ctx_fileget`); `EINVAL` for other files.
    pub(crate) fn from_file(file: &LocalFile) -> Result<Self> {
        // SAFETY: `file` is a live file; a context comes back with a new reference.
        let ptr = from_err_ptr(unsafe { bindings::eventfd_ctx_fileget(file.as_ptr()) })?;
        // INVARIANT: `eventfd_ctx_fileget` took a reference.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(EINVAL)?,
        })
    }

    /// Gives the reference up to a C struct that stores the context pointer.
    pub(crate) fn into_raw(self) -> *mut bindings::eventfd_ctx {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Takes back a reference given up by [`EventFdRef::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`EventFdRef::into_raw`], and that reference must not be used again.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::eventfd_ctx) -> Self {
        // INVARIANT: Per the function contract the reference is handed back to us.
        Self {
            // SAFETY: `into_raw` only returns non-null pointers.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
        }
    }
}

impl core::ops::Deref for EventFdRef {
    type Target = EventFd;

    fn deref(&self) -> &EventFd {
        // SAFETY: We hold a reference for as long as the borrow (type invariant).
        unsafe { EventFd::from_raw(self.ptr.as_ptr()) }
    }
}

impl Drop for EventFdRef {
    fn drop(&mut self) {
        // SAFETY: We own one reference (type invariant).
        unsafe { bindings::eventfd_ctx_put(self.ptr.as_ptr()) };
    }
}
