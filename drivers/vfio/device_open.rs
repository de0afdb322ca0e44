// SPDX-License-Identifier: GPL-2.0

//! A device's first open and last close, shared by the group and cdev paths: pin the driver,
//! connect the device to its IOMMU (a container's backend, or an iommufd context), and call the
//! driver's `open_device`/`close_device`. Callers hold the device set's mutex.
//!
//! What a first open connected is kept in [`Opened`], so the last close undoes exactly that,
//! whatever became of the group's container or iommufd in between (upstream's device file
//! remembers it the same way).
//!
//! Lock order: the set's mutex, then `kvm_ref_lock` (`rust/vfio/kvm.rs`, innermost).

use crate::{
    dma_access,
    kernel_ext::{
        iommu::IommuGroup,
        iommufd::IommufdCtx,
        module_ref::ModuleRef,
        vfio::{
            dev_set::SetLocked,
            device::RawDevice,
            iommu_driver::Backend,
            kvm::KvmSlot, //
        },
    }, //
};
use kernel::{
    prelude::*,
    sync::Arc, //
};

/// What a device's DMA goes through while it is open.
pub(crate) enum Iommu<'a> {
    /// The type1 (or other) backend of the group's container, and the group's IOMMU group.
    Container(&'a Arc<Backend>, &'a IommuGroup),
    /// An iommufd context (cdev, or a group in iommufd compat mode).
    Iommufd(&'a IommufdCtx),
}

/// What a first open leaves for the last close.
pub(crate) struct Opened {
    /// The driver module, pinned while the device is open.
    _module: ModuleRef,
    /// The device's id in the iommufd context, on that path.
    pub(crate) devid: u32,
    /// The container backend the device was registered with, on that path.
    backend: Option<Arc<Backend>>,
}

impl Opened {
    /// Whether the device was opened through a container (it then pins the container).
    pub(crate) fn via_container(&self) -> bool {
        self.backend.is_some()
    }
}

/// First open: takes a reference on the VM recorded in `kvm` (the group's, or the cdev
/// file's) for the driver, pins the driver module, connects the IOMMU, calls `open_device`.
pub(crate) fn first_open(
    dev: &RawDevice,
    held: &SetLocked<'_>,
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

fn connect_and_open(dev: &RawDevice, held: &SetLocked<'_>, iommu: Iommu<'_>) -> Result<Opened> {
    let module = dev.get_driver_module().ok_or(ENODEV)?;
    let opened = match iommu {
        Iommu::Container(backend, group) => {
            dma_access::container_opened(dev, backend.clone(), group.clone())?;
            backend.register_device(dev);
            Opened {
                _module: module,
                devid: 0,
                backend: Some(backend.clone()),
            }
        }
        Iommu::Iommufd(ctx) => Opened {
            devid: dev.call_bind_iommufd(held, ctx)?,
            _module: module,
            backend: None,
        },
    };
    if let Err(e) = dev.call_open_device(held) {
        disconnect(dev, held, &opened);
        return Err(e);
    }
    Ok(opened)
}

/// Last close: `close_device`, then disconnect the IOMMU first open connected, then drop the
/// VM reference; the caller drops `opened` after.
pub(crate) fn last_close(dev: &RawDevice, held: &SetLocked<'_>, opened: &Opened) {
    dev.call_close_device(held);
    disconnect(dev, held, opened);
    dev.reset_precopy_info(held);
    dev.put_kvm(held);
}

fn disconnect(dev: &RawDevice, held: &SetLocked<'_>, opened: &Opened) {
    match &opened.backend {
        Some(backend) => {
            backend.unregister_device(dev);
            dma_access::container_closed(dev);
        }
        None => dev.call_unbind_iommufd(held),
    }
}
