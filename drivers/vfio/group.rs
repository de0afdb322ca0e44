// SPDX-License-Identifier: GPL-2.0

//! Groups: one `/dev/vfio/N` per IOMMU group with registered VFIO devices (N = the IOMMU
//! group id, the minor from the group IDA).
//!
//! Lock order: [`groups`] (the global list), then a set's mutex.

use crate::{
    kabi::{
        cdev_node::{
            CdevNode,
            CdevNodeSpec, //
        },
        global::module_mutex,
        iommu::IommuGroup,
        vfio::device::{
            DeviceId,
            RawDevice, //
        },
    },
    Core, //
};
use kernel::{
    prelude::*,
    str::CString, //
};

/// A VFIO group: the registered devices of one IOMMU group.
pub(crate) struct Group {
    iommu_group: IommuGroup,
    minor: u32,
    node: Option<CdevNode>,
    /// Registered devices, published for the group path.
    devices: KVec<DeviceId>,
    /// Devices that joined (`drivers` upstream), counting those not yet fully registered.
    drivers: u32,
}

module_mutex! {
    /// Every live group.
    pub(crate) static groups: KVec<KBox<Group>> = KVec::new();
}

/// Joins `dev` to the group of its parent's IOMMU group, creating `/dev/vfio/N` if needed.
pub(crate) fn attach_device(core: &Core, dev: &RawDevice) -> Result {
    // SAFETY: A registering device's parent is a valid, bound device.
    let iommu_group = unsafe { IommuGroup::of_device(dev.parent_raw()) }.ok_or(EINVAL)?;
    let mut list = groups::lock();
    if let Some(group) = list.iter_mut().find(|g| g.iommu_group.same(&iommu_group)) {
        if group.devices.contains(&dev.id()) {
            kernel::warn_on!(true);
            return Err(EINVAL);
        }
        group.drivers += 1;
        return Ok(());
    }
    let minor = core
        .group_ida
        .alloc_max(crate::kabi::chrdev::ALL_MINORS - 1)?;
    let name = match CString::try_from_fmt(fmt!("{}", iommu_group.id())) {
        Ok(name) => name,
        Err(e) => {
            core.group_ida.free(minor);
            return Err(e);
        }
    };
    let node = CdevNode::add(&CdevNodeSpec {
        class: core.group_class.as_raw(),
        devt: core.group_devt.base() + minor,
        name: &name,
        fops: crate::GROUP_FOPS.get(),
        owner: kernel::module::this_module::<crate::LocalModule>().as_ptr(),
        data: core::ptr::null_mut(),
    });
    let node = match node {
        Ok(node) => node,
        Err(e) => {
            core.group_ida.free(minor);
            return Err(e);
        }
    };
    let group = KBox::new(
        Group {
            iommu_group,
            minor,
            node: Some(node),
            devices: KVec::new(),
            drivers: 1,
        },
        GFP_KERNEL,
    );
    match group {
        Ok(group) => {
            list.push(group, GFP_KERNEL)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Makes a registered device visible to `GET_DEVICE_FD`.
pub(crate) fn publish_device(dev: &RawDevice) {
    let mut list = groups::lock();
    if let Some(group) = find_for(&mut list, dev) {
        // A failed push only hides the device from the group path; it stays registered.
        let _ = group.devices.push(dev.id(), GFP_KERNEL);
    }
}

/// Hides a device being unregistered from the group path.
pub(crate) fn unpublish_device(dev: &RawDevice) {
    let mut list = groups::lock();
    if let Some(group) = find_for(&mut list, dev) {
        if let Some(i) = group.devices.iter().position(|e| *e == dev.id()) {
            let _ = group.devices.remove(i);
        }
    }
}

/// Drops `dev` from its group; the last device removes `/dev/vfio/N`.
pub(crate) fn detach_device(core: &Core, dev: &RawDevice) {
    let mut list = groups::lock();
    let Some(i) = position_for(&list, dev) else {
        return;
    };
    list[i].drivers -= 1;
    if list[i].drivers > 0 {
        return;
    }
    if let Ok(mut group) = list.remove(i) {
        kernel::warn_on!(!group.devices.is_empty());
        if let Some(node) = group.node.take() {
            node.remove();
        }
        core.group_ida.free(group.minor);
    }
}

fn position_for(list: &KVec<KBox<Group>>, dev: &RawDevice) -> Option<usize> {
    // SAFETY: A registering or registered device's parent is a valid device.
    let iommu_group = unsafe { IommuGroup::of_device(dev.parent_raw()) }?;
    list.iter().position(|g| g.iommu_group.same(&iommu_group))
}

fn find_for<'a>(list: &'a mut KVec<KBox<Group>>, dev: &RawDevice) -> Option<&'a mut Group> {
    let i = position_for(list, dev)?;
    Some(&mut list[i])
}
