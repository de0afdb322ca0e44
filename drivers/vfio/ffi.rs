// SPDX-License-Identifier: GPL-2.0

//! `vfio.ko`'s C ABI, all in one place: the `#[no_mangle]` entry points with upstream's names
//! and signatures, and the ops tables `vfio.ko` hands to C. The rest of `drivers/vfio/` is safe
//! Rust; these files convert raw arguments into the safe types of [`crate::kernel_ext`] and call
//! it. `drivers/vfio/vfio_exports.c` then does the `EXPORT_SYMBOL`s, with upstream's prototypes
//! in scope.
//!
//! By upstream source file: `core` (`vfio_main.c`, `container.c`, `group.c`: IOMMU driver
//! registration, info caps, IRQ set checks, device allocation and registration, device sets,
//! group files), `iommufd` (`iommufd.c`: binding devices to iommufd), `virqfd` (`virqfd.c`),
//! `dma` (`vfio_main.c`: CPU DMA for emulated-IOMMU drivers), `file` (`vfio_main.c`: the
//! `vfio_file_*` exports for KVM), `mig` (`vfio_main.c`: migration helpers).

pub(crate) mod core;
mod dma;
mod file;
mod iommufd;
mod mig;
pub(crate) mod virqfd;

use crate::{
    device_file::DeviceFile,
    group::Group,
    kernel_ext::{
        cdev_fops::CdevFops,
        fops::StaticFops,
        vfio::device_file::DeviceFileVtable, //
    },
    LocalModule,
};
use kernel::module::this_module;

/// File operations of `/dev/vfio/N`.
pub(crate) static GROUP_FOPS: CdevFops<Group> = CdevFops::new(this_module::<LocalModule>());

/// File operations of device files: `/dev/vfio/devices/vfioN` (whose `open` is used) and the
/// fds of `VFIO_GROUP_GET_DEVICE_FD`, as upstream shares one table.
pub(crate) static DEVICE_FILE_FOPS: StaticFops =
    DeviceFileVtable::<DeviceFile>::build(this_module::<LocalModule>());
