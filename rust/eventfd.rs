// SPDX-License-Identifier: GPL-2.0

//! eventfd contexts (`struct eventfd_ctx`), as a consumer that waits on them sees them: a
//! counted reference ([`EventFdRef`]), and an object hooked onto an eventfd's wait queue through
//! the wait-queue entry and poll table it embeds ([`EventFdWaiter`], [`arm`]), whose wake-ups
//! call a [`WaitCallback`] (as virqfd and KVM's irqfd wait on theirs).
//!
//! C headers: [`include/linux/eventfd.h`](srctree/include/linux/eventfd.h),
//! [`include/linux/wait.h`](srctree/include/linux/wait.h),
//! [`include/linux/poll.h`](srctree/include/linux/poll.h).

use crate::{
    bindings,
    helpers, //
};
use core::ptr::NonNull;
use kernel::{
    error::from_err_ptr,
    fs::LocalFile,
    prelude::*,
    types::Opaque, //
};

/// Events of a poll or a wake-up (`__poll_t`).
#[derive(Clone, Copy)]
pub struct PollEvents(u32);

impl PollEvents {
    /// `EPOLLIN`: the eventfd's counter is non-zero.
    pub fn readable(self) -> bool {
        self.0 & bindings::EPOLLIN != 0
    }

    /// `EPOLLHUP`: the eventfd's last file reference is going away.
    pub fn hung_up(self) -> bool {
        self.0 & bindings::EPOLLHUP != 0
    }
}

/// An object that waits on an eventfd through a `struct wait_queue_entry` and a `poll_table`
/// it embeds.
///
/// # Safety
///
/// `WAIT` and `POLL_TABLE` must be the offsets of such members in `Self`, and `Self` must allow
/// C to write them while it is shared (e.g. by wrapping its C struct in `Opaque`).
pub unsafe trait EventFdWaiter: Sized {
    /// Offset of the `struct wait_queue_entry`.
    const WAIT: usize;
    /// Offset of the `poll_table`.
    const POLL_TABLE: usize;
}

/// What the wake-ups of an eventfd do to a waiter `T` hooked onto it by [`arm`].
pub trait WaitCallback<T> {
    /// Called for each wake-up of the eventfd's wait queue (a signal, or the hang-up when its
    /// last file reference goes), in atomic context under the queue's lock.
    fn wake(waiter: &T, events: PollEvents);
}

/// Wait-queue callback: `wait` is the `T::WAIT` member of a waiter.
///
/// # Safety
///
/// Called by the wait queue [`arm`] hooked the waiter onto, under its lock.
unsafe extern "C" fn wake_callback<T: EventFdWaiter, C: WaitCallback<T>>(
    wait: *mut bindings::wait_queue_entry,
    _mode: c_uint,
    _sync: c_int,
    key: *mut c_void,
) -> c_int {
    // SAFETY: `wait` is the `T::WAIT` member of a waiter that outlives its membership of the
    // queue (`arm`'s contract), which is where wake-ups come from.
    let waiter = unsafe { &*wait.cast::<u8>().sub(T::WAIT).cast::<T>() };
    // `key_to_poll`: wakers pass the events as the key (or none).
    C::wake(waiter, PollEvents(key as usize as u32));
    0
}

/// Poll-table callback of the `vfs_poll` in [`arm`]: hooks the waiter onto the wait queue.
///
/// # Safety
///
/// `pt` must be the `T::POLL_TABLE` member of a waiter being armed and `wqh` the eventfd's live
/// wait queue.
unsafe extern "C" fn poll_queue_callback<T: EventFdWaiter>(
    _file: *mut bindings::file,
    wqh: *mut bindings::wait_queue_head,
    pt: *mut bindings::poll_table,
) {
    // SAFETY: `pt` lies `T::POLL_TABLE` bytes into a waiter (function contract), whose entry
    // `arm` initialised just before `vfs_poll`; the waiter outlives its membership of the
    // queue (`arm`'s contract).
    unsafe {
        let wait = pt.cast::<u8>().sub(T::POLL_TABLE).add(T::WAIT);
        bindings::add_wait_queue(wqh, wait.cast());
    }
}

/// Hooks `waiter` onto the wait queue of the eventfd open as `file` (`vfs_poll` through the
/// waiter's poll table), its entry calling `C` on every wake-up: the events already pending,
/// which no wake-up will report.
///
/// # Safety
///
/// `waiter` must be valid, with its entry and poll table on no queue and accessed by nobody
/// else during the call; it must stay valid until its entry is unhooked
/// ([`EventFd::remove_wait_queue`]); `file` must be an eventfd.
pub unsafe fn arm<T: EventFdWaiter, C: WaitCallback<T>>(
    waiter: *mut T,
    file: &LocalFile,
) -> PollEvents {
    let base = waiter.cast::<u8>();
    // SAFETY: The members lie at these offsets (`EventFdWaiter` contract) of a valid waiter that
    // nobody else accesses (function contract); the callbacks match them, and `file` is live.
    let pending = unsafe {
        let wait = base.add(T::WAIT).cast::<bindings::wait_queue_entry>();
        let pt = base.add(T::POLL_TABLE).cast::<bindings::poll_table>();
        helpers::vfio_rs_init_waitqueue_func_entry(wait, Some(wake_callback::<T, C>));
        helpers::vfio_rs_init_poll_funcptr(pt, Some(poll_queue_callback::<T>));
        helpers::vfio_rs_vfs_poll(file.as_ptr(), pt)
    };
    PollEvents(pending)
}

/// An eventfd context, borrowed.
///
/// # Invariants
///
/// A `&EventFd` only exists while someone holds a reference on the context.
#[repr(transparent)]
pub struct EventFd(Opaque<bindings::eventfd_ctx>);

impl EventFd {
    /// Borrows the context behind `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a context on which a reference is held for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::eventfd_ctx) -> &'a Self {
        // SAFETY: Per the function contract; `EventFd` is transparent over the C struct.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The C context.
    pub fn as_raw(&self) -> *mut bindings::eventfd_ctx {
        self.0.get()
    }

    /// Adds 1 to the counter and wakes its waiters (`eventfd_signal`).
    pub fn signal(&self) {
        // SAFETY: The context is live (type invariant); `eventfd_signal` is
        // `eventfd_signal_mask(ctx, 0)`, callable from any context.
        unsafe { bindings::eventfd_signal_mask(self.as_raw(), 0) };
    }

    /// Consumes the counter (`eventfd_ctx_do_read`): what a reader would have got.
    ///
    /// # Safety
    ///
    /// The caller must hold the context's wait-queue lock, as wake callbacks do.
    pub unsafe fn do_read_locked(&self) -> u64 {
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
    pub unsafe fn remove_wait_queue(&self, wait: *mut bindings::wait_queue_entry) -> u64 {
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
pub struct EventFdRef {
    ptr: NonNull<bindings::eventfd_ctx>,
}

// SAFETY: eventfd contexts are refcounted and locked internally; a reference may be dropped on
// any thread.
unsafe impl Send for EventFdRef {}
// SAFETY: `&EventFdRef` only reaches `EventFd`, whose `&self` methods are thread-safe.
unsafe impl Sync for EventFdRef {}

impl EventFdRef {
    /// The context of an open eventfd file (`eventfd_ctx_fileget`); `EINVAL` for other files.
    pub fn from_file(file: &LocalFile) -> Result<Self> {
        // SAFETY: `file` is a live file; a context comes back with a new reference.
        let ptr = from_err_ptr(unsafe { bindings::eventfd_ctx_fileget(file.as_ptr()) })?;
        // INVARIANT: `eventfd_ctx_fileget` took a reference.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(EINVAL)?,
        })
    }

    /// The context of the eventfd that file descriptor `fd` of the current task refers to
    /// (`eventfd_ctx_fdget`): `EBADF` for a closed descriptor, `EINVAL` for another kind of file.
    pub fn fdget(fd: i32) -> Result<Self> {
        // SAFETY: Any value may be passed; a context comes back with a new reference, or an
        // error pointer.
        let ptr = from_err_ptr(unsafe { bindings::eventfd_ctx_fdget(fd) })?;
        // INVARIANT: `eventfd_ctx_fdget` took a reference.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(EINVAL)?,
        })
    }

    /// Gives the reference up to a C struct that stores the context pointer.
    pub fn into_raw(self) -> *mut bindings::eventfd_ctx {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Takes back a reference given up by [`EventFdRef::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`EventFdRef::into_raw`], and that reference must not be used again.
    pub unsafe fn from_raw(ptr: *mut bindings::eventfd_ctx) -> Self {
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

/// A replaceable eventfd that interrupt handlers and other atomic contexts signal: the slot of
/// an interrupt's trigger (upstream keeps these behind RCU; a short irq-safe lock gives the same
/// guarantee, that no signal reaches an eventfd once its replacement returned).
#[pin_data]
pub struct EventFdSlot {
    #[pin]
    efd: kernel::sync::SpinLockIrq<Option<EventFdRef>>,
}

impl EventFdSlot {
    /// An empty slot.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            efd <- kernel::new_spinlock_irq!(None, "EventFdSlot::efd"),
        })
    }

    /// Installs `new` (or empties the slot); the old eventfd is put after the lock is dropped.
    pub fn replace(&self, new: Option<EventFdRef>) -> Option<EventFdRef> {
        core::mem::replace(&mut *self.efd.lock(), new)
    }

    /// Signals the eventfd, if any; returns whether there was one. Any context: the eventfd's
    /// own lock nests inside the slot's.
    pub fn signal(&self) -> bool {
        let slot = self.efd.lock();
        match slot.as_ref() {
            Some(efd) => {
                efd.signal();
                true
            }
            None => false,
        }
    }

    /// Whether an eventfd is installed.
    pub fn is_set(&self) -> bool {
        self.efd.lock().is_some()
    }
}
