// SPDX-License-Identifier: GPL-2.0

//! Getting a mapping's frames (upstream's `vaddr_get_pfns`, `t1:584`) and giving pinned ones
//! back (`put_pfn`, `vfio_unpin_pages_remote`): ordinary memory is pinned long-term; where
//! that fails because the address is in a `VM_PFNMAP` mapping (an mmap of a device BAR),
//! the frames are read from its page tables instead, never pinned and never charged to
//! `locked_vm`. Frames without a `struct page` or with a reserved one are never unpinned.
//!
//! Lock order: the container lock (callers), then the owner's mmap lock (inside the calls).

use super::pfn_runs::pfnmap_npages;
use crate::kernel_ext::{
    pfnmap::follow_fault_pfnmap,
    user_mm::pfn_reserved,
    user_pages::{PinBatch, PinOwner, PinRun},
};
use kernel::prelude::*;

/// What one lookup at a user address found.
pub(crate) enum Frames {
    /// This many pages were pinned: their pfns at the start of the caller's slice
    /// ([`get_frames`]) or recorded in the batch's runs ([`get_runs`]).
    Pinned(usize),
    /// `npages` contiguous frames from `pfn` of a `VM_PFNMAP` mapping, not pinned.
    Pfnmap {
        /// First frame.
        pfn: u64,
        /// Frames (at least 1).
        npages: u64,
    },
}

/// `vaddr_get_pfns`: pins up to `pfns.len()` pages of `owner` from `vaddr` and stores their
/// pfns in `pfns`, or, if `vaddr` is in a `VM_PFNMAP` mapping, finds up to `max_pfnmap`
/// contiguous frames there. `EFAULT` for a `VM_PFNMAP` frame that is an ordinary page
/// (upstream refuses to map it unpinned). For a few pages (emulated devices' pins).
pub(crate) fn get_frames(
    owner: &PinOwner,
    vaddr: u64,
    write: bool,
    pfns: &mut [u64],
    max_pfnmap: u64,
) -> Result<Frames> {
    match owner.pin(vaddr, write, pfns) {
        Ok(n) => Ok(Frames::Pinned(n)),
        Err(e) => pfnmap_frames(owner, vaddr, write, max_pfnmap, e),
    }
}

/// [`get_frames`] for a whole batch (`MAP_DMA`, replay): the pages pinned from `vaddr` (up to
/// `npages`) are recorded in `batch` as physically contiguous runs.
pub(crate) fn get_runs(
    owner: &PinOwner,
    vaddr: u64,
    write: bool,
    npages: usize,
    batch: &mut PinBatch,
    max_pfnmap: u64,
) -> Result<Frames> {
    match owner.pin_runs(vaddr, npages, write, batch) {
        Ok(n) => Ok(Frames::Pinned(n)),
        Err(e) => pfnmap_frames(owner, vaddr, write, max_pfnmap, e),
    }
}

/// After pinning at `vaddr` failed with `pin_err`: the `VM_PFNMAP` frames there, if any.
fn pfnmap_frames(
    owner: &PinOwner,
    vaddr: u64,
    write: bool,
    max_pfnmap: u64,
    pin_err: Error,
) -> Result<Frames> {
    match follow_fault_pfnmap(owner.mm(), vaddr, write)? {
        None => Err(pin_err),
        Some(frame) if pfn_reserved(frame.pfn) => Ok(Frames::Pfnmap {
            pfn: frame.pfn,
            npages: pfnmap_npages(frame.pfn, frame.addr_mask, max_pfnmap),
        }),
        Some(_) => Err(EFAULT),
    }
}

/// Whether a frame is reserved (`is_invalid_reserved_pfn`): not pinned by us, not charged.
pub(crate) fn is_rsvd(pfn: u64) -> bool {
    pfn_reserved(pfn)
}

/// `put_pfn` over runs [`get_runs`] pinned and nobody mapped.
pub(crate) fn put_runs(owner: &PinOwner, runs: impl Iterator<Item = PinRun>, dirty: bool) {
    for r in runs {
        unpin_range(owner, r.pfn, r.npages, dirty, r.rsvd);
    }
}

/// Unpins `npages` frames from `pfn` that were mapped (`vfio_unpin_pages_remote`): one range
/// call when the mapping has no reserved frames (`has_rsvd`), else frame by frame skipping
/// the reserved ones.
pub(crate) fn unpin_range(owner: &PinOwner, pfn: u64, npages: u64, dirty: bool, has_rsvd: bool) {
    if !has_rsvd {
        owner.unpin(pfn, npages, dirty);
        return;
    }
    for p in pfn..pfn.saturating_add(npages) {
        if !is_rsvd(p) {
            owner.unpin(p, 1, dirty);
        }
    }
}
