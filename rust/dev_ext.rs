// SPDX-License-Identifier: GPL-2.0

//! A view of any `struct device` for code that manages devices of its own bus: names,
//! children, driver binding, reference counts.
//!
//! `kernel::device::Device` hides its raw pointer from other crates; [`Dev`] is the same
//! transparent wrapper with the accessors a bus implementation needs, and converts to it for
//! `dev_info!` and friends.
//!
//! C header: [`include/linux/device.h`](srctree/include/linux/device.h).

use crate::kobject::Kobject;
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::aref::AlwaysRefCounted,
    types::Opaque, //
};

/// A `struct device`.
///
/// # Invariants
///
/// A shared reference to a [`Dev`] means the device is initialised (`device_initialize`) and
/// alive for the reference's lifetime.
#[repr(transparent)]
pub struct Dev(Opaque<bindings::device>);

// SAFETY: Devices are reference-counted and usable from any thread.
unsafe impl Send for Dev {}
// SAFETY: The driver core locks what `&self` methods touch.
unsafe impl Sync for Dev {}

// SAFETY: `get_device`/`put_device` manage the device's reference count.
unsafe impl AlwaysRefCounted for Dev {
    fn inc_ref(&self) {
        // SAFETY: The device is alive (type invariant).
        unsafe { bindings::get_device(self.as_raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller gives up a reference it owns.
        unsafe { bindings::put_device(obj.cast().as_ptr()) };
    }
}

impl Dev {
    /// The device at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an initialised device that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::device) -> &'a Self {
        // SAFETY: `Dev` is a transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The raw device.
    pub fn as_raw(&self) -> *mut bindings::device {
        self.0.get()
    }

    /// Its kobject.
    pub fn kobj(&self) -> &Kobject {
        // SAFETY: The device is alive (type invariant), and so is its embedded kobject.
        unsafe { Kobject::from_raw(&raw mut (*self.as_raw()).kobj) }
    }

    /// `dev_name()`.
    pub fn name(&self) -> &CStr {
        // SAFETY: The device is alive (type invariant); its name is a valid string while it is.
        unsafe { CStr::from_char_ptr(bindings::dev_name(self.as_raw())) }
    }

    /// `dev_driver_string()`: the bound driver's name, else the bus's, else the class's.
    pub fn driver_string(&self) -> &CStr {
        // SAFETY: The device is alive (type invariant); the string is static or the device's.
        unsafe { CStr::from_char_ptr(bindings::dev_driver_string(self.as_raw())) }
    }

    /// Whether the device sits on `bus`.
    pub fn is_on_bus(&self, bus: *const bindings::bus_type) -> bool {
        // SAFETY: The device is alive (type invariant); `bus` is set before `device_add`.
        core::ptr::eq(unsafe { (*self.as_raw()).bus }, bus)
    }

    /// Calls `f` on each child (`device_for_each_child`), under the driver core's klist
    /// iteration (children may be deleted meanwhile, each stays alive during its call).
    pub fn for_each_child<F: FnMut(&Dev)>(&self, mut f: F) {
        /// Calls the closure behind `data` on `dev`.
        ///
        /// # Safety
        ///
        /// `data` must be the `&mut F` of the iteration, `dev` a child it holds a reference on.
        unsafe extern "C" fn call<F: FnMut(&Dev)>(
            dev: *mut bindings::device,
            data: *mut c_void,
        ) -> c_int {
            // SAFETY: `data` is the `&mut F` below, alive for the iteration.
            let f = unsafe { &mut *data.cast::<F>() };
            // SAFETY: The iterator holds a reference on the child during the call.
            f(unsafe { Dev::from_raw(dev) });
            0
        }
        let data: *mut c_void = (&raw mut f).cast();
        // SAFETY: The device is alive (type invariant); `call::<F>` matches `data`.
        unsafe { bindings::device_for_each_child(self.as_raw(), data, Some(call::<F>)) };
    }

    /// `device_driver_attach(drv, self)`.
    ///
    /// # Safety
    ///
    /// `drv` must be a registered driver of this device's bus.
    pub unsafe fn driver_attach(&self, drv: *const bindings::device_driver) -> Result {
        // SAFETY: The device is alive; `drv` is registered (the contract).
        to_result(unsafe { bindings::device_driver_attach(drv, self.as_raw()) })
    }

    /// `device_remove_file_self()`: removes `attr` from within its own `store`; true only for
    /// the one caller that removed it.
    ///
    /// # Safety
    ///
    /// Must be called from the `store` callback of `attr` on this device.
    pub unsafe fn remove_file_self(&self, attr: *const bindings::device_attribute) -> bool {
        // SAFETY: As the contract says.
        unsafe { bindings::device_remove_file_self(self.as_raw(), attr) }
    }
}

impl AsRef<kernel::device::Device> for Dev {
    fn as_ref(&self) -> &kernel::device::Device {
        // SAFETY: The device is alive for the borrow (type invariant).
        unsafe { kernel::device::Device::from_raw(self.as_raw()) }
    }
}
