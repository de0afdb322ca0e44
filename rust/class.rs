// SPDX-License-Identifier: GPL-2.0

//! Device classes whose device nodes live in a `/dev` sub-directory.
//!
//! C headers: [`include/linux/device/class.h`](srctree/include/linux/device/class.h).

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
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
