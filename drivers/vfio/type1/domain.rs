// SPDX-License-Identifier: GPL-2.0

//! A container's IOMMU domains (`struct vfio_domain`) and how mappings get into and out of
//! them: pinning user pages in batches and mapping physically contiguous runs with one
//! `iommu_map` each (so the IOMMU can use large pages), recording each run in the mapping
//! (`dma_runs`); unmapping, unpinning and copying into a new domain then go by recorded run,
//! where upstream (which keeps no pfn list for IOMMU mappings) asks the first domain for the
//! translation of every page.
//!
//! Called with the container lock held (`iommu.rs`).

use super::dma::VfioDma;
use super::dma_map::DmaEntry;
use super::dma_runs::Iter as RunIter;
use super::pfn_runs::Run;
use super::pfnmap::{get_runs, put_runs, unpin_range, Frames};
use super::pgsize::PAGE_SHIFT;
use super::uapi::{IOMMU_CACHE, IOMMU_WRITE};
use crate::kernel_ext::{
    first_inline::FirstInline,
    iommu::IommuGroup,
    iommu_domain::{IommuDomain, UnmapRegion},
    user_pages::{PinBatch, PIN_CALL_MAX},
};
use kernel::prelude::*;

/// Runs pinned per call: one page of page pointers (GUP, as upstream), or of folios
/// (`memfd_pin_folios`), or huge pages (a private hugetlb mapping).
const PIN_BATCH: usize = 512;

/// Regions unmapped per IOTLB sync (`VFIO_IOMMU_TLB_SYNC_MAX`).
const UNMAP_BATCH: usize = 512;

/// Regions of the first unmap batch, kept on the stack.
const SMALL_UNMAP_BATCH: usize = 8;

/// One IOMMU domain and the groups attached to it.
pub(crate) struct Domain {
    /// The paging domain.
    pub(crate) domain: IommuDomain,
    /// Attached groups, newest first (at least one while the domain is in the container;
    /// the first inline: attaching a group allocates nothing for it).
    pub(crate) groups: FirstInline<IommuGroup>,
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

/// Records a run in the mapping and maps it into every domain, with `IOMMU_CACHE` as
/// upstream's `vfio_iommu_map` (cacheable DMA where the IOMMU encodes it, e.g. Arm SMMU); on
/// failure the record is cut back and the run's pages are unpinned (they stay counted in
/// `dma.locked`, which the teardown gives back). Recording first means a mapped run is never
/// left unrecorded: `ENOMEM` if there is no room for the record (upstream allocates nothing
/// here, but fails its own allocations on `MAP_DMA` the same way).
fn map_run(domains: &[Domain], dma: &mut VfioDma, run: Run) -> Result {
    let range = *dma.range();
    let before = dma.runs.pages();
    if let Err(e) = dma.runs.push(run) {
        abandon(dma, Some(run));
        return Err(e.into());
    }
    let res = map_all(
        domains,
        range.iova + run.offset,
        run.pfn << PAGE_SHIFT,
        run.npages << PAGE_SHIFT,
        range.prot | IOMMU_CACHE,
    );
    if res.is_err() {
        dma.runs.truncate(before);
        abandon(dma, Some(run));
    }
    res
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
        // `disable_hugepages`: one page per call, whatever backs it. The helper bounds a
        // call by the batch's capacity in runs (folios, huge pages) or pages.
        let want = left.min(if no_huge { 1 } else { PIN_CALL_MAX as u64 }) as usize;
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

/// `vfio_unmap_unpin`: unmaps the mapping from every domain, unpins its pages (the recorded
/// runs) and gives back its locked-memory charge. The mapping stays valid, unpinned.
pub(crate) fn unmap_unpin(domains: &[Domain], dma: &mut VfioDma) {
    let range = *dma.range();
    let dirty = range.prot & IOMMU_WRITE != 0;
    let mapped = dma.mapped_size();
    if let Some((first, rest)) = domains.split_first() {
        if mapped != 0 {
            // The other domains first, so no translation is left when the pages go.
            for d in rest {
                d.domain.unmap(range.iova, mapped);
            }
            unmap_unpin_first(first, dma, dirty);
        }
    }
    dma.runs.clear();
    // Pages emulated devices still pin stay charged (`vfio_iommu_unmap_unpin_reaccount`).
    let keep = dma.pfns.accountable();
    if dma.locked > keep {
        // The process may be gone (`ESRCH`); its mm then has nothing left to charge.
        let _ = dma.owner.account(-((dma.locked - keep) as i64), true);
        dma.locked = keep;
    }
}

/// Unmaps a mapping's runs from the first domain in batches with one IOTLB sync each, then
/// unpins what each run's unmap covered. Most mappings are a few runs (huge pages): those
/// need no allocation.
fn unmap_unpin_first(first: &Domain, dma: &VfioDma, dirty: bool) {
    let mut runs = dma.runs.iter();
    // One run (a page a vIOMMU guest maps, a huge page): one region.
    if dma.runs.records() == 1 {
        let mut one = [UnmapRegion::default()];
        unmap_batches(first, dma, dirty, &mut one, &mut runs, true);
        return;
    }
    let mut small = [UnmapRegion::default(); SMALL_UNMAP_BATCH];
    unmap_batches(first, dma, dirty, &mut small, &mut runs, true);
    if runs.clone().next().is_none() {
        return;
    }
    // On the heap: a full batch is too large for the kernel stack.
    let mut regions = KVec::new();
    if regions
        .resize(UNMAP_BATCH, UnmapRegion::default(), GFP_KERNEL)
        .is_ok()
    {
        unmap_batches(first, dma, dirty, &mut regions, &mut runs, false);
    } else {
        unmap_batches(first, dma, dirty, &mut small, &mut runs, false);
    }
}

/// Unmaps the runs `runs` yields, `regions.len()` per IOTLB sync, and unpins the pages each
/// unmap covered (reserved frames stay pinned-free: [`unpin_range`] skips them frame by frame
/// as upstream's `put_pfn`). With `once` it returns after the first batch.
fn unmap_batches(
    first: &Domain,
    dma: &VfioDma,
    dirty: bool,
    regions: &mut [UnmapRegion],
    runs: &mut RunIter<'_>,
    once: bool,
) {
    let iova = dma.range().iova;
    loop {
        let batch = runs.clone();
        let mut n = 0;
        // `zip` asks `regions` first: a run is only taken when there is room for it.
        for (slot, run) in regions.iter_mut().zip(runs.by_ref()) {
            *slot = UnmapRegion {
                iova: iova + run.offset,
                len: run.npages << PAGE_SHIFT,
                unmapped: 0,
            };
            n += 1;
        }
        if n == 0 {
            return;
        }
        let done = &mut regions[..n];
        first.domain.unmap_batch(done);
        for (r, run) in done.iter().zip(batch) {
            // A run is whole `iommu_map`s, so all of it goes; should the IOMMU unmap less,
            // only that much is unpinned (the rest stays pinned, as upstream leaves it).
            let npages = r.unmapped.min(r.len) >> PAGE_SHIFT;
            if npages != 0 {
                unpin_range(&dma.owner, run.pfn, npages, dirty, dma.has_rsvd || run.rsvd);
            }
        }
        if once || n < regions.len() {
            return;
        }
    }
}

/// Copies a mapping's recorded runs into `to` (`vfio_iommu_replay` with an existing domain,
/// which finds them through the first domain's translations). On failure `to` may hold a
/// prefix, which [`IommuDomain::unmap`] of the whole range removes.
pub(crate) fn copy_mappings(to: &Domain, dma: &VfioDma) -> Result {
    let range = *dma.range();
    for run in dma.runs.iter() {
        to.domain.map(
            range.iova + run.offset,
            run.pfn << PAGE_SHIFT,
            run.npages << PAGE_SHIFT,
            range.prot | IOMMU_CACHE,
        )?;
    }
    Ok(())
}
