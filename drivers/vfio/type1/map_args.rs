// SPDX-License-Identifier: GPL-2.0

//! Argument checks of `VFIO_IOMMU_MAP_DMA` and `VFIO_IOMMU_UNMAP_DMA`, in upstream's order.
//!
//! The order of the checks decides which errno a bad request gets, so each function covers
//! one stretch of upstream's code between two points where the kernel module must do
//! something itself (copy from user space, take the container lock). Upstream also refuses
//! `__u64` fields that do not fit `dma_addr_t`/`size_t`/`unsigned long` with `EOVERFLOW`
//! (`:1693`, `:1413`); on x86-64 they all fit, so those checks are absent here.

use super::dirty_bitmap::{request_pages, verify_bitmap_size, BitmapArg};
use super::pgsize::min_pgsize;
use super::uapi::{
    BITMAP_ARG_SIZE, IOMMU_READ, IOMMU_WRITE, MAP_FLAG_READ, MAP_FLAG_VADDR, MAP_FLAG_WRITE,
    MAP_MINSZ, UNMAP_FLAG_ALL, UNMAP_FLAG_GET_DIRTY_BITMAP, UNMAP_FLAG_VADDR, UNMAP_MINSZ,
};
use crate::errno::Errno;

/// `struct vfio_iommu_type1_dma_map` as read from user space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MapDmaArgs {
    /// `argsz`.
    pub(crate) argsz: u32,
    /// `flags`: `VFIO_DMA_MAP_FLAG_*`.
    pub(crate) flags: u32,
    /// Process virtual address.
    pub(crate) vaddr: u64,
    /// IO virtual address.
    pub(crate) iova: u64,
    /// Bytes.
    pub(crate) size: u64,
}

/// A `MAP_DMA` request that passed the checks done before the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MapRequest {
    /// First IOVA.
    pub(crate) iova: u64,
    /// Last IOVA (`iova + size - 1`, does not overflow).
    pub(crate) last: u64,
    /// Process virtual address (`vaddr + size - 1` does not overflow).
    pub(crate) vaddr: u64,
    /// Bytes, not 0.
    pub(crate) size: u64,
    /// `IOMMU_READ`/`IOMMU_WRITE`; 0 exactly when `set_vaddr`.
    pub(crate) prot: u32,
    /// `VFIO_DMA_MAP_FLAG_VADDR`: give an invalidated mapping a new vaddr.
    pub(crate) set_vaddr: bool,
}

/// `vfio_iommu_type1_map_dma` (`:2906-2907`) and `vfio_dma_do_map` up to its lock
/// (`:1697-1711`).
pub(crate) fn check_map(args: &MapDmaArgs) -> Result<MapRequest, Errno> {
    let mask = MAP_FLAG_READ | MAP_FLAG_WRITE | MAP_FLAG_VADDR;
    if args.argsz < MAP_MINSZ || args.flags & !mask != 0 {
        return Err(Errno::EINVAL);
    }
    let last_offset = args.size.checked_sub(1).ok_or(Errno::EINVAL)?;
    let last = args.iova.checked_add(last_offset).ok_or(Errno::EOVERFLOW)?;
    if args.vaddr.checked_add(last_offset).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let mut prot = 0;
    if args.flags & MAP_FLAG_WRITE != 0 {
        prot |= IOMMU_WRITE;
    }
    if args.flags & MAP_FLAG_READ != 0 {
        prot |= IOMMU_READ;
    }
    let set_vaddr = args.flags & MAP_FLAG_VADDR != 0;
    // A vaddr update keeps the protection; a new mapping needs one.
    if (prot != 0) == set_vaddr {
        return Err(Errno::EINVAL);
    }
    Ok(MapRequest {
        iova: args.iova,
        last,
        vaddr: args.vaddr,
        size: args.size,
        prot,
        set_vaddr,
    })
}

/// `vfio_dma_do_map` right after taking the lock (`:1717-1723`): size, iova and vaddr must be
/// multiples of the smallest IOMMU page.
pub(crate) fn check_map_alignment(req: &MapRequest, pgsize_bitmap: u64) -> Result<(), Errno> {
    let mask = min_pgsize(pgsize_bitmap) - 1;
    if (req.size | req.iova | req.vaddr) & mask != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `struct vfio_iommu_type1_dma_unmap` as read from user space (without `data[]`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UnmapDmaArgs {
    /// `argsz`.
    pub(crate) argsz: u32,
    /// `flags`: `VFIO_DMA_UNMAP_FLAG_*`.
    pub(crate) flags: u32,
    /// IO virtual address.
    pub(crate) iova: u64,
    /// Bytes.
    pub(crate) size: u64,
}

impl UnmapDmaArgs {
    /// `VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP`: a `struct vfio_bitmap` follows.
    pub(crate) fn wants_bitmap(&self) -> bool {
        self.flags & UNMAP_FLAG_GET_DIRTY_BITMAP != 0
    }
}

/// `vfio_iommu_type1_unmap_dma` before reading the bitmap (`:2927-2941`). When this passes
/// and [`UnmapDmaArgs::wants_bitmap`], the caller reads the `struct vfio_bitmap` after the
/// header (`EFAULT`), checks `access_ok` on it (`EINVAL`) and calls [`check_unmap_bitmap`].
pub(crate) fn check_unmap_header(args: &UnmapDmaArgs) -> Result<(), Errno> {
    let mask = UNMAP_FLAG_GET_DIRTY_BITMAP | UNMAP_FLAG_VADDR | UNMAP_FLAG_ALL;
    if args.argsz < UNMAP_MINSZ || args.flags & !mask != 0 {
        return Err(Errno::EINVAL);
    }
    if args.wants_bitmap() {
        if args.flags & (UNMAP_FLAG_ALL | UNMAP_FLAG_VADDR) != 0 {
            return Err(Errno::EINVAL);
        }
        if args.argsz < UNMAP_MINSZ + BITMAP_ARG_SIZE {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

/// The user bitmap of an unmap (`:2947-2950`): big enough for the whole request.
pub(crate) fn check_unmap_bitmap(args: &UnmapDmaArgs, bitmap: &BitmapArg) -> Result<(), Errno> {
    verify_bitmap_size(request_pages(args.size, bitmap.pgsize), bitmap.size)
}

/// Container state the unmap checks depend on, read under the lock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnmapContext {
    /// Emulated-IOMMU (mdev) groups are attached.
    pub(crate) has_emulated: bool,
    /// The container's `pgsize_bitmap`.
    pub(crate) pgsize_bitmap: u64,
    /// Dirty page tracking is on.
    pub(crate) dirty_tracking: bool,
}

/// A checked `UNMAP_DMA` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct UnmapRequest {
    /// First IOVA.
    pub(crate) iova: u64,
    /// Last IOVA (`u64::MAX` for `all`).
    pub(crate) last: u64,
    /// `VFIO_DMA_UNMAP_FLAG_ALL`.
    pub(crate) all: bool,
    /// `VFIO_DMA_UNMAP_FLAG_VADDR`: only invalidate vaddrs.
    pub(crate) invalidate_vaddr: bool,
    /// `VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP`: report each mapping's bits before removing it.
    pub(crate) get_dirty: bool,
    /// The smallest IOMMU page, the bitmap's page size.
    pub(crate) pgsize: u64,
}

/// `vfio_dma_do_unmap` from taking the lock to its `again:` label (`:1405-1444`). `bitmap` is
/// the one read after the header, or the default (zeroed) one without the bitmap flag.
pub(crate) fn check_unmap(
    args: &UnmapDmaArgs,
    bitmap: &BitmapArg,
    ctx: &UnmapContext,
) -> Result<UnmapRequest, Errno> {
    let all = args.flags & UNMAP_FLAG_ALL != 0;
    let invalidate_vaddr = args.flags & UNMAP_FLAG_VADDR != 0;
    // Emulated devices may pin or read through vaddrs at any time.
    if invalidate_vaddr && ctx.has_emulated {
        return Err(Errno::EBUSY);
    }
    let pgsize = min_pgsize(ctx.pgsize_bitmap);
    let mask = pgsize - 1;
    if args.iova & mask != 0 {
        return Err(Errno::EINVAL);
    }
    let last = if all {
        if args.iova != 0 || args.size != 0 {
            return Err(Errno::EINVAL);
        }
        u64::MAX
    } else {
        if args.size == 0 || args.size & mask != 0 {
            return Err(Errno::EINVAL);
        }
        args.iova
            .checked_add(args.size - 1)
            .ok_or(Errno::EOVERFLOW)?
    };
    let get_dirty = args.wants_bitmap();
    if get_dirty && (!ctx.dirty_tracking || bitmap.pgsize != pgsize) {
        return Err(Errno::EINVAL);
    }
    Ok(UnmapRequest {
        iova: args.iova,
        last,
        all,
        invalidate_vaddr,
        get_dirty,
        pgsize,
    })
}

#[cfg(test)]
mod tests {
    use super::super::pgsize::INITIAL_PGSIZE_BITMAP;
    use super::*;

    const PG: u64 = 4096;
    const RW: u32 = MAP_FLAG_READ | MAP_FLAG_WRITE;

    fn map(flags: u32, vaddr: u64, iova: u64, size: u64) -> MapDmaArgs {
        MapDmaArgs {
            argsz: MAP_MINSZ,
            flags,
            vaddr,
            iova,
            size,
        }
    }

    #[test]
    fn map_header() {
        // :2906-2907
        let short = MapDmaArgs {
            argsz: MAP_MINSZ - 1,
            ..map(RW, 0, 0, PG)
        };
        assert_eq!(check_map(&short), Err(Errno::EINVAL));
        assert_eq!(check_map(&map(RW | 1 << 3, 0, 0, PG)), Err(Errno::EINVAL));
        // Larger argsz is fine.
        let long = MapDmaArgs {
            argsz: 4096,
            ..map(RW, 0, 0, PG)
        };
        assert!(check_map(&long).is_ok());
    }

    #[test]
    fn map_checks_in_order() {
        // :1697-1698 size 0 before the overflow and flag checks.
        assert_eq!(
            check_map(&map(0, u64::MAX, u64::MAX, 0)),
            Err(Errno::EINVAL)
        );
        // :1700-1702 iova, then vaddr overflow.
        assert_eq!(check_map(&map(RW, 0, u64::MAX, 2)), Err(Errno::EOVERFLOW));
        assert_eq!(check_map(&map(RW, u64::MAX, 0, 2)), Err(Errno::EOVERFLOW));
        // Overflow comes before the prot check: no flags at all still says EOVERFLOW.
        assert_eq!(check_map(&map(0, u64::MAX, 0, 2)), Err(Errno::EOVERFLOW));
        // The last byte may be u64::MAX.
        assert!(check_map(&map(RW, 0, u64::MAX - PG + 1, PG)).is_ok());
        // :1710-1711 prot xor VADDR.
        assert_eq!(check_map(&map(0, 0, 0, PG)), Err(Errno::EINVAL));
        assert_eq!(
            check_map(&map(MAP_FLAG_READ | MAP_FLAG_VADDR, 0, 0, PG)),
            Err(Errno::EINVAL)
        );
        let req = check_map(&map(MAP_FLAG_VADDR, 0x5000, 0x1000, PG)).unwrap();
        assert!(req.set_vaddr && req.prot == 0 && req.last == 0x1fff);
        let req = check_map(&map(MAP_FLAG_WRITE, 0, 0, PG)).unwrap();
        assert_eq!(req.prot, IOMMU_WRITE);
        let req = check_map(&map(RW, 0, 0, PG)).unwrap();
        assert_eq!(req.prot, IOMMU_READ | IOMMU_WRITE);
    }

    #[test]
    fn map_alignment() {
        // :1719-1722 - size, iova and vaddr, against the smallest page.
        let bitmap = INITIAL_PGSIZE_BITMAP;
        for (vaddr, iova, size) in [(0x800, 0, PG), (0, 0x800, PG), (0, 0, 0x800)] {
            let req = check_map(&map(RW, vaddr, iova, size)).unwrap();
            assert_eq!(check_map_alignment(&req, bitmap), Err(Errno::EINVAL));
        }
        let req = check_map(&map(RW, 0x1000, 0x2000, PG)).unwrap();
        assert_eq!(check_map_alignment(&req, bitmap), Ok(()));
        assert_eq!(check_map_alignment(&req, 0x20_0000), Err(Errno::EINVAL));
    }

    fn unmap(flags: u32, iova: u64, size: u64) -> UnmapDmaArgs {
        UnmapDmaArgs {
            argsz: UNMAP_MINSZ,
            flags,
            iova,
            size,
        }
    }

    #[test]
    fn unmap_header() {
        let short = UnmapDmaArgs {
            argsz: UNMAP_MINSZ - 1,
            ..unmap(0, 0, PG)
        };
        // :2927-2928
        assert_eq!(check_unmap_header(&short), Err(Errno::EINVAL));
        assert_eq!(
            check_unmap_header(&unmap(1 << 3, 0, PG)),
            Err(Errno::EINVAL)
        );
        // :2930-2933 - bitmap with ALL or VADDR.
        let bm = UNMAP_FLAG_GET_DIRTY_BITMAP;
        let big = |flags| UnmapDmaArgs {
            argsz: 64,
            ..unmap(flags, 0, PG)
        };
        assert_eq!(
            check_unmap_header(&big(bm | UNMAP_FLAG_ALL)),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check_unmap_header(&big(bm | UNMAP_FLAG_VADDR)),
            Err(Errno::EINVAL)
        );
        // :2938-2939 - room for struct vfio_bitmap.
        assert_eq!(check_unmap_header(&unmap(bm, 0, PG)), Err(Errno::EINVAL));
        assert_eq!(check_unmap_header(&big(bm)), Ok(()));
        assert_eq!(
            check_unmap_header(&big(UNMAP_FLAG_ALL | UNMAP_FLAG_VADDR)),
            Ok(())
        );
        // :2947-2950
        let args = unmap(bm, 0, 65 * PG);
        let bitmap = |size| BitmapArg {
            pgsize: PG,
            size,
            data: 0x1000,
        };
        assert_eq!(check_unmap_bitmap(&args, &bitmap(8)), Err(Errno::EINVAL));
        assert_eq!(check_unmap_bitmap(&args, &bitmap(16)), Ok(()));
    }

    const CTX: UnmapContext = UnmapContext {
        has_emulated: false,
        pgsize_bitmap: INITIAL_PGSIZE_BITMAP,
        dirty_tracking: false,
    };

    #[test]
    fn unmap_checks_in_order() {
        let none = BitmapArg::default();
        let mdev = UnmapContext {
            has_emulated: true,
            ..CTX
        };
        // :1408-1412 - EBUSY before any argument check.
        assert_eq!(
            check_unmap(&unmap(UNMAP_FLAG_VADDR, 1, 0), &none, &mdev),
            Err(Errno::EBUSY)
        );
        assert!(check_unmap(&unmap(0, 0, PG), &none, &mdev).is_ok());
        // :1422-1423 iova alignment, even with ALL.
        assert_eq!(
            check_unmap(&unmap(UNMAP_FLAG_ALL, 1, 0), &none, &CTX),
            Err(Errno::EINVAL)
        );
        // :1425-1428 ALL needs iova = size = 0.
        assert_eq!(
            check_unmap(&unmap(UNMAP_FLAG_ALL, 0, PG), &none, &CTX),
            Err(Errno::EINVAL)
        );
        let all = check_unmap(&unmap(UNMAP_FLAG_ALL, 0, 0), &none, &CTX).unwrap();
        assert!(all.all && all.last == u64::MAX);
        // :1430-1431 size 0 / unaligned.
        assert_eq!(
            check_unmap(&unmap(0, 0, 0), &none, &CTX),
            Err(Errno::EINVAL)
        );
        assert_eq!(
            check_unmap(&unmap(0, 0, 0x800), &none, &CTX),
            Err(Errno::EINVAL)
        );
        // :1433-1436
        assert_eq!(
            check_unmap(&unmap(0, u64::MAX - PG + 1, 2 * PG), &none, &CTX),
            Err(Errno::EOVERFLOW)
        );
        let req = check_unmap(&unmap(0, u64::MAX - PG + 1, PG), &none, &CTX).unwrap();
        assert_eq!(req.last, u64::MAX);
        // :1440-1443 - bitmap needs tracking and the smallest page size.
        let bm = UNMAP_FLAG_GET_DIRTY_BITMAP;
        let bitmap = BitmapArg {
            pgsize: PG,
            size: 8,
            data: 0x1000,
        };
        assert_eq!(
            check_unmap(&unmap(bm, 0, PG), &bitmap, &CTX),
            Err(Errno::EINVAL)
        );
        let tracking = UnmapContext {
            dirty_tracking: true,
            ..CTX
        };
        let req = check_unmap(&unmap(bm, 0, PG), &bitmap, &tracking).unwrap();
        assert!(req.get_dirty && req.pgsize == PG);
        let huge = BitmapArg {
            pgsize: 0x20_0000,
            ..bitmap
        };
        assert_eq!(
            check_unmap(&unmap(bm, 0, PG), &huge, &tracking),
            Err(Errno::EINVAL)
        );
        // An overflow still wins over the bitmap page size.
        assert_eq!(
            check_unmap(&unmap(bm, u64::MAX - PG + 1, 2 * PG), &huge, &tracking),
            Err(Errno::EOVERFLOW)
        );
    }
}
