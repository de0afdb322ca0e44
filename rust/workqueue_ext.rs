// SPDX-License-Identifier: GPL-2.0

//! Workqueue pieces the kernel crate's [`kernel::workqueue`] lacks: a workqueue a module
//! allocates and destroys itself, and `struct work_struct`s embedded in C structs (whose layout
//! C headers fix, so they cannot be [`kernel::workqueue::Work`] fields of a Rust type).
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h).

use crate::helpers;
use core::ptr::NonNull;
use kernel::{
    bindings,
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

/// A single-threaded (ordered) workqueue owned by its module.
///
/// # Invariants
///
/// `ptr` is a workqueue this object allocated; it is destroyed (drained first) on drop.
pub struct OrderedQueue {
    ptr: NonNull<bindings::workqueue_struct>,
}

// SAFETY: Workqueues are internally synchronised; `destroy_workqueue` may run on any thread.
unsafe impl Send for OrderedQueue {}
// SAFETY: As above.
unsafe impl Sync for OrderedQueue {}

impl OrderedQueue {
    /// Allocates an ordered, memory-reclaim-safe queue named `name`
    /// (`create_singlethread_workqueue`): its items run one at a time, in queueing order.
    pub fn new(name: &'static CStr) -> Result<Self> {
        // SAFETY: `name` is a NUL-terminated string (copied by the call).
        let ptr = unsafe { helpers::vfio_rs_create_singlethread_workqueue(name.as_char_ptr()) };
        // INVARIANT: The queue was just allocated for us.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// The C workqueue.
    pub fn as_raw(&self) -> *mut bindings::workqueue_struct {
        self.ptr.as_ptr()
    }
}

impl Drop for OrderedQueue {
    fn drop(&mut self) {
        // SAFETY: We own the queue (type invariant); it drains pending items before freeing.
        unsafe { bindings::destroy_workqueue(self.ptr.as_ptr()) };
    }
}

/// Waits until every item queued on `wq` before the call has finished (`flush_workqueue`).
///
/// # Safety
///
/// `wq` must be a live workqueue. The caller must not hold locks that its items take.
pub unsafe fn flush_queue(wq: *mut bindings::workqueue_struct) {
    // SAFETY: Per the function contract.
    unsafe { bindings::__flush_workqueue(wq) };
}

/// A `struct work_struct` embedded in a C struct.
///
/// # Invariants
///
/// The work item has been initialised (`INIT_WORK`).
#[repr(transparent)]
pub struct RawWork(Opaque<bindings::work_struct>);

impl RawWork {
    /// Initialises the work item at `ptr` to run `func` (`INIT_WORK`), in lockdep class `key`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for writes and not queued; `func` must be sound to run with `ptr`
    /// once queued.
    pub unsafe fn init(
        ptr: *mut bindings::work_struct,
        func: unsafe extern "C" fn(*mut bindings::work_struct),
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) {
        // SAFETY: Per the function contract; `name` and `key` are static.
        unsafe {
            bindings::init_work_with_key(ptr, Some(func), false, name.as_char_ptr(), key.as_ptr())
        };
    }

    /// Borrows the initialised work item at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be an initialised work item valid for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::work_struct) -> &'a Self {
        // SAFETY: Per the function contract; `RawWork` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The C work item.
    pub fn as_raw(&self) -> *mut bindings::work_struct {
        self.0.get()
    }

    /// Queues the item on `wq` (`queue_work`); `false` if it was already pending.
    ///
    /// # Safety
    ///
    /// `wq` must be a live workqueue, and the item's memory must stay valid until it has run.
    pub unsafe fn queue_on(&self, wq: *mut bindings::workqueue_struct) -> bool {
        // SAFETY: Per the function contract; the item is initialised (type invariant).
        unsafe {
            bindings::queue_work_on(
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as c_int,
                wq,
                self.as_raw(),
            )
        }
    }

    /// Queues the item on the system per-CPU workqueue (`schedule_work`).
    ///
    /// # Safety
    ///
    /// As [`RawWork::queue_on`], for the item's memory.
    pub unsafe fn schedule(&self) -> bool {
        // SAFETY: `system_percpu_wq` is set up at boot and never changes.
        let wq = unsafe { bindings::system_percpu_wq };
        // SAFETY: A system queue is always live; the memory rule is the caller's.
        unsafe { self.queue_on(wq) }
    }

    /// Waits until the last queueing of the item has finished running (`flush_work`).
    pub fn flush(&self) {
        // SAFETY: The item is initialised (type invariant) and live for the borrow.
        unsafe { bindings::flush_work(self.as_raw()) };
    }
}
