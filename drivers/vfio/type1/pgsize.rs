// SPDX-License-Identifier: GPL-2.0

//! Page sizes: the container's IOMMU page-size bitmap and its smallest page.
//!
//! Upstream keeps `pgsize_bitmap` as the AND of every domain's bitmap and measures all
//! alignment against its lowest set bit (`__ffs`). x86-64 only: `PAGE_SIZE` is 4 KiB and
//! `unsigned long` is 64 bits.

/// `PAGE_SHIFT` on x86-64.
pub(crate) const PAGE_SHIFT: u32 = 12;
/// `PAGE_SIZE` on x86-64.
pub(crate) const PAGE_SIZE: u64 = 1 << PAGE_SHIFT;
/// `PAGE_MASK`: the page-aligned part of an address.
pub(crate) const PAGE_MASK: u64 = !(PAGE_SIZE - 1);

/// The bitmap a new container starts with (`vfio_iommu_type1_open`, `:2650`): every size from
/// `PAGE_SIZE` up, so a container without domains accepts page-aligned requests.
pub(crate) const INITIAL_PGSIZE_BITMAP: u64 = PAGE_MASK;

/// `__ffs(word)` as x86-64 computes it (`tzcnt`): the index of the lowest set bit, 64 for 0.
///
/// Upstream never guards against 0; with `tzcnt` it yields 64, and shifts by it are masked to
/// 0 by the CPU, which [`shift_count`] reproduces.
pub(crate) fn ffs(word: u64) -> u32 {
    word.trailing_zeros()
}

/// A shift count as x86-64's `shl`/`shr` use it: modulo 64.
pub(crate) fn shift_count(shift: u32) -> u32 {
    shift & 63
}

/// `(size_t)1 << __ffs(pgsize_bitmap)`: the smallest IOMMU page size, the unit of every
/// alignment check. An empty bitmap gives 1, as on x86-64.
pub(crate) fn min_pgsize(pgsize_bitmap: u64) -> u64 {
    1u64 << shift_count(ffs(pgsize_bitmap))
}

/// `vfio_update_pgsize_bitmap` (`:1247`): the AND of the domains' bitmaps (all ones without
/// domains), with sub-page sizes folded into `PAGE_SIZE` because pinning works in pages.
pub(crate) fn pgsize_bitmap(domain_bitmaps: impl IntoIterator<Item = u64>) -> u64 {
    let mut bitmap = u64::MAX;
    for domain in domain_bitmaps {
        bitmap &= domain;
    }
    if bitmap & !PAGE_MASK != 0 {
        bitmap &= PAGE_MASK;
        bitmap |= PAGE_SIZE;
    }
    bitmap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_domain_means_page_multiples() {
        // :1251 starts from ULONG_MAX; the fold at :1263-1266 turns it into PAGE_MASK.
        assert_eq!(pgsize_bitmap([]), PAGE_MASK);
        assert_eq!(min_pgsize(pgsize_bitmap([])), PAGE_SIZE);
        assert_eq!(min_pgsize(INITIAL_PGSIZE_BITMAP), PAGE_SIZE);
    }

    #[test]
    fn domains_are_anded_and_sub_page_sizes_folded() {
        let intel = 0x4020_1000; // 4K | 2M | 1G
        let only_2m_1g = 0x4020_0000;
        assert_eq!(pgsize_bitmap([intel]), intel);
        assert_eq!(pgsize_bitmap([intel, only_2m_1g]), only_2m_1g);
        assert_eq!(min_pgsize(pgsize_bitmap([intel, only_2m_1g])), 0x20_0000);
        // 512-byte pages are hidden behind PAGE_SIZE.
        assert_eq!(pgsize_bitmap([0x200 | 0x1000 | 0x10000]), 0x1000 | 0x10000);
        assert_eq!(pgsize_bitmap([0x200]), PAGE_SIZE);
    }

    #[test]
    fn empty_bitmap_behaves_as_on_x86() {
        // Disjoint domains leave 0: __ffs(0) = 64 and `1 << 64` is `1 << 0` on x86-64.
        assert_eq!(pgsize_bitmap([0x1000, 0x20_0000]), 0);
        assert_eq!(min_pgsize(0), 1);
    }
}
