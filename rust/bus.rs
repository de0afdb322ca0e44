// SPDX-License-Identifier: GPL-2.0

//! Bus types (`struct bus_type`) a module defines and registers, and drivers of them.
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h).

use kernel::{
    bindings,
    error::to_result,
    prelude::*, //
};

/// `match` of a bus.
pub type BusMatch =
    unsafe extern "C" fn(*mut bindings::device, *const bindings::device_driver) -> c_int;
/// `probe` of a bus.
pub type BusProbe = unsafe extern "C" fn(*mut bindings::device) -> c_int;
/// `remove` of a bus.
pub type BusRemove = unsafe extern "C" fn(*mut bindings::device);

/// A static `struct bus_type`.
#[repr(transparent)]
pub struct BusType(bindings::bus_type);

// SAFETY: The driver core only reads the bus type (its state is in `subsys_private`).
unsafe impl Sync for BusType {}

impl BusType {
    /// A bus named `name` with these callbacks.
    pub const fn new(
        name: &'static CStr,
        match_: BusMatch,
        probe: BusProbe,
        remove: BusRemove,
    ) -> Self {
        // SAFETY: All-zero is a valid bus type (no groups, no other callbacks).
        let mut bus: bindings::bus_type = unsafe { core::mem::zeroed() };
        // `CStrExt::as_char_ptr` is not `const`; this is the same pointer and cast.
        #[expect(
            clippy::disallowed_methods,
            reason = "`as_char_ptr` cannot be called in a const fn"
        )]
        let name_ptr = name.as_ptr();
        bus.name = name_ptr.cast();
        bus.match_ = Some(match_);
        bus.probe = Some(probe);
        bus.remove = Some(remove);
        Self(bus)
    }

    /// The raw bus type.
    pub const fn as_ptr(&'static self) -> *const bindings::bus_type {
        &self.0
    }

    /// Registers the bus; it is unregistered when the registration drops.
    pub fn register(&'static self) -> Result<BusRegistration> {
        // SAFETY: `self` is static and fully initialised.
        to_result(unsafe { bindings::bus_register(self.as_ptr()) })?;
        Ok(BusRegistration(self))
    }
}

/// A registered bus.
///
/// # Invariants
///
/// The bus is registered until this value drops.
pub struct BusRegistration(&'static BusType);

impl Drop for BusRegistration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the bus is registered.
        unsafe { bindings::bus_unregister(self.0.as_ptr()) };
    }
}

/// `driver_register(drv)` for a driver of `bus`, whose memory its C owner keeps.
///
/// # Safety
///
/// `drv` must be valid, not registered, and stay valid until [`driver_unregister`]; `bus` must
/// be registered.
pub unsafe fn driver_register(drv: *mut bindings::device_driver, bus: &'static BusType) -> Result {
    // SAFETY: `drv` is valid and unregistered (the contract).
    unsafe { (*drv).bus = bus.as_ptr() };
    // SAFETY: As above.
    to_result(unsafe { bindings::driver_register(drv) })
}

/// `driver_unregister(drv)`.
///
/// # Safety
///
/// `drv` must have been registered with [`driver_register`].
pub unsafe fn driver_unregister(drv: *mut bindings::device_driver) {
    // SAFETY: As the contract says.
    unsafe { bindings::driver_unregister(drv) };
}
