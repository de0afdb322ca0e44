// SPDX-License-Identifier: GPL-2.0

//! Emulated-IOMMU devices on a type1 container (mdev-style drivers doing DMA through the CPU):
//! the `pin_pages`, `unpin_pages`, `dma_rw`, `register_device` and `unregister_device` ops,
//! each mapping's tree of externally pinned pages with reference counts, their locked-memory
//! charge, the devices to tell about unmaps, and the pinned-page dirty scope.
//!
//! # Lock order
//!
//! `VfioIommu::notify` (the device list) → `VfioIommu::inner` (`iommu->lock`) → mm locks.
//!
//! - `register_device`/`unregister_device` take `notify`, then `inner` (so `inner` alone is
//!   enough to read whether devices are listed: every change holds both).
//! - An unmap that meets pinned pages drops `inner` *before* taking `notify`, then calls the
//!   devices' `dma_unmap` holding only `notify`; drivers unpin from there (`unpin_pages` takes
//!   `inner`), which is `notify` → `inner` again. Holding `notify` keeps every listed device
//!   registered (alive) for the calls.
//! - `pin_pages`, `unpin_pages`, `dma_rw` and the ioctls take `inner` only.
//!
//! Upstream 7.3 takes `device_list_lock` inside `iommu->lock` in `register_device` but
//! around the callbacks (which take `iommu->lock`) in `vfio_notify_dma_unmap`: an inversion
//! lockdep reports. Here `notify` is always the outer lock.
//!
//! # Accounting
//!
//! A mapping's `locked` is what its owner is charged: with an IOMMU domain, every page the
//! domain pinned (pages pinned for devices as well are not charged again); without one, one
//! page per accountable (not reserved) pfn-tree entry. Pinning for a domain while entries exist
//! charges only pages without one (`vfio_pin_pages_remote`'s `vpfn_pages`); unpinning for the
//! domain keeps the entries' charge (`vfio_iommu_unmap_unpin_reaccount`).

use super::dirty_bitmap::{pinned_page_bit, rw_dirty_bits, set_bits};
use super::dma::VfioDma;
use super::dma_map::DmaEntry;
use super::iommu::{Inner, VfioIommu};
use super::pfnmap::{get_frames, Frames};
use super::pgsize::{min_pgsize, PAGE_SIZE};
use super::pin::{
    check_pin_pages, check_pin_state, check_rw_state, page_iova, pin_target, rw_chunk,
    unpin_args_ok, vaddr_of,
};
use super::uapi::IOMMU_WRITE;
use crate::kernel_ext::{
    iommu::IommuGroup,
    user_mm::{pfn_reserved, pfn_valid, PageArray, RwData},
    vfio::unmap_notify::NotifyDevice,
};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{prelude::*, rbtree::RBTree};

/// One externally pinned page of a mapping (`struct vfio_pfn`).
struct Vpfn {
    /// Host page frame.
    pfn: u64,
    /// `vfio_pin_pages` calls holding it.
    refs: u32,
    /// No `struct page` or a reserved one: not charged, not unpinned.
    reserved: bool,
}

/// A mapping's externally pinned pages by IOVA (`vfio_dma::pfn_list`).
pub(crate) struct PfnTree {
    tree: RBTree<u64, Vpfn>,
    /// Entries that are not reserved.
    accountable: u64,
}

impl PfnTree {
    /// An empty tree.
    pub(crate) fn new() -> Self {
        Self {
            tree: RBTree::new(),
            accountable: 0,
        }
    }

    /// No page is pinned for a device.
    pub(crate) fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Entries that carry a locked-memory charge of their own without a domain.
    pub(crate) fn accountable(&self) -> u64 {
        self.accountable
    }

    /// Accountable entries in `[iova, iova + npages pages)` (`vpfn_pages`).
    pub(crate) fn accountable_in(&self, iova: u64, npages: u64) -> u64 {
        if self.tree.is_empty() {
            return 0;
        }
        let end = iova.saturating_add(npages.saturating_mul(PAGE_SIZE));
        self.tree
            .iter()
            .filter(|(&k, v)| k >= iova && k < end && !v.reserved)
            .count() as u64
    }

    /// IOVAs of all entries, in order.
    pub(crate) fn iovas(&self) -> impl Iterator<Item = u64> + '_ {
        self.tree.keys().copied()
    }

    /// `vfio_iova_get_vfio_pfn`: one more reference on the entry at `iova`, if any.
    fn get_ref(&mut self, iova: u64) -> Option<u64> {
        let v = self.tree.get_mut(&iova)?;
        v.refs = v.refs.saturating_add(1);
        Some(v.pfn)
    }

    /// A new entry with one reference.
    fn insert(&mut self, iova: u64, pfn: u64, reserved: bool) -> Result {
        let v = Vpfn {
            pfn,
            refs: 1,
            reserved,
        };
        self.tree.try_create_and_insert(iova, v, GFP_KERNEL)?;
        if !reserved {
            self.accountable += 1;
        }
        Ok(())
    }

    /// Drops a reference on the entry at `iova`; when it was the last, the entry goes and its
    /// page is returned for unpinning (`vfio_iova_put_vfio_pfn`).
    fn put(&mut self, iova: u64) -> Option<(u64, bool)> {
        let v = self.tree.get_mut(&iova)?;
        v.refs = v.refs.saturating_sub(1);
        if v.refs != 0 {
            return None;
        }
        let v = self.tree.remove(&iova)?;
        if !v.reserved {
            self.accountable -= 1;
        }
        Some((v.pfn, v.reserved))
    }

    /// Removes every entry, returning their pages.
    fn drain(&mut self, mut each: impl FnMut(u64, bool)) {
        loop {
            let Some(iova) = self.tree.keys().next().copied() else {
                break;
            };
            if let Some(v) = self.tree.remove(&iova) {
                each(v.pfn, v.reserved);
            }
        }
        self.accountable = 0;
    }
}

/// Emulated-device and dirty-scope state of a container, under `iommu->lock`.
pub(crate) struct EmuState {
    /// Devices listed for `dma_unmap` (changed with both locks held).
    pub(crate) devices: usize,
    /// IOMMU-backed groups that promoted themselves to pinned-page dirty scope by pinning.
    pub(crate) pinned_scope: KVec<IommuGroup>,
    /// IOMMU-backed groups that may dirty any mapped page (`num_non_pinned_groups`).
    pub(crate) num_non_pinned_groups: u64,
    /// `VFIO_IOMMU_DIRTY_PAGES_FLAG_START` is in effect.
    pub(crate) dirty_tracking: bool,
}

impl EmuState {
    /// Nothing listed, nothing tracked.
    pub(crate) fn new() -> Self {
        Self {
            devices: 0,
            pinned_scope: KVec::new(),
            num_non_pinned_groups: 0,
            dirty_tracking: false,
        }
    }
}

impl Inner {
    /// An IOMMU-backed group joined: it can dirty memory directly (`:2407`).
    pub(crate) fn scope_attach(&mut self) {
        self.emu.num_non_pinned_groups += 1;
    }

    /// An IOMMU-backed group left (`:2609-2619`): without pinned-page scope it counted as
    /// non-pinned, and what is still mapped may have been dirtied by it.
    pub(crate) fn scope_detach(&mut self, group: &IommuGroup) {
        if let Some(i) = self.emu.pinned_scope.iter().position(|g| g.same(group)) {
            let _ = self.emu.pinned_scope.remove(i);
            return;
        }
        self.emu.num_non_pinned_groups = self.emu.num_non_pinned_groups.saturating_sub(1);
        if self.emu.dirty_tracking {
            super::dirty::populate_full(self);
        }
    }

    /// A group pinned pages: if IOMMU-backed, it now reports what it dirties (`:996-1000`).
    fn scope_promote(&mut self, group: &IommuGroup) {
        let backed = self.domains.iter().any(|d| d.has_group(group));
        if backed && !self.emu.pinned_scope.iter().any(|g| g.same(group)) {
            if self
                .emu
                .pinned_scope
                .push(group.clone(), GFP_KERNEL)
                .is_ok()
            {
                self.emu.num_non_pinned_groups = self.emu.num_non_pinned_groups.saturating_sub(1);
            }
        }
    }
}

/// `WARN_ONCE` for pinning or copying while vaddrs are invalid.
fn warn_vaddr_invalid(what: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        pr_warn!("{} not allowed with VFIO_UPDATE_VADDR\n", what);
        kernel::warn_on!(true);
    }
}

/// Pins the page at `iova` for a device (`:940-992` for one page): a new pfn-tree entry or
/// one more reference on an existing one. Returns its pfn.
fn pin_one(inner: &mut Inner, iova: u64, prot: u32, do_accounting: bool) -> Result<u64> {
    let dma_iova = pin_target(&inner.dmas, iova, prot)?.range().iova;
    let pgsize = min_pgsize(inner.pgsize_bitmap);
    let tracking = inner.emu.dirty_tracking;
    let dma = inner.dmas.get_mut(dma_iova).ok_or(EINVAL)?;
    if let Some(pfn) = dma.pfns.get_ref(iova) {
        return Ok(pfn);
    }
    let range = *dma.range();
    let vaddr = vaddr_of(&*dma, iova);
    let write = range.prot & IOMMU_WRITE != 0;
    let mut pinned = [0u64; 1];
    // `vfio_pin_page_external` → `vaddr_get_pfns` of one page: pinned, or else the frame of a
    // `VM_PFNMAP` mapping, taken only if reserved (never unpinned nor charged; one without a
    // `struct page`, a BAR's, then fails `pfn_valid` below). `ENODEV` once the process is gone.
    let frames = get_frames(&dma.owner, vaddr, write, &mut pinned, 1).map_err(|e| {
        if e == ESRCH {
            ENODEV
        } else {
            e
        }
    })?;
    let pfn = match frames {
        Frames::Pinned(_) => pinned[0],
        Frames::Pfnmap { pfn, .. } => pfn,
    };
    let reserved = pfn_reserved(pfn);
    let charge = do_accounting && !reserved;
    if charge {
        if let Err(e) = dma.owner.account(1, false) {
            dma.owner.unpin(pfn, 1, write);
            if e == ENOMEM {
                pr_warn!("vfio_pin_page_external: RLIMIT_MEMLOCK exceeded\n");
            }
            return Err(e);
        }
        dma.locked += 1;
    }
    let undo = |dma: &mut VfioDma| {
        if !reserved {
            dma.owner.unpin(pfn, 1, write);
        }
        if charge {
            let _ = dma.owner.account(-1, true);
            dma.locked -= 1;
        }
    };
    if !pfn_valid(pfn) {
        undo(dma);
        return Err(EINVAL);
    }
    if let Err(e) = dma.pfns.insert(iova, pfn, reserved) {
        undo(dma);
        return Err(e);
    }
    if tracking {
        if let Some(map) = dma.bitmap.as_mut() {
            set_bits(map, pinned_page_bit(range.iova, iova, pgsize), 1);
        }
    }
    Ok(pfn)
}

/// `vfio_unpin_page_external`: drops a device's pin on the page at `iova`, if it has one.
fn unpin_one(inner: &mut Inner, iova: u64, do_accounting: bool) -> bool {
    let Some(dma_iova) = inner.dmas.find(iova, PAGE_SIZE).map(|e| e.range().iova) else {
        return false;
    };
    let Some(dma) = inner.dmas.get_mut(dma_iova) else {
        return false;
    };
    if let Some((pfn, reserved)) = dma.pfns.put(iova) {
        if !reserved {
            dma.owner.unpin(pfn, 1, dma.range().prot & IOMMU_WRITE != 0);
            if do_accounting {
                let _ = dma.owner.account(-1, true);
                dma.locked = dma.locked.saturating_sub(1);
            }
        }
    }
    true
}

impl VfioIommu {
    /// `vfio_iommu_type1_pin_pages` (`t1:893`).
    pub(crate) fn emu_pin_pages(
        &self,
        group: &IommuGroup,
        user_iova: u64,
        npage: i32,
        prot: i32,
        pages: Option<PageArray<'_>>,
    ) -> Result<i32> {
        let v2 = self.inner.lock().v2;
        check_pin_pages(user_iova, npage, pages.is_some(), v2)?;
        let Some(mut pages) = pages else {
            return Err(EINVAL);
        };
        let prot = prot as u32;
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if inner.dmas.vaddr_invalid_count() != 0 {
            warn_vaddr_invalid("vfio_pin_pages");
        }
        check_pin_state(inner.dmas.vaddr_invalid_count(), inner.emu.devices != 0)?;
        // With an IOMMU domain every mapped page is already pinned and charged.
        let do_accounting = inner.domains.is_empty();
        for i in 0..npage.unsigned_abs() {
            let iova = page_iova(user_iova, i);
            match pin_one(inner, iova, prot, do_accounting) {
                Ok(pfn) => pages.set(i as usize, pfn),
                Err(e) => {
                    pages.clear(i as usize);
                    for j in 0..i {
                        unpin_one(inner, page_iova(user_iova, j), do_accounting);
                        pages.clear(j as usize);
                    }
                    return Err(e);
                }
            }
        }
        inner.scope_promote(group);
        Ok(npage)
    }

    /// `vfio_iommu_type1_unpin_pages` (`t1:1019`).
    pub(crate) fn emu_unpin_pages(&self, user_iova: u64, npage: i32) {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if kernel::warn_on!(!unpin_args_ok(user_iova, npage, inner.v2)) {
            return;
        }
        let do_accounting = inner.domains.is_empty();
        let mut done = 0;
        for i in 0..npage.unsigned_abs() {
            if !unpin_one(inner, page_iova(user_iova, i), do_accounting) {
                break;
            }
            done += 1;
        }
        kernel::warn_on!(done != npage.unsigned_abs());
    }

    /// `vfio_iommu_type1_dma_rw` (`t1:3198`): copies chunk by chunk, each within one mapping,
    /// through the mapping owner's address space; a write marks its pages dirty.
    pub(crate) fn emu_dma_rw(&self, user_iova: u64, mut data: RwData<'_>) -> Result {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if inner.dmas.vaddr_invalid_count() != 0 {
            warn_vaddr_invalid("vfio_dma_rw");
        }
        check_rw_state(inner.dmas.vaddr_invalid_count())?;
        let write = data.is_write();
        let pgsize = min_pgsize(inner.pgsize_bitmap);
        let tracking = inner.emu.dirty_tracking;
        let mut iova = user_iova;
        while data.len() != 0 {
            let chunk = rw_chunk(&inner.dmas, iova, data.len() as u64, write)?;
            let dma = inner.dmas.get_mut(chunk.dma_iova).ok_or(EINVAL)?;
            let count = usize::try_from(chunk.count).unwrap_or(usize::MAX);
            let copied = data.copy(dma.owner.mm(), chunk.vaddr, count)?;
            if write && tracking {
                if let Some(map) = dma.bitmap.as_mut() {
                    let (first, n) = rw_dirty_bits(chunk.offset, copied as u64, pgsize);
                    set_bits(map, first, n);
                }
            }
            iova = iova.wrapping_add(copied as u64);
        }
        Ok(())
    }

    /// `vfio_iommu_type1_register_device` (`t1:3099`): a device with `dma_unmap` is listed.
    pub(crate) fn emu_register_device(&self, dev: &NotifyDevice) {
        if !dev.has_dma_unmap() {
            return;
        }
        let list = self.notify.lock();
        let mut inner = self.inner.lock();
        list.add(dev);
        inner.emu.devices += 1;
    }

    /// `vfio_iommu_type1_unregister_device` (`t1:3123`).
    pub(crate) fn emu_unregister_device(&self, dev: &NotifyDevice) {
        if !dev.has_dma_unmap() {
            return;
        }
        let list = self.notify.lock();
        let mut inner = self.inner.lock();
        list.remove(dev);
        inner.emu.devices = inner.emu.devices.saturating_sub(1);
    }

    /// `vfio_notify_dma_unmap` (`t1:1366`): every listed device drops its pins in the mapping.
    /// Must be called without `inner` held (see the lock order above).
    pub(crate) fn emu_notify_unmap(&self, iova: u64, size: u64) {
        let list = self.notify.lock();
        list.notify(iova, size);
    }
}

impl Drop for VfioDma {
    fn drop(&mut self) {
        // `vfio_remove_dma` expects no device pin left (`WARN_ON`); give back any anyway.
        if !self.pfns.is_empty() {
            kernel::warn_on!(true);
            let owner = &self.owner;
            let dirty = self.range().prot & IOMMU_WRITE != 0;
            self.pfns.drain(|pfn, reserved| {
                if !reserved {
                    owner.unpin(pfn, 1, dirty);
                }
            });
        }
        if self.locked != 0 {
            let _ = self.owner.account(-(self.locked as i64), true);
            self.locked = 0;
        }
    }
}
