// SPDX-License-Identifier: GPL-2.0

//! Interrupt helpers the core exports to drivers: `VFIO_DEVICE_SET_IRQS` header validation and
//! virqfds (an eventfd whose signal runs a driver callback, e.g. to unmask INTx).

use crate::bindings;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
    types::Opaque,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};

/// `vfio_set_irqs_validate_and_prepare`: checks a `VFIO_DEVICE_SET_IRQS` header against a
/// device with `num_irqs` interrupts of `index` (of `max_irq_type` indexes); returns the size
/// of the data that follows the header.
// Inline: calls a vfio.ko export (see kernel_ext.rs).
#[inline]
pub fn validate_irq_set(
    hdr: &mut bindings::vfio_irq_set,
    num_irqs: i32,
    max_irq_type: i32,
) -> Result<usize> {
    let mut size = 0usize;
    // SAFETY: `hdr` and `size` are valid for the call; the export only reads `hdr`.
    kernel::error::to_result(unsafe {
        bindings::vfio_set_irqs_validate_and_prepare(hdr, num_irqs, max_irq_type, &mut size)
    })?;
    Ok(size)
}

/// A `VFIO_DEVICE_SET_IRQS` request read from user space at `arg` and validated
/// (`vfio_set_irqs_validate_and_prepare`) against `num_irqs(index)` vectors of `max_irq_type`
/// indexes: the header and the data that follows it (`memdup_user`).
// Inline: calls a vfio.ko export (see kernel_ext.rs).
#[inline]
pub fn read_irq_set(
    arg: usize,
    num_irqs: impl FnOnce(u32) -> u32,
    max_irq_type: u32,
) -> Result<(bindings::vfio_irq_set, KVec<u8>)> {
    /// `offsetofend(struct vfio_irq_set, count)`.
    const MINSZ: usize = 20;
    // One user copy, as upstream's `copy_from_user(&hdr, arg, minsz)`: on a debug kernel
    // every copy costs a `might_fault` lockdep check.
    let [argsz, flags, index, start, count]: [u32; 5] =
        UserSlice::new(UserPtr::from_addr(arg), MINSZ)
            .reader()
            .read()?;
    let mut hdr = bindings::vfio_irq_set {
        argsz,
        flags,
        index,
        start,
        count,
        ..Default::default()
    };
    let num = num_irqs(hdr.index);
    // CAST: Vector counts and index counts are small.
    let size = validate_irq_set(&mut hdr, num as i32, max_irq_type as i32)?;
    let mut data = KVec::new();
    if size != 0 {
        UserSlice::new(UserPtr::from_addr(arg + MINSZ), size).read_all(&mut data, GFP_KERNEL)?;
    }
    Ok((hdr, data))
}

/// What a [`Virqfd`] runs when its eventfd is signalled.
#[vtable]
pub trait VirqfdHandler: Send + Sync + 'static {
    /// In the eventfd's wakeup (atomic context): returns whether to run `thread` (in a
    /// workqueue). Without it, `thread` always runs.
    fn handler(&self) -> bool {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// In process context, after `handler`.
    fn thread(&self) {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A virqfd slot (`struct virqfd *` of the C API) and the handler it calls while enabled.
///
/// # Invariants
///
/// `raw` is only passed to the core's virqfd exports; while it holds a virqfd, `handler` holds
/// the `Arc` whose pointer the virqfd calls with, so the handler outlives every callback.
#[pin_data(PinnedDrop)]
pub struct Virqfd<H: VirqfdHandler> {
    raw: Opaque<*mut bindings::virqfd>,
    #[pin]
    handler: Mutex<Option<Arc<H>>>,
}

// SAFETY: The slot is only touched through the core's exports, which serialise on their own
// lock; the handler is behind a mutex and `H: Send + Sync`.
unsafe impl<H: VirqfdHandler> Send for Virqfd<H> {}
// SAFETY: As above.
unsafe impl<H: VirqfdHandler> Sync for Virqfd<H> {}

impl<H: VirqfdHandler> Virqfd<H> {
    /// An empty slot.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            raw: Opaque::new(core::ptr::null_mut()),
            handler <- new_mutex!(None),
        })
    }

    /// Calls `handler` whenever the eventfd `fd` is signalled (`vfio_virqfd_enable`); `EBUSY`
    /// if one is enabled already.
    pub fn enable(&self, handler: Arc<H>, fd: i32) -> Result {
        let mut held = self.handler.lock();
        let opaque = Arc::as_ptr(&handler).cast_mut().cast();
        // SAFETY: `raw` is ours (type invariant); `opaque` points to the handler, which `held`
        // keeps alive until `disable` has flushed every callback.
        kernel::error::to_result(unsafe {
            bindings::vfio_virqfd_enable(
                opaque,
                if H::HAS_HANDLER {
                    Some(Self::call_handler)
                } else {
                    None
                },
                if H::HAS_THREAD {
                    Some(Self::call_thread)
                } else {
                    None
                },
                core::ptr::null_mut(),
                self.raw.get(),
                fd,
            )
        })?;
        // INVARIANT: The virqfd calls with this `Arc`'s pointer; keep it.
        *held = Some(handler);
        Ok(())
    }

    /// Stops the virqfd, if any, and waits for its callbacks (`vfio_virqfd_disable`).
    pub fn disable(&self) {
        let mut held = self.handler.lock();
        // SAFETY: `raw` is ours (type invariant); the export flushes the virqfd's work, so no
        // callback runs after it returns.
        unsafe { bindings::vfio_virqfd_disable(self.raw.get()) };
        *held = None;
    }

    /// Waits for a running `thread` callback (`vfio_virqfd_flush_thread`).
    pub fn flush_thread(&self) {
        // SAFETY: `raw` is ours (type invariant).
        unsafe { bindings::vfio_virqfd_flush_thread(self.raw.get()) };
    }

    /// # Safety
    ///
    /// `opaque` is the pointer of an `Arc<H>` kept alive by an enabled virqfd.
    unsafe extern "C" fn call_handler(opaque: *mut c_void, _data: *mut c_void) -> c_int {
        // SAFETY: Per the function contract.
        let h = unsafe { &*opaque.cast::<H>() };
        c_int::from(h.handler())
    }

    /// # Safety
    ///
    /// As [`Virqfd::call_handler`].
    unsafe extern "C" fn call_thread(opaque: *mut c_void, _data: *mut c_void) {
        // SAFETY: Per the function contract.
        let h = unsafe { &*opaque.cast::<H>() };
        h.thread();
    }
}

#[pinned_drop]
impl<H: VirqfdHandler> PinnedDrop for Virqfd<H> {
    fn drop(self: Pin<&mut Self>) {
        self.disable();
    }
}
