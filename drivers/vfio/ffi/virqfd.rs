// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `vfio.ko`'s virqfd (upstream `drivers/vfio/virqfd.c`): `vfio_virqfd_enable`,
//! `vfio_virqfd_disable` and `vfio_virqfd_flush_thread`, for vfio-pci's INTx unmask eventfd and
//! ioeventfds. The logic is `drivers/vfio/virqfd.rs`; the `EXPORT_SYMBOL_GPL`s are in
//! `drivers/vfio/vfio_exports.c`.

pub(crate) mod object;

use crate::kernel_ext::bindings;
use kernel::prelude::*;
use object::{
    Callbacks,
    Handler,
    Slot,
    Thread, //
};

/// `int vfio_virqfd_enable(void *opaque, int (*handler)(void *, void *),
/// void (*thread)(void *, void *), void *data, struct virqfd **pvirqfd, int fd)`.
///
/// # Safety
///
/// `pvirqfd` must point to a slot that holds null or a virqfd of ours and stays valid until the
/// slot is disabled; `handler` must be callable with (`opaque`, `data`) in atomic context and
/// `thread` from process context until then. Calls for one slot must be serialised.
#[no_mangle]
unsafe extern "C" fn vfio_virqfd_enable(
    opaque: *mut c_void,
    handler: Option<Handler>,
    thread: Option<Thread>,
    data: *mut c_void,
    pvirqfd: *mut *mut bindings::virqfd,
    fd: c_int,
) -> c_int {
    // SAFETY: Per the function contract.
    let Some(slot) = (unsafe { Slot::from_raw(pvirqfd) }) else {
        return EINVAL.to_errno();
    };
    // SAFETY: Per the function contract.
    let callbacks = unsafe { Callbacks::new(opaque, handler, thread, data) };
    match crate::virqfd::enable(callbacks, slot, fd) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void vfio_virqfd_disable(struct virqfd **pvirqfd)`: returns once the slot's virqfd (if any)
/// is freed; its callbacks are no longer running.
///
/// # Safety
///
/// As [`vfio_virqfd_enable`], for the slot.
#[no_mangle]
unsafe extern "C" fn vfio_virqfd_disable(pvirqfd: *mut *mut bindings::virqfd) {
    // SAFETY: Per the function contract.
    if let Some(slot) = unsafe { Slot::from_raw(pvirqfd) } {
        crate::virqfd::disable(slot);
    }
}

/// `void vfio_virqfd_flush_thread(struct virqfd **pvirqfd)`: waits for a thread function
/// already queued by the slot's virqfd.
///
/// # Safety
///
/// As [`vfio_virqfd_enable`], for the slot.
#[no_mangle]
unsafe extern "C" fn vfio_virqfd_flush_thread(pvirqfd: *mut *mut bindings::virqfd) {
    // SAFETY: Per the function contract.
    if let Some(slot) = unsafe { Slot::from_raw(pvirqfd) } {
        crate::virqfd::flush_thread(slot);
    }
}
