// SPDX-License-Identifier: GPL-2.0

//! virqfd (upstream `drivers/vfio/virqfd.c`): an eventfd whose signals run a driver's handler
//! in atomic context and, when the handler asks for it (or there is none), the driver's thread
//! function from a work item. vfio-pci uses it for the INTx unmask eventfd and ioeventfds.
//!
//! A virqfd is released either by its driver ([`disable`]) or by closing the eventfd (the
//! hang-up wake-up). Both clear the driver's slot under the slot lock and queue the shutdown on
//! the ordered cleanup queue, so exactly one of them does it.
//!
//! Lock order: an eventfd's wait-queue lock, then the slot lock. The cleanup queue is flushed
//! with neither held.

use crate::ffi::virqfd::object::{
    flush_cleanup,
    lock_slots,
    Callbacks,
    NewVirqfd,
    Slot,
    Virqfd,
    WakeHandler,
    Wakeup, //
};
use kernel::{
    fs::LocalFile,
    prelude::*, //
};

/// The core's wake-up handling.
struct Wake;

impl WakeHandler for Wake {
    fn wake(wakeup: &Wakeup<'_>) {
        let virqfd = wakeup.virqfd();
        let events = wakeup.events();
        if events.readable() {
            wakeup.consume_count();
            signal(virqfd);
        }
        if events.hung_up() {
            // The eventfd is closing: shut down, unless a disable already detached us.
            virqfd.slot().detach_if(&mut lock_slots(), virqfd);
        }
    }
}

/// One event: the handler, then the thread function if the handler returned non-zero (or
/// there is no handler) and there is one.
fn signal(virqfd: &Virqfd) {
    if virqfd.run_handler() && virqfd.has_thread() {
        virqfd.schedule_inject();
    }
}

/// `vfio_virqfd_enable`: hooks a new virqfd for `callbacks` onto the eventfd `fd` and puts it
/// in `slot`. `ENOMEM`, `EBADF`, `EINVAL` (not an eventfd), `EBUSY` (the slot is taken).
pub(crate) fn enable(callbacks: Callbacks, slot: Slot, fd: i32) -> Result {
    let new = NewVirqfd::new(callbacks, &slot)?;
    let file = LocalFile::fget(fd as u32).map_err(|_| EBADF)?;
    let new = new.attach(file)?;
    // Publishing under the lock keeps the slot from getting two objects, and a later
    // disable or hang-up from queueing two shutdowns of one object.
    let armed = new.publish::<Wake>(lock_slots()).map_err(|_| EBUSY)?;
    // A signal that came before the wait entry was hooked on wakes nobody: act on it now.
    if armed.pending().readable() {
        signal(armed.virqfd());
    }
    Ok(())
}

/// `vfio_virqfd_disable`: detaches the slot's virqfd (if any), then waits until every
/// shutdown queued so far has run, including one a hang-up queued before.
pub(crate) fn disable(slot: Slot) {
    slot.detach(&mut lock_slots());
    flush_cleanup();
}

/// `vfio_virqfd_flush_thread`: waits until the thread function of the slot's virqfd (if it
/// has one) is no longer running from an earlier event.
pub(crate) fn flush_thread(slot: Slot) {
    {
        let guard = lock_slots();
        if let Some(virqfd) = slot.get(&guard) {
            if virqfd.has_thread() {
                virqfd.queue_flush_inject();
            }
        }
    }
    flush_cleanup();
}
