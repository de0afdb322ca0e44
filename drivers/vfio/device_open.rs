// SPDX-License-Identifier: GPL-2.0

//! A device's first open and last close, shared by the group and cdev paths: pin the driver,
//! connect the device to its IOMMU (a container's backend, or an iommufd context), and call the
//! driver's `open_device`/`close_device`. Callers hold the device set's mutex.
//!
//! Lock order: the set's mutex, then `kvm_ref_lock` (`rust/vfio/kvm.rs`, innermost).

use crate::kabi::{
    iommufd::IommufdCtx,
    module_ref::ModuleRef,
    vfio::{
        dev_set::SetLocked,
        device::RawDevice,
        iommu_driver::Backend,
        kvm::KvmSlot, //
    },
};
use kernel::prelude::*;

/// What a device's DMA goes through while it is open.
pub(crate) enum Iommu<'a> {
    /// The type1 (or other) backend of the group's container.
    Container(&'a Backend),
    /// An iommufd context (cdev, or a group in iommufd compat mode).
    Iommufd(&'a IommufdCtx),
}

/// What a first open leaves for the last close.
pub(crate) struct Opened {
    /// The driver module, pinned while the device is open.
    pub(crate) _module: ModuleRef,
    /// The device's id in the iommufd context, on that path.
    pub(crate) devid: u32,
}

/// First open: takes a reference on the VM recorded in `kvm` (the group's, or the cdev
/// file's) for the driver, pins the driver module, connects the IOMMU, calls `open_device`.
pub(crate) fn first_open(
    dev: &RawDevice,
    held: &dyn SetLocked,
    iommu: Iommu<'_>,
    kvm: &KvmSlot,
) -> Result<Opened> {
    kvm.get_for_device(dev, held);
    let opened = connect_and_open(dev, held, iommu);
    if opened.is_err() {
        dev.put_kvm(held);
    }
    opened
}

fn connect_and_open(dev: &RawDevice, held: &dyn SetLocked, iommu: Iommu<'_>) -> Result<Opened> {
    let module = dev.get_driver_module().ok_or(ENODEV)?;
    let devid = match iommu {
        Iommu::Container(backend) => {
            backend.register_device(dev);
            0
        }
        Iommu::Iommufd(ctx) => dev.call_bind_iommufd(held, ctx)?,
    };
    if let Err(e) = dev.call_open_device(held) {
        disconnect(dev, held, iommu);
        return Err(e);
    }
    Ok(Opened {
        _module: module,
        devid,
    })
}

/// Last close: `close_device`, then disconnect the IOMMU, then drop the VM reference; the
/// caller drops the [`Opened`].
pub(crate) fn last_close(dev: &RawDevice, held: &dyn SetLocked, iommu: Iommu<'_>) {
    dev.call_close_device(held);
    disconnect(dev, held, iommu);
    dev.reset_precopy_info(held);
    dev.put_kvm(held);
}

fn disconnect(dev: &RawDevice, held: &dyn SetLocked, iommu: Iommu<'_>) {
    match iommu {
        Iommu::Container(backend) => backend.unregister_device(dev),
        Iommu::Iommufd(_) => dev.call_unbind_iommufd(held),
    }
}
