// SPDX-License-Identifier: GPL-2.0

//! A container's IOMMU domains (`struct vfio_domain`) and how mappings get into and out of
//! them: pinning user pages in batches and mapping physically contiguous runs with one
//! `iommu_map` each (so the IOMMU can use large pages), and the reverse walk over the first
//! domain's translations to unmap and unpin (upstream keeps no pfn list for IOMMU mappings).
//!
//! Called with the container lock held (`iommu.rs`).

use super::dma::VfioDma;
use super::dma_map::DmaEntry;
use super::pfn_runs::{contiguous_prefix, Run};
use super::pfnmap::{get_frames, is_rsvd, put_pfns, unpin_range, Frames};
use super::pgsize::{PAGE_SHIFT, PAGE_SIZE};
use super::uapi::{IOMMU_CACHE, IOMMU_WRITE};
use crate::kabi::{
    iommu::IommuGroup,
    iommu_domain::{IommuDomain, UnmapRegion},
};
use kernel::prelude::*;

/// Pages pinned per `pin_user_pages_remote` call (one page of pfns).
const PIN_BATCH: usize = 512;

/// Regions unmapped per IOTLB sync (`VFIO_IOMMU_TLB_SYNC_MAX`).
const UNMAP_BATCH: usize = 512;

/// One IOMMU domain and the groups attached to it.
pub(crate) struct Domain {
    /// The paging domain.
    pub(crate) domain: IommuDomain,
    /// Attached groups (at least one while the domain is in the container).
    pub(crate) groups: KVec<IommuGroup>,
    /// The domain blocks no-snoop DMA (`VFIO_DMA_CC_IOMMU`).
    pub(crate) enforce_cache_coherency: bool,
}

impl Domain {
    /// Whether `group` is attached here.
    pub(crate) fn has_group(&self, group: &IommuGroup) -> bool {
        self.groups.iter().any(|g| g.same(group))
    }
}

/// Maps `len` bytes at `iova` → `paddr` into every domain, or into none.
fn map_all(domains: &[Domain], iova: u64, paddr: u64, len: u64, prot: u32) -> Result {
    for (i, d) in domains.iter().enumerate() {
        if let Err(e) = d.domain.map(iova, paddr, len, prot) {
            for done in domains.iter().take(i) {
                done.domain.unmap(iova, len);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Maps a run into every domain, with `IOMMU_CACHE` as upstream's `vfio_iommu_map` (cacheable
/// DMA where the IOMMU encodes it, e.g. Arm SMMU); on failure the run's pages are unpinned
/// (they stay counted in `dma.locked`, which the teardown gives back).
fn map_run(domains: &[Domain], dma: &mut VfioDma, run: Run) -> Result {
    let range = *dma.range();
    let len = run.npages << PAGE_SHIFT;
    let res = map_all(
        domains,
        range.iova + run.offset,
        run.pfn << PAGE_SHIFT,
        len,
        range.prot | IOMMU_CACHE,
    );
    match res {
        Ok(()) => {
            dma.mapped_size = run.offset + len;
            Ok(())
        }
        Err(e) => {
            abandon(dma, Some(run));
            Err(e)
        }
    }
}

/// Adds the frames `next` (a run of one kind) to the current run, or maps the current run and
/// makes `next` the current one. On failure the current run is given back.
fn add_frames(
    domains: &[Domain],
    dma: &mut VfioDma,
    run: &mut Option<Run>,
    next: Run,
    no_huge: bool,
) -> Result {
    if let Some(r) = run.as_mut() {
        if r.continued_by(next.pfn, next.rsvd, no_huge) {
            r.npages += next.npages;
            return Ok(());
        }
    }
    dma.has_rsvd |= next.rsvd;
    match run.replace(next) {
        Some(r) => map_run(domains, dma, r).inspect_err(|_| abandon(dma, run.take())),
        None => Ok(()),
    }
}

/// The leading stretch of `pfns` handled as one: physically contiguous pages (one page with
/// `no_huge`), reserved or not as its first page is (upstream checks only that one).
fn stretch(pfns: &[u64], no_huge: bool) -> usize {
    if no_huge {
        pfns.len().min(1)
    } else {
        contiguous_prefix(pfns)
    }
}

/// Pages of a pinned batch at `iova` to charge: ordinary pages not already charged for an
/// emulated device's pin (reserved stretches are never charged).
fn charge_of(dma: &VfioDma, pfns: &[u64], iova: u64, no_huge: bool) -> u64 {
    let mut charge = 0;
    let mut i = 0;
    while let Some(&pfn) = pfns.get(i) {
        let n = stretch(pfns.get(i..).unwrap_or(&[]), no_huge);
        if !is_rsvd(pfn) {
            let at = iova + ((i as u64) << PAGE_SHIFT);
            charge += n as u64 - dma.pfns.accountable_in(at, n as u64);
        }
        i += n;
    }
    charge
}

/// `vfio_pin_map_dma`: pins the whole mapping and maps it into `domains`, charging the pages
/// to its owner (`ENOMEM` past `RLIMIT_MEMLOCK`). Frames of `VM_PFNMAP` mappings (device
/// BARs) and reserved pages are mapped but neither pinned nor charged. With `no_huge` every
/// page is mapped alone (`disable_hugepages`). On failure what was done stays recorded in
/// `dma` for [`unmap_unpin`].
pub(crate) fn pin_map(domains: &[Domain], dma: &mut VfioDma, no_huge: bool) -> Result {
    let range = *dma.range();
    let npages = range.size >> PAGE_SHIFT;
    let write = range.prot & IOMMU_WRITE != 0;
    let batch = if no_huge { 1 } else { PIN_BATCH };
    let mut pfns = KVec::with_capacity(batch, GFP_KERNEL)?;
    pfns.resize(batch, 0u64, GFP_KERNEL)?;
    let mut run: Option<Run> = None;
    let mut done = 0u64;
    while done < npages {
        let left = npages - done;
        let want = left.min(batch as u64) as usize;
        let vaddr = range.vaddr + (done << PAGE_SHIFT);
        // `disable_hugepages`: one page per lookup, PFNMAP frames included.
        let max_pfnmap = if no_huge { 1 } else { left };
        let frames = get_frames(&dma.owner, vaddr, write, &mut pfns[..want], max_pfnmap)
            .inspect_err(|_| abandon(dma, run.take()))?;
        match frames {
            Frames::Pfnmap { pfn, npages: n } => {
                let next = Run {
                    offset: done << PAGE_SHIFT,
                    pfn,
                    npages: n,
                    rsvd: true,
                };
                add_frames(domains, dma, &mut run, next, no_huge)?;
                done += n;
            }
            Frames::Pinned(pinned) => {
                let got = &pfns[..pinned];
                // Pages an emulated device pinned are charged already.
                let charge = charge_of(dma, got, range.iova + (done << PAGE_SHIFT), no_huge);
                if let Err(e) = dma.owner.account(charge as i64, false) {
                    put_pfns(&dma.owner, got, write);
                    abandon(dma, run.take());
                    return Err(e);
                }
                dma.locked += charge;
                // Stretch by stretch of contiguous pfns: per-page work stays in `stretch`.
                let mut i = 0;
                while let Some(&pfn) = got.get(i) {
                    let n = stretch(got.get(i..).unwrap_or(&[]), no_huge);
                    let next = Run {
                        offset: (done + i as u64) << PAGE_SHIFT,
                        pfn,
                        npages: n as u64,
                        rsvd: is_rsvd(pfn),
                    };
                    if let Err(e) = add_frames(domains, dma, &mut run, next, no_huge) {
                        put_pfns(&dma.owner, got.get(i + n..).unwrap_or(&[]), write);
                        return Err(e);
                    }
                    i += n;
                }
                done += pinned as u64;
            }
        }
    }
    match run {
        Some(r) => map_run(domains, dma, r),
        None => Ok(()),
    }
}

/// Gives back a run that was pinned but not mapped: reserved frames were never pinned.
fn abandon(dma: &VfioDma, run: Option<Run>) {
    if let Some(r) = run.filter(|r| !r.rsvd) {
        let dirty = dma.range().prot & IOMMU_WRITE != 0;
        unpin_range(&dma.owner, r.pfn, r.npages, dirty, false);
    }
}

/// `vfio_unmap_unpin`: unmaps the mapping from every domain, unpins its pages (found through
/// the first domain's translations) and gives back its locked-memory charge. The mapping
/// stays valid, unpinned.
pub(crate) fn unmap_unpin(domains: &[Domain], dma: &mut VfioDma) {
    let range = *dma.range();
    let dirty = range.prot & IOMMU_WRITE != 0;
    if let Some((first, rest)) = domains.split_first() {
        if dma.mapped_size != 0 {
            for d in rest {
                d.domain.unmap(range.iova, dma.mapped_size);
            }
            unmap_unpin_first(first, dma, dirty);
        }
    }
    dma.mapped_size = 0;
    // Pages emulated devices still pin stay charged (`vfio_iommu_unmap_unpin_reaccount`).
    let keep = dma.pfns.accountable();
    if dma.locked > keep {
        // The process may be gone (`ESRCH`); its mm then has nothing left to charge.
        let _ = dma.owner.account(-((dma.locked - keep) as i64), true);
        dma.locked = keep;
    }
}

/// Unmaps a mapping from the domain whose translations tell which pages are pinned, in
/// batches of [`UNMAP_BATCH`] physically contiguous regions with one IOTLB sync each, then
/// unpins what each region covered.
fn unmap_unpin_first(first: &Domain, dma: &VfioDma, dirty: bool) {
    // On the heap: a full batch is too large for the kernel stack.
    let mut regions = KVec::new();
    let mut phys = KVec::new();
    let heap = regions
        .resize(UNMAP_BATCH, UnmapRegion::default(), GFP_KERNEL)
        .is_ok()
        && phys.resize(UNMAP_BATCH, 0u64, GFP_KERNEL).is_ok();
    if heap {
        unmap_unpin_with(first, dma, dirty, &mut regions, &mut phys);
    } else {
        let mut regions = [UnmapRegion::default(); 8];
        let mut phys = [0u64; 8];
        unmap_unpin_with(first, dma, dirty, &mut regions, &mut phys);
    }
}

/// [`unmap_unpin_first`] with batches of `regions.len()` (and `phys` as long).
fn unmap_unpin_with(
    first: &Domain,
    dma: &VfioDma,
    dirty: bool,
    regions: &mut [UnmapRegion],
    phys: &mut [u64],
) {
    let range = *dma.range();
    let end = range.iova + dma.mapped_size;
    let cap = regions.len().min(phys.len());
    let mut n = 0;
    let mut iova = range.iova;
    while iova < end {
        let start = first.domain.iova_to_phys(iova);
        if start == 0 {
            iova += PAGE_SIZE;
            continue;
        }
        let mut len = PAGE_SIZE;
        while iova + len < end && first.domain.iova_to_phys(iova + len) == start + len {
            len += PAGE_SIZE;
        }
        if let (Some(r), Some(p)) = (regions.get_mut(n), phys.get_mut(n)) {
            *r = UnmapRegion {
                iova,
                len,
                unmapped: 0,
            };
            *p = start;
            n += 1;
        }
        iova += len;
        if n == cap {
            flush(first, dma, dirty, &mut regions[..n], &phys[..n]);
            n = 0;
        }
    }
    flush(first, dma, dirty, &mut regions[..n], &phys[..n]);
}

/// Unmaps a batch with one IOTLB sync and unpins what each region covered.
fn flush(first: &Domain, dma: &VfioDma, dirty: bool, regions: &mut [UnmapRegion], phys: &[u64]) {
    if regions.is_empty() {
        return;
    }
    first.domain.unmap_batch(regions);
    for (r, &p) in regions.iter().zip(phys.iter()) {
        if r.unmapped != 0 {
            let (pfn, npages) = (p >> PAGE_SHIFT, r.unmapped >> PAGE_SHIFT);
            unpin_range(&dma.owner, pfn, npages, dirty, dma.has_rsvd);
        }
    }
}

/// Copies a mapping's translations from `from` into `to` (`vfio_iommu_replay` with an existing
/// domain). On failure `to` may hold a prefix, which [`IommuDomain::unmap`] of the whole range
/// removes.
pub(crate) fn copy_mappings(from: &Domain, to: &Domain, dma: &VfioDma) -> Result {
    let range = *dma.range();
    let end = range.iova + dma.mapped_size;
    let mut iova = range.iova;
    while iova < end {
        let phys = from.domain.iova_to_phys(iova);
        if phys == 0 {
            iova += PAGE_SIZE;
            continue;
        }
        let mut len = PAGE_SIZE;
        while iova + len < end && from.domain.iova_to_phys(iova + len) == phys + len {
            len += PAGE_SIZE;
        }
        to.domain.map(iova, phys, len, range.prot | IOMMU_CACHE)?;
        iova += len;
    }
    Ok(())
}
