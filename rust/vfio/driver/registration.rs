// SPDX-License-Identifier: GPL-2.0

//! Registering a driver's devices with the core, as RAII: unregistered (waiting for their
//! users, whom the core asks through `request`) when the [`Registration`] drops.

use super::{
    ops::Ops,
    Binding,
    Device,
    Driver, //
};
use crate::bindings;
use core::ptr::NonNull;
use kernel::{
    device,
    prelude::*, //
};

/// Identity of a device set: devices registered with the same key share one set (and so
/// one mutex, and first-open/last-close across all of them).
pub struct SetKey(#[expect(dead_code, reason = "only its address matters")] u8);

impl SetKey {
    /// A key; give it a `static` home so its address stays unique.
    #[expect(
        clippy::new_without_default,
        reason = "not a value type: `Default` would invite copies"
    )]
    pub const fn new() -> Self {
        Self(0)
    }
}

/// Which device set a device joins.
pub enum DevSet {
    /// A set of its own (the core's default).
    Own,
    /// The set of every device registered with this key.
    Shared(&'static SetKey),
}

/// A registered device.
///
/// # Invariants
///
/// `dev` is registered with the core, its data initialised, and this object owns one
/// reference on it.
pub struct Registration<T: Driver> {
    dev: NonNull<Device<T>>,
}

// SAFETY: The device is shared with the core, which calls it from any thread; `T: Send + Sync`.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: As above.
unsafe impl<T: Driver> Sync for Registration<T> {}

/// The raw `struct device` of a device.
fn raw_device<Ctx: device::DeviceContext>(dev: &device::Device<Ctx>) -> *mut bindings::device {
    // `device::Device` is a transparent wrapper of `struct device`.
    core::ptr::from_ref(dev).cast_mut().cast()
}

impl<T: Driver> Registration<T> {
    /// Registers a device doing its DMA through the CPU under `parent`, which must have no
    /// IOMMU group (the core gives it one): `vfio_register_emulated_iommu_dev`.
    pub fn new_emulated<E>(
        parent: &device::Device<device::Bound>,
        data: impl PinInit<T, E>,
        set: DevSet,
    ) -> Result<Self>
    where
        Error: From<E>,
    {
        const { assert!(matches!(T::BINDING, Binding::Emulated)) };
        Self::new(parent, data, set)
    }

    /// Registers a device the IOMMU translates for, in `parent`'s IOMMU group:
    /// `vfio_register_group_dev`.
    pub fn new_physical<E>(
        parent: &device::Device<device::Bound>,
        data: impl PinInit<T, E>,
        set: DevSet,
    ) -> Result<Self>
    where
        Error: From<E>,
    {
        const { assert!(matches!(T::BINDING, Binding::Physical { .. })) };
        Self::new(parent, data, set)
    }

    /// Allocates the device (`_vfio_alloc_device`), initialises its data, puts it in its set
    /// and registers it as [`Driver::BINDING`] says.
    fn new<E>(
        parent: &device::Device<device::Bound>,
        data: impl PinInit<T, E>,
        set: DevSet,
    ) -> Result<Self>
    where
        Error: From<E>,
    {
        let ops: &'static bindings::vfio_device_ops = &Ops::<T>::DEVICE;
        // SAFETY: `parent` is a bound device; the size covers `Device<T>`, whose first field is
        // the `vfio_device`; `ops` is static.
        let vdev = unsafe {
            bindings::_vfio_alloc_device(size_of::<Device<T>>(), raw_device(parent), ops)
        };
        let vdev = kernel::error::from_err_ptr(vdev)?;
        let dev = vdev.cast::<Device<T>>();
        // SAFETY: The allocation is a zeroed `Device<T>` (so `data_live` is false) that nobody
        // else uses yet; on failure `data` stays uninitialised and our reference is dropped
        // (`release` then skips it).
        if let Err(e) = unsafe { pin_init::raw_try_init(&raw mut (*dev).data, data) } {
            // SAFETY: Our allocation reference.
            unsafe { bindings::put_device(&raw mut (*vdev).device) };
            return Err(e.into());
        }
        let mig: Option<&'static bindings::vfio_migration_ops> = Ops::<T>::MIGRATION.as_ref();
        let log: Option<&'static bindings::vfio_log_ops> = Ops::<T>::LOG.as_ref();
        // SAFETY: Not registered yet, so these fields are ours to write (drivers set them before
        // registering); the tables are static.
        unsafe {
            (*dev).data_live = true;
            (*vdev).migration_flags = T::MIGRATION_FLAGS;
            (*vdev).mig_ops = mig.map_or(core::ptr::null(), core::ptr::from_ref);
            (*vdev).log_ops = log.map_or(core::ptr::null(), core::ptr::from_ref);
        }
        let ret = match set {
            DevSet::Own => 0,
            // SAFETY: Allocated and not registered; the key is static.
            DevSet::Shared(key) => unsafe {
                bindings::vfio_assign_device_set(vdev, core::ptr::from_ref(key).cast_mut().cast())
            },
        };
        let ret = kernel::error::to_result(ret).and_then(|()| {
            // SAFETY: Allocated, data initialised, in a set, not registered.
            kernel::error::to_result(unsafe {
                match T::BINDING {
                    Binding::Physical { .. } => bindings::vfio_register_group_dev(vdev),
                    Binding::Emulated => bindings::vfio_register_emulated_iommu_dev(vdev),
                }
            })
        });
        if let Err(e) = ret {
            // SAFETY: Our allocation reference; its release drops `data`.
            unsafe { bindings::put_device(&raw mut (*vdev).device) };
            return Err(e);
        }
        // INVARIANT: Registered, `data` initialised, and we own the allocation's reference.
        Ok(Self {
            // SAFETY: `from_err_ptr` returned a non-null pointer.
            dev: unsafe { NonNull::new_unchecked(dev) },
        })
    }

    /// The device.
    pub fn device(&self) -> &Device<T> {
        // SAFETY: The device is live while registered (type invariant).
        unsafe { self.dev.as_ref() }
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        let vdev = self.device().vdev();
        // SAFETY: Registered (type invariant); this waits for every user to close it, asking
        // them through `request` if the driver has it.
        unsafe { bindings::vfio_unregister_group_dev(vdev) };
        // SAFETY: We own one reference (type invariant); `self` is not used after.
        unsafe { bindings::put_device(&raw mut (*vdev).device) };
    }
}
