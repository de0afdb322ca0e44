// SPDX-License-Identifier: GPL-2.0

//! Misc devices with a fixed minor, a `/dev` sub-path and a mode.
//!
//! 7.3's [`MiscDeviceRegistration`] always asks for a dynamic minor and cannot set `nodename` or
//! `mode`; VFIO's container must be `VFIO_MINOR` at `/dev/vfio/vfio`, mode 0666. The file
//! operations are the kernel's, from [`MiscDevice`], unchanged.
//!
//! C headers: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).
//!
//! [`MiscDeviceRegistration`]: kernel::miscdevice::MiscDeviceRegistration

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    fs::LocalFile,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions, //
    },
    prelude::*,
    types::{
        ForeignOwnable,
        Opaque, //
    },
};

/// Where and how a [`FixedMiscDevice`] appears.
#[derive(Clone, Copy)]
pub struct FixedMiscOptions {
    /// Name in `/proc/misc` and sysfs.
    pub name: &'static CStr,
    /// The fixed minor number under the misc major (10).
    pub minor: u32,
    /// Path of the node below `/dev`.
    pub nodename: &'static CStr,
    /// Permission bits of the node.
    pub mode: u16,
}

/// A registered misc device with a fixed minor.
///
/// Layout-compatible with [`kernel::miscdevice::MiscDeviceRegistration`] (both are a transparent
/// `struct miscdevice`), which is what [`MiscDevice::open`] is handed.
///
/// # Invariants
///
/// `inner` is registered with `misc_register` and deregistered exactly once, on drop.
#[repr(transparent)]
#[pin_data(PinnedDrop)]
pub struct FixedMiscDevice<T> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: `misc_deregister` may be called from any thread.
unsafe impl<T> Send for FixedMiscDevice<T> {}
// SAFETY: No `&self` method mutates the device.
unsafe impl<T> Sync for FixedMiscDevice<T> {}

impl<T: MiscDevice> FixedMiscDevice<T> {
    /// Registers the device; fails with `EBUSY` if the minor is taken.
    pub fn register(opts: FixedMiscOptions) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let mut raw = MiscDeviceOptions { name: opts.name }.into_raw::<T>();
                raw.minor = opts.minor as c_int;
                raw.nodename = opts.nodename.as_char_ptr();
                raw.mode = opts.mode;
                // SAFETY: `slot` is valid for writes and pinned.
                unsafe { slot.write(raw) };
                // SAFETY: `slot` holds an initialised miscdevice that stays pinned until `drop`
                // deregisters it.
                to_result(unsafe { bindings::misc_register(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T> PinnedDrop for FixedMiscDevice<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant the device is registered.
        unsafe { bindings::misc_deregister(self.inner.get()) };
    }
}

impl<T: MiscDevice + 'static> FixedMiscDevice<T>
where
    for<'a> <T::Ptr as ForeignOwnable>::Borrowed<'a>: Into<T::Ptr>,
{
    /// The state of `file` if it was opened on this device (e.g. a container fd handed to a
    /// group), with a reference of its own; else `None`.
    pub fn file_data(&self, file: &LocalFile) -> Option<T::Ptr> {
        // SAFETY: The device is registered (type invariant) and `file` is live, so both `fops`
        // and `f_op` are readable.
        let ours = unsafe { core::ptr::eq((*file.as_ptr()).f_op, (*self.inner.get()).fops) };
        if !ours {
            return None;
        }
        // SAFETY: `misc_open` installed our fops, so `private_data` is a `T::Ptr` stored by
        // `MiscDevice::open` via `into_foreign`; the file is referenced, so not released.
        let data = unsafe { <T::Ptr as ForeignOwnable>::borrow((*file.as_ptr()).private_data) };
        Some(data.into())
    }
}
