// SPDX-License-Identifier: GPL-2.0

//! The type1 user API values (`include/uapi/linux/vfio.h`) and the answers that depend on
//! nothing but them: which container types open, and `VFIO_CHECK_EXTENSION`.

use crate::errno::Errno;

/// `VFIO_TYPE1_IOMMU`: v1 semantics (lenient unmap).
pub(crate) const VFIO_TYPE1_IOMMU: u64 = 1;
/// `VFIO_TYPE1v2_IOMMU`.
pub(crate) const VFIO_TYPE1V2_IOMMU: u64 = 3;
/// `VFIO_DMA_CC_IOMMU`: every domain enforces cache coherency.
pub(crate) const VFIO_DMA_CC_IOMMU: u64 = 4;
/// `__VFIO_RESERVED_TYPE1_NESTING_IOMMU`: still opens, as v2, but is never advertised.
pub(crate) const VFIO_RESERVED_TYPE1_NESTING_IOMMU: u64 = 6;
/// `VFIO_UNMAP_ALL`.
pub(crate) const VFIO_UNMAP_ALL: u64 = 9;
/// `VFIO_UPDATE_VADDR`.
pub(crate) const VFIO_UPDATE_VADDR: u64 = 10;

/// `VFIO_DMA_MAP_FLAG_READ`: the device may read.
pub(crate) const MAP_FLAG_READ: u32 = 1 << 0;
/// `VFIO_DMA_MAP_FLAG_WRITE`: the device may write.
pub(crate) const MAP_FLAG_WRITE: u32 = 1 << 1;
/// `VFIO_DMA_MAP_FLAG_VADDR`: update the vaddr of an invalidated mapping.
pub(crate) const MAP_FLAG_VADDR: u32 = 1 << 2;

/// `VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP`.
pub(crate) const UNMAP_FLAG_GET_DIRTY_BITMAP: u32 = 1 << 0;
/// `VFIO_DMA_UNMAP_FLAG_ALL`.
pub(crate) const UNMAP_FLAG_ALL: u32 = 1 << 1;
/// `VFIO_DMA_UNMAP_FLAG_VADDR`: invalidate vaddrs instead of unmapping.
pub(crate) const UNMAP_FLAG_VADDR: u32 = 1 << 2;

/// `VFIO_IOMMU_DIRTY_PAGES_FLAG_START`.
pub(crate) const DIRTY_PAGES_FLAG_START: u32 = 1 << 0;
/// `VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP`.
pub(crate) const DIRTY_PAGES_FLAG_STOP: u32 = 1 << 1;
/// `VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP`.
pub(crate) const DIRTY_PAGES_FLAG_GET_BITMAP: u32 = 1 << 2;

/// `IOMMU_READ` (`include/linux/iommu.h`), the kernel's protection bit.
pub(crate) const IOMMU_READ: u32 = 1 << 0;
/// `IOMMU_WRITE`.
pub(crate) const IOMMU_WRITE: u32 = 1 << 1;
/// `IOMMU_CACHE`, added to every `iommu_map` of user memory.
pub(crate) const IOMMU_CACHE: u32 = 1 << 2;

/// `sizeof(struct vfio_iommu_type1_info)`.
pub(crate) const INFO_SIZE: u32 = 24;
/// `offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)`.
pub(crate) const INFO_MINSZ: u32 = 16;
/// `offsetofend(struct vfio_iommu_type1_dma_map, size)`.
pub(crate) const MAP_MINSZ: u32 = 32;
/// `offsetofend(struct vfio_iommu_type1_dma_unmap, size)`.
pub(crate) const UNMAP_MINSZ: u32 = 24;
/// `sizeof(struct vfio_bitmap)`: pgsize, size, data pointer.
pub(crate) const BITMAP_ARG_SIZE: u32 = 24;
/// `offsetofend(struct vfio_iommu_type1_dirty_bitmap, flags)`.
pub(crate) const DIRTY_MINSZ: u32 = 8;
/// `sizeof(struct vfio_iommu_type1_dirty_bitmap_get)`: iova, size, `struct vfio_bitmap`.
pub(crate) const DIRTY_GET_SIZE: u32 = 40;

/// `vfio_iommu_type1_open` (`:2623`): whether a container of type `arg` gets v2 semantics;
/// `EINVAL` for types type1 does not serve.
pub(crate) fn open_is_v2(arg: u64) -> Result<bool, Errno> {
    match arg {
        VFIO_TYPE1_IOMMU => Ok(false),
        VFIO_RESERVED_TYPE1_NESTING_IOMMU | VFIO_TYPE1V2_IOMMU => Ok(true),
        _ => Err(Errno::EINVAL),
    }
}

/// What `VFIO_CHECK_EXTENSION` needs to know about an open container.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ContainerFacts {
    /// Emulated-IOMMU (mdev) groups are attached.
    pub(crate) has_emulated: bool,
    /// Every IOMMU domain enforces cache coherency (true without domains).
    pub(crate) all_domains_coherent: bool,
}

/// `vfio_iommu_type1_check_extension` (`:2723`); `container` is `None` when the core polls
/// IOMMU drivers before `VFIO_SET_IOMMU`.
pub(crate) fn check_extension(container: Option<ContainerFacts>, arg: u64) -> i32 {
    match arg {
        VFIO_TYPE1_IOMMU | VFIO_TYPE1V2_IOMMU | VFIO_UNMAP_ALL => 1,
        VFIO_UPDATE_VADDR => i32::from(container.is_some_and(|c| !c.has_emulated)),
        VFIO_DMA_CC_IOMMU => i32::from(container.is_some_and(|c| c.all_domains_coherent)),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_types() {
        assert_eq!(open_is_v2(VFIO_TYPE1_IOMMU), Ok(false));
        assert_eq!(open_is_v2(VFIO_TYPE1V2_IOMMU), Ok(true));
        // :2634 - the reserved nesting type opens as v2.
        assert_eq!(open_is_v2(VFIO_RESERVED_TYPE1_NESTING_IOMMU), Ok(true));
        // :2637-2639
        assert_eq!(open_is_v2(2), Err(Errno::EINVAL));
        assert_eq!(open_is_v2(8), Err(Errno::EINVAL));
    }

    #[test]
    fn extensions() {
        let plain = ContainerFacts {
            has_emulated: false,
            all_domains_coherent: true,
        };
        let mdev = ContainerFacts {
            has_emulated: true,
            all_domains_coherent: false,
        };
        for arg in [VFIO_TYPE1_IOMMU, VFIO_TYPE1V2_IOMMU, VFIO_UNMAP_ALL] {
            assert_eq!(check_extension(None, arg), 1);
            assert_eq!(check_extension(Some(mdev), arg), 1);
        }
        // :2730-2735 - UPDATE_VADDR needs a container without emulated groups.
        assert_eq!(check_extension(None, VFIO_UPDATE_VADDR), 0);
        assert_eq!(check_extension(Some(plain), VFIO_UPDATE_VADDR), 1);
        assert_eq!(check_extension(Some(mdev), VFIO_UPDATE_VADDR), 0);
        // :2736-2739
        assert_eq!(check_extension(None, VFIO_DMA_CC_IOMMU), 0);
        assert_eq!(check_extension(Some(plain), VFIO_DMA_CC_IOMMU), 1);
        assert_eq!(check_extension(Some(mdev), VFIO_DMA_CC_IOMMU), 0);
        // The nesting type is never advertised.
        assert_eq!(check_extension(None, VFIO_RESERVED_TYPE1_NESTING_IOMMU), 0);
        assert_eq!(check_extension(Some(plain), 2), 0);
    }
}
