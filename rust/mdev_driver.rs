// SPDX-License-Identifier: GPL-2.0

//! Mediated-device drivers in Rust, the driver side of `include/linux/mdev.h`: a parent device
//! offering mdev types ([`ParentRegistration`]), and the mdev driver the core binds the devices
//! created from them to ([`DriverRegistration`], implementing [`MdevDriver`]).
//!
//! Only `mdev.ko`'s four exports are called (`mdev_register_driver`, `mdev_unregister_driver`,
//! `mdev_register_parent`, `mdev_unregister_parent`), so a driver runs on upstream's C mdev core
//! and on ours. Everything calling them is generic over the driver, so it is compiled into the
//! driver's module and the library module does not depend on `mdev.ko`.
//!
//! (`kernel_ext::mdev` is the other side: the core's views of the same structs.)
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h).

use crate::{
    bindings,
    sysfs::{
        Groups,
        ShowBuf, //
    },
};
use core::{
    marker::{
        PhantomData,
        PhantomPinned, //
    },
    ptr::null_mut,
};
use kernel::{
    device::{
        self,
        Bound, //
    },
    error::to_result,
    module::ThisModule,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
    types::Opaque,
};

/// An mdev driver (`struct mdev_driver`): its devices' probe and remove, and what the core
/// shows of its types in sysfs.
#[vtable]
pub trait MdevDriver: Sized + Send + Sync + 'static {
    /// `driver.name` (`/sys/bus/mdev/drivers/<NAME>`, and the prefix of the types' names:
    /// `<NAME>-<sysfs_name>`).
    const NAME: &'static CStr;

    /// `device_api`, shown in each type's `device_api` (e.g. `vfio-pci`).
    const DEVICE_API: &'static CStr;

    /// `max_instances`: 0 when the driver counts instances itself (`get_available`).
    const MAX_INSTANCES: u32 = 0;

    /// `driver.dev_groups`: attribute groups of every bound device.
    const DEV_GROUPS: Option<Groups> = None;

    /// What the driver keeps about each of its types.
    type TypeData: Send + Sync + 'static;

    /// What `probe` returns for a device, kept until `remove` drops it.
    type Data: Send + Sync + 'static;

    /// A device of type `mtype` was created and is being bound (`probe`).
    fn probe(dev: &device::Device<Bound>, mtype: &Self::TypeData) -> Result<Self::Data>;

    /// How many more devices of `mtype` can be created (`get_available`).
    fn get_available(_mtype: &Self::TypeData) -> u32 {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Fills a type's `description` (`show_description`); the length or a negative errno.
    fn show_description(_mtype: &Self::TypeData, _buf: &mut ShowBuf) -> isize {
        build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// A registered mdev driver (`mdev_register_driver`), unregistered on drop.
///
/// # Invariants
///
/// `raw` is registered with the mdev core until drop; its callbacks treat every device they get
/// as one created from a type of a [`ParentRegistration<T>`]: only those name this driver, and
/// the mdev bus matches no driver to a device by itself (`mdev_match` is 0, so a sysfs `bind`
/// fails), the core attaches each device to its parent's driver.
#[pin_data(PinnedDrop)]
pub struct DriverRegistration<T: MdevDriver> {
    #[pin]
    raw: Opaque<bindings::mdev_driver>,
    _driver: PhantomData<T>,
}

// SAFETY: The registered struct is only read by the core after registration; it may be
// unregistered from any thread.
unsafe impl<T: MdevDriver> Send for DriverRegistration<T> {}
// SAFETY: `&self` gives no access to the struct.
unsafe impl<T: MdevDriver> Sync for DriverRegistration<T> {}

impl<T: MdevDriver> DriverRegistration<T> {
    /// Registers the driver, owned by `module`.
    pub fn new(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            raw <- Opaque::try_ffi_init(move |slot: *mut bindings::mdev_driver| {
                // SAFETY: All-zero is a valid `mdev_driver`: no callbacks, no names.
                let mut drv: bindings::mdev_driver = unsafe { core::mem::zeroed() };
                drv.device_api = T::DEVICE_API.as_char_ptr();
                drv.max_instances = T::MAX_INSTANCES;
                drv.probe = Some(Self::probe);
                drv.remove = Some(Self::remove);
                if T::HAS_GET_AVAILABLE {
                    drv.get_available = Some(Self::get_available);
                }
                if T::HAS_SHOW_DESCRIPTION {
                    drv.show_description = Some(Self::show_description);
                }
                drv.driver.name = T::NAME.as_char_ptr();
                drv.driver.owner = module.as_ptr();
                if let Some(groups) = T::DEV_GROUPS {
                    drv.driver.dev_groups = groups.as_ptr().cast_mut();
                }
                // SAFETY: `slot` is valid for writes and pinned.
                unsafe { slot.write(drv) };
                // SAFETY: The driver struct is initialised and stays pinned until `drop`
                // unregisters it; its strings and groups are static.
                to_result(unsafe { bindings::mdev_register_driver(slot) })
            }),
            _driver: PhantomData,
        })
    }

    /// # Safety
    ///
    /// `mtype` is a type of a [`ParentRegistration<T>`] (type invariant), still registered.
    unsafe fn type_data<'a>(mtype: *mut bindings::mdev_type) -> &'a T::TypeData {
        // SAFETY: Per the function contract `mtype` is the first field of a live
        // `#[repr(C)]` `MdevType<T::TypeData>`.
        unsafe { &(*mtype.cast::<MdevType<T::TypeData>>()).data }
    }

    /// # Safety
    ///
    /// Called by the mdev core to bind `mdev`, a device of one of our parents' types.
    unsafe extern "C" fn probe(mdev: *mut bindings::mdev_device) -> c_int {
        // SAFETY: `mdev` is live for the call and its type registered (function contract).
        let (dev_raw, mtype) = unsafe { (&raw mut (*mdev).dev, Self::type_data((*mdev).type_)) };
        // SAFETY: The driver core holds the device, being bound to us, for the call.
        let dev = unsafe { device::Device::<Bound>::from_raw(dev_raw) };
        let data = match T::probe(dev, mtype).and_then(|d| Ok(KBox::new(d, GFP_KERNEL)?)) {
            Ok(data) => data,
            Err(e) => return e.to_errno(),
        };
        // SAFETY: The device is bound to this driver, whose driver data this is until
        // `remove` takes it back.
        unsafe { (*dev_raw).driver_data = KBox::into_raw(data).cast() };
        0
    }

    /// # Safety
    ///
    /// Called by the mdev core to unbind `mdev`, which [`Self::probe`] bound.
    unsafe extern "C" fn remove(mdev: *mut bindings::mdev_device) {
        // SAFETY: `mdev` is live and bound to us (function contract): its driver data is ours.
        let data = unsafe { core::ptr::replace(&raw mut (*mdev).dev.driver_data, null_mut()) };
        if !data.is_null() {
            // SAFETY: `probe` stored a leaked `KBox<T::Data>` there.
            drop(unsafe { KBox::from_raw(data.cast::<T::Data>()) });
        }
    }

    /// # Safety
    ///
    /// Called by the mdev core for one of our parents' types.
    unsafe extern "C" fn get_available(mtype: *mut bindings::mdev_type) -> c_uint {
        // SAFETY: Per the function contract.
        T::get_available(unsafe { Self::type_data(mtype) })
    }

    /// # Safety
    ///
    /// As [`Self::get_available`]; `buf` is the page buffer of a sysfs `show`.
    unsafe extern "C" fn show_description(
        mtype: *mut bindings::mdev_type,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: `buf` is the page buffer of this `show` call (function contract).
        let mut buf = unsafe { ShowBuf::from_raw(buf) };
        // SAFETY: Per the function contract.
        T::show_description(unsafe { Self::type_data(mtype) }, &mut buf)
    }
}

#[pinned_drop]
impl<T: MdevDriver> PinnedDrop for DriverRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: Registered by `new` (type invariant).
        unsafe { bindings::mdev_unregister_driver(self.raw.get()) };
    }
}

/// One mdev type of a parent: `struct mdev_type` (which the core fills in and hangs its
/// kobject on), then the driver's data.
#[repr(C)]
struct MdevType<D> {
    raw: Opaque<bindings::mdev_type>,
    data: D,
}

/// A type to offer: its sysfs name (`<driver>-<sysfs_name>` under `mdev_supported_types`), its
/// `name` attribute, and the driver's data.
pub struct TypeSpec<D> {
    /// `sysfs_name`.
    pub sysfs_name: &'static CStr,
    /// `pretty_name`.
    pub pretty_name: &'static CStr,
    /// What the driver keeps about the type.
    pub data: D,
}

struct ParentInner<T: MdevDriver> {
    parent: Opaque<bindings::mdev_parent>,
    types: KVec<Pin<KBox<MdevType<T::TypeData>>>>,
    ptrs: KVec<*mut bindings::mdev_type>,
    _dev: ARef<device::Device>,
    driver: Arc<DriverRegistration<T>>,
    _pin: PhantomPinned,
}

/// A device registered as an mdev parent (`mdev_register_parent`) with its types, for driver
/// `T`; unregistered on drop, which removes the mdevs created from it.
///
/// # Invariants
///
/// `inner.parent` is registered with the core, with `inner.ptrs` (pointing to `inner.types`)
/// and `inner.driver`, until drop.
pub struct ParentRegistration<T: MdevDriver> {
    inner: Pin<KBox<ParentInner<T>>>,
}

// SAFETY: The core serialises use of a registered parent with its own locks; it may be
// unregistered from any thread; the types' data is `Send + Sync`.
unsafe impl<T: MdevDriver> Send for ParentRegistration<T> {}
// SAFETY: `&self` gives no access to the parent.
unsafe impl<T: MdevDriver> Sync for ParentRegistration<T> {}

impl<T: MdevDriver> ParentRegistration<T> {
    /// Makes `dev` an mdev parent offering `types` to `driver`'s devices.
    pub fn new<const N: usize>(
        dev: &device::Device,
        driver: &Arc<DriverRegistration<T>>,
        types: [TypeSpec<T::TypeData>; N],
    ) -> Result<Self> {
        let mut tv = KVec::with_capacity(N, GFP_KERNEL)?;
        let mut ptrs = KVec::with_capacity(N, GFP_KERNEL)?;
        for t in types {
            // SAFETY: All-zero is a valid `mdev_type` (no names, no parent, kobjects not
            // initialised), which the core initialises on registration.
            let mut raw: bindings::mdev_type = unsafe { core::mem::zeroed() };
            raw.sysfs_name = t.sysfs_name.as_char_ptr();
            raw.pretty_name = t.pretty_name.as_char_ptr();
            let b = KBox::pin(
                MdevType {
                    raw: Opaque::new(raw),
                    data: t.data,
                },
                GFP_KERNEL,
            )?;
            ptrs.push(b.raw.get(), GFP_KERNEL)?;
            tv.push(b, GFP_KERNEL)?;
        }
        let inner = KBox::pin(
            ParentInner {
                parent: Opaque::zeroed(),
                types: tv,
                ptrs,
                _dev: dev.into(),
                driver: driver.clone(),
                _pin: PhantomPinned,
            },
            GFP_KERNEL,
        )?;
        let nr = u32::try_from(N).map_err(|_| EINVAL)?;
        // `device::Device` is a transparent wrapper of `struct device`.
        let raw_dev: *mut bindings::device = core::ptr::from_ref(dev).cast_mut().cast();
        // SAFETY: `inner` is pinned and outlives the registration (dropped only after
        // `mdev_unregister_parent`); the device is referenced by `_dev`, the driver by
        // `driver` (registered), and `ptrs` holds `N` pointers to the pinned types.
        to_result(unsafe {
            bindings::mdev_register_parent(
                inner.parent.get(),
                raw_dev,
                inner.driver.raw.get(),
                inner.ptrs.as_ptr().cast_mut(),
                nr,
            )
        })?;
        // INVARIANT: Registered just now.
        Ok(Self { inner })
    }

    /// The types' data, in registration order.
    pub fn types(&self) -> impl Iterator<Item = &T::TypeData> + '_ {
        self.inner.types.iter().map(|t| &t.data)
    }
}

impl<T: MdevDriver> Drop for ParentRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant); this removes the parent's devices and types.
        unsafe { bindings::mdev_unregister_parent(self.inner.parent.get()) };
    }
}
