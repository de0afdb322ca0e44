// SPDX-License-Identifier: GPL-2.0

//! How the physically contiguous stretches of pinned pages (found by the pin helper in C, as
//! upstream's `num_pages_contiguous`) and `VM_PFNMAP` frames group into the runs mapped with one `iommu_map` each
//! (`vfio_pin_pages_remote`, `t1:675`): a run is physically contiguous and either entirely
//! reserved (no `struct page`, or `PageReserved`: never pinned nor accounted) or entirely
//! ordinary pages; with `disable_hugepages` every page is its own run.

use super::pgsize::PAGE_SHIFT;

/// Physically contiguous frames not yet mapped: `npages` frames from `pfn`, at byte `offset`
/// into the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    /// Byte offset of the run's first page in the mapping.
    pub(crate) offset: u64,
    /// First frame.
    pub(crate) pfn: u64,
    /// Frames in the run.
    pub(crate) npages: u64,
    /// The frames are reserved (`is_invalid_reserved_pfn`): never unpinned nor accounted.
    pub(crate) rsvd: bool,
}

impl Run {
    /// Whether frame `pfn` (reserved if `rsvd`) continues this run: the next frame, of the
    /// same kind, and runs may grow (`no_huge` is `disable_hugepages`).
    pub(crate) fn continued_by(&self, pfn: u64, rsvd: bool, no_huge: bool) -> bool {
        !no_huge && self.rsvd == rsvd && self.pfn.wrapping_add(self.npages) == pfn
    }
}

/// How many frames from `pfn` one `VM_PFNMAP` page table entry maps contiguously, at most
/// `max` (`vaddr_get_pfns`, `t1:622-626`): up to the end of the unit `addr_mask` covers (one
/// page for a PTE, up to 512 for a PMD). At least 1 for `max >= 1`.
pub(crate) fn pfnmap_npages(pfn: u64, addr_mask: u64, max: u64) -> u64 {
    let end = (pfn | (!addr_mask >> PAGE_SHIFT)).wrapping_add(1);
    max.min(end.wrapping_sub(pfn))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE_MASK: u64 = !0xfff;
    const PMD_MASK: u64 = !0x1f_ffff;

    #[test]
    fn pfnmap_entry_extent() {
        // A PTE maps one frame, whatever is asked.
        assert_eq!(pfnmap_npages(0x1234, PAGE_MASK, 100), 1);
        // A PMD maps to the end of its 2 MiB unit.
        assert_eq!(pfnmap_npages(0x1000, PMD_MASK, 1000), 512);
        assert_eq!(pfnmap_npages(0x11ff, PMD_MASK, 1000), 1);
        assert_eq!(pfnmap_npages(0x1100, PMD_MASK, 1000), 256);
        // Never more than asked.
        assert_eq!(pfnmap_npages(0x1000, PMD_MASK, 3), 3);
    }

    #[test]
    fn runs_split_on_gaps_kind_and_no_huge() {
        let r = Run {
            offset: 0,
            pfn: 10,
            npages: 2,
            rsvd: false,
        };
        assert!(r.continued_by(12, false, false));
        assert!(!r.continued_by(13, false, false));
        assert!(!r.continued_by(11, false, false));
        // Reserved frames never share a run with pinned pages, either way.
        assert!(!r.continued_by(12, true, false));
        let pfnmap = Run { rsvd: true, ..r };
        assert!(pfnmap.continued_by(12, true, false));
        assert!(!pfnmap.continued_by(12, false, false));
        // disable_hugepages: one page per run.
        assert!(!r.continued_by(12, false, true));
    }
}
