// SPDX-License-Identifier: GPL-2.0

//! Parents and devices: upstream's `mdev_core.c`.
//!
//! The device list is the global UUID namespace: a UUID stays taken from `create` until the
//! device's release, across every parent and type. Each entry holds the device's lifecycle
//! ([`Life`]) and, once created, the initial device reference, which exactly one path takes
//! to remove the device: the remover that claimed it, or its parent's unregistration.

use crate::{
    ffi,
    guid::Guid,
    kernel_ext::{
        class_compat::ClassCompat,
        global::module_mutex,
        mdev::{
            Device,
            Parent,
            Type, //
        },
    },
    rules::{
        self,
        Life, //
    },
    sysfs,
};
use core::sync::atomic::Ordering;
use kernel::{
    prelude::*,
    sync::aref::ARef, //
};

/// One device of the global list (upstream's `mdev_list`).
pub(crate) struct Entry {
    /// Its UUID.
    uuid: Guid,
    /// The device's address, as its identity (never dereferenced).
    id: usize,
    /// Where it is in its life.
    life: Life,
    /// The initial reference of a fully created device, taken by the one path removing it.
    reg: Option<ARef<Device>>,
}

module_mutex! {
    /// Every mdev from `create` to release (upstream's `mdev_list` under `mdev_list_lock`).
    pub(crate) static devices: KVec<Entry> = KVec::new();
}

module_mutex! {
    /// The `mdev_bus` compatibility class, while the module is loaded.
    pub(crate) static compat: Option<ClassCompat> = None;
}

/// The identity of a device in the list.
fn id_of(mdev: &Device) -> usize {
    core::ptr::from_ref(mdev) as usize
}

/// An error of the pure rules as a kernel error.
pub(crate) fn to_error(e: crate::errno::Errno) -> Error {
    Error::from(e)
}

/// The module's global state: published at init, withdrawn at exit.
pub(crate) struct Published;

impl Published {
    /// Initialises the list and registers the `mdev_bus` class.
    pub(crate) fn new() -> Result<Self> {
        devices::init();
        compat::init();
        *compat::lock() = Some(ClassCompat::register(c"mdev_bus")?);
        Ok(Self)
    }
}

impl Drop for Published {
    fn drop(&mut self) {
        // Drivers pin this module while they have parents, so no link is left.
        *compat::lock() = None;
        // Statics are not dropped at unload: free the (now empty) list's buffer.
        *devices::lock() = KVec::new();
    }
}

/// `mdev_register_parent` after the struct is filled in: the types' sysfs files, the
/// compatibility link, the message and the uevent.
pub(crate) fn register_parent(parent: &Parent) -> Result {
    parent.add_types(&ffi::TYPE_KTYPE)?;
    let dev = parent.dev();
    let linked = match compat::lock().as_ref() {
        Some(class) => class.create_link(dev),
        None => Err(ENODEV),
    };
    if linked.is_err() {
        dev_warn!(dev, "Failed to create compatibility class link\n");
    }
    dev_info!(dev, "MDEV: Registered\n");
    dev.kobj().uevent_change(c"MDEV_STATE=registered");
    Ok(())
}

/// `mdev_unregister_parent`: removes every device of the parent (waiting for creations and
/// removals in progress), then its types.
pub(crate) fn unregister_parent(parent: &Parent) {
    let dev = parent.dev();
    dev_info!(dev, "MDEV: Unregistering\n");
    {
        let _unreg = parent.unreg_sem().write();
        if let Some(class) = compat::lock().as_ref() {
            class.remove_link(dev);
        }
        dev.for_each_child(|child| {
            if let Some(mdev) = Device::from_dev(child, &ffi::MDEV_BUS) {
                if let Some(reg) = take_reg(mdev) {
                    remove_common(reg);
                }
            }
        });
        parent.remove_types();
    }
    dev.kobj().uevent_change(c"MDEV_STATE=unregistered");
}

/// Takes the initial reference of a created device out of the list, if still there.
fn take_reg(mdev: &Device) -> Option<ARef<Device>> {
    let id = id_of(mdev);
    devices::lock()
        .iter_mut()
        .find(|e| e.id == id)
        .and_then(|e| e.reg.take())
}

/// `mdev_device_remove_common`: the links, `device_del`, and the initial reference (the
/// caller holds the parent's `unreg_sem`).
fn remove_common(reg: ARef<Device>) {
    sysfs::remove_links(&reg);
    reg.del();
    // Balances `device_initialize`.
    drop(reg);
}

/// `mdev_device_create`: a device of `mtype` named `uuid`, bound to the parent's driver.
pub(crate) fn create(mtype: &Type, uuid: &Guid) -> Result {
    let parent = mtype.parent();
    let drv = parent.driver();
    let mdev = {
        let mut list = devices::lock();
        list.reserve(1, GFP_KERNEL)?;
        let counted = !drv.counts_instances();
        let mut available = parent.available().load(Ordering::Relaxed);
        rules::admit_create(
            list.iter().map(|e| &e.uuid),
            uuid,
            counted.then_some(&mut available),
        )
        .map_err(to_error)?;
        let mdev = Device::new(
            mtype,
            uuid,
            &ffi::MDEV_BUS,
            ffi::release_device,
            &ffi::DEVICE_GROUPS,
        )?;
        // Non-atomic read and write are fine: every change is made under the list lock.
        if counted {
            parent.available().store(available, Ordering::Relaxed);
        }
        list.push_within_capacity(Entry {
            uuid: *uuid,
            id: id_of(&mdev),
            life: Life::creating(),
            reg: None,
        })
        .map_err(|_| ENOMEM)?;
        mdev
    };
    // From here, dropping `mdev` releases the device, which unlists it.
    mdev.set_name()?;
    // Parent unregistration has started: it would not see this device.
    let _unreg = parent.unreg_sem().try_read().ok_or(ENODEV)?;
    mdev.add()?;
    if let Err(e) = mdev.attach(drv).and_then(|()| sysfs::create_links(&mdev)) {
        mdev.del();
        return Err(e);
    }
    let id = id_of(&mdev);
    let mut list = devices::lock();
    if let Some(e) = list.iter_mut().find(|e| e.id == id) {
        e.life = Life { active: true };
        mdev.set_active(true);
        e.reg = Some(mdev);
    }
    Ok(())
}

/// `remove_store`'s work on `mdev`, with upstream's errors, except that a device still being
/// created answers `EAGAIN` before `remove_file` runs, so its `remove` file stays.
/// `remove_file` is `device_remove_file_self()`: true only for the caller that removed it.
pub(crate) fn remove(mdev: &Device, remove_file: impl FnOnce() -> bool) -> Result {
    let id = id_of(mdev);
    {
        let list = devices::lock();
        let e = list.iter().find(|e| e.id == id).ok_or(ENODEV)?;
        e.life.check_remove().map_err(to_error)?;
    }
    if !remove_file() {
        // Another remover (or the parent's unregistration) took it.
        return Ok(());
    }
    {
        let mut list = devices::lock();
        let e = list.iter_mut().find(|e| e.id == id).ok_or(ENODEV)?;
        e.life.claim().map_err(to_error)?;
        mdev.set_active(false);
    }
    let _unreg = mdev.mtype().parent().unreg_sem().try_read().ok_or(ENODEV)?;
    // Gone if the parent's unregistration removed it after we took the file.
    let reg = take_reg(mdev).ok_or(ENODEV)?;
    remove_common(reg);
    Ok(())
}

/// `mdev_device_release`'s bookkeeping: unlists the device and gives its instance back.
pub(crate) fn release(mdev: &Device) {
    let id = id_of(mdev);
    let mut list = devices::lock();
    let before = list.len();
    list.retain(|e| e.id != id);
    if list.len() != before {
        let parent = mdev.mtype().parent();
        if !parent.driver().counts_instances() {
            parent.available().fetch_add(1, Ordering::Relaxed);
        }
    }
}
