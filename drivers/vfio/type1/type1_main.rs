// SPDX-License-Identifier: GPL-2.0

//! `vfio_iommu_type1.ko` in Rust: a drop-in for upstream's type1 IOMMU driver of the VFIO
//! container API (`drivers/vfio/vfio_iommu_type1.c`). It registers its
//! `struct vfio_iommu_driver_ops` with whichever VFIO core is loaded, ours or upstream's.
//!
//! Decisions are the pure, kernel-independent sibling modules, host-tested in `host/type1.rs`:
//! `dirty_bitmap` (dirty bitmap sizes and bits), `dma_map` (the mapping map), `dma_runs` (a mapping's
//! record of its mapped runs), `errno`,
//! `iova_ranges` (usable IOVA ranges), `map_args` (MAP/UNMAP argument checks), `pfn_runs`
//! (contiguous pinned runs), `pgsize` (page-size bitmap), `pin` (pin/unpin/`dma_rw` checks) and
//! `uapi` (user API values). The kernel side: `iommu` (`struct vfio_iommu`, the ops), `ioctl`
//! (container ioctls), `domain` (IOMMU domains), `dma` (one mapping's storage), `dirty` (dirty
//! page tracking), `emulated` (emulated-IOMMU devices: pinning and `dma_rw`) and `pfnmap`
//! (getting and putting a mapping's frames). Plan and status: `docs/design/type1-plan.md`.

use vfio_rs_kernel_ext as kernel_ext;

mod dirty;
#[expect(dead_code, reason = "`test_bit` serves the host tests")]
mod dirty_bitmap;
mod dma;
#[expect(
    dead_code,
    reason = "`contains`, `iter` and the checked `insert` serve the host tests"
)]
mod dma_map;
mod dma_runs;
mod domain;
mod emulated;
mod ioctl;
mod iommu;
mod iova_ranges;
mod map_args;
mod pfn_runs;
mod pfnmap;
mod pgsize;
mod pin;
mod uapi;

// Pure code's errno (`rust/errno.rs`), at the crate root where the pure modules (also built on
// the host) find it.
use kernel_ext::errno;

use kernel::{
    module::this_module,
    prelude::*, //
};
use kernel_ext::{
    param::module_param_rw,
    vfio::iommu_driver_impl::{
        IommuDriverRegistration,
        IommuOpsVtable,
        StaticIommuOps, //
    },
};

module! {
    type: Type1Module,
    name: "vfio_iommu_type1",
    authors: ["vfio-rs developers"],
    description: "Type1 IOMMU driver for VFIO",
    license: "GPL v2",
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
