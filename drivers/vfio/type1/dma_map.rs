// SPDX-License-Identifier: GPL-2.0

//! A container's DMA mappings: an ordered set of non-overlapping IOVA ranges, with upstream's
//! lookup, map and unmap rules (`vfio_find_dma`, `vfio_dma_do_map`, `vfio_dma_do_unmap`).
//!
//! # Storage
//!
//! Out-of-tree modules on 7.3 get no `alloc` collections (the kernel crate has `KVec`, `KBox`
//! and `kernel::rbtree::RBTree`, all with fallible allocation). The logic here is therefore
//! generic over a [`DmaStore`]: a map from first IOVA to entry with ordered lookups, which
//! the kernel module implements on `RBTree<u64, VfioDma>` (`cursor_lower_bound` plus
//! `peek_prev`/`cursor_back`, allocating the node in [`DmaStore::insert`]) and the host tests
//! on a `BTreeMap`. Entries are the kernel's own type (task, mm, pinned pfns, dirty bitmap)
//! exposing a [`DmaRange`] through [`DmaEntry`]; only this module changes that range.
//!
//! # Invariants
//!
//! Stored ranges are non-empty, do not wrap and do not overlap, so they are ordered by first
//! and by last IOVA alike. `dma_avail` plus the number of entries is the `dma_entry_limit`
//! the container was opened with, and `vaddr_invalid_count` counts entries with
//! `vaddr_invalid` set.

use super::iova_ranges::{dma_valid, IovaRange};
use super::map_args::{MapRequest, UnmapRequest};
use crate::errno::Errno;

/// The user-visible part of a mapping (`struct vfio_dma` without kernel objects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DmaRange {
    /// First IOVA.
    pub(crate) iova: u64,
    /// Bytes.
    pub(crate) size: u64,
    /// Process virtual address of the first byte.
    pub(crate) vaddr: u64,
    /// `IOMMU_READ`/`IOMMU_WRITE`.
    pub(crate) prot: u32,
    /// The vaddr was invalidated by `UNMAP_DMA` with `VFIO_DMA_UNMAP_FLAG_VADDR`.
    pub(crate) vaddr_invalid: bool,
}

impl DmaRange {
    /// Last IOVA, `iova + size - 1` (never wraps for a stored range).
    pub(crate) fn last(&self) -> u64 {
        self.iova.wrapping_add(self.size.wrapping_sub(1))
    }

    /// Whether `iova` lies in the range.
    pub(crate) fn contains(&self, iova: u64) -> bool {
        iova >= self.iova && iova <= self.last()
    }
}

/// A stored mapping.
pub(crate) trait DmaEntry {
    /// The mapping's range.
    fn range(&self) -> &DmaRange;
    /// The mapping's range, for [`DmaMap`] only: changing `iova` or `size` elsewhere breaks
    /// the store.
    fn range_mut(&mut self) -> &mut DmaRange;
    /// Pages of the mapping are pinned through `vfio_pin_pages` (non-empty `pfn_list`), so
    /// it cannot be removed before the pinning drivers are told to let go.
    fn has_pinned_pages(&self) -> bool;
}

/// Ordered storage of mappings, keyed by first IOVA.
pub(crate) trait DmaStore {
    /// The stored mapping type.
    type Entry: DmaEntry;
    /// The entry with the lowest first IOVA `>= iova`.
    fn first_from(&self, iova: u64) -> Option<&Self::Entry>;
    /// The entry with the highest first IOVA `< iova`.
    fn last_before(&self, iova: u64) -> Option<&Self::Entry>;
    /// The entry starting exactly at `iova`.
    fn get_mut(&mut self, iova: u64) -> Option<&mut Self::Entry>;
    /// [`Self::first_from`]'s range (one lookup where the store can: the checks of every
    /// map and unmap need ranges only).
    fn first_range_from(&self, iova: u64) -> Option<DmaRange> {
        self.first_from(iova).map(|e| *e.range())
    }
    /// [`Self::last_before`]'s range.
    fn last_range_before(&self, iova: u64) -> Option<DmaRange> {
        self.last_before(iova).map(|e| *e.range())
    }
    /// Stores `entry` under its first IOVA, which is not yet used, and returns it; `ENOMEM` if
    /// no node can be allocated.
    fn insert(&mut self, entry: Self::Entry) -> Result<&mut Self::Entry, Errno>;
    /// Takes out the entry starting exactly at `iova`.
    fn remove(&mut self, iova: u64) -> Option<Self::Entry>;
    /// Deletes the entry starting exactly at `iova` if `doomed` says so of it, after
    /// `teardown` has had it, and returns its range: one lookup and no copy of the entry where
    /// the store can (a vIOMMU guest unmaps one page at a time).
    fn delete_if(
        &mut self,
        iova: u64,
        doomed: impl FnOnce(&Self::Entry) -> bool,
        teardown: impl FnOnce(&mut Self::Entry),
    ) -> Option<DmaRange> {
        let entry = self.get_mut(iova)?;
        if !doomed(entry) {
            return None;
        }
        teardown(entry);
        let range = *entry.range();
        self.remove(iova);
        Some(range)
    }
}

/// What a checked `MAP_DMA` is to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MapPlan {
    /// `VFIO_DMA_MAP_FLAG_VADDR` on an invalidated mapping that matches exactly: move the
    /// locked-memory accounting to the caller (`vfio_change_dma_owner`), then
    /// [`DmaMap::update_vaddr`].
    UpdateVaddr,
    /// A new mapping: build the entry, [`DmaMap::insert_new`] it, pin and IOMMU-map it
    /// (removing it again on failure), then allocate its dirty bitmap if tracking.
    Create(NewMapping),
}

/// A new mapping [`DmaMap::plan_map`] found room and a free slot for; [`DmaMap::insert_new`]
/// takes it without checking again, so it must be used before the map changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NewMapping(DmaRange);

impl NewMapping {
    /// Its range.
    pub(crate) fn range(&self) -> DmaRange {
        self.0
    }
}

/// Per-mapping work of an unmap, done by the kernel module.
pub(crate) trait UnmapHooks<E> {
    /// `update_user_bitmap` (`:1533`) for an entry about to be removed, when the request has
    /// `get_dirty`; an error ends the unmap with the entries so far removed.
    fn report_dirty(&mut self, entry: &mut E) -> Result<(), Errno>;
    /// The rest of `vfio_remove_dma` for an entry the map deletes next (IOMMU unmap, unpin and
    /// accounting); dropping it then gives back the task and mm and frees it.
    fn removed(&mut self, entry: &mut E);
}

/// What an unmap walk stopped at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnmapStep {
    /// Finished: report this many bytes in `unmap->size` (`:1546`).
    Done(u64),
    /// The mapping `[iova, iova + size)` has pages pinned by an emulated device: drop the
    /// container lock, call every registered device's `dma_unmap(iova, size)`, retake the
    /// lock and walk again with the same [`UnmapProgress`] (`:1520-1530`).
    NotifyPinned {
        /// First IOVA of the mapping.
        iova: u64,
        /// Its size.
        size: u64,
    },
}

/// State an unmap carries across [`UnmapStep::NotifyPinned`] rounds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct UnmapProgress {
    /// Bytes unmapped so far.
    unmapped: u64,
    /// The mapping notified last (`dma_last`), by first IOVA.
    last_pinned: Option<u64>,
    /// Notifications for it beyond the first.
    retries: u32,
}

/// Times one mapping may be notified again before the unmap gives up (`:1522`).
const MAX_NOTIFY_RETRIES: u32 = 10;

/// A container's mappings with the counters upstream keeps beside its tree.
pub(crate) struct DmaMap<S> {
    store: S,
    dma_avail: u32,
    vaddr_invalid_count: u32,
}

impl<S: DmaStore> DmaMap<S> {
    /// An empty map allowing `dma_entry_limit` mappings (latched at open, `:2646`).
    pub(crate) fn new(store: S, dma_entry_limit: u32) -> Self {
        DmaMap {
            store,
            dma_avail: dma_entry_limit,
            vaddr_invalid_count: 0,
        }
    }

    /// Mappings that may still be created (`VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL`).
    pub(crate) fn dma_avail(&self) -> u32 {
        self.dma_avail
    }

    /// Mappings whose vaddr is invalid; while non-zero, attaching groups, pinning and
    /// `dma_rw` are refused with `EBUSY`.
    pub(crate) fn vaddr_invalid_count(&self) -> u32 {
        self.vaddr_invalid_count
    }

    /// The entry starting exactly at `iova`.
    pub(crate) fn get(&self, iova: u64) -> Option<&S::Entry> {
        self.store
            .first_from(iova)
            .filter(|e| e.range().iova == iova)
    }

    /// The entry starting exactly at `iova`, for the kernel's own fields; its range must not
    /// be changed.
    pub(crate) fn get_mut(&mut self, iova: u64) -> Option<&mut S::Entry> {
        self.store.get_mut(iova)
    }

    /// The lowest entry.
    pub(crate) fn first(&self) -> Option<&S::Entry> {
        self.store.first_from(0)
    }

    /// The entry after the one starting at `iova` (`rb_next`).
    pub(crate) fn next(&self, iova: u64) -> Option<&S::Entry> {
        self.store.first_from(iova.checked_add(1)?)
    }

    /// All entries in IOVA order.
    pub(crate) fn iter(&self) -> Iter<'_, S> {
        Iter {
            map: self,
            next: self.first(),
        }
    }

    /// The lowest entry whose last IOVA is `>= start`.
    fn first_ending_from(&self, start: u64) -> Option<&S::Entry> {
        // Only the entry just below `start` can reach it; every later one ends after it.
        if let Some(below) = self.store.last_before(start) {
            if below.range().last() >= start {
                return Some(below);
            }
        }
        self.store.first_from(start)
    }

    /// `vfio_find_dma` (`:165`): an entry overlapping `[start, start + size - 1]`. The end
    /// wraps as in C; upstream's tree walk then still answers "is there an entry `e` with
    /// `e.iova <= end` and `e.last >= start`", which is what this computes, returning the
    /// lowest such entry (callers only rely on which entry when at most one can match).
    pub(crate) fn find(&self, start: u64, size: u64) -> Option<&S::Entry> {
        let end = start.wrapping_add(size).wrapping_sub(1);
        self.first_ending_from(start)
            .filter(|e| e.range().iova <= end)
    }

    /// [`Self::first_ending_from`] by range lookups.
    fn first_range_ending_from(&self, start: u64) -> Option<DmaRange> {
        if let Some(below) = self.store.last_range_before(start) {
            if below.last() >= start {
                return Some(below);
            }
        }
        self.store.first_range_from(start)
    }

    /// [`Self::find`]'s range: the checks that need no entry.
    pub(crate) fn find_range(&self, start: u64, size: u64) -> Option<DmaRange> {
        let end = start.wrapping_add(size).wrapping_sub(1);
        self.first_range_ending_from(start)
            .filter(|r| r.iova <= end)
    }

    /// `vfio_find_dma_first_node` (`:186`): the lowest entry overlapping `[start, last]`.
    pub(crate) fn first_in(&self, start: u64, last: u64) -> Option<&S::Entry> {
        self.first_ending_from(start)
            .filter(|e| e.range().iova <= last)
    }

    /// The v2 unmap and `GET_BITMAP` rule (`:1478-1486`, `:1317-1323`): a request may cover
    /// several mappings but must not cut one; `EINVAL` if a mapping holds `start` without
    /// starting there or holds `last` without ending there.
    pub(crate) fn check_no_bisect(&self, start: u64, last: u64) -> Result<(), Errno> {
        if self.find_range(start, 1).is_some_and(|r| r.iova != start) {
            return Err(Errno::EINVAL);
        }
        if self.find_range(last, 1).is_some_and(|r| r.last() != last) {
            return Err(Errno::EINVAL);
        }
        Ok(())
    }

    /// `vfio_dma_do_map` after the alignment check (`:1725-1756`), without changing anything:
    /// `ENOENT`/`EINVAL` for a vaddr update without an exactly matching invalidated mapping,
    /// `EEXIST` for an overlap, `ENOSPC` past `dma_entry_limit`, `EINVAL` outside `valid`.
    pub(crate) fn plan_map(&self, req: &MapRequest, valid: &[IovaRange]) -> Result<MapPlan, Errno> {
        let found = self.find_range(req.iova, req.size);
        if req.set_vaddr {
            return match found {
                None => Err(Errno::ENOENT),
                Some(r) if !r.vaddr_invalid || r.iova != req.iova || r.size != req.size => {
                    Err(Errno::EINVAL)
                }
                Some(_) => Ok(MapPlan::UpdateVaddr),
            };
        }
        if found.is_some() {
            return Err(Errno::EEXIST);
        }
        if self.dma_avail == 0 {
            return Err(Errno::ENOSPC);
        }
        if !dma_valid(valid, req.iova, req.last) {
            return Err(Errno::EINVAL);
        }
        Ok(MapPlan::Create(NewMapping(DmaRange {
            iova: req.iova,
            size: req.size,
            vaddr: req.vaddr,
            prot: req.prot,
            vaddr_invalid: false,
        })))
    }

    /// Completes [`MapPlan::UpdateVaddr`] (`:1740-1742`): the mapping at `iova` gets `vaddr`
    /// and is valid again.
    pub(crate) fn update_vaddr(&mut self, iova: u64, vaddr: u64) -> Result<(), Errno> {
        let entry = self.store.get_mut(iova).ok_or(Errno::ENOENT)?;
        let range = entry.range_mut();
        if !range.vaddr_invalid {
            return Err(Errno::EINVAL);
        }
        range.vaddr = vaddr;
        range.vaddr_invalid = false;
        self.vaddr_invalid_count = self.vaddr_invalid_count.saturating_sub(1);
        Ok(())
    }

    /// Stores a new mapping and takes one of `dma_avail` (`:1756-1761`, `:1775`). Refuses an
    /// empty, wrapping or overlapping range (`EINVAL`/`EEXIST`) and a full map (`ENOSPC`),
    /// which [`Self::plan_map`] has already excluded; `ENOMEM` from the store.
    pub(crate) fn insert(&mut self, entry: S::Entry) -> Result<(), Errno> {
        let range = *entry.range();
        if range.size == 0 || range.iova.checked_add(range.size - 1).is_none() {
            return Err(Errno::EINVAL);
        }
        if self.find_range(range.iova, range.size).is_some() {
            return Err(Errno::EEXIST);
        }
        if self.dma_avail == 0 {
            return Err(Errno::ENOSPC);
        }
        self.store.insert(entry)?;
        self.dma_avail -= 1;
        if range.vaddr_invalid {
            self.vaddr_invalid_count = self.vaddr_invalid_count.saturating_add(1);
        }
        Ok(())
    }

    /// Stores the entry of a mapping [`Self::plan_map`] just planned (no second overlap
    /// lookup) and returns it; `EINVAL` if `entry` is not of the plan's range, `ENOMEM` from
    /// the store.
    pub(crate) fn insert_new(
        &mut self,
        new: NewMapping,
        entry: S::Entry,
    ) -> Result<&mut S::Entry, Errno> {
        if *entry.range() != new.0 || self.dma_avail == 0 {
            return Err(Errno::EINVAL);
        }
        let entry = self.store.insert(entry)?;
        self.dma_avail -= 1;
        Ok(entry)
    }

    /// Takes out the mapping at `iova`, giving back its `dma_avail` slot and its invalid
    /// count (`vfio_remove_dma`, `:1241-1244`); the caller does the rest of the teardown.
    pub(crate) fn remove(&mut self, iova: u64) -> Option<S::Entry> {
        let entry = self.store.remove(iova)?;
        self.count_removed(entry.range());
        Some(entry)
    }

    /// The counters' side of taking out the mapping of `range`.
    fn count_removed(&mut self, range: &DmaRange) {
        if range.vaddr_invalid {
            self.vaddr_invalid_count = self.vaddr_invalid_count.saturating_sub(1);
        }
        self.dma_avail = self.dma_avail.saturating_add(1);
    }

    /// `vfio_iommu_unmap_unpin_all` (`:2428`): removes every mapping in IOVA order.
    pub(crate) fn remove_all(&mut self, mut removed: impl FnMut(S::Entry)) {
        while let Some(iova) = self.first().map(|e| e.range().iova) {
            if let Some(entry) = self.remove(iova) {
                removed(entry);
            }
        }
    }

    /// Marks the entries from `from` up to (not including) `until` valid again: the roll-back
    /// of a failed vaddr invalidation (`:1503-1510`).
    fn revalidate(&mut self, from: u64, until: u64) {
        let mut next = Some(from);
        while let Some(iova) = next.filter(|&i| i < until) {
            if let Some(entry) = self.store.get_mut(iova) {
                entry.range_mut().vaddr_invalid = false;
                self.vaddr_invalid_count = self.vaddr_invalid_count.saturating_sub(1);
            }
            next = self.next(iova).map(|e| e.range().iova);
        }
    }

    /// `vfio_dma_do_unmap` from its `again:` label (`:1445-1542`) for a request checked by
    /// `check_unmap`; `v2` is the container's flavour.
    ///
    /// Walks the mappings from the first overlapping one. v2 (and `all`) first refuses to
    /// cut a mapping; v1 stops, successfully, at a first mapping starting below the request
    /// and otherwise removes every mapping starting inside it whole. With `invalidate_vaddr`
    /// the mappings are marked instead, all or none: meeting one already invalid restores
    /// the others and fails with `EINVAL`. Each removal calls [`UnmapHooks::report_dirty`]
    /// (if `get_dirty`) and then [`UnmapHooks::removed`].
    ///
    /// A mapping with pinned pages ends the walk with [`UnmapStep::NotifyPinned`]; the caller
    /// notifies and calls again. Upstream `BUG()`s when one mapping stays pinned through more
    /// than ten notifications; this returns `EBUSY` instead.
    /// [`Self::unmap_walk`]'s result when the request is exactly one mapping that nobody has
    /// pinned (a vIOMMU guest's unmap), found and removed in one lookup: no bisection is then
    /// possible and the walk would stop after it. `None`: walk.
    fn unmap_exact(
        &mut self,
        req: &UnmapRequest,
        progress: &mut UnmapProgress,
        hooks: &mut impl UnmapHooks<S::Entry>,
    ) -> Option<UnmapStep> {
        if req.all || req.invalidate_vaddr || req.get_dirty {
            return None;
        }
        let range = self.store.delete_if(
            req.iova,
            |e| e.range().last() == req.last && !e.has_pinned_pages(),
            |e| hooks.removed(e),
        )?;
        self.count_removed(&range);
        progress.unmapped = progress.unmapped.wrapping_add(range.size);
        Some(UnmapStep::Done(progress.unmapped))
    }

    pub(crate) fn unmap_walk(
        &mut self,
        req: &UnmapRequest,
        v2: bool,
        progress: &mut UnmapProgress,
        hooks: &mut impl UnmapHooks<S::Entry>,
    ) -> Result<UnmapStep, Errno> {
        if let Some(done) = self.unmap_exact(req, progress, hooks) {
            return Ok(done);
        }
        if v2 && !req.all {
            self.check_no_bisect(req.iova, req.last)?;
        }
        let first = self
            .first_range_ending_from(req.iova)
            .filter(|r| r.iova <= req.last);
        let mut next = first;
        while let Some(range) = next {
            if range.iova > req.last || (!v2 && req.iova > range.iova) {
                break;
            }
            if req.invalidate_vaddr {
                if range.vaddr_invalid {
                    if let Some(first) = first {
                        self.revalidate(first.iova, range.iova);
                    }
                    progress.unmapped = 0;
                    return Err(Errno::EINVAL);
                }
                if let Some(entry) = self.store.get_mut(range.iova) {
                    entry.range_mut().vaddr_invalid = true;
                    self.vaddr_invalid_count = self.vaddr_invalid_count.saturating_add(1);
                }
                progress.unmapped = progress.unmapped.wrapping_add(range.size);
                next = self.next(range.iova).map(|e| *e.range());
                continue;
            }
            if self.get(range.iova).is_some_and(|e| e.has_pinned_pages()) {
                if progress.last_pinned == Some(range.iova) {
                    progress.retries += 1;
                    if progress.retries > MAX_NOTIFY_RETRIES {
                        return Err(Errno::EBUSY);
                    }
                } else {
                    progress.last_pinned = Some(range.iova);
                    progress.retries = 0;
                }
                return Ok(UnmapStep::NotifyPinned {
                    iova: range.iova,
                    size: range.size,
                });
            }
            if req.get_dirty {
                if let Some(entry) = self.store.get_mut(range.iova) {
                    hooks.report_dirty(entry)?;
                }
            }
            progress.unmapped = progress.unmapped.wrapping_add(range.size);
            next = self.next(range.iova).map(|e| *e.range());
            if let Some(gone) = self
                .store
                .delete_if(range.iova, |_| true, |e| hooks.removed(e))
            {
                self.count_removed(&gone);
            }
        }
        Ok(UnmapStep::Done(progress.unmapped))
    }
}

/// Iterator over a [`DmaMap`] in IOVA order.
pub(crate) struct Iter<'a, S: DmaStore> {
    map: &'a DmaMap<S>,
    next: Option<&'a S::Entry>,
}

impl<'a, S: DmaStore> Iterator for Iter<'a, S> {
    type Item = &'a S::Entry;

    fn next(&mut self) -> Option<Self::Item> {
        let current = self.next?;
        self.next = self.map.next(current.range().iova);
        Some(current)
    }
}

#[cfg(test)]
pub(crate) mod test_store {
    //! A `BTreeMap` store for host tests, standing in for the kernel's `RBTree`.

    use super::*;
    use std::collections::BTreeMap;

    /// A mapping as the tests keep it.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub(crate) struct TestDma {
        /// The range.
        pub(crate) range: DmaRange,
        /// Pages pinned through the pin interface.
        pub(crate) pinned: u32,
    }

    impl TestDma {
        /// A fresh, unpinned mapping.
        pub(crate) fn new(range: DmaRange) -> Self {
            TestDma { range, pinned: 0 }
        }
    }

    impl DmaEntry for TestDma {
        fn range(&self) -> &DmaRange {
            &self.range
        }
        fn range_mut(&mut self) -> &mut DmaRange {
            &mut self.range
        }
        fn has_pinned_pages(&self) -> bool {
            self.pinned != 0
        }
    }

    /// The store.
    #[derive(Debug, Default)]
    pub(crate) struct BTreeStore {
        /// Entries by first IOVA.
        pub(crate) map: BTreeMap<u64, TestDma>,
        /// Make the next insert fail with `ENOMEM`.
        pub(crate) fail_next_insert: bool,
    }

    impl DmaStore for BTreeStore {
        type Entry = TestDma;

        fn first_from(&self, iova: u64) -> Option<&TestDma> {
            self.map.range(iova..).next().map(|(_, e)| e)
        }
        fn last_before(&self, iova: u64) -> Option<&TestDma> {
            self.map.range(..iova).next_back().map(|(_, e)| e)
        }
        fn get_mut(&mut self, iova: u64) -> Option<&mut TestDma> {
            self.map.get_mut(&iova)
        }
        fn insert(&mut self, entry: TestDma) -> Result<&mut TestDma, Errno> {
            if std::mem::take(&mut self.fail_next_insert) {
                return Err(Errno::ENOMEM);
            }
            let iova = entry.range.iova;
            assert!(self.map.insert(iova, entry).is_none());
            Ok(self.map.get_mut(&iova).unwrap())
        }
        fn remove(&mut self, iova: u64) -> Option<TestDma> {
            self.map.remove(&iova)
        }
    }

    /// Hooks recording what an unmap did.
    #[derive(Debug, Default)]
    pub(crate) struct Recorder {
        /// Ranges reported dirty, in order.
        pub(crate) reported: Vec<DmaRange>,
        /// Ranges removed, in order.
        pub(crate) removed: Vec<DmaRange>,
        /// Fail the report of the mapping starting here with `EFAULT`.
        pub(crate) fault_at: Option<u64>,
    }

    impl UnmapHooks<TestDma> for Recorder {
        fn report_dirty(&mut self, entry: &mut TestDma) -> Result<(), Errno> {
            if self.fault_at == Some(entry.range.iova) {
                return Err(Errno::EFAULT);
            }
            self.reported.push(entry.range);
            Ok(())
        }
        fn removed(&mut self, entry: &mut TestDma) {
            self.removed.push(entry.range);
        }
    }

    /// A whole `MAP_DMA` after the argument checks, as the kernel module will sequence it.
    pub(crate) fn map(
        map: &mut DmaMap<BTreeStore>,
        req: &MapRequest,
        valid: &[IovaRange],
    ) -> Result<(), Errno> {
        match map.plan_map(req, valid)? {
            MapPlan::UpdateVaddr => map.update_vaddr(req.iova, req.vaddr),
            MapPlan::Create(new) => map.insert_new(new, TestDma::new(new.range())).map(|_| ()),
        }
    }

    /// A whole `UNMAP_DMA` walk, unpinning (as a well-behaved driver would) on each notify.
    /// Returns the result and the notified ranges.
    pub(crate) fn unmap(
        map: &mut DmaMap<BTreeStore>,
        req: &UnmapRequest,
        v2: bool,
        hooks: &mut Recorder,
    ) -> (Result<u64, Errno>, Vec<(u64, u64)>) {
        let mut progress = UnmapProgress::default();
        let mut notified = Vec::new();
        loop {
            match map.unmap_walk(req, v2, &mut progress, hooks) {
                Ok(UnmapStep::Done(size)) => return (Ok(size), notified),
                Ok(UnmapStep::NotifyPinned { iova, size }) => {
                    notified.push((iova, size));
                    if let Some(e) = map.get_mut(iova) {
                        e.pinned = 0;
                    }
                }
                Err(e) => return (Err(e), notified),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::dirty_bitmap::BitmapArg;
    use super::super::map_args::{check_map, check_unmap, MapDmaArgs, UnmapContext, UnmapDmaArgs};
    use super::super::pgsize::INITIAL_PGSIZE_BITMAP;
    use super::super::uapi::{
        MAP_FLAG_READ, MAP_FLAG_VADDR, MAP_FLAG_WRITE, MAP_MINSZ, UNMAP_FLAG_ALL,
        UNMAP_FLAG_GET_DIRTY_BITMAP, UNMAP_FLAG_VADDR, UNMAP_MINSZ,
    };
    use super::test_store::{self, BTreeStore, Recorder};
    use super::*;

    const PG: u64 = 4096;
    const RW: u32 = MAP_FLAG_READ | MAP_FLAG_WRITE;

    fn new_map(limit: u32) -> DmaMap<BTreeStore> {
        DmaMap::new(BTreeStore::default(), limit)
    }

    fn map_req(flags: u32, vaddr: u64, iova: u64, size: u64) -> MapRequest {
        check_map(&MapDmaArgs {
            argsz: MAP_MINSZ,
            flags,
            vaddr,
            iova,
            size,
        })
        .unwrap()
    }

    fn do_map(m: &mut DmaMap<BTreeStore>, iova: u64, size: u64) -> Result<(), Errno> {
        test_store::map(m, &map_req(RW, 0x7000_0000, iova, size), &[])
    }

    fn unmap_req(flags: u32, iova: u64, size: u64) -> UnmapRequest {
        let ctx = UnmapContext {
            has_emulated: false,
            pgsize_bitmap: INITIAL_PGSIZE_BITMAP,
            dirty_tracking: true,
        };
        let bitmap = BitmapArg {
            pgsize: PG,
            size: 1 << 20,
            data: 0x1000,
        };
        let args = UnmapDmaArgs {
            argsz: UNMAP_MINSZ + 24,
            flags,
            iova,
            size,
        };
        check_unmap(&args, &bitmap, &ctx).unwrap()
    }

    fn do_unmap(
        m: &mut DmaMap<BTreeStore>,
        flags: u32,
        iova: u64,
        size: u64,
        v2: bool,
    ) -> (Result<u64, Errno>, Vec<u64>) {
        let mut rec = Recorder::default();
        let (res, _) = test_store::unmap(m, &unmap_req(flags, iova, size), v2, &mut rec);
        (res, rec.removed.iter().map(|r| r.iova).collect())
    }

    fn iovas(m: &DmaMap<BTreeStore>) -> Vec<(u64, u64)> {
        m.iter().map(|e| (e.range.iova, e.range.size)).collect()
    }

    /// Mappings at 0x10000 (2 pages), 0x20000 (4 pages), 0x30000 (1 page).
    fn three() -> DmaMap<BTreeStore> {
        let mut m = new_map(100);
        do_map(&mut m, 0x10000, 2 * PG).unwrap();
        do_map(&mut m, 0x20000, 4 * PG).unwrap();
        do_map(&mut m, 0x30000, PG).unwrap();
        m
    }

    #[test]
    fn find_semantics() {
        let m = three();
        let found = |start, size| m.find(start, size).map(|e| e.range.iova);
        assert_eq!(found(0x10000, 1), Some(0x10000));
        assert_eq!(found(0x11fff, 1), Some(0x10000));
        assert_eq!(found(0x12000, 1), None);
        assert_eq!(found(0x12000, 0xe000), None);
        assert_eq!(found(0x12000, 0xe001), Some(0x20000));
        // The lowest of several.
        assert_eq!(found(0, u64::MAX), Some(0x10000));
        // A wrapped end: C's walk finds an entry holding both `start - 1` and `start`...
        assert_eq!(found(0x11000, 0), Some(0x10000));
        assert_eq!(found(0x12000, 0), None);
        // ... and with start 0, any entry at all.
        assert_eq!(found(0, 0), Some(0x10000));
        assert_eq!(new_map(1).find(0, 0).map(|e| e.range.iova), None);
        // vfio_find_dma_first_node
        assert_eq!(
            m.first_in(0x12000, 0x30000).map(|e| e.range.iova),
            Some(0x20000)
        );
        assert_eq!(m.first_in(0x25000, 0x2ffff), None);
        assert_eq!(
            m.first_in(0x21000, 0x21fff).map(|e| e.range.iova),
            Some(0x20000)
        );
    }

    #[test]
    fn map_errnos() {
        let mut m = three();
        // :1747-1749 overlap.
        assert_eq!(do_map(&mut m, 0x11000, PG), Err(Errno::EEXIST));
        assert_eq!(do_map(&mut m, 0, 0x100000), Err(Errno::EEXIST));
        // :1751-1754 dma_entry_limit.
        let mut m = new_map(1);
        do_map(&mut m, 0, PG).unwrap();
        assert_eq!(m.dma_avail(), 0);
        assert_eq!(do_map(&mut m, PG, PG), Err(Errno::ENOSPC));
        // An overlap is reported before ENOSPC.
        assert_eq!(do_map(&mut m, 0, PG), Err(Errno::EEXIST));
        // :1756-1759 outside the usable ranges, after ENOSPC.
        let valid = [IovaRange {
            start: 0x10000,
            end: 0x1ffff,
        }];
        let mut m = new_map(1);
        let req = map_req(RW, 0, 0x1f000, 2 * PG);
        assert_eq!(test_store::map(&mut m, &req, &valid), Err(Errno::EINVAL));
        let req = map_req(RW, 0, 0x1e000, 2 * PG);
        assert_eq!(test_store::map(&mut m, &req, &valid), Ok(()));
        let req = map_req(RW, 0, 0x10000, PG);
        assert_eq!(test_store::map(&mut m, &req, &valid), Err(Errno::ENOSPC));
        // :1761-1765 allocation failure leaves everything as it was.
        let mut m = new_map(5);
        m.store.fail_next_insert = true;
        assert_eq!(do_map(&mut m, 0, PG), Err(Errno::ENOMEM));
        assert_eq!((m.dma_avail(), iovas(&m)), (5, vec![]));
        // The last page of the address space can be mapped.
        assert_eq!(do_map(&mut m, u64::MAX - PG + 1, PG), Ok(()));
        assert_eq!(m.find(u64::MAX, 1).map(|e| e.range.size), Some(PG));
        assert_eq!(m.next(u64::MAX - PG + 1).map(|e| e.range.iova), None);
    }

    #[test]
    fn insert_guards_invariants() {
        let mut m = three();
        let range = |iova, size| DmaRange {
            iova,
            size,
            vaddr: 0,
            prot: 3,
            vaddr_invalid: false,
        };
        let mut insert = |r| m.insert(test_store::TestDma::new(r));
        assert_eq!(insert(range(0x40000, 0)), Err(Errno::EINVAL));
        assert_eq!(insert(range(u64::MAX, 2)), Err(Errno::EINVAL));
        assert_eq!(insert(range(0x1f000, 2 * PG)), Err(Errno::EEXIST));
        assert_eq!(m.update_vaddr(0x10000, 0), Err(Errno::EINVAL));
        assert_eq!(m.update_vaddr(0x50000, 0), Err(Errno::ENOENT));
    }

    #[test]
    fn vaddr_update_rules() {
        let mut m = three();
        let vaddr = |m: &mut DmaMap<BTreeStore>, iova, size| {
            test_store::map(m, &map_req(MAP_FLAG_VADDR, 0x9000_0000, iova, size), &[])
        };
        // :1728-1729 nothing there.
        assert_eq!(vaddr(&mut m, 0x40000, PG), Err(Errno::ENOENT));
        // :1730-1732 not invalidated.
        assert_eq!(vaddr(&mut m, 0x10000, 2 * PG), Err(Errno::EINVAL));
        // Invalidate 0x20000 only.
        let (res, removed) = do_unmap(&mut m, UNMAP_FLAG_VADDR, 0x20000, 4 * PG, true);
        assert_eq!((res, removed), (Ok(4 * PG), vec![]));
        assert_eq!(m.vaddr_invalid_count(), 1);
        // Not the exact range.
        assert_eq!(vaddr(&mut m, 0x20000, PG), Err(Errno::EINVAL));
        assert_eq!(vaddr(&mut m, 0x1f000, 2 * PG), Err(Errno::EINVAL));
        assert_eq!(vaddr(&mut m, 0x20000, 8 * PG), Err(Errno::EINVAL));
        // New mappings over an invalidated one still collide.
        assert_eq!(do_map(&mut m, 0x20000, PG), Err(Errno::EEXIST));
        // Exact: updated and valid again.
        assert_eq!(vaddr(&mut m, 0x20000, 4 * PG), Ok(()));
        assert_eq!(m.vaddr_invalid_count(), 0);
        let e = m.get(0x20000).unwrap();
        assert_eq!(
            (e.range.vaddr, e.range.vaddr_invalid, e.range.prot),
            (0x9000_0000, false, 3)
        );
        // Updating doesn't need a dma_avail slot.
        let mut m = new_map(1);
        do_map(&mut m, 0, PG).unwrap();
        do_unmap(&mut m, UNMAP_FLAG_VADDR, 0, PG, true).0.unwrap();
        assert_eq!(vaddr(&mut m, 0, PG), Ok(()));
    }

    #[test]
    fn vaddr_invalidation_is_all_or_nothing() {
        let mut m = three();
        do_unmap(&mut m, UNMAP_FLAG_VADDR, 0x30000, PG, true)
            .0
            .unwrap();
        // :1499-1511 - the third one is already invalid: the first two are restored.
        let (res, _) = do_unmap(&mut m, UNMAP_FLAG_VADDR, 0x10000, 0x21000, true);
        assert_eq!(res, Err(Errno::EINVAL));
        assert_eq!(m.vaddr_invalid_count(), 1);
        let invalid: Vec<bool> = m.iter().map(|e| e.range.vaddr_invalid).collect();
        assert_eq!(invalid, [false, false, true]);
        // UNMAP_ALL | VADDR invalidates everything (fails here, the same way).
        let (res, _) = do_unmap(&mut m, UNMAP_FLAG_ALL | UNMAP_FLAG_VADDR, 0, 0, true);
        assert_eq!(res, Err(Errno::EINVAL));
        let mut m = three();
        let (res, _) = do_unmap(&mut m, UNMAP_FLAG_ALL | UNMAP_FLAG_VADDR, 0, 0, false);
        assert_eq!(res, Ok(7 * PG));
        assert_eq!(m.vaddr_invalid_count(), 3);
        // Removing an invalid mapping drops the count (:1241-1242).
        let (res, removed) = do_unmap(&mut m, 0, 0x20000, 4 * PG, true);
        assert_eq!((res, removed), (Ok(4 * PG), vec![0x20000]));
        assert_eq!(m.vaddr_invalid_count(), 2);
        m.remove_all(drop);
        assert_eq!((m.vaddr_invalid_count(), m.dma_avail()), (0, 100));
    }

    #[test]
    fn v2_unmap_must_not_bisect() {
        let mut m = three();
        // :1479-1481 - a mapping holds the start without starting there.
        assert_eq!(do_unmap(&mut m, 0, 0x11000, PG, true).0, Err(Errno::EINVAL));
        // :1483-1485 - a mapping holds the end without ending there.
        assert_eq!(
            do_unmap(&mut m, 0, 0x10000, 0x11000, true).0,
            Err(Errno::EINVAL)
        );
        assert_eq!(iovas(&m).len(), 3);
        // Nothing there: success, size 0.
        assert_eq!(do_unmap(&mut m, 0, 0x40000, PG, true), (Ok(0), vec![]));
        // Covering two whole mappings and the gaps around them.
        assert_eq!(
            do_unmap(&mut m, 0, 0x12000, 0x1f000, true),
            (Ok(5 * PG), vec![0x20000, 0x30000])
        );
        assert_eq!(iovas(&m), [(0x10000, 2 * PG)]);
        assert_eq!(m.dma_avail(), 99);
    }

    #[test]
    fn v1_unmap_semantics() {
        // :1446-1476 - an unmap starting inside a mapping succeeds with size 0, and removes
        // nothing else either.
        let mut m = three();
        assert_eq!(
            do_unmap(&mut m, 0, 0x11000, 0x30000, false),
            (Ok(0), vec![])
        );
        assert_eq!(iovas(&m).len(), 3);
        // Covering a mapping's first page removes all of it.
        assert_eq!(
            do_unmap(&mut m, 0, 0x20000, PG, false),
            (Ok(4 * PG), vec![0x20000])
        );
        // Every mapping starting inside the request goes whole.
        let mut m = three();
        assert_eq!(
            do_unmap(&mut m, 0, 0x10000, 0x20001000, false),
            (Ok(7 * PG), vec![0x10000, 0x20000, 0x30000])
        );
    }

    #[test]
    fn unmap_all() {
        let mut m = three();
        assert_eq!(
            do_unmap(&mut m, UNMAP_FLAG_ALL, 0, 0, true),
            (Ok(7 * PG), vec![0x10000, 0x20000, 0x30000])
        );
        assert_eq!((iovas(&m), m.dma_avail()), (vec![], 100));
    }

    #[test]
    fn pinned_mappings_are_notified() {
        let mut m = three();
        m.get_mut(0x20000).unwrap().pinned = 1;
        let mut rec = Recorder::default();
        let (res, notified) =
            test_store::unmap(&mut m, &unmap_req(0, 0x10000, 0x21000), true, &mut rec);
        assert_eq!(res, Ok(7 * PG));
        assert_eq!(notified, [(0x20000, 4 * PG)]);
        let removed: Vec<u64> = rec.removed.iter().map(|r| r.iova).collect();
        assert_eq!(removed, [0x10000, 0x20000, 0x30000]);
    }

    #[test]
    fn pins_never_released_fail_after_ten_retries() {
        let mut m = three();
        m.get_mut(0x20000).unwrap().pinned = 1;
        let req = unmap_req(0, 0x10000, 0x21000);
        let mut progress = UnmapProgress::default();
        let mut rec = Recorder::default();
        let mut notifies = 0;
        let res = loop {
            match m.unmap_walk(&req, true, &mut progress, &mut rec) {
                Ok(UnmapStep::NotifyPinned { .. }) => notifies += 1,
                other => break other,
            }
        };
        // :1520-1524 - one first notification and ten retries, then upstream BUG()s.
        assert_eq!((res, notifies), (Err(Errno::EBUSY), 11));
        // The mapping before it is gone; it and the rest stay.
        assert_eq!(iovas(&m), [(0x20000, 4 * PG), (0x30000, PG)]);
        assert_eq!(m.dma_avail(), 98);
    }

    #[test]
    fn dirty_report_before_removal() {
        let mut m = three();
        let req = unmap_req(UNMAP_FLAG_GET_DIRTY_BITMAP, 0x10000, 0x21000);
        assert!(req.get_dirty);
        let mut rec = Recorder {
            fault_at: Some(0x30000),
            ..Recorder::default()
        };
        let (res, _) = test_store::unmap(&mut m, &req, true, &mut rec);
        // :1532-1537 - EFAULT stops the walk; earlier mappings are already gone.
        assert_eq!(res, Err(Errno::EFAULT));
        assert_eq!(rec.reported.len(), 2);
        assert_eq!(rec.removed.len(), 2);
        assert_eq!(iovas(&m), [(0x30000, PG)]);
        // Without the flag nothing is reported.
        let mut rec = Recorder::default();
        test_store::unmap(&mut m, &unmap_req(0, 0x30000, PG), true, &mut rec)
            .0
            .unwrap();
        assert!(rec.reported.is_empty());
    }

    #[test]
    fn no_bisect_rule_for_get_bitmap() {
        let m = three();
        assert_eq!(m.check_no_bisect(0x10000, 0x30fff), Ok(()));
        assert_eq!(m.check_no_bisect(0x11000, 0x30fff), Err(Errno::EINVAL));
        assert_eq!(m.check_no_bisect(0x10000, 0x20fff), Err(Errno::EINVAL));
        assert_eq!(m.check_no_bisect(0x12000, 0x1ffff), Ok(()));
    }
}
