// SPDX-License-Identifier: GPL-2.0

//! The container, `/dev/vfio/vfio`: one per open, holding groups and their IOMMU backend.
//!
//! Until groups exist (next milestone) a container never has a backend: `VFIO_SET_IOMMU` and
//! every backend ioctl fail with `EINVAL`, as upstream's do for a container without groups.

use crate::{
    iommu_drivers,
    kabi::uapi, //
};
use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    prelude::*,
};

/// The private data of an open `/dev/vfio/vfio`.
pub(crate) struct Container;

#[vtable]
impl MiscDevice for Container {
    type Ptr = KBox<Self>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        Ok(KBox::new(Container, GFP_KERNEL_ACCOUNT)?)
    }

    fn ioctl(me: &Container, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        match cmd {
            uapi::VFIO_GET_API_VERSION => Ok(uapi::VFIO_API_VERSION as isize),
            uapi::VFIO_CHECK_EXTENSION => Ok(me.check_extension(arg)),
            // No groups, so no privilege to pick a backend yet (upstream: -EINVAL).
            uapi::VFIO_SET_IOMMU => Err(EINVAL),
            // Unknown commands go to the backend; without one, upstream answers -EINVAL.
            _ => Err(EINVAL),
        }
    }
}

impl Container {
    /// `VFIO_CHECK_EXTENSION`: no base extensions; without a backend, poll them all.
    fn check_extension(&self, ext: usize) -> isize {
        iommu_drivers::check_extension(ext)
    }
}
