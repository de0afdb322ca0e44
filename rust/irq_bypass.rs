// SPDX-License-Identifier: GPL-2.0

//! IRQ bypass producers (`struct irq_bypass_producer`): an interrupt offered to a consumer
//! (KVM's irqfd) matched by eventfd, so a hypervisor can post it to a guest directly.
//!
//! `irqbypass.ko` is a module (`CONFIG_IRQ_BYPASS_MANAGER=m`): everything here is `#[inline]`
//! so that only the driver using it depends on it, not this library.
//!
//! C header: [`include/linux/irqbypass.h`](srctree/include/linux/irqbypass.h).

use crate::{
    bindings,
    eventfd::EventFd,
    irq::Line, //
};
use kernel::{
    error::to_result,
    prelude::*,
    types::Opaque, //
};

/// A registered producer, unregistered on drop.
///
/// # Invariants
///
/// `raw` was registered by [`Producer::register`]; boxed, its address is what the bypass
/// manager holds.
pub struct Producer {
    raw: KBox<Opaque<bindings::irq_bypass_producer>>,
}

// SAFETY: The bypass manager serialises access to producers with its own lock.
unsafe impl Send for Producer {}
// SAFETY: As above; `&Producer` allows nothing.
unsafe impl Sync for Producer {}

impl Producer {
    /// Offers `line`'s interrupt to consumers of `token` (`irq_bypass_register_producer`);
    /// `EBUSY` if `token` has a producer already.
    #[inline]
    pub fn register(token: &EventFd, line: Line) -> Result<Self> {
        let raw = KBox::new(Opaque::zeroed(), kernel::alloc::flags::GFP_KERNEL_ACCOUNT)?;
        // CAST: IRQ numbers fit an int.
        let irq = line.number() as c_int;
        // SAFETY: `raw` is a zeroed producer at a stable address, unregistered in drop; the
        // eventfd is alive (type invariant of `EventFd`) and only used as a key.
        to_result(unsafe {
            bindings::irq_bypass_register_producer(raw.get(), token.as_raw(), irq)
        })?;
        // INVARIANT: Registered just now.
        Ok(Self { raw })
    }
}

impl Drop for Producer {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant).
        unsafe { bindings::irq_bypass_unregister_producer(self.raw.get()) };
    }
}
