// SPDX-License-Identifier: GPL-2.0

//! Interrupt handlers on a Linux IRQ number, as drivers that hand their interrupts to user
//! space need them: an owned registration whose name and handler live with it (7.3's
//! `kernel::irq::Registration` borrows its request from a bound device and takes a static
//! name, so it cannot be stored in a device's state), and control of the line (disable without
//! waiting, enable, wait for running handlers, lazy-disable opt-out).
//!
//! C header: [`include/linux/interrupt.h`](srctree/include/linux/interrupt.h).

use crate::bindings;
use kernel::{
    error::to_result,
    irq::{
        Handler,
        IrqReturn, //
    },
    prelude::*,
    str::CString, //
};

/// Flags of a request (`IRQF_*`).
#[derive(Clone, Copy, Default)]
pub struct RequestFlags(c_ulong);

impl RequestFlags {
    /// `IRQF_SHARED`: other devices' handlers may be on the line.
    pub const SHARED: Self = Self(bindings::IRQF_SHARED as c_ulong);
    /// `IRQF_NO_AUTOEN`: the line stays disabled until [`Line::enable`].
    pub const NO_AUTOEN: Self = Self(bindings::IRQF_NO_AUTOEN as c_ulong);
}

impl core::ops::BitOr for RequestFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// An IRQ number, for controlling the line. Operations on a number with no handler or no
/// descriptor are harmless (ignored, or a kernel warning on an unbalanced enable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line(u32);

impl Line {
    /// The line of IRQ number `irq` (e.g. a PCI device's INTx, `pdev->irq`).
    pub fn new(irq: u32) -> Self {
        Self(irq)
    }

    /// The IRQ number.
    pub fn number(self) -> u32 {
        self.0
    }

    /// `disable_irq_nosync`: masks the line without waiting for running handlers (callable
    /// from the line's own handler).
    pub fn disable_nosync(self) {
        // SAFETY: Any IRQ number may be passed (unknown ones are ignored); the depth is
        // balanced by the caller's `enable`.
        unsafe { bindings::disable_irq_nosync(self.0) };
    }

    /// `enable_irq`: undoes one [`Line::disable_nosync`] (or `IRQF_NO_AUTOEN`).
    pub fn enable(self) {
        // SAFETY: As above; the kernel warns on unbalanced enables, which callers avoid by
        // tracking their own masked state.
        unsafe { bindings::enable_irq(self.0) };
    }

    /// `synchronize_irq`: waits for handlers running on the line.
    pub fn synchronize(self) {
        // SAFETY: Any IRQ number may be passed.
        unsafe { bindings::synchronize_irq(self.0) };
    }
}

// CAST: An `IRQ_*` status bit, below bit 32.
const UNLAZY: c_ulong = bindings::IRQ_DISABLE_UNLAZY as c_ulong;

/// `IRQ_DISABLE_UNLAZY` set on a line for as long as this lives: disabling masks the line at
/// once (what an exclusive, unmaskable-at-the-device INTx needs to stop a level interrupt).
pub struct Unlazy(u32);

impl Unlazy {
    /// Sets the flag on `irq`.
    pub fn new(irq: u32) -> Self {
        // SAFETY: Any IRQ number may be passed; unknown ones are ignored.
        unsafe { bindings::irq_modify_status(irq, 0, UNLAZY) };
        Self(irq)
    }
}

impl Drop for Unlazy {
    fn drop(&mut self) {
        // SAFETY: As in `new`.
        unsafe { bindings::irq_modify_status(self.0, UNLAZY, 0) };
    }
}

/// What the line's cookie points to: the handler and the name `/proc/interrupts` shows.
struct Inner<T> {
    handler: T,
    name: CString,
}

/// A handler registered on an IRQ (`request_irq`), freed on drop (`free_irq`, which waits for
/// running handlers).
///
/// # Invariants
///
/// `inner` is the cookie of a registration of `irq` made by [`Registration::request`]; it is
/// boxed so its address stays what the IRQ core holds.
pub struct Registration<T: Handler + Send + 'static> {
    inner: KBox<Inner<T>>,
    irq: u32,
}

impl<T: Handler + Send + 'static> Registration<T> {
    /// Registers `handler` on `irq` under `name`; the request's errors (`EBUSY` for a line
    /// taken exclusively, `EINVAL`) come back as they are.
    pub fn request(irq: u32, flags: RequestFlags, name: CString, handler: T) -> Result<Self> {
        let inner = KBox::new(Inner { handler, name }, GFP_KERNEL)?;
        let cookie = core::ptr::from_ref(&*inner).cast_mut().cast::<c_void>();
        // SAFETY: `cookie` and the name live in `inner`, which the registration keeps until
        // `free_irq` in drop; `call::<T>` matches the cookie's type.
        to_result(unsafe {
            bindings::request_irq(
                irq,
                Some(call::<T>),
                flags.0,
                inner.name.as_char_ptr(),
                cookie,
            )
        })?;
        // INVARIANT: Registered just now with `inner` as the cookie.
        Ok(Self { inner, irq })
    }

    /// The line the handler is on.
    pub fn line(&self) -> Line {
        Line(self.irq)
    }

    /// The handler.
    pub fn handler(&self) -> &T {
        &self.inner.handler
    }
}

impl<T: Handler + Send + 'static> Drop for Registration<T> {
    fn drop(&mut self) {
        let cookie = core::ptr::from_ref(&*self.inner)
            .cast_mut()
            .cast::<c_void>();
        // SAFETY: Registered with this cookie (type invariant); `free_irq` waits for the
        // handler, so `inner` outlives every call. It returns the name, which we own.
        unsafe { bindings::free_irq(self.irq, cookie) };
    }
}

/// The C handler.
///
/// # Safety
///
/// `cookie` is the `Inner<T>` of a live [`Registration`].
unsafe extern "C" fn call<T: Handler + Send + 'static>(
    _irq: c_int,
    cookie: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: Per the function contract.
    let inner = unsafe { &*cookie.cast::<Inner<T>>() };
    match inner.handler.handle() {
        IrqReturn::None => bindings::irqreturn::IRQ_NONE,
        IrqReturn::Handled => bindings::irqreturn::IRQ_HANDLED,
    }
}
