// SPDX-License-Identifier: GPL-2.0

//! The life of a `struct vfio_device`: allocation by a driver, registration (device set, group,
//! `/dev/vfio/devices/vfioN`), unregistration that waits for users, and final release.
//!
//! Lock order: group list, then a set's mutex. No lock is held while waiting for users.

use crate::{
    dev_set,
    group,
    kernel_ext::{
        bindings,
        vfio::device::{
            NewDevice,
            RawDevice,
            RegisteredDevice, //
        },
    }, //
};
use kernel::prelude::*;

/// How often unregistration asks userspace to let go, as upstream (`HZ * 10`).
const REQUEST_INTERVAL_MS: u32 = 10_000;

/// `_vfio_alloc_device`: allocates and initialises the driver's `size`-byte struct.
pub(crate) fn alloc(
    size: usize,
    parent: *mut bindings::device,
    ops: *const bindings::vfio_device_ops,
) -> Result<*mut bindings::vfio_device> {
    if size < size_of::<bindings::vfio_device>() {
        kernel::warn_on!(true);
        return Err(EINVAL);
    }
    let core = crate::core()?;
    let new = NewDevice::alloc(size)?;
    let index = core
        .device_ida
        .alloc_max(crate::kernel_ext::chrdev::ALL_MINORS - 1)?;
    new.set_basics(parent, ops, index);
    if let Err(e) = new.alloc_inode().and_then(|()| new.call_init()) {
        new.free_inode();
        core.device_ida.free(index);
        return Err(e);
    }
    Ok(new.initialize(
        core.device_class.as_raw(),
        crate::ffi::core::release_trampoline(),
    ))
}

/// Release of the embedded device: leave the set, free the index, let the driver clean up.
pub(crate) fn release(dev: &RawDevice) {
    dev_set::release(dev);
    if let Ok(core) = crate::core() {
        core.device_ida.free(dev.index());
    }
    dev.call_release();
}

/// `vfio_register_group_dev` (`emulated` false) and `vfio_register_emulated_iommu_dev`.
pub(crate) fn register(dev: RegisteredDevice, emulated: bool) -> Result {
    let ops = dev.ops();
    if kernel::warn_on!(
        ops.bind_iommufd.is_none()
            || ops.unbind_iommufd.is_none()
            || ops.attach_ioas.is_none()
            || ops.detach_ioas.is_none()
    ) {
        return Err(EINVAL);
    }
    let core = crate::core()?;
    if dev.dev_set().is_none() {
        dev_set::assign(&dev, dev.as_raw() as usize)?;
    }
    dev.set_name(dev.index())?;
    group::attach_device(&core, &dev, emulated)?;
    // VFIO always maps with IOMMU_CACHE, which only a real IOMMU group can promise.
    if !emulated && !dev.cache_coherent() {
        group::detach_device(&core, &dev);
        return Err(EINVAL);
    }
    if let Err(e) = dev.add_cdev(
        core.device_devt.base() + dev.index(),
        crate::ffi::DEVICE_FILE_FOPS.get(),
        kernel::module::this_module::<crate::LocalModule>().as_ptr(),
    ) {
        group::detach_device(&core, &dev);
        return Err(e);
    }
    dev.set_registered();
    group::publish_device(dev);
    Ok(())
}

/// `vfio_unregister_group_dev`: hides the device, then waits for every user to close it,
/// asking through the driver's `request` op every 10 s.
pub(crate) fn unregister(dev: RegisteredDevice) {
    group::unpublish_device(&dev);
    dev.del_cdev();
    dev.put_registration();
    let mut round = 0;
    let mut interrupted = false;
    let mut unused = matches!(dev.wait_unused(0, false), Ok(true));
    while !unused {
        dev.request(round);
        round += 1;
        match dev.wait_unused(REQUEST_INTERVAL_MS, !interrupted) {
            Ok(done) => unused = done,
            Err(_) => {
                interrupted = true;
                dev.warn_blocked();
            }
        }
    }
    if let Ok(core) = crate::core() {
        group::detach_device(&core, &dev);
    }
}
