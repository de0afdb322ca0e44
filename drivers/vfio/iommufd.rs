// SPDX-License-Identifier: GPL-2.0

//! Binding physical devices to iommufd (upstream `drivers/vfio/iommufd.c`, the
//! `vfio_iommufd_physical_*` ops drivers of devices behind a real IOMMU use): the parent device
//! is bound to the user's context, its default PASID attached to (or moved between) page
//! tables, and further PASIDs tracked in the device's `pasids` IDA so unbinding can detach them
//! all. Every step runs under the device set's mutex (the driver's ops are called with it held).

use crate::kernel_ext::{
    iommufd::IommufdCtxRef,
    vfio::{
        dev_set::SetLocked,
        device::RawDevice, //
    },
};
use kernel::prelude::*;

/// `vfio_iommufd_physical_bind`: binds the parent to `ctx`; its id there.
pub(crate) fn physical_bind(
    dev: &RawDevice,
    held: &mut SetLocked<'_>,
    ctx: &IommufdCtxRef,
) -> Result<u32> {
    dev.bind_parent_iommufd(held, ctx)
}

/// `vfio_iommufd_physical_unbind`: detaches every PASID and the device, then unbinds.
pub(crate) fn physical_unbind(dev: &RawDevice, held: &mut SetLocked<'_>) {
    let Some((idev, pasids)) = dev.iommufd_device(held) else {
        return;
    };
    while let Some(pasid) = pasids.first_in(0, u32::MAX) {
        idev.detach(pasid);
        pasids.free(pasid);
    }
    if dev.iommufd_attached(held) {
        idev.detach(0);
        dev.set_iommufd_attached(held, false);
    }
    drop(dev.take_iommufd_binding(held));
}

/// `vfio_iommufd_physical_attach_ioas`: attaches (or replaces) the default PASID's page table.
pub(crate) fn physical_attach(dev: &RawDevice, held: &SetLocked<'_>, pt_id: &mut u32) -> Result {
    let Some((idev, _)) = dev.iommufd_device(held) else {
        kernel::warn_on!(true);
        return Err(EINVAL);
    };
    if dev.iommufd_attached(held) {
        idev.replace(0, pt_id)?;
    } else {
        idev.attach(0, pt_id)?;
    }
    dev.set_iommufd_attached(held, true);
    Ok(())
}

/// `vfio_iommufd_physical_detach_ioas`.
pub(crate) fn physical_detach(dev: &RawDevice, held: &SetLocked<'_>) {
    let Some((idev, _)) = dev.iommufd_device(held) else {
        kernel::warn_on!(true);
        return;
    };
    if !dev.iommufd_attached(held) {
        return;
    }
    idev.detach(0);
    dev.set_iommufd_attached(held, false);
}

/// `vfio_iommufd_physical_pasid_attach_ioas`: attaches `pasid`, or replaces its page table.
pub(crate) fn pasid_attach(
    dev: &RawDevice,
    held: &SetLocked<'_>,
    pasid: u32,
    pt_id: &mut u32,
) -> Result {
    let Some((idev, pasids)) = dev.iommufd_device(held) else {
        kernel::warn_on!(true);
        return Err(EINVAL);
    };
    if pasids.first_in(pasid, pasid).is_some() {
        return idev.replace(pasid, pt_id);
    }
    pasids.alloc_range(pasid, pasid)?;
    idev.attach(pasid, pt_id)
        .inspect_err(|_| pasids.free(pasid))
}

/// `vfio_iommufd_physical_pasid_detach_ioas`.
pub(crate) fn pasid_detach(dev: &RawDevice, held: &SetLocked<'_>, pasid: u32) {
    let Some((idev, pasids)) = dev.iommufd_device(held) else {
        kernel::warn_on!(true);
        return;
    };
    if pasids.first_in(pasid, pasid).is_none() {
        return;
    }
    idev.detach(pasid);
    pasids.free(pasid);
}

/// `vfio_iommufd_get_dev_id`: the device's id in `ctx` if bound there; `ENOENT` if `ctx` only
/// holds another device of its IOMMU group, `ENODEV` otherwise.
pub(crate) fn get_dev_id(dev: &RawDevice, ctx: &IommufdCtxRef) -> Result<u32> {
    if core::ptr::eq(dev.bound_ictx(), ctx.as_raw()) {
        return dev.bound_id();
    }
    let Some(group) = dev.iommu_group() else {
        return Err(ENODEV);
    };
    if ctx.has_group(&group) {
        Err(ENOENT)
    } else {
        Err(ENODEV)
    }
}
