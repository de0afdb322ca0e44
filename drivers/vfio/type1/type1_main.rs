// SPDX-License-Identifier: GPL-2.0

//! `vfio_iommu_type1.ko` in Rust: a drop-in for upstream's type1 IOMMU backend of the VFIO
//! container API (`drivers/vfio/vfio_iommu_type1.c`). It registers its
//! `struct vfio_iommu_driver_ops` with whichever VFIO core is loaded, ours or upstream's.
//!
//! Decisions (argument checks, the mapping map, IOVA ranges) are the pure sibling modules,
//! host-tested in `host/`; `iommu.rs`, `domain.rs`, `dma.rs` and `ioctl.rs` are the kernel
//! side. Plan and status: `docs/design/type1-plan.md`.

#[path = "../../../rust/kabi.rs"]
mod kabi;

mod dirty;
#[expect(dead_code, reason = "`test_bit` serves the host tests")]
mod dirty_bitmap;
mod dma;
#[expect(dead_code, reason = "`contains` and `iter` serve the host tests")]
mod dma_map;
mod domain;
mod emulated;
#[expect(dead_code, reason = "errno names serve the host tests' output")]
mod errno;
mod ioctl;
mod iommu;
mod iova_ranges;
mod map_args;
mod pfn_runs;
mod pfnmap;
mod pgsize;
mod pin;
mod uapi;

use kabi::{
    param::module_param_rw,
    vfio::iommu_backend::{
        IommuDriverRegistration,
        IommuOpsVtable,
        StaticIommuOps, //
    },
};
use kernel::{
    module::this_module,
    prelude::*, //
};

module! {
    type: Type1Module,
    name: "vfio_iommu_type1",
    authors: ["vfio-rs developers"],
    description: "Type1 IOMMU driver for VFIO",
    license: "GPL v2",
    // The shared kabi layer links iommufd helpers (unused here) into every module.
    imports_ns: ["IOMMUFD", "IOMMUFD_VFIO"],
}

/// Upstream's parameters, same names, types and modes (0644).
pub(crate) mod module_params {
    use super::*;

    module_param_rw!(
        /// Attach groups without isolated MSIs (no interrupt remapping).
        static allow_unsafe_interrupts: bool = false, 0o644,
        "Enable VFIO IOMMU support for on platforms without interrupt remapping support.";
    );
    module_param_rw!(
        /// Map every page on its own, never as a larger IOMMU page.
        static disable_hugepages: bool = false, 0o644,
        "Disable VFIO IOMMU support for IOMMU hugepages.";
    );
    module_param_rw!(
        /// Mappings per container (`VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL` at open).
        static dma_entry_limit: uint = u16::MAX as u32, 0o644,
        "Maximum number of user DMA mappings per container (65535).";
    );
}

/// The ops table registered with the VFIO core.
static TYPE1_OPS: StaticIommuOps =
    IommuOpsVtable::<iommu::VfioIommu>::build(c"vfio-iommu-type1", this_module::<LocalModule>());

/// The loaded module: its registration with the core.
struct Type1Module {
    _registration: IommuDriverRegistration,
}

impl kernel::Module for Type1Module {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _registration: IommuDriverRegistration::new(&TYPE1_OPS)?,
        })
    }
}
