// SPDX-License-Identifier: GPL-2.0

//! The mediated-device ABI objects of `include/linux/mdev.h`, as `mdev.ko` sees them.
//!
//! mdev drivers own `struct mdev_parent`, `struct mdev_type` and `struct mdev_driver` (they
//! embed them in their own state) and receive `struct mdev_device`s the core allocates. The
//! views here are transparent wrappers of bindgen's layouts (checked against C in
//! [`layout`]); the core's own rules (who may create, remove, unregister) are in
//! `drivers/vfio/mdev/`.
//!
//! C header: [`include/linux/mdev.h`](srctree/include/linux/mdev.h).

pub use crate::bindings;
mod layout;

use crate::{
    bus::{
        self,
        BusMatch,
        BusProbe,
        BusRemove,
        BusType, //
    },
    dev_ext::Dev,
    guid::Guid,
    kobject::{
        Kobject,
        Kset,
        OwnedKobject, //
    },
    rwsem::RwSem,
    sysfs::{
        GroupList,
        KobjType,
        ShowBuf, //
    },
};
use core::{
    mem::offset_of,
    ptr::NonNull,
    sync::atomic::AtomicI32, //
};
use kernel::{
    error::to_result,
    prelude::*,
    sync::aref::{
        ARef,
        AlwaysRefCounted, //
    },
    types::Opaque, //
};

/// The mdev bus (`mdev_bus_type`).
///
/// # Invariants
///
/// Devices and drivers join this bus only through [`Device::new`] and [`Driver::register`], so
/// every device on it is the `dev` of a [`Device`] and every driver the `driver` of a
/// [`Driver`].
#[repr(transparent)]
pub struct Bus(BusType);

impl Bus {
    /// The bus named `name` (upstream's `mdev`).
    ///
    /// # Safety
    ///
    /// The bus type must not be handed to C code that adds devices or drivers to it other than
    /// through [`Device::new`] and [`Driver::register`] (it is not exported).
    pub const unsafe fn new(
        name: &'static CStr,
        match_: BusMatch,
        probe: BusProbe,
        remove: BusRemove,
    ) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self(BusType::new(name, match_, probe, remove))
    }

    /// The bus type, to register it.
    pub fn bus_type(&'static self) -> &'static BusType {
        &self.0
    }
}

/// The `kobj_type` of mdev types' kobjects.
///
/// # Invariants
///
/// Its callbacks treat every kobject of this ktype as the `kobj` of a [`Type`], and its
/// release calls [`Type::release`].
#[repr(transparent)]
pub struct TypeKtype(KobjType);

impl TypeKtype {
    /// Wraps `ktype`.
    ///
    /// # Safety
    ///
    /// `ktype`'s callbacks must satisfy the type invariant.
    pub const unsafe fn new(ktype: KobjType) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self(ktype)
    }
}

/// A `struct mdev_driver`, owned by its C (or Rust) driver module.
///
/// # Invariants
///
/// A shared reference means the driver struct is valid for the reference's lifetime and its
/// callbacks may be called.
#[repr(transparent)]
pub struct Driver(Opaque<bindings::mdev_driver>);

// SAFETY: The driver struct is read-only after registration; its callbacks are thread-safe by
// the mdev driver contract.
unsafe impl Sync for Driver {}

impl Driver {
    /// The driver at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct mdev_driver` that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_driver) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn raw(&self) -> &bindings::mdev_driver {
        // SAFETY: Valid for the borrow (type invariant); the fields read are not written while
        // the driver is in use.
        unsafe { &*self.0.get() }
    }

    /// `device_api`, if the driver set it.
    pub fn device_api(&self) -> Option<&CStr> {
        let p = self.raw().device_api;
        // SAFETY: A non-null `device_api` is a string the driver keeps alive.
        (!p.is_null()).then(|| unsafe { CStr::from_char_ptr(p) })
    }

    /// `max_instances`.
    pub fn max_instances(&self) -> u32 {
        self.raw().max_instances
    }

    /// Whether the driver counts instances itself (`get_available`).
    pub fn counts_instances(&self) -> bool {
        self.raw().get_available.is_some()
    }

    /// `get_available(mtype)`, `None` without the callback.
    pub fn get_available(&self, mtype: &Type) -> Option<u32> {
        let f = self.raw().get_available?;
        // SAFETY: The type is one of this driver's registered types, alive for the call.
        Some(unsafe { f(mtype.as_raw()) })
    }

    /// Whether the driver has `show_description`.
    pub fn has_description(&self) -> bool {
        self.raw().show_description.is_some()
    }

    /// `show_description(mtype, buf)`, `-EIO` without the callback.
    pub fn show_description(&self, mtype: &Type, buf: &mut ShowBuf) -> isize {
        match self.raw().show_description {
            // SAFETY: The type is alive; `buf` is the `show` page buffer.
            Some(f) => unsafe { f(mtype.as_raw(), buf.as_ptr()) },
            None => EIO.to_errno() as isize,
        }
    }

    /// `probe(mdev)`: 0 without the callback.
    pub fn probe(&self, mdev: &Device) -> Result {
        match self.raw().probe {
            // SAFETY: The device is alive and being bound to this driver.
            Some(f) => to_result(unsafe { f(mdev.as_raw()) }),
            None => Ok(()),
        }
    }

    /// `remove(mdev)`, if the driver has it.
    pub fn remove(&self, mdev: &Device) {
        if let Some(f) = self.raw().remove {
            // SAFETY: The device is alive and being unbound from this driver.
            unsafe { f(mdev.as_raw()) };
        }
    }

    fn device_driver(&self) -> *mut kernel::bindings::device_driver {
        // SAFETY: The struct is valid (type invariant); this only computes a field address.
        unsafe { &raw mut (*self.0.get()).driver }
    }

    /// `driver_register()` on `bus`.
    ///
    /// # Safety
    ///
    /// The driver must stay valid until [`Driver::unregister`], which its owner must call.
    pub unsafe fn register(&self, bus: &'static Bus) -> Result {
        // SAFETY: The driver struct lives until unregistration (the contract); the bus is
        // registered while `mdev.ko` is loaded, which the importing driver module pins.
        unsafe { bus::driver_register(self.device_driver(), &bus.0) }
    }

    /// `driver_unregister()`.
    ///
    /// # Safety
    ///
    /// The driver must have been registered with [`Driver::register`].
    pub unsafe fn unregister(&self) {
        // SAFETY: As the contract says.
        unsafe { bus::driver_unregister(self.device_driver()) };
    }
}

/// A `struct mdev_parent`, embedded in its driver's state.
///
/// # Invariants
///
/// A shared reference means the parent was initialised by [`Parent::init`] and stays valid
/// for the reference's lifetime (upstream's contract: until `mdev_unregister_parent`
/// returns). Its fields other than the semaphore and the counter are written only while it is
/// registered or unregistered, which its driver does not race with anything else.
#[repr(transparent)]
pub struct Parent(Opaque<bindings::mdev_parent>);

// SAFETY: Shared use goes through the semaphore, the atomic counter and read-only fields.
unsafe impl Sync for Parent {}

impl Parent {
    /// `mdev_register_parent`'s first step: zeroes the struct and fills it in, with
    /// `available_instances = max_instances` and the semaphore initialised.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for writes and not in use; `dev` must be a live device the caller
    /// holds a reference on; `driver` and the `nr_types` entries of `types` must be valid and
    /// stay so, like `ptr`, until the parent is unregistered.
    pub unsafe fn init<'a>(
        ptr: *mut bindings::mdev_parent,
        dev: *mut kernel::bindings::device,
        driver: *mut bindings::mdev_driver,
        types: *mut *mut bindings::mdev_type,
        nr_types: u32,
    ) -> &'a Self {
        // SAFETY: `ptr` is writable (the contract); all-zero is a valid `mdev_parent`.
        unsafe { ptr.write_bytes(0, 1) };
        // SAFETY: The semaphore field is writable and unused.
        unsafe {
            RwSem::init(
                &raw mut (*ptr).unreg_sem,
                c"&parent->unreg_sem",
                kernel::static_lock_class!(),
            )
        };
        // SAFETY: `ptr` and `driver` are valid (the contract).
        unsafe {
            (*ptr).dev = dev;
            (*ptr).mdev_driver = driver;
            (*ptr).types = types;
            (*ptr).nr_types = nr_types;
            // CAST: upstream's `atomic_set(&..., max_instances)` converts the same way.
            (*ptr).available_instances.counter = (*driver).max_instances as i32;
        }
        // SAFETY: Initialised above; alive as long as the caller's contract says.
        unsafe { Self::from_raw(ptr) }
    }

    /// The parent at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a parent initialised by [`Parent::init`] and valid for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_parent) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::mdev_parent {
        self.0.get()
    }

    /// The parent device.
    pub fn dev(&self) -> &Dev {
        // SAFETY: The driver holds a reference on `dev` while the parent is registered.
        unsafe { Dev::from_raw((*self.raw()).dev) }
    }

    /// The parent's mdev driver.
    pub fn driver(&self) -> &Driver {
        // SAFETY: Valid while the parent is (the `init` contract).
        unsafe { Driver::from_raw((*self.raw()).mdev_driver) }
    }

    /// The parent's types.
    pub fn types(&self) -> impl Iterator<Item = &Type> + '_ {
        // SAFETY: `types` has `nr_types` valid entries while the parent is registered.
        let (types, n) = unsafe { ((*self.raw()).types, (*self.raw()).nr_types) };
        // CAST: `u32` to `usize` is lossless on every supported target.
        (0..n as usize).map(move |i| {
            // SAFETY: `i < nr_types`; each entry is a valid type (the `init` contract).
            unsafe { Type::from_raw(*types.add(i)) }
        })
    }

    /// `unreg_sem`: creation and removal hold it for reading, unregistration for writing.
    pub fn unreg_sem(&self) -> &RwSem {
        // SAFETY: Initialised by `init`, alive with the parent.
        unsafe { RwSem::from_raw(&raw mut (*self.raw()).unreg_sem) }
    }

    /// `available_instances` (used when the driver has no `get_available`).
    pub fn available(&self) -> &AtomicI32 {
        // SAFETY: The counter is an aligned `int` alive with the parent, only accessed
        // atomically (C reads it with `atomic_read`).
        unsafe { AtomicI32::from_ptr(&raw mut (*self.raw()).available_instances.counter) }
    }

    /// Stores the `mdev_supported_types` kset in the struct.
    fn set_types_kset(&self, kset: Kset) {
        // SAFETY: Written only during registration (type invariant).
        unsafe { (*self.raw()).mdev_types_kset = kset.into_raw() };
    }

    /// Takes the `mdev_supported_types` kset back out of the struct.
    fn take_types_kset(&self) -> Option<Kset> {
        // SAFETY: Written only during (un)registration (type invariant); the pointer came from
        // `set_types_kset` and is cleared here, so it is taken back once.
        unsafe {
            let p = core::mem::replace(&mut (*self.raw()).mdev_types_kset, core::ptr::null_mut());
            Kset::from_raw(p)
        }
    }

    /// `parent_create_sysfs_files`: the `mdev_supported_types` kset and one directory per
    /// type. `EBUSY` if they exist already.
    pub fn add_types(&self, ktype: &'static TypeKtype) -> Result {
        // SAFETY: Written only during (un)registration (type invariant).
        if !unsafe { (*self.raw()).mdev_types_kset }.is_null() {
            return Err(EBUSY);
        }
        let kset = Kset::create_and_add(c"mdev_supported_types", self.dev().kobj())?;
        for (i, t) in self.types().enumerate() {
            // SAFETY: The parent's types are not added while its kset is unset (checked
            // above); `ktype` is a type ktype by its invariant.
            if let Err(e) = unsafe { t.add(self, kset.as_ptr(), &ktype.0) } {
                for t in self.types().take(i) {
                    // SAFETY: These were added above.
                    unsafe { t.remove() };
                }
                return Err(e);
            }
        }
        self.set_types_kset(kset);
        Ok(())
    }

    /// `parent_remove_sysfs_files`: undoes [`Parent::add_types`]; nothing if it did not run.
    pub fn remove_types(&self) {
        let Some(kset) = self.take_types_kset() else {
            return;
        };
        for t in self.types() {
            // SAFETY: `add_types` added every type before setting the kset, taken back once.
            unsafe { t.remove() };
        }
        drop(kset);
    }
}

/// A `struct mdev_type`, embedded in its driver's state.
///
/// # Invariants
///
/// A shared reference means the type is valid for the reference's lifetime. Once added
/// ([`Type::add`]) its kobject is initialised, and its `parent` and `devices_kobj` are set
/// until [`Type::remove`].
#[repr(transparent)]
pub struct Type(Opaque<bindings::mdev_type>);

// SAFETY: After registration the type is read-only but for its kobject's refcount.
unsafe impl Sync for Type {}

impl Type {
    /// The type at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid type that stays alive for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::mdev_type) -> &'a Self {
        // SAFETY: Transparent wrapper; validity is the caller's contract.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The type whose kobject is `kobj`.
    ///
    /// # Safety
    ///
    /// `kobj` must be the kobject of an added type (one with the ktype [`Type::add`] was
    /// given), alive for `'a`.
    pub unsafe fn from_kobj<'a>(kobj: *mut kernel::bindings::kobject) -> &'a Self {
        // SAFETY: `kobj` is embedded in a `struct mdev_type` (the contract).
        unsafe {
            Self::from_raw(
                kobj.byte_sub(offset_of!(bindings::mdev_type, kobj))
                    .cast::<bindings::mdev_type>(),
            )
        }
    }

    fn as_raw(&self) -> *mut bindings::mdev_type {
        self.0.get()
    }

    /// `sysfs_name`.
    pub fn sysfs_name(&self) -> &CStr {
        // SAFETY: The driver sets it to a valid string before registering the parent.
        unsafe { CStr::from_char_ptr((*self.as_raw()).sysfs_name) }
    }

    /// `pretty_name`, if set.
    pub fn pretty_name(&self) -> Option<&CStr> {
        // SAFETY: The type is valid (type invariant).
        let p = unsafe { (*self.as_raw()).pretty_name };
        // SAFETY: A non-null `pretty_name` is a valid string the driver keeps.
        (!p.is_null()).then(|| unsafe { CStr::from_char_ptr(p) })
    }

    /// The parent of an added type.
    pub fn parent(&self) -> &Parent {
        // SAFETY: Set by `add` (type invariant) to a parent that outlives its types' use.
        unsafe { Parent::from_raw((*self.as_raw()).parent) }
    }

    /// The type's own kobject (`<parent>/mdev_supported_types/<name>`).
    pub fn kobj(&self) -> &Kobject {
        // SAFETY: Initialised by `add` (type invariant).
        unsafe { Kobject::from_raw(&raw mut (*self.as_raw()).kobj) }
    }

    /// Its `devices` directory.
    pub fn devices_kobj(&self) -> &Kobject {
        // SAFETY: Set by `add` until `remove` (type invariant).
        unsafe { Kobject::from_raw((*self.as_raw()).devices_kobj) }
    }

    /// `mdev_type_add`: `<dev_driver_string(parent)>-<sysfs_name>` in the parent's types kset,
    /// with `ktype`, and its `devices` directory. Takes a reference on the parent device that
    /// the ktype's release must drop ([`Type::release`]).
    ///
    /// # Safety
    ///
    /// The type must be one of `parent`'s, not added yet; `ktype`'s callbacks must treat the
    /// kobject as a type's; `kset` must be the parent's types kset.
    unsafe fn add(
        &self,
        parent: &Parent,
        kset: *mut kernel::bindings::kset,
        ktype: &'static KobjType,
    ) -> Result {
        let t = self.as_raw();
        // SAFETY: The type is valid and not added yet, so nothing else touches it.
        unsafe {
            (*t).kobj.kset = kset;
            (*t).parent = parent.raw();
        }
        parent.dev().inc_ref();
        // SAFETY: The kobject is not initialised yet; the format consumes the two strings.
        let ret = unsafe {
            kernel::bindings::kobject_init_and_add(
                &raw mut (*t).kobj,
                ktype.as_ptr(),
                core::ptr::null_mut(),
                c"%s-%s".as_char_ptr(),
                parent.dev().driver_string().as_char_ptr(),
                self.sysfs_name().as_char_ptr(),
            )
        };
        if ret != 0 {
            // SAFETY: `kobject_init_and_add` initialised the kobject even on failure; its
            // release (the ktype's) drops the device reference.
            unsafe { self.kobj().put() };
            return to_result(ret);
        }
        match OwnedKobject::create_and_add(c"devices", self.kobj()) {
            Ok(devices) => {
                // SAFETY: The type is being added; no one reads `devices_kobj` yet.
                unsafe { (*t).devices_kobj = devices.into_raw() };
                Ok(())
            }
            Err(e) => {
                // SAFETY: The kobject was added above and this is our reference.
                unsafe {
                    kernel::bindings::kobject_del(self.kobj().as_ptr());
                    self.kobj().put();
                }
                Err(e)
            }
        }
    }

    /// `mdev_type_remove`: the `devices` directory, then the type's directory and the
    /// reference `add` took.
    ///
    /// # Safety
    ///
    /// The type must have been added, and is removed once.
    unsafe fn remove(&self) {
        // SAFETY: Set by `add` from `OwnedKobject::into_raw`; cleared so it is taken once.
        drop(unsafe {
            OwnedKobject::from_raw(core::mem::replace(
                &mut (*self.as_raw()).devices_kobj,
                core::ptr::null_mut(),
            ))
        });
        // SAFETY: Added (the contract); this drops the initial reference.
        unsafe {
            kernel::bindings::kobject_del(self.kobj().as_ptr());
            self.kobj().put();
        }
    }

    /// The ktype's release: drops the parent device reference [`Type::add`] took.
    ///
    /// # Safety
    ///
    /// Called once, from the type kobject's release.
    pub unsafe fn release(&self) {
        let parent = self.parent().dev();
        // SAFETY: `add` took this reference for the kobject, whose life ends here.
        unsafe { <Dev as AlwaysRefCounted>::dec_ref(NonNull::from(parent)) };
    }
}

/// A `struct mdev_device`, allocated by [`Device::new`].
///
/// # Invariants
///
/// A shared reference means the device is initialised and alive (its `struct device` holds a
/// reference for the borrow); its `type` is set and holds a reference on the type's kobject
/// until the device's release.
#[repr(transparent)]
pub struct Device(Opaque<bindings::mdev_device>);

// SAFETY: Devices are reference-counted and usable from any thread.
unsafe impl Send for Device {}
// SAFETY: `&self` methods only read fields set before `device_add` or write `active`, which the
// core serialises with its list lock.
unsafe impl Sync for Device {}

// SAFETY: The embedded `struct device` counts the references.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        self.dev().inc_ref();
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: `dev` is the first member; the caller gives up a reference it owns.
        unsafe { <Dev as AlwaysRefCounted>::dec_ref(obj.cast()) };
    }
}

/// The `release` of an mdev's `struct device`.
pub type DeviceRelease = unsafe extern "C" fn(*mut kernel::bindings::device);

impl Device {
    /// `mdev_device_create`'s allocation: a zeroed device of `mtype` named by `uuid`, on
    /// `bus`, initialised (`device_initialize`) with `release` and the attribute `groups`.
    /// The returned reference is the initial one; dropping it before `device_add` frees the
    /// device through `release`.
    ///
    /// `release` must free the device with [`Device::free`].
    pub fn new<const N: usize>(
        mtype: &Type,
        uuid: &Guid,
        bus: &'static Bus,
        release: DeviceRelease,
        groups: &'static GroupList<N>,
    ) -> Result<ARef<Self>> {
        let boxed = KBox::<bindings::mdev_device>::new_uninit(GFP_KERNEL)?;
        let p = KBox::into_raw(boxed).cast::<bindings::mdev_device>();
        // SAFETY: `p` is a fresh allocation of the right size; all-zero is valid before
        // `device_initialize`.
        unsafe { p.write_bytes(0, 1) };
        let parent = mtype.parent().dev().as_raw();
        // SAFETY: `p` is ours until `device_initialize` hands its life to the refcount.
        unsafe {
            let dev = &raw mut (*p).dev;
            kernel::bindings::device_initialize(dev);
            (*p).dev.parent = parent;
            (*p).dev.bus = bus.0.as_ptr();
            (*p).dev.release = Some(release);
            (*p).dev.groups = groups.as_ptr().cast_mut();
            (*p).type_ = mtype.as_raw();
            (*p).uuid.b = uuid.0;
        }
        // Pairs with the put in `Device::free`, at the device's release.
        mtype.kobj().get();
        // SAFETY: Initialised above; the reference `device_initialize` created becomes the
        // returned `ARef`.
        Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(p.cast::<Self>())) })
    }

    /// Frees a device whose last reference dropped, after dropping its type reference.
    ///
    /// # Safety
    ///
    /// `dev` must be the `struct device` of a [`Device::new`] device, in its `release`.
    pub unsafe fn free(dev: *mut kernel::bindings::device) {
        let p = dev.cast::<bindings::mdev_device>();
        // SAFETY: The device is being released; its type is still referenced by it.
        unsafe { Type::from_raw((*p).type_).kobj().put() };
        // SAFETY: Allocated by `KBox` in `new`; no references are left.
        drop(unsafe { KBox::from_raw(p) });
    }

    /// The mdev whose `struct device` is `dev`, if `dev` is on `bus`.
    pub fn from_dev<'a>(dev: &'a Dev, bus: &'static Bus) -> Option<&'a Self> {
        if !dev.is_on_bus(bus.0.as_ptr()) {
            return None;
        }
        // SAFETY: By `Bus`'s invariant every device on it is the first member of a `Device`;
        // it is alive as long as `dev` is.
        Some(unsafe { &*dev.as_raw().cast::<Self>() })
    }

    /// The mdev at `dev`, in its `release` (no other user is left).
    ///
    /// # Safety
    ///
    /// `dev` must be the `struct device` of a [`Device::new`] device, alive for `'a`.
    pub unsafe fn from_raw_dev<'a>(dev: *mut kernel::bindings::device) -> &'a Self {
        // SAFETY: As the contract says; `dev` is the first member.
        unsafe { &*dev.cast::<Self>() }
    }

    fn as_raw(&self) -> *mut bindings::mdev_device {
        self.0.get()
    }

    /// Its `struct device`.
    pub fn dev(&self) -> &Dev {
        // SAFETY: Alive (type invariant); `dev` is initialised.
        unsafe { Dev::from_raw(&raw mut (*self.as_raw()).dev) }
    }

    /// Its UUID.
    pub fn uuid(&self) -> Guid {
        // SAFETY: Set before the device was shared, never written again.
        Guid(unsafe { (*self.as_raw()).uuid.b })
    }

    /// Its type.
    pub fn mtype(&self) -> &Type {
        // SAFETY: Set by `new`; the device holds a reference on the type (type invariant).
        unsafe { Type::from_raw((*self.as_raw()).type_) }
    }

    /// Sets `active`, which C drivers may read.
    pub fn set_active(&self, active: bool) {
        // SAFETY: The core writes `active` under its list lock only; the field is a `bool`.
        unsafe { (*self.as_raw()).active = active };
    }

    /// The driver bound to it, during probe and remove.
    pub fn bound_driver(&self) -> Option<&Driver> {
        // SAFETY: The device is alive; `driver` is set by the driver core while bound.
        let drv = unsafe { (*self.as_raw()).dev.driver };
        if drv.is_null() {
            return None;
        }
        // SAFETY: By `Bus`'s invariant every driver on the bus is the `driver` member of an
        // `mdev_driver`, registered (thus alive) while a device is bound to it.
        Some(unsafe {
            Driver::from_raw(
                drv.byte_sub(offset_of!(bindings::mdev_driver, driver))
                    .cast(),
            )
        })
    }

    /// `dev_set_name(dev, "%pUl", uuid)`.
    pub fn set_name(&self) -> Result {
        let mut name = [0u8; 37];
        name[..36].copy_from_slice(&self.uuid().to_lower_string());
        // SAFETY: The device is initialised; the format consumes the one string given.
        to_result(unsafe {
            kernel::bindings::dev_set_name(
                self.dev().as_raw(),
                c"%s".as_char_ptr(),
                name.as_ptr().cast::<c_char>(),
            )
        })
    }

    /// `device_add()`.
    pub fn add(&self) -> Result {
        // SAFETY: Initialised and named; the caller holds a reference.
        to_result(unsafe { kernel::bindings::device_add(self.dev().as_raw()) })
    }

    /// `device_del()` of an added device.
    pub fn del(&self) {
        // SAFETY: The device is alive; the core calls this once per successful `add`.
        unsafe { kernel::bindings::device_del(self.dev().as_raw()) };
    }

    /// `device_driver_attach(&drv->driver, dev)`.
    pub fn attach(&self, drv: &Driver) -> Result {
        // SAFETY: `drv` is a registered driver of the mdev bus (its parent's, which stays
        // registered while the parent is).
        unsafe { self.dev().driver_attach(drv.device_driver()) }
    }
}
