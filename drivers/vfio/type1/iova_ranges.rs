// SPDX-License-Identifier: GPL-2.0

//! The container's usable IOVA ranges: the IOMMU aperture minus reserved regions.
//!
//! Upstream keeps a sorted list of inclusive `[start, end]` ranges (`iommu->iova_list`),
//! built from the first domain's aperture, narrowed by every later domain's aperture, and
//! punched by each group's reserved regions; `MAP_DMA` must fall inside one range, and
//! `GET_INFO` reports them. An empty list means "anything" (a container with only emulated
//! devices has no aperture).
//!
//! The list lives in an [`IovaList`] (a `KVec` in the kernel: no `alloc` collections there);
//! every function mirrors one upstream helper, quirks included, such as a range shrinking to
//! a single address being dropped by [`aper_resize`].

use crate::errno::Errno;

/// One usable range, both ends inclusive (`struct vfio_iova`, `struct vfio_iova_range`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IovaRange {
    /// First usable IOVA.
    pub(crate) start: u64,
    /// Last usable IOVA.
    pub(crate) end: u64,
}

/// Storage of the sorted range list.
pub(crate) trait IovaList {
    /// The ranges, in order.
    fn ranges(&self) -> &[IovaRange];
    /// The ranges, to adjust their ends.
    fn ranges_mut(&mut self) -> &mut [IovaRange];
    /// Inserts `range` before index `index` (`index == len` appends); `ENOMEM` if the list
    /// cannot grow.
    fn insert(&mut self, index: usize, range: IovaRange) -> Result<(), Errno>;
    /// Removes the range at `index`; out of range does nothing.
    fn remove(&mut self, index: usize);
    /// Removes every range.
    fn clear(&mut self);
}

/// `enum iommu_resv_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResvType {
    /// `IOMMU_RESV_DIRECT`: must stay identity-mapped.
    Direct,
    /// `IOMMU_RESV_DIRECT_RELAXABLE`: identity-mapped, but usable for assigned devices.
    DirectRelaxable,
    /// `IOMMU_RESV_RESERVED`: never map.
    Reserved,
    /// `IOMMU_RESV_MSI`: hardware MSI window.
    Msi,
    /// `IOMMU_RESV_SW_MSI`: software-managed MSI window.
    SwMsi,
}

impl ResvType {
    /// From the C enum value; `None` for values 7.3 does not define.
    pub(crate) fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => ResvType::Direct,
            1 => ResvType::DirectRelaxable,
            2 => ResvType::Reserved,
            3 => ResvType::Msi,
            4 => ResvType::SwMsi,
            _ => return None,
        })
    }
}

/// A group's reserved region (`struct iommu_resv_region`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ResvRegion {
    /// First address.
    pub(crate) start: u64,
    /// Bytes.
    pub(crate) length: u64,
    /// Type.
    pub(crate) kind: ResvType,
}

/// `vfio_iommu_iova_dma_valid` (`:1630`): `[start, end]` lies in one usable range, or there
/// are no ranges at all.
pub(crate) fn dma_valid(list: &[IovaRange], start: u64, end: u64) -> bool {
    list.is_empty() || list.iter().any(|r| start >= r.start && end <= r.end)
}

/// `vfio_iommu_aper_conflict` (`:2035`): a new domain's aperture `[start, end]` cannot join
/// when it misses the current ranges entirely or would cut off existing mappings.
/// `overlaps(start, size)` is `vfio_find_dma` on the container's mappings.
pub(crate) fn aper_conflict(
    list: &[IovaRange],
    start: u64,
    end: u64,
    overlaps: impl Fn(u64, u64) -> bool,
) -> bool {
    let (Some(first), Some(last)) = (list.first(), list.last()) else {
        return false;
    };
    if start > last.end || end < first.start {
        return true;
    }
    if start > first.start && overlaps(first.start, start - first.start) {
        return true;
    }
    // `end < last.end`, so `end + 1` does not overflow.
    end < last.end && overlaps(end + 1, last.end - end)
}

/// `vfio_iommu_aper_resize` (`:2069`): narrow the ranges to a new aperture. Ranges entirely
/// outside go, and so does a range the new aperture would leave with one address.
pub(crate) fn aper_resize(list: &mut impl IovaList, start: u64, end: u64) -> Result<(), Errno> {
    if list.ranges().is_empty() {
        return list.insert(0, IovaRange { start, end });
    }
    // Front: every visited range is the first one, the earlier ones having been dropped.
    while let Some(node) = list.ranges().first().copied() {
        if start < node.start {
            break;
        }
        if start < node.end {
            if let Some(first) = list.ranges_mut().first_mut() {
                first.start = start;
            }
            break;
        }
        list.remove(0);
    }
    // Back.
    let mut i = 0;
    while let Some(node) = list.ranges().get(i).copied() {
        if end > node.end {
            i += 1;
        } else if end > node.start {
            if let Some(range) = list.ranges_mut().get_mut(i) {
                range.end = end;
            }
            i += 1;
        } else {
            list.remove(i);
        }
    }
    Ok(())
}

/// The regions that limit mappings: all but `IOMMU_RESV_DIRECT_RELAXABLE`.
fn excluding(region: &ResvRegion) -> bool {
    region.kind != ResvType::DirectRelaxable
}

/// `vfio_iommu_resv_conflict` (`:2109`): an existing mapping overlaps a reserved region.
pub(crate) fn resv_conflict(
    regions: impl IntoIterator<Item = ResvRegion>,
    overlaps: impl Fn(u64, u64) -> bool,
) -> bool {
    regions
        .into_iter()
        .filter(excluding)
        .any(|r| overlaps(r.start, r.length))
}

/// `vfio_iommu_resv_exclude` (`:2130`): punch the reserved regions out of the ranges;
/// `EINVAL` if nothing usable is left. On `ENOMEM` the list is half-done, as upstream, whose
/// callers only ever work on a copy.
pub(crate) fn resv_exclude(
    list: &mut impl IovaList,
    regions: impl IntoIterator<Item = ResvRegion>,
) -> Result<(), Errno> {
    for region in regions.into_iter().filter(excluding) {
        let start = region.start;
        // `phys_addr_t` arithmetic: a zero length wraps to `start - 1`.
        let end = start.wrapping_add(region.length).wrapping_sub(1);
        let mut i = 0;
        while let Some(node) = list.ranges().get(i).copied() {
            if start > node.end || end < node.start {
                i += 1;
                continue;
            }
            // The pieces go before `node`, keeping the list sorted and out of this walk.
            if start > node.start {
                list.insert(
                    i,
                    IovaRange {
                        start: node.start,
                        end: start - 1,
                    },
                )?;
                i += 1;
            }
            if end < node.end {
                list.insert(
                    i,
                    IovaRange {
                        start: end + 1,
                        end: node.end,
                    },
                )?;
                i += 1;
            }
            list.remove(i);
        }
    }
    if list.ranges().is_empty() {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// `vfio_iommu_has_sw_msi` (`:1979`): the base of the software MSI window, unless a hardware
/// MSI region exists, which takes precedence.
pub(crate) fn sw_msi_base(regions: impl IntoIterator<Item = ResvRegion>) -> Option<u64> {
    let mut base = None;
    for region in regions {
        match region.kind {
            ResvType::Msi => return None,
            ResvType::SwMsi => base = Some(region.start),
            _ => {}
        }
    }
    base
}

/// `vfio_iommu_iova_get_copy` (`:2198`): append `src` to `dst`; on `ENOMEM` `dst` is emptied.
pub(crate) fn copy_into(src: &[IovaRange], dst: &mut impl IovaList) -> Result<(), Errno> {
    for range in src {
        let at = dst.ranges().len();
        if let Err(e) = dst.insert(at, *range) {
            dst.clear();
            return Err(e);
        }
    }
    Ok(())
}

/// `vfio_iommu_aper_expand` (`:2464`): after a domain left, widen the outer ends to the
/// intersection of the remaining domains' apertures `(aperture_start, aperture_end)`.
pub(crate) fn aper_expand(
    list: &mut impl IovaList,
    apertures: impl IntoIterator<Item = (u64, u64)>,
) {
    if list.ranges().is_empty() {
        return;
    }
    let mut start = 0;
    let mut end = u64::MAX;
    for (aperture_start, aperture_end) in apertures {
        start = start.max(aperture_start);
        end = end.min(aperture_end);
    }
    let ranges = list.ranges_mut();
    if let Some(first) = ranges.first_mut() {
        first.start = start;
    }
    if let Some(last) = ranges.last_mut() {
        last.end = end;
    }
}

/// `vfio_iommu_resv_refresh` (`:2497`) once the remaining groups' reserved `regions` are
/// known: rebuild the ranges from the outer ends and punch the regions out again. `EINVAL`
/// for an empty list. The caller keeps the old list on any error; upstream gathers the
/// regions after the emptiness check, which changes only which error a failing detach drops.
pub(crate) fn resv_refresh(
    list: &mut impl IovaList,
    regions: impl IntoIterator<Item = ResvRegion>,
) -> Result<(), Errno> {
    let (Some(first), Some(last)) = (list.ranges().first(), list.ranges().last()) else {
        return Err(Errno::EINVAL);
    };
    let (start, end) = (first.start, last.end);
    list.clear();
    aper_resize(list, start, end)?;
    resv_exclude(list, regions)
}

/// `struct_size(cap_iovas, iova_ranges, n)` for the `VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE`
/// capability (`:2781`): header, count, padding, then 16 bytes per range.
pub(crate) fn iova_cap_size(n: usize) -> Option<usize> {
    n.checked_mul(16)?.checked_add(16)
}

#[cfg(test)]
pub(crate) mod test_list {
    //! A `Vec`-backed [`IovaList`] that can be told to fail allocations.

    use super::*;

    /// The host list.
    #[derive(Clone, Debug, Default, PartialEq, Eq)]
    pub(crate) struct VecList {
        /// The ranges.
        pub(crate) v: Vec<IovaRange>,
        /// Inserts allowed before `ENOMEM`, unlimited when `None`.
        pub(crate) budget: Option<usize>,
    }

    impl VecList {
        /// A list of `(start, end)` pairs.
        pub(crate) fn of(pairs: &[(u64, u64)]) -> Self {
            VecList {
                v: pairs
                    .iter()
                    .map(|&(start, end)| IovaRange { start, end })
                    .collect(),
                budget: None,
            }
        }

        /// The ranges as pairs.
        pub(crate) fn pairs(&self) -> Vec<(u64, u64)> {
            self.v.iter().map(|r| (r.start, r.end)).collect()
        }
    }

    impl IovaList for VecList {
        fn ranges(&self) -> &[IovaRange] {
            &self.v
        }
        fn ranges_mut(&mut self) -> &mut [IovaRange] {
            &mut self.v
        }
        fn insert(&mut self, index: usize, range: IovaRange) -> Result<(), Errno> {
            if let Some(budget) = &mut self.budget {
                if *budget == 0 {
                    return Err(Errno::ENOMEM);
                }
                *budget -= 1;
            }
            self.v.insert(index, range);
            Ok(())
        }
        fn remove(&mut self, index: usize) {
            if index < self.v.len() {
                self.v.remove(index);
            }
        }
        fn clear(&mut self) {
            self.v.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_list::VecList;
    use super::*;

    fn resv(start: u64, length: u64, kind: ResvType) -> ResvRegion {
        ResvRegion {
            start,
            length,
            kind,
        }
    }

    const MSI: (u64, u64) = (0xfee0_0000, 0x10_0000);

    #[test]
    fn intel_style_attach() {
        // First domain: 48-bit aperture, MSI window reserved (as on VT-d).
        let mut list = VecList::default();
        aper_resize(&mut list, 0, (1 << 48) - 1).unwrap();
        resv_exclude(&mut list, [resv(MSI.0, MSI.1, ResvType::Msi)]).unwrap();
        assert_eq!(
            list.pairs(),
            [(0, 0xfedf_ffff), (0xfef0_0000, (1 << 48) - 1)]
        );
        assert!(dma_valid(&list.v, 0, 0xfedf_ffff));
        assert!(!dma_valid(&list.v, 0xfedf_f000, 0xfee0_0fff));
        assert!(!dma_valid(&list.v, 0, 1 << 48));
        // :1642-1645 - no ranges at all (emulated devices only): anything goes.
        assert!(dma_valid(&[], 0, u64::MAX));
    }

    #[test]
    fn resv_exclude_cases() {
        let mut list = VecList::of(&[(0x1000, 0x8fff)]);
        // Relaxable regions never count (:2140-2141).
        resv_exclude(&mut list, [resv(0, 1 << 40, ResvType::DirectRelaxable)]).unwrap();
        assert_eq!(list.pairs(), [(0x1000, 0x8fff)]);
        // Front, middle and back cuts; a region covering a range deletes it.
        resv_exclude(
            &mut list,
            [
                resv(0, 0x2000, ResvType::Reserved),
                resv(0x4000, 0x1000, ResvType::Direct),
                resv(0x8000, 0x10_0000, ResvType::SwMsi),
            ],
        )
        .unwrap();
        assert_eq!(list.pairs(), [(0x2000, 0x3fff), (0x5000, 0x7fff)]);
        resv_exclude(&mut list, [resv(0x2000, 0x2000, ResvType::Reserved)]).unwrap();
        assert_eq!(list.pairs(), [(0x5000, 0x7fff)]);
        // :2170-2171 - nothing left is EINVAL.
        assert_eq!(
            resv_exclude(&mut list, [resv(0, 1 << 20, ResvType::Reserved)]),
            Err(Errno::EINVAL)
        );
        assert_eq!(list.pairs(), []);
    }

    #[test]
    fn resv_exclude_wrapping_lengths() {
        // A zero length at 0 wraps to the whole space (:2144).
        let mut list = VecList::of(&[(0x1000, 0x8fff)]);
        assert_eq!(
            resv_exclude(&mut list, [resv(0, 0, ResvType::Reserved)]),
            Err(Errno::EINVAL)
        );
        // Elsewhere it splits a range into two adjacent ones.
        let mut list = VecList::of(&[(0x1000, 0x8fff)]);
        resv_exclude(&mut list, [resv(0x4000, 0, ResvType::Reserved)]).unwrap();
        assert_eq!(list.pairs(), [(0x1000, 0x3fff), (0x4000, 0x8fff)]);
        // A region running off the top of the address space wraps and misses.
        let mut list = VecList::of(&[(0x1000, 0x8fff)]);
        resv_exclude(&mut list, [resv(u64::MAX, 2, ResvType::Reserved)]).unwrap();
        assert_eq!(list.pairs(), [(0x1000, 0x8fff)]);
    }

    #[test]
    fn resv_exclude_enomem() {
        // :2162-2163 - the first piece's allocation fails: the node stays.
        let mut list = VecList::of(&[(0x1000, 0x8fff)]);
        list.budget = Some(0);
        assert_eq!(
            resv_exclude(&mut list, [resv(0x4000, 0x1000, ResvType::Reserved)]),
            Err(Errno::ENOMEM)
        );
        assert_eq!(list.pairs(), [(0x1000, 0x8fff)]);
        // The second one fails: the first piece is in, the node too.
        let mut list = VecList::of(&[(0x1000, 0x8fff)]);
        list.budget = Some(1);
        assert_eq!(
            resv_exclude(&mut list, [resv(0x4000, 0x1000, ResvType::Reserved)]),
            Err(Errno::ENOMEM)
        );
        assert_eq!(list.pairs(), [(0x1000, 0x3fff), (0x1000, 0x8fff)]);
    }

    #[test]
    fn aper_resize_cases() {
        let mut list = VecList::of(&[(0x1000, 0x3fff), (0x5000, 0x7fff), (0x9000, 0xffff)]);
        aper_resize(&mut list, 0x2000, 0xbfff).unwrap();
        assert_eq!(
            list.pairs(),
            [(0x2000, 0x3fff), (0x5000, 0x7fff), (0x9000, 0xbfff)]
        );
        // A start in a gap leaves the next range alone; ranges before it go.
        aper_resize(&mut list, 0x4000, 0xbfff).unwrap();
        assert_eq!(list.pairs(), [(0x5000, 0x7fff), (0x9000, 0xbfff)]);
        // An end in a gap drops everything after it.
        aper_resize(&mut list, 0x4000, 0x8fff).unwrap();
        assert_eq!(list.pairs(), [(0x5000, 0x7fff)]);
    }

    #[test]
    fn aper_resize_drops_single_address_leftovers() {
        // :2082 - `start < node->end`: a start on a range's last address drops the range.
        let mut list = VecList::of(&[(0x1000, 0x1fff), (0x3000, 0x3fff)]);
        aper_resize(&mut list, 0x1fff, 0x3fff).unwrap();
        assert_eq!(list.pairs(), [(0x3000, 0x3fff)]);
        // :2095 - `end > node->start`: an end on a range's first address drops it.
        let mut list = VecList::of(&[(0x1000, 0x1fff), (0x3000, 0x3fff)]);
        aper_resize(&mut list, 0x1000, 0x3000).unwrap();
        assert_eq!(list.pairs(), [(0x1000, 0x1fff)]);
        // A one-address aperture inside a range: trimmed at the front, then dropped.
        let mut list = VecList::of(&[(0x1000, 0x1fff)]);
        aper_resize(&mut list, 0x1800, 0x1800).unwrap();
        assert_eq!(list.pairs(), []);
        // :2075-2076 - an empty list takes the aperture; ENOMEM if it cannot.
        let mut list = VecList::default();
        aper_resize(&mut list, 5, 10).unwrap();
        assert_eq!(list.pairs(), [(5, 10)]);
        let mut list = VecList {
            budget: Some(0),
            ..VecList::default()
        };
        assert_eq!(aper_resize(&mut list, 5, 10), Err(Errno::ENOMEM));
    }

    #[test]
    fn aper_conflicts() {
        let list = VecList::of(&[(0x1000, 0x3fff), (0x5000, 0x8fff)]);
        let none = |_: u64, _: u64| false;
        // :2047-2049 disjoint.
        assert!(aper_conflict(&list.v, 0x9000, 0xffff, none));
        assert!(aper_conflict(&list.v, 0, 0xfff, none));
        assert!(!aper_conflict(&list.v, 0x3000, 0x6000, none));
        // :2052-2061 - mappings below the new start or beyond the new end.
        let mapping_at = |at: u64| move |start: u64, size: u64| at >= start && at - start < size;
        assert!(aper_conflict(&list.v, 0x3000, 0x8fff, mapping_at(0x2000)));
        assert!(!aper_conflict(&list.v, 0x3000, 0x8fff, mapping_at(0x3000)));
        assert!(aper_conflict(&list.v, 0x1000, 0x6fff, mapping_at(0x8000)));
        assert!(!aper_conflict(&list.v, 0x1000, 0x6fff, mapping_at(0x6000)));
        // :2043-2044 - no ranges yet: never a conflict.
        assert!(!aper_conflict(&[], 0, 0, mapping_at(0)));
    }

    #[test]
    fn resv_conflicts() {
        let mapping_at = |at: u64| move |start: u64, size: u64| at >= start && at - start < size;
        let regions = [
            resv(0x1000, 0x1000, ResvType::DirectRelaxable),
            resv(0x4000, 0x1000, ResvType::Msi),
        ];
        assert!(!resv_conflict(regions, mapping_at(0x1000)));
        assert!(resv_conflict(regions, mapping_at(0x4fff)));
        assert!(!resv_conflict(regions, mapping_at(0x5000)));
    }

    #[test]
    fn sw_msi() {
        let sw = resv(0x800_0000, 0x10_0000, ResvType::SwMsi);
        let hw = resv(MSI.0, MSI.1, ResvType::Msi);
        let other = resv(0, 0x1000, ResvType::Reserved);
        assert_eq!(sw_msi_base([other, sw]), Some(0x800_0000));
        // :1989-1991 - a hardware MSI region wins, before or after.
        assert_eq!(sw_msi_base([sw, hw]), None);
        assert_eq!(sw_msi_base([hw, sw]), None);
        assert_eq!(sw_msi_base([other]), None);
        assert_eq!(ResvType::from_raw(4), Some(ResvType::SwMsi));
        assert_eq!(ResvType::from_raw(5), None);
    }

    #[test]
    fn copy_and_refresh() {
        let src = VecList::of(&[(0x1000, 0x3fff), (0x5000, 0x8fff)]);
        let mut dst = VecList::default();
        copy_into(&src.v, &mut dst).unwrap();
        assert_eq!(dst, src);
        // :2210-2214 - a failed copy is freed.
        let mut dst = VecList {
            budget: Some(1),
            ..VecList::default()
        };
        assert_eq!(copy_into(&src.v, &mut dst), Err(Errno::ENOMEM));
        assert_eq!(dst.pairs(), []);

        // Detach: the gap at 0x4000 was the leaving group's region.
        let mut list = src.clone();
        aper_expand(&mut list, [(0, (1 << 39) - 1), (0x800, u64::MAX)]);
        assert_eq!(list.pairs(), [(0x800, 0x3fff), (0x5000, (1 << 39) - 1)]);
        resv_refresh(&mut list, [resv(0x6000, 0x1000, ResvType::Reserved)]).unwrap();
        assert_eq!(list.pairs(), [(0x800, 0x5fff), (0x7000, (1 << 39) - 1)]);
        // No domain left: the full space.
        let mut list = src.clone();
        aper_expand(&mut list, []);
        assert_eq!(list.pairs(), [(0, 0x3fff), (0x5000, u64::MAX)]);
        // :2507-2508
        let mut empty = VecList::default();
        aper_expand(&mut empty, [(1, 2)]);
        assert_eq!(resv_refresh(&mut empty, []), Err(Errno::EINVAL));
        assert_eq!(iova_cap_size(2), Some(48));
        assert_eq!(iova_cap_size(usize::MAX), None);
    }
}
