// SPDX-License-Identifier: GPL-2.0

//! The pure logic of the type1 IOMMU driver, laid out as the kernel module's crate root
//! will declare it (sibling modules), so the files' `super::` paths work in both builds.

#[path = "../drivers/vfio/type1/dirty_bitmap.rs"]
pub mod dirty_bitmap;
#[path = "../drivers/vfio/type1/dma_map.rs"]
pub mod dma_map;
#[path = "../drivers/vfio/type1/dma_runs.rs"]
pub mod dma_runs;
#[path = "../drivers/vfio/type1/iova_ranges.rs"]
pub mod iova_ranges;
#[path = "../drivers/vfio/type1/map_args.rs"]
pub mod map_args;
#[path = "../drivers/vfio/type1/pfn_runs.rs"]
pub mod pfn_runs;
#[path = "../drivers/vfio/type1/pgsize.rs"]
pub mod pgsize;
#[path = "../drivers/vfio/type1/pin.rs"]
pub mod pin;
#[path = "../drivers/vfio/type1/uapi.rs"]
pub mod uapi;

#[cfg(test)]
#[path = "type1_model.rs"]
mod model;
