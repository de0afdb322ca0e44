// SPDX-License-Identifier: GPL-2.0

//! The pure checks of `vfio_pin_pages`/`vfio_unpin_pages` and `vfio_dma_rw` on a type1
//! container: argument checks, container state, and which mapping a page or access hits.
//! The pinning itself (GUP, the per-mapping pfn tree, locked-memory accounting) stays in the
//! kernel module.

use super::dma_map::{DmaEntry, DmaMap, DmaStore};
use super::pgsize::PAGE_SIZE;
use super::uapi::{IOMMU_READ, IOMMU_WRITE};
use crate::errno::Errno;

/// `vfio_iommu_type1_pin_pages` before the lock (`:905-916`): `EINVAL` without a page array or
/// with `npage <= 0`, `EACCES` on a v1 container, `EOVERFLOW` if the pages run past the end of
/// the IOVA space. Returns the last IOVA.
pub(crate) fn check_pin_pages(
    user_iova: u64,
    npage: i32,
    has_pages: bool,
    v2: bool,
) -> Result<u64, Errno> {
    if !has_pages || npage <= 0 {
        return Err(Errno::EINVAL);
    }
    if !v2 {
        return Err(Errno::EACCES);
    }
    // `npage` is positive, so `npage * PAGE_SIZE` fits (and is not 0).
    let bytes = u64::from(npage.unsigned_abs()) * PAGE_SIZE;
    user_iova.checked_add(bytes - 1).ok_or(Errno::EOVERFLOW)
}

/// `vfio_iommu_type1_pin_pages` under the lock (`:921-931`): `EBUSY` (upstream also warns)
/// while vaddrs are invalid, `EINVAL` when no registered device has a `dma_unmap` callback to
/// be told about unmaps.
pub(crate) fn check_pin_state(
    vaddr_invalid_count: u32,
    has_dma_unmap_devices: bool,
) -> Result<(), Errno> {
    if vaddr_invalid_count != 0 {
        return Err(Errno::EBUSY);
    }
    if !has_dma_unmap_devices {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The mapping a page to pin at `iova` belongs to (`:944-954`): `EINVAL` if none, `EPERM` if
/// it lacks part of `prot`.
pub(crate) fn pin_target<S: DmaStore>(
    map: &DmaMap<S>,
    iova: u64,
    prot: u32,
) -> Result<&S::Entry, Errno> {
    let entry = map.find(iova, PAGE_SIZE).ok_or(Errno::EINVAL)?;
    if entry.range().prot & prot != prot {
        return Err(Errno::EPERM);
    }
    Ok(entry)
}

/// IOVA of page `index` of a pin request (`user_iova + PAGE_SIZE * i`).
pub(crate) fn page_iova(user_iova: u64, index: u32) -> u64 {
    user_iova.wrapping_add(PAGE_SIZE * u64::from(index))
}

/// The process address backing `iova` in a mapping (`:962`, `:3168`).
pub(crate) fn vaddr_of<E: DmaEntry>(entry: &E, iova: u64) -> u64 {
    let range = entry.range();
    range.vaddr.wrapping_add(iova.wrapping_sub(range.iova))
}

/// `vfio_iommu_type1_unpin_pages`'s sanity checks (`:1028-1036`): false (and a warning
/// upstream) means "do nothing".
pub(crate) fn unpin_args_ok(user_iova: u64, npage: i32, v2: bool) -> bool {
    v2 && npage > 0
        && user_iova
            .checked_add(u64::from(npage.unsigned_abs()) * PAGE_SIZE - 1)
            .is_some()
}

/// `vfio_iommu_type1_dma_rw` under the lock (`:3207-3211`): `EBUSY` (and a warning) while
/// vaddrs are invalid.
pub(crate) fn check_rw_state(vaddr_invalid_count: u32) -> Result<(), Errno> {
    if vaddr_invalid_count != 0 {
        return Err(Errno::EBUSY);
    }
    Ok(())
}

/// One step of `vfio_dma_rw`: the part of an access that stays in one mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RwChunk {
    /// First IOVA of the mapping.
    pub(crate) dma_iova: u64,
    /// Offset of the access in the mapping.
    pub(crate) offset: u64,
    /// Bytes of this chunk.
    pub(crate) count: u64,
    /// Process address to copy from or to.
    pub(crate) vaddr: u64,
}

/// `vfio_iommu_type1_dma_rw_chunk` before touching the mm (`:3150-3172`): the mapping holding
/// `user_iova` (`EINVAL` if none) must be readable, and writable for a write (`EPERM`); the
/// chunk ends with the mapping. The caller then gets the mapping's mm (`EPERM` if gone).
pub(crate) fn rw_chunk<S: DmaStore>(
    map: &DmaMap<S>,
    user_iova: u64,
    count: u64,
    write: bool,
) -> Result<RwChunk, Errno> {
    let entry = map.find(user_iova, 1).ok_or(Errno::EINVAL)?;
    let range = entry.range();
    if (write && range.prot & IOMMU_WRITE == 0) || range.prot & IOMMU_READ == 0 {
        return Err(Errno::EPERM);
    }
    let offset = user_iova.wrapping_sub(range.iova);
    Ok(RwChunk {
        dma_iova: range.iova,
        offset,
        count: count.min(range.size.wrapping_sub(offset)),
        vaddr: range.vaddr.wrapping_add(offset),
    })
}

#[cfg(test)]
mod tests {
    use super::super::dma_map::test_store::{BTreeStore, TestDma};
    use super::super::dma_map::DmaRange;
    use super::*;

    fn map_with(prot: u32) -> DmaMap<BTreeStore> {
        let mut m = DmaMap::new(BTreeStore::default(), 10);
        m.insert(TestDma::new(DmaRange {
            iova: 0x10000,
            size: 4 * PAGE_SIZE,
            vaddr: 0x7000_0000,
            prot,
            vaddr_invalid: false,
        }))
        .unwrap();
        m
    }

    #[test]
    fn pin_argument_checks() {
        // :905-906
        assert_eq!(check_pin_pages(0, 1, false, true), Err(Errno::EINVAL));
        assert_eq!(check_pin_pages(0, 0, true, true), Err(Errno::EINVAL));
        assert_eq!(check_pin_pages(0, -1, true, true), Err(Errno::EINVAL));
        // :909-910, after the EINVAL cases.
        assert_eq!(check_pin_pages(0, 1, true, false), Err(Errno::EACCES));
        assert_eq!(check_pin_pages(0, 0, true, false), Err(Errno::EINVAL));
        // :912-914
        assert_eq!(
            check_pin_pages(u64::MAX - PAGE_SIZE + 1, 2, true, true),
            Err(Errno::EOVERFLOW)
        );
        assert_eq!(check_pin_pages(0x1000, 2, true, true), Ok(0x2fff));
        assert_eq!(
            check_pin_pages(0, i32::MAX, true, true),
            Ok((i32::MAX as u64) << 12).map(|v| v - 1)
        );
        // :921-931
        assert_eq!(check_pin_state(1, true), Err(Errno::EBUSY));
        assert_eq!(check_pin_state(0, false), Err(Errno::EINVAL));
        assert_eq!(check_pin_state(0, true), Ok(()));
        assert!(unpin_args_ok(0, 1, true));
        assert!(!unpin_args_ok(0, 1, false));
        assert!(!unpin_args_ok(0, 0, true));
        assert!(!unpin_args_ok(u64::MAX, 1, true));
    }

    #[test]
    fn pin_targets() {
        let m = map_with(IOMMU_READ);
        // :945-948
        assert_eq!(
            pin_target(&m, 0xf000, IOMMU_READ).err(),
            Some(Errno::EINVAL)
        );
        assert_eq!(
            pin_target(&m, 0x14000, IOMMU_READ).err(),
            Some(Errno::EINVAL)
        );
        // :950-953
        assert_eq!(
            pin_target(&m, 0x10000, IOMMU_READ | IOMMU_WRITE).err(),
            Some(Errno::EPERM)
        );
        let e = pin_target(&m, page_iova(0x10000, 3), IOMMU_READ).unwrap();
        assert_eq!(vaddr_of(e, 0x13000), 0x7000_3000);
    }

    #[test]
    fn rw_chunks() {
        let m = map_with(IOMMU_READ | IOMMU_WRITE);
        // :3152-3154
        assert_eq!(rw_chunk(&m, 0x20000, 8, false), Err(Errno::EINVAL));
        let c = rw_chunk(&m, 0x13ff0, 0x100, true).unwrap();
        assert_eq!(
            c,
            RwChunk {
                dma_iova: 0x10000,
                offset: 0x3ff0,
                count: 0x10,
                vaddr: 0x7000_3ff0
            }
        );
        // :3156-3158 - a write needs WRITE, and anything needs READ.
        let ro = map_with(IOMMU_READ);
        assert_eq!(rw_chunk(&ro, 0x10000, 8, true), Err(Errno::EPERM));
        assert!(rw_chunk(&ro, 0x10000, 8, false).is_ok());
        let wo = map_with(IOMMU_WRITE);
        assert_eq!(rw_chunk(&wo, 0x10000, 8, true), Err(Errno::EPERM));
        assert_eq!(rw_chunk(&wo, 0x10000, 8, false), Err(Errno::EPERM));
        assert_eq!(check_rw_state(1), Err(Errno::EBUSY));
        assert_eq!(check_rw_state(0), Ok(()));
    }
}
