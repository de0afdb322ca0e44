// SPDX-License-Identifier: GPL-2.0

//! A container's IOMMU domains (`struct vfio_domain`) and how mappings get into and out of
//! them: pinning user pages in batches and mapping physically contiguous runs with one
//! `iommu_map` each (so the IOMMU can use large pages), and the reverse walk over the first
//! domain's translations to unmap and unpin (upstream keeps no pfn list for IOMMU mappings).
//!
//! Called with the container lock held (`iommu.rs`).

use super::dma::VfioDma;
use super::dma_map::DmaEntry;
use super::pfn_runs::Run;
use super::pfnmap::{get_runs, put_runs, unpin_range, Frames};
use super::pgsize::{PAGE_SHIFT, PAGE_SIZE};
use super::uapi::{IOMMU_CACHE, IOMMU_WRITE};
use crate::kernel_ext::{
    iommu::IommuGroup,
    iommu_domain::{IommuDomain, UnmapRegion},
    user_pages::PinBatch,
};
use kernel::prelude::*;

/// Pages pinned per `pin_user_pages_remote` call (one page of page pointers, as upstream).
const PIN_BATCH: usize = 512;

/// Regions unmapped per IOTLB sync (`VFIO_IOMMU_TLB_SYNC_MAX`).
const UNMAP_BATCH: usize = 512;

/// Regions of the first unmap batch, kept on the stack.
const SMALL_UNMAP_BATCH: usize = 8;

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
/// makes `next` the current one; returns whether a run was mapped. On failure the current run
/// is given back.
fn add_frames(
    domains: &[Domain],
    dma: &mut VfioDma,
    run: &mut Option<Run>,
    next: Run,
    no_huge: bool,
) -> Result<bool> {
    if let Some(r) = run.as_mut() {
        if r.continued_by(next.pfn, next.rsvd, no_huge) {
            r.npages += next.npages;
            return Ok(false);
        }
    }
    dma.has_rsvd |= next.rsvd;
    match run.replace(next) {
        Some(r) => map_run(domains, dma, r)
            .map(|()| true)
            .inspect_err(|_| abandon(dma, run.take())),
        None => Ok(false),
    }
}

/// Charges the pages pinned since the last charge (`pending`) to the mapping's owner. Called
/// once per batch in which a run was mapped, and at the end: as rarely as upstream's charge per
/// contiguous run when runs are long, at most once per batch when they are short. On failure
/// the current (unmapped) run is given back; mapped pages stay for [`unmap_unpin`].
fn charge(dma: &mut VfioDma, run: &mut Option<Run>, pending: &mut u64) -> Result {
    if *pending == 0 {
        return Ok(());
    }
    if let Err(e) = dma.owner.account(*pending as i64, false) {
        abandon(dma, run.take());
        return Err(e);
    }
    dma.locked += *pending;
    *pending = 0;
    Ok(())
}

/// `vfio_pin_map_dma`: pins the whole mapping and maps it into `domains`, charging the pages
/// to its owner (`ENOMEM` past `RLIMIT_MEMLOCK`). Frames of `VM_PFNMAP` mappings (device
/// BARs) and reserved pages are mapped but neither pinned nor charged; pages an emulated
/// device pinned are charged already. With `no_huge` every page is mapped alone
/// (`disable_hugepages`). On failure what was done stays recorded in `dma` for
/// [`unmap_unpin`].
pub(crate) fn pin_map(domains: &[Domain], dma: &mut VfioDma, no_huge: bool) -> Result {
    let range = *dma.range();
    let npages = range.size >> PAGE_SHIFT;
    let write = range.prot & IOMMU_WRITE != 0;
    let mut batch = PinBatch::new(if no_huge {
        1
    } else {
        PIN_BATCH.min(npages as usize)
    });
    let mut run: Option<Run> = None;
    let mut pending = 0u64;
    let mut done = 0u64;
    while done < npages {
        let left = npages - done;
        let want = left.min(batch.capacity() as u64) as usize;
        let vaddr = range.vaddr + (done << PAGE_SHIFT);
        // `disable_hugepages`: one page per lookup, PFNMAP frames included.
        let max_pfnmap = if no_huge { 1 } else { left };
        let frames = get_runs(&dma.owner, vaddr, write, want, &mut batch, max_pfnmap)
            .inspect_err(|_| abandon(dma, run.take()))?;
        let mut mapped = false;
        match frames {
            Frames::Pfnmap { pfn, npages: n } => {
                let next = Run {
                    offset: done << PAGE_SHIFT,
                    pfn,
                    npages: n,
                    rsvd: true,
                };
                mapped = add_frames(domains, dma, &mut run, next, no_huge)?;
                done += n;
            }
            Frames::Pinned(pinned) => {
                let mut at = done;
                for (i, r) in batch.runs().enumerate() {
                    if !r.rsvd {
                        let iova = range.iova + (at << PAGE_SHIFT);
                        pending += r.npages - dma.pfns.accountable_in(iova, r.npages);
                    }
                    let next = Run {
                        offset: at << PAGE_SHIFT,
                        pfn: r.pfn,
                        npages: r.npages,
                        rsvd: r.rsvd,
                    };
                    match add_frames(domains, dma, &mut run, next, no_huge) {
                        Ok(m) => mapped |= m,
                        Err(e) => {
                            put_runs(&dma.owner, batch.runs().skip(i + 1), write);
                            return Err(e);
                        }
                    }
                    at += r.npages;
                }
                done += pinned as u64;
                if dma.owner.memlock_exceeded(pending) {
                    abandon(dma, run.take());
                    return Err(ENOMEM);
                }
            }
        }
        if mapped {
            charge(dma, &mut run, &mut pending)?;
        }
    }
    if let Some(r) = run.take() {
        map_run(domains, dma, r)?;
    }
    charge(dma, &mut run, &mut pending)
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
/// batches of physically contiguous regions with one IOTLB sync each, then unpins what each
/// region covered. Most mappings are a few regions (huge pages): those need no allocation.
fn unmap_unpin_first(first: &Domain, dma: &VfioDma, dirty: bool) {
    let range = *dma.range();
    let end = range.iova + dma.mapped_size;
    let mut small = [UnmapRegion::default(); SMALL_UNMAP_BATCH];
    let mut small_phys = [0u64; SMALL_UNMAP_BATCH];
    let at = unmap_unpin_with(
        first,
        dma,
        dirty,
        &mut small,
        &mut small_phys,
        range.iova,
        end,
        true,
    );
    if at >= end {
        return;
    }
    // On the heap: a full batch is too large for the kernel stack.
    let mut regions = KVec::new();
    let mut phys = KVec::new();
    let heap = regions
        .resize(UNMAP_BATCH, UnmapRegion::default(), GFP_KERNEL)
        .is_ok()
        && phys.resize(UNMAP_BATCH, 0u64, GFP_KERNEL).is_ok();
    if heap {
        unmap_unpin_with(first, dma, dirty, &mut regions, &mut phys, at, end, false);
    } else {
        unmap_unpin_with(
            first,
            dma,
            dirty,
            &mut small,
            &mut small_phys,
            at,
            end,
            false,
        );
    }
}

/// [`unmap_unpin_first`] from `iova` to `end` with batches of `regions.len()` (and `phys` as
/// long). With `stop_when_full` it returns after the first full batch: the IOVA where the rest
/// starts (`end` when done).
#[expect(
    clippy::too_many_arguments,
    reason = "one walk, two buffers, its bounds and mode"
)]
fn unmap_unpin_with(
    first: &Domain,
    dma: &VfioDma,
    dirty: bool,
    regions: &mut [UnmapRegion],
    phys: &mut [u64],
    mut iova: u64,
    end: u64,
    stop_when_full: bool,
) -> u64 {
    let cap = regions.len().min(phys.len());
    let mut n = 0;
    while iova < end {
        let Some((start, len)) = translated_extent(&first.domain, iova, end) else {
            iova += PAGE_SIZE;
            continue;
        };
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
            if stop_when_full {
                return iova;
            }
        }
    }
    flush(first, dma, dirty, &mut regions[..n], &phys[..n]);
    end
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

/// The physically contiguous translation at `iova` in `domain`, up to `end`: its physical
/// start and length, `None` if `iova` is unmapped. Walks page by page as upstream's
/// `vfio_unmap_unpin` (`iommu_iova_to_phys` per page); `iova < end` and the mapping lies
/// within the IOVA space (checked at `MAP_DMA`), so the sums cannot wrap.
fn translated_extent(domain: &IommuDomain, iova: u64, end: u64) -> Option<(u64, u64)> {
    let phys = domain.iova_to_phys(iova);
    if phys == 0 {
        return None;
    }
    // The next page and where it must translate to, both advanced per page: fewer
    // instructions per page than recomputing `iova + len` and `phys + len`.
    let mut next = iova.wrapping_add(PAGE_SIZE);
    let mut want = phys.wrapping_add(PAGE_SIZE);
    while next < end && domain.iova_to_phys(next) == want {
        next = next.wrapping_add(PAGE_SIZE);
        want = want.wrapping_add(PAGE_SIZE);
    }
    Some((phys, next.wrapping_sub(iova)))
}

/// Copies a mapping's translations from `from` into `to` (`vfio_iommu_replay` with an existing
/// domain). On failure `to` may hold a prefix, which [`IommuDomain::unmap`] of the whole range
/// removes.
pub(crate) fn copy_mappings(from: &Domain, to: &Domain, dma: &VfioDma) -> Result {
    let range = *dma.range();
    let end = range.iova + dma.mapped_size;
    let mut iova = range.iova;
    while iova < end {
        let Some((phys, len)) = translated_extent(&from.domain, iova, end) else {
            iova += PAGE_SIZE;
            continue;
        };
        to.domain.map(iova, phys, len, range.prot | IOMMU_CACHE)?;
        iova += len;
    }
    Ok(())
}
