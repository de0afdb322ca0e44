// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `mdev.ko`: its one FFI place.
//!
//! The four `#[no_mangle]` exports with upstream's names and signatures (`mdev_exports.c` does
//! the `EXPORT_SYMBOL`s with `<linux/mdev.h>` in scope), and the C tables the module hands to
//! C: the `mdev` bus type, the type kobjects' ktype with its `sysfs_ops` and attribute group,
//! and the devices' `remove` attribute. Each callback turns its raw arguments into the views
//! of [`crate::kernel_ext::mdev`] and calls the safe code.

use crate::{
    driver,
    kernel_ext::{
        dev_ext::Dev,
        mdev::{
            bindings,
            Bus,
            Device,
            Driver,
            Parent,
            Type,
            TypeKtype, //
        },
        sysfs::{
            self,
            Attribute,
            AttributeGroup,
            AttributeList,
            DeviceAttribute,
            GroupList,
            KobjType,
            ShowBuf,
            SysfsOps, //
        },
    },
    mdev_core,
    sysfs::TypeAttr,
};
use core::ptr::null;
use kernel::prelude::*;

/// The `mdev` bus (upstream's `mdev_bus_type`).
// SAFETY: The bus type is not exported; devices join it only in `mdev_core::create` (through
// `Device::new`) and drivers in `mdev_register_driver` (through `Driver::register`).
pub(crate) static MDEV_BUS: Bus = unsafe { Bus::new(c"mdev", mdev_match, mdev_probe, mdev_remove) };

/// `match`: no driver binds by itself (`device_driver_attach` does it).
///
/// # Safety
///
/// None: the arguments are not used.
unsafe extern "C" fn mdev_match(
    _dev: *mut kernel::bindings::device,
    _drv: *const kernel::bindings::device_driver,
) -> c_int {
    0
}

/// The device of a bus callback.
///
/// # Safety
///
/// `dev` must be a device the driver core passes to a callback of [`MDEV_BUS`] (alive for it).
unsafe fn bus_device<'a>(dev: *mut kernel::bindings::device) -> Option<&'a Device> {
    // SAFETY: Alive for the callback (the contract).
    Device::from_dev(unsafe { Dev::from_raw(dev) }, &MDEV_BUS)
}

/// `probe`.
///
/// # Safety
///
/// Called by the driver core for a device of this bus.
unsafe extern "C" fn mdev_probe(dev: *mut kernel::bindings::device) -> c_int {
    // SAFETY: Called by the driver core on one of the bus's devices.
    match unsafe { bus_device(dev) } {
        Some(mdev) => driver::probe(mdev).map_or_else(|e| e.to_errno(), |()| 0),
        None => ENODEV.to_errno(),
    }
}

/// `remove`.
///
/// # Safety
///
/// Called by the driver core for a device of this bus.
unsafe extern "C" fn mdev_remove(dev: *mut kernel::bindings::device) {
    // SAFETY: Called by the driver core on one of the bus's devices.
    if let Some(mdev) = unsafe { bus_device(dev) } {
        driver::remove(mdev);
    }
}

/// The `release` of every mdev's `struct device` (upstream's `mdev_device_release`).
///
/// # Safety
///
/// Called by the driver core once the last reference to a [`Device::new`] device is gone.
pub(crate) unsafe extern "C" fn release_device(dev: *mut kernel::bindings::device) {
    // SAFETY: The device is still allocated during its release.
    mdev_core::release(unsafe { Device::from_raw_dev(dev) });
    // SAFETY: Allocated by `Device::new` (every device of the bus is), released once.
    unsafe { Device::free(dev) };
}

/// `<uuid>/remove`.
static REMOVE_ATTR: DeviceAttribute =
    DeviceAttribute::new(c"remove", sysfs::MODE_WO, None, Some(remove_store));
static DEVICE_ATTRS: AttributeList<2> = AttributeList::new([REMOVE_ATTR.attr(), null()]);
static DEVICE_GROUP: AttributeGroup = AttributeGroup::new(&DEVICE_ATTRS, None);
/// The attribute groups of every mdev (upstream's `mdev_device_groups`).
pub(crate) static DEVICE_GROUPS: GroupList<2> = GroupList::new([DEVICE_GROUP.as_ptr(), null()]);

/// `store` of `remove`.
///
/// # Safety
///
/// Called by sysfs for the `remove` attribute of an mdev, with `count` readable bytes.
unsafe extern "C" fn remove_store(
    dev: *mut kernel::bindings::device,
    attr: *mut kernel::bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs keeps the device alive during the call.
    let d = unsafe { Dev::from_raw(dev) };
    let Some(mdev) = Device::from_dev(d, &MDEV_BUS) else {
        return ENODEV.to_errno() as isize;
    };
    // SAFETY: `buf` holds `count` bytes (the contract).
    let bytes = unsafe { sysfs::store_bytes(buf, count) };
    // SAFETY: Called from the `store` of `attr` on `d`.
    let remove_file = || unsafe { d.remove_file_self(attr) };
    match crate::sysfs::remove_store(mdev, bytes, remove_file) {
        // CAST: `count` is at most `PAGE_SIZE`.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

static TYPE_CREATE: Attribute = Attribute::new(c"create", sysfs::MODE_WO);
static TYPE_DEVICE_API: Attribute = Attribute::new(c"device_api", sysfs::MODE_RO);
static TYPE_NAME: Attribute = Attribute::new(c"name", sysfs::MODE_RO);
static TYPE_AVAILABLE: Attribute = Attribute::new(c"available_instances", sysfs::MODE_RO);
static TYPE_DESCRIPTION: Attribute = Attribute::new(c"description", sysfs::MODE_RO);
static TYPE_ATTRS: AttributeList<6> = AttributeList::new([
    TYPE_CREATE.as_ptr(),
    TYPE_DEVICE_API.as_ptr(),
    TYPE_NAME.as_ptr(),
    TYPE_AVAILABLE.as_ptr(),
    TYPE_DESCRIPTION.as_ptr(),
    null(),
]);
static TYPE_GROUP: AttributeGroup = AttributeGroup::new(&TYPE_ATTRS, Some(type_is_visible));
static TYPE_GROUPS: GroupList<2> = GroupList::new([TYPE_GROUP.as_ptr(), null()]);
static TYPE_OPS: SysfsOps = SysfsOps::new(type_show, type_store);
/// The ktype of type directories (upstream's `mdev_type_ktype`).
pub(crate) static TYPE_KTYPE: TypeKtype =
    // SAFETY: `type_show`, `type_store`, `type_is_visible` and `type_release` only ever see type
    // kobjects (this ktype is used by `Parent::add_types` alone), and `type_release` calls
    // `Type::release`.
    unsafe { TypeKtype::new(KobjType::new(&TYPE_OPS, type_release, &TYPE_GROUPS)) };

/// Which type attribute `attr` is.
fn type_attr(attr: *const kernel::bindings::attribute) -> Option<TypeAttr> {
    [
        (&TYPE_CREATE, TypeAttr::Create),
        (&TYPE_DEVICE_API, TypeAttr::DeviceApi),
        (&TYPE_NAME, TypeAttr::Name),
        (&TYPE_AVAILABLE, TypeAttr::AvailableInstances),
        (&TYPE_DESCRIPTION, TypeAttr::Description),
    ]
    .into_iter()
    .find(|(a, _)| a.is(attr))
    .map(|(_, t)| t)
}

/// `sysfs_ops.show` of type directories.
///
/// # Safety
///
/// Called by sysfs for an attribute of a type kobject, with its page buffer.
unsafe extern "C" fn type_show(
    kobj: *mut kernel::bindings::kobject,
    attr: *mut kernel::bindings::attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Only type kobjects have this ktype; sysfs keeps it alive during the call.
    let mtype = unsafe { Type::from_kobj(kobj) };
    // SAFETY: `buf` is the page buffer of this `show` call.
    let mut buf = unsafe { ShowBuf::from_raw(buf) };
    match type_attr(attr) {
        Some(a) => crate::sysfs::type_show(mtype, a, &mut buf),
        None => EIO.to_errno() as isize,
    }
}

/// `sysfs_ops.store` of type directories.
///
/// # Safety
///
/// Called by sysfs for an attribute of a type kobject, with `count` readable bytes.
unsafe extern "C" fn type_store(
    kobj: *mut kernel::bindings::kobject,
    attr: *mut kernel::bindings::attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: Only type kobjects have this ktype; sysfs keeps it alive during the call.
    let mtype = unsafe { Type::from_kobj(kobj) };
    // SAFETY: `buf` holds `count` bytes.
    let bytes = unsafe { sysfs::store_bytes(buf, count) };
    let Some(a) = type_attr(attr) else {
        return EIO.to_errno() as isize;
    };
    match crate::sysfs::type_store(mtype, a, bytes) {
        // CAST: `count` is at most `PAGE_SIZE`.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `is_visible` of the type attribute group.
///
/// # Safety
///
/// Called by sysfs for an attribute of a type kobject being added.
unsafe extern "C" fn type_is_visible(
    kobj: *mut kernel::bindings::kobject,
    attr: *mut kernel::bindings::attribute,
    _n: c_int,
) -> u16 {
    // SAFETY: Only type kobjects have this ktype; the kobject is being added.
    let mtype = unsafe { Type::from_kobj(kobj) };
    match type_attr(attr) {
        // SAFETY: `attr` is one of the static attributes of the group.
        Some(a) if crate::sysfs::type_visible(mtype, a) => unsafe { (*attr).mode },
        _ => 0,
    }
}

/// The ktype's `release` (upstream's `mdev_type_release`).
///
/// # Safety
///
/// Called by the kobject core when a type kobject's last reference is gone.
unsafe extern "C" fn type_release(kobj: *mut kernel::bindings::kobject) {
    // SAFETY: Only type kobjects have this ktype; the type's memory is its driver's.
    let mtype = unsafe { Type::from_kobj(kobj) };
    // SAFETY: This is the kobject's one release.
    unsafe { mtype.release() };
}

/// `int mdev_register_parent(struct mdev_parent *parent, struct device *dev,
/// struct mdev_driver *mdev_driver, struct mdev_type **types, unsigned int nr_types)`.
///
/// # Safety
///
/// Upstream's contract: `parent`, `mdev_driver` and the `nr_types` types stay valid until
/// `mdev_unregister_parent`; the caller holds a reference on `dev` until then; `mdev_driver`
/// is registered.
#[no_mangle]
unsafe extern "C" fn mdev_register_parent(
    parent: *mut bindings::mdev_parent,
    dev: *mut kernel::bindings::device,
    mdev_driver: *mut bindings::mdev_driver,
    types: *mut *mut bindings::mdev_type,
    nr_types: c_uint,
) -> c_int {
    // SAFETY: As the function's contract says.
    let parent = unsafe { Parent::init(parent, dev, mdev_driver, types, nr_types) };
    match mdev_core::register_parent(parent) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void mdev_unregister_parent(struct mdev_parent *parent)`.
///
/// # Safety
///
/// `parent` must have been registered with `mdev_register_parent`, and is unregistered once.
#[no_mangle]
unsafe extern "C" fn mdev_unregister_parent(parent: *mut bindings::mdev_parent) {
    // SAFETY: Registered, valid until this returns (the contract).
    mdev_core::unregister_parent(unsafe { Parent::from_raw(parent) });
}

/// `int mdev_register_driver(struct mdev_driver *drv)`.
///
/// # Safety
///
/// `drv` must be valid and stay so until `mdev_unregister_driver`.
#[no_mangle]
unsafe extern "C" fn mdev_register_driver(drv: *mut bindings::mdev_driver) -> c_int {
    // SAFETY: Valid (the contract).
    let driver = unsafe { Driver::from_raw(drv) };
    if let Err(e) = driver::check(driver) {
        return e.to_errno();
    }
    // SAFETY: The caller keeps it valid until `mdev_unregister_driver` (the contract).
    match unsafe { driver.register(&MDEV_BUS) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `void mdev_unregister_driver(struct mdev_driver *drv)`.
///
/// # Safety
///
/// `drv` must have been registered with `mdev_register_driver`.
#[no_mangle]
unsafe extern "C" fn mdev_unregister_driver(drv: *mut bindings::mdev_driver) {
    // SAFETY: Registered, so valid (the contract).
    unsafe { Driver::from_raw(drv).unregister() };
}
