// SPDX-License-Identifier: GPL-2.0

//! Device classes: those whose device nodes live in a `/dev` sub-directory ([`Class`]), and
//! classes of node-less devices ([`NamedClass`], [`ClassDevice`]).
//!
//! C headers: [`include/linux/device/class.h`](srctree/include/linux/device/class.h).

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    sync::Arc,
    types::Opaque, //
};

/// Static description of a class: its sysfs name and the `/dev` directory of its nodes.
pub trait ClassInfo {
    /// Name under `/sys/class/`.
    const NAME: &'static CStr;
    /// Device nodes are created as `/dev/<DEVNODE_DIR>/<device name>`.
    const DEVNODE_DIR: &'static CStr;
}

/// A registered `struct class`.
///
/// # Invariants
///
/// `inner` is registered with `class_register` and unregistered exactly once, on drop; it is
/// pinned, as the driver core keeps pointers to it while registered.
#[pin_data(PinnedDrop)]
pub struct Class<T: ClassInfo> {
    #[pin]
    inner: Opaque<bindings::class>,
    _info: PhantomData<T>,
}

// SAFETY: The driver core serialises access to a registered class; `class_unregister` may be
// called from any thread.
unsafe impl<T: ClassInfo> Send for Class<T> {}
// SAFETY: No `&self` method mutates the class.
unsafe impl<T: ClassInfo> Sync for Class<T> {}

impl<T: ClassInfo> Class<T> {
    /// Registers the class.
    pub fn register() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(|slot: *mut bindings::class| {
                let class = bindings::class {
                    name: T::NAME.as_char_ptr(),
                    devnode: Some(devnode::<T>),
                    ..Default::default()
                };
                // SAFETY: `slot` is valid for writes and pinned.
                unsafe { slot.write(class) };
                // SAFETY: `slot` holds an initialised class that stays pinned until `drop`
                // unregisters it.
                to_result(unsafe { bindings::class_register(slot) })
            }),
            _info: PhantomData,
        })
    }

    /// The raw class, for creating devices in it.
    pub fn as_raw(&self) -> *mut bindings::class {
        self.inner.get()
    }
}

#[pinned_drop]
impl<T: ClassInfo> PinnedDrop for Class<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the class is registered.
        unsafe { bindings::class_unregister(self.inner.get()) };
    }
}

/// `devnode` callback: `<DEVNODE_DIR>/<device name>`, allocated as the driver core expects.
///
/// # Safety
///
/// `dev` must be a valid device of a class registered by [`Class<T>`].
unsafe extern "C" fn devnode<T: ClassInfo>(
    dev: *const bindings::device,
    _mode: *mut bindings::umode_t,
) -> *mut c_char {
    // SAFETY: `dev` is valid per the function contract, so `dev_name` returns a valid string;
    // the format consumes exactly the two string arguments given.
    unsafe {
        bindings::kasprintf(
            bindings::GFP_KERNEL,
            c"%s/%s".as_char_ptr(),
            T::DEVNODE_DIR.as_char_ptr(),
            bindings::dev_name(dev),
        )
    }
}

/// A registered `struct class` with only a name (`class_register`): its devices get no `/dev`
/// node (upstream's sample classes, e.g. `mtty`).
///
/// # Invariants
///
/// `inner` is registered and unregistered exactly once, on drop; it is pinned.
#[pin_data(PinnedDrop)]
pub struct NamedClass {
    #[pin]
    inner: Opaque<bindings::class>,
}

// SAFETY: As for `Class`.
unsafe impl Send for NamedClass {}
// SAFETY: As for `Class`.
unsafe impl Sync for NamedClass {}

impl NamedClass {
    /// Registers the class `/sys/class/<name>`.
    pub fn register(name: &'static CStr) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::class| {
                let class = bindings::class {
                    name: name.as_char_ptr(),
                    ..Default::default()
                };
                // SAFETY: `slot` is valid for writes and pinned.
                unsafe { slot.write(class) };
                // SAFETY: `slot` holds an initialised class that stays pinned until `drop`
                // unregisters it.
                to_result(unsafe { bindings::class_register(slot) })
            }),
        })
    }
}

#[pinned_drop]
impl PinnedDrop for NamedClass {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the class is registered.
        unsafe { bindings::class_unregister(self.inner.get()) };
    }
}

/// A device of a [`NamedClass`] with no parent, no device number and no driver data
/// (`device_create(class, NULL, 0, NULL, "%s", name)`), unregistered on drop.
///
/// # Invariants
///
/// `dev` was returned by `device_create` and is unregistered only by `drop`; `class` keeps the
/// class registered meanwhile.
pub struct ClassDevice {
    dev: core::ptr::NonNull<bindings::device>,
    _class: Arc<NamedClass>,
}

// SAFETY: A registered device may be used and unregistered from any thread.
unsafe impl Send for ClassDevice {}
// SAFETY: `&self` only reaches the refcounted `device::Device`.
unsafe impl Sync for ClassDevice {}

impl ClassDevice {
    /// Creates and registers `/sys/devices/virtual/<class>/<name>`.
    pub fn new(class: Arc<NamedClass>, name: &CStr) -> Result<Self> {
        // SAFETY: The class is registered (its type invariant); the format consumes exactly
        // the one string argument given.
        let dev = unsafe {
            bindings::device_create(
                class.inner.get(),
                core::ptr::null_mut(),
                0,
                core::ptr::null_mut(),
                c"%s".as_char_ptr(),
                name.as_char_ptr(),
            )
        };
        let dev = kernel::error::from_err_ptr(dev)?;
        // INVARIANT: `device_create` registered it.
        Ok(Self {
            dev: core::ptr::NonNull::new(dev).ok_or(ENOMEM)?,
            _class: class,
        })
    }

    /// The device.
    pub fn device(&self) -> &kernel::device::Device {
        // SAFETY: Registered, so live, until `drop` (type invariant).
        unsafe { kernel::device::Device::from_raw(self.dev.as_ptr()) }
    }
}

impl Drop for ClassDevice {
    fn drop(&mut self) {
        // SAFETY: Registered by `device_create` and not unregistered yet (type invariant).
        unsafe { bindings::device_unregister(self.dev.as_ptr()) };
    }
}
